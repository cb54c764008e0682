/**
 * The due-date ladder shared by human tasks and approvals: reminders before the due date, the
 * overdue moment, escalation steps after it and, for approvals, expiry. Re-armed whenever the
 * due date changes. The waiting is done with workflow timers (condition with a timeout), so a
 * task waits months without any sweep.
 */
import { condition } from '@temporalio/workflow';

export type LadderEvent =
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
  private touched = false;
  /** Bumped every time the due date changes. */
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

  /** Wakes the walk so it looks at the work again (something changed: a reassignment, a decision). */
  touch(): void {
    this.touched = true;
  }

  private schedule(): { at: number; event: LadderEvent; key: string }[] {
    const out: { at: number; event: LadderEvent; key: string }[] = [];
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

  /**
   * Waits until `closed()` holds, the timeline is touched, or its next event is due. Returns
   * the event to handle, or undefined when woken (the caller looks at its state and calls again).
   */
  async next(closed: () => boolean): Promise<LadderEvent | undefined> {
    const wake = () => closed() || this.touched;
    const next = this.schedule()[0];
    try {
      if (!next) {
        await condition(wake);
        return undefined;
      }
      const delay = next.at - Date.now();
      if (delay > 0 && (await condition(wake, delay))) return undefined;
      this.fired.add(next.key);
      return next.event;
    } finally {
      this.touched = false;
    }
  }
}

export interface LadderSteps {
  reminder: (event: { index: number; offsetMs: number }) => Promise<void>;
  overdue: () => void | Promise<void>;
  escalation: (index: number) => Promise<void>;
  expire?: () => void | Promise<void>;
}

/** Walks the ladder until the work is closed, running each step as it falls due. */
export async function walkLadder(timeline: DueTimeline, closed: () => boolean, steps: LadderSteps): Promise<void> {
  while (!closed()) {
    const event = await timeline.next(closed);
    if (!event || closed()) continue;
    switch (event.kind) {
      case 'reminder':
        await steps.reminder(event);
        break;
      case 'overdue':
        await steps.overdue();
        break;
      case 'escalation':
        await steps.escalation(event.index);
        break;
      case 'expire':
        await steps.expire?.();
        break;
    }
  }
}
