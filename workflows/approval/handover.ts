/**
 * An approval's handover: an undecided approver `from` hands the decision to `to` (a decided one
 * keeps their decision), under separation of duties: when `to` prepared the content or already
 * approves it, the first top manager who does neither decides instead. The preparer `from` hands
 * the outcome mail to `to`; should `to` be an undecided approver, their decision goes to top
 * management the same way.
 */
import { onHandover, type MovedPart } from '../lib/handover.js';
import { ref } from '../lib/people.js';
import { reject } from '../lib/util.js';
import type { Approval } from './state.js';

export function registerApprovalHandover(a: Approval): void {
  const undecided = (id: string) => a.pending().some((p) => p.id === id);
  onHandover({
    recorder: a.recorder,
    eventType: 'handover',
    ready: () => a.people !== undefined,
    state: () => a.state,
    title: () => a.title,
    publish: () => a.publish(),
    holds: (from) => !a.isClosed() && (a.preparer.id === from || undecided(from)),
    move: async (h, to) => {
      const moved: MovedPart[] = [];
      const reason = `Handed over from ${h.from}: ${h.reason}`;
      if (a.preparer.id === h.from) {
        a.preparer = ref(to);
        moved.push({ part: 'preparer', to: a.preparer, what: `the preparer of "${a.title}" (who is told the outcome)` });
        // The new preparer may not also decide: their pending decision goes to top management.
        if (undecided(to.id)) {
          const stand = await a.standIn(a.preparer, to.id);
          if (!stand) reject(`${to.name} would prepare and approve "${a.title}", and no top manager is free to decide instead`);
          a.replaceApprover(to.id, stand.person);
          moved.push({ part: 'approver', to: stand.person, what: `the decision of ${to.name} on "${a.title}"`, mailed: true, ...(stand.note ? { note: stand.note } : {}) });
          await a.send('approval.requested', [stand.person], { rule: a.ruleText(), reason: stand.note ?? reason });
        }
      }
      if (undecided(h.from)) {
        const stand = await a.standIn(ref(to), h.from);
        if (!stand) reject(`${to.name} may not decide on "${a.title}" (separation of duties), and no top manager is free to decide instead`);
        a.replaceApprover(h.from, stand.person);
        moved.push({ part: 'approver', to: stand.person, what: `the decision of ${h.from} on "${a.title}"`, mailed: true, ...(stand.note ? { note: stand.note } : {}) });
        await a.send('approval.requested', [stand.person], { rule: a.ruleText(), reason: stand.note ? `${reason}. ${stand.note}` : reason });
      }
      return moved;
    },
  });
}
