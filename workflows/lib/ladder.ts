/**
 * Due-date timeline shared by human tasks and approvals: reminders before the due date, the
 * overdue moment, escalation steps after it and, for approvals, expiry. Re-armed whenever the
 * due date changes. The waiting is done with workflow timers (condition with a timeout), so a
 * task waits months without any sweep.
 */
import { condition } from '@temporalio/workflow';

export type TimelineEvent =
  | { kind: 'reminder'; index: number; offsetMs: number }
  | { kind: 'overdue' }
  | { kind: 'escalation'; index: number }
  | { kind: 'expire' };

export interface Ladder {
  reminderOffsetsMs: number[];
  escalationAfterMs: number[];
  expireAfterMs?: number;
}

export class DueTimeline {
  private dueAtMs = 0;
  private armedAtMs = 0;
  private fired = new Set<string>();
  /** Bumped every time the due date changes; part of notification ids. */
  version = 0;

  constructor(private readonly ladder: Ladder) {}

  get dueAt(): number {
    return this.dueAtMs;
  }

  /** Sets the due date and re-arms every event; reminders whose time is already past are skipped. */
  arm(dueAtMs: number, nowMs: number): void {
    this.dueAtMs = dueAtMs;
    this.armedAtMs = nowMs;
    this.fired.clear();
    this.version += 1;
  }

  private schedule(): { at: number; event: TimelineEvent; key: string }[] {
    const out: { at: number; event: TimelineEvent; key: string }[] = [];
    this.ladder.reminderOffsetsMs.forEach((offsetMs, index) => {
      const at = this.dueAtMs - offsetMs;
      if (at > this.armedAtMs) out.push({ at, event: { kind: 'reminder', index, offsetMs }, key: `r${index}` });
    });
    out.push({ at: this.dueAtMs, event: { kind: 'overdue' }, key: 'due' });
    this.ladder.escalationAfterMs.forEach((afterMs, index) => {
      out.push({ at: this.dueAtMs + afterMs, event: { kind: 'escalation', index }, key: `e${index}` });
    });
    if (this.ladder.expireAfterMs !== undefined) {
      out.push({ at: this.dueAtMs + this.ladder.expireAfterMs, event: { kind: 'expire' }, key: 'x' });
    }
    return out.filter((e) => !this.fired.has(e.key)).sort((a, b) => a.at - b.at);
  }

  /** The next event not yet fired, if any. */
  next(): { at: number; event: TimelineEvent; key: string } | undefined {
    return this.schedule()[0];
  }

  markFired(key: string): void {
    this.fired.add(key);
  }
}

/**
 * Waits until `wake()` holds or the timeline's next event is due. Returns the event to handle,
 * or undefined when woken (the caller re-evaluates its state and calls again).
 */
export async function waitForNext(
  timeline: DueTimeline,
  wake: () => boolean,
): Promise<TimelineEvent | undefined> {
  const next = timeline.next();
  if (!next) {
    await condition(wake);
    return undefined;
  }
  const delay = next.at - Date.now();
  if (delay > 0) {
    const woken = await condition(wake, delay);
    if (woken) return undefined;
  }
  timeline.markFired(next.key);
  return next.event;
}
