/**
 * The handover every workflow that holds people's work answers (`handoverUpdate`,
 * src/common/messages.ts): what `from` holds moves to `to`, or to whoever the workflow's own
 * rules name instead. Each part moved is shown in the timeline, written to the ledger as a
 * `handover` record `{ from, to, part, reason, ref }` and mailed to whoever takes it over. A
 * handover of someone who holds nothing (any more) answers `moved: false`, so the same
 * handover can be sent twice.
 */
import { handoverUpdate, type HandoverAck } from '../../src/common/messages.js';
import { handoverSchema, type Handover, type PersonRef } from '../../src/common/schemas.js';
import { acts } from './activities.js';
import { onUpdate } from './handlers.js';
import type { Person } from './people.js';
import type { Recorder } from './recorder.js';
import { reject } from './util.js';

/** One part of the work that moved. */
export interface MovedPart {
  /** What it is to the workflow, e.g. `assignee`, `approver`, `owner`, `lead-auditor`. */
  part: string;
  /** Who holds it now. */
  to: PersonRef;
  /** The part in words, for the timeline and the mail, e.g. `the owner of NC-2027-004`. */
  what: string;
  /** What the workflow's rules did, e.g. why someone other than the handover's `to` took it. */
  note?: string;
  /** Whoever took it over was already mailed by the workflow (an assignment, an approval request). */
  mailed?: boolean;
  /** Someone else to tell instead of, or besides, the new holder (e.g. the AIMS manager of a conflict). */
  tell?: PersonRef[];
}

export interface HandoverOptions<T extends string> {
  recorder: Recorder<T>;
  /** The timeline entry type of a handover in this workflow. */
  eventType: T;
  /** True once the workflow knows its people (the update waits until then). */
  ready: () => boolean;
  /** The workflow's state, for the acknowledgement. */
  state: () => string;
  /** What the work is, for the mail's title. */
  title: () => string;
  /** Whether `from` holds anything here now. */
  holds: (from: string) => boolean;
  /** Moves what `from` holds, by the workflow's rules, to `to` (a person the directory knows); returns what moved. */
  move: (h: Handover, to: Person & { managerId?: string }) => Promise<MovedPart[]>;
  /** Publishes the workflow's view after a move (its owner and assignees change). */
  publish: () => void;
  /** Where what `from` holds here is handed over instead (e.g. an audit's people, by its programme); said in the answer. */
  elsewhere?: (from: string) => string | undefined;
}

/** Registers the handover update with the workflow's own rules for moving its parts. */
export function onHandover<T extends string>(o: HandoverOptions<T>): void {
  const nothing = (h: Handover): HandoverAck => ({
    ok: true,
    state: o.state(),
    message: o.elsewhere?.(h.from) ?? `${h.from} holds nothing here; nothing to hand over.`,
    moved: false,
    parts: [],
  });
  onUpdate(handoverUpdate, {
    schema: handoverSchema,
    ready: o.ready,
    check: (h) => {
      if (h.from === h.to) reject('to: must be someone other than from');
    },
    apply: async (h): Promise<HandoverAck> => {
      if (!o.holds(h.from)) return nothing(h);
      const to = await acts.resolvePerson(h.to);
      if (to.unknown) reject(`to: unknown person "${h.to}"`);
      // The look-up took a moment: another handover may have moved it meanwhile.
      if (!o.holds(h.from)) return nothing(h);
      const moved = await o.move(h, to);
      if (moved.length === 0) return nothing(h);
      o.publish();
      for (const m of moved) await recordHandover(o, h, m);
      const text = moved.map((m) => `${m.what} → ${m.to.name}${m.note ? ` (${m.note})` : ''}`).join('; ');
      return { ok: true, state: o.state(), message: `Handed over: ${text}.`, moved: true, parts: moved.map((m) => ({ part: m.part, to: m.to.id, ...(m.note ? { note: m.note } : {}) })) };
    },
  });
}

/** The timeline entry, the ledger record and the mail of one part handed over. */
async function recordHandover<T extends string>(o: HandoverOptions<T>, h: Handover, m: MovedPart): Promise<void> {
  const data = { from: h.from, to: m.to.id, part: m.part, reason: h.reason, ref: h.ref ?? null, ...(m.note ? { note: m.note } : {}) };
  o.recorder.event(o.eventType, h.by, `${m.what}: ${h.from} → ${m.to.name}: ${h.reason}${m.note ? ` (${m.note})` : ''}`, { data });
  await o.recorder.append('handover', h.by, data);
  const recipients = [...(m.mailed ? [] : [m.to]), ...(m.tell ?? [])];
  if (recipients.length === 0) return;
  await o.recorder.notify({
    kind: 'work.handed-over',
    to: recipients,
    data: { title: o.title().slice(0, 300), part: m.what.slice(0, 300), fromName: h.from, toName: m.to.name, reason: h.reason, ...(m.note ? { note: m.note } : {}) },
  });
}
