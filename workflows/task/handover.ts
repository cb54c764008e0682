/**
 * A task's handover: the assignee or the delegate `from` gives the task to `to` (a task assigned
 * by role goes to the role's current holder instead), and the escalation manager recorded at
 * assignment is replaced when it was `from`. Whoever takes the task gets the assignment mail.
 * Someone the task's process named as conflicting never takes it: the AIMS manager (else a top
 * manager) takes the assignee's part instead, and a delegate's part goes back to the assignee.
 */
import { acts } from '../lib/activities.js';
import { onHandover, type MovedPart } from '../lib/handover.js';
import { conflictOf, conflictText } from '../../src/people/duties.js';
import { ref, type Person } from '../lib/people.js';
import type { Task } from './state.js';

/**
 * Who takes the task instead of `to` when its process named `to` as conflicting: the AIMS
 * manager, else the first top manager, who does not conflict; with the reason. Undefined when
 * `to` may take it (or nobody else may).
 */
async function standIn(task: Task, to: Person & { managerId?: string | undefined }): Promise<{ person: Person & { managerId?: string | undefined }; note: string } | undefined> {
  const conflict = conflictOf(task.spec.conflicts, to.id);
  if (!conflict) return undefined;
  const candidates = [await acts.resolvePerson(task.ensureOpen().aimsManagerId), ...(await acts.resolvePeople([{ role: 'top-management' }]))];
  const person = candidates.find((c) => !c.unknown && !c.insteadOf && !conflictOf(task.spec.conflicts, c.id));
  return person ? { person, note: `${conflictText(conflict)}: ${person.name} takes the task instead` } : undefined;
}

export function registerTaskHandover(task: Task): void {
  onHandover({
    recorder: task.recorder,
    eventType: 'handover',
    ready: () => task.people !== undefined,
    state: () => task.state,
    title: () => task.spec.title,
    publish: () => {
      task.timeline.touch();
      task.publish();
    },
    holds: (from) => !task.isClosed() && [task.assignee.id, task.delegate?.id, task.managerId].includes(from),
    move: async (h, to) => {
      const moved: MovedPart[] = [];
      const reason = `Handed over from ${h.from}: ${h.reason}`;
      const held = { assignee: task.assignee.id === h.from, delegate: task.delegate?.id === h.from, manager: task.managerId === h.from };
      if (held.assignee) {
        const { spec } = task;
        // A task asked of a role goes to whoever holds the role now; `to` while the file still names `from`.
        const byRole = 'role' in spec.assignee ? await acts.resolveTaskPeople({ assignee: spec.assignee, policy: spec.policy }) : undefined;
        const chosen = byRole && !byRole.rerouted && byRole.assignee.id !== h.from ? { ...byRole.assignee, managerId: byRole.managerId } : to;
        // Someone the task's process named as conflicting does not take it (src/people/duties.ts).
        const instead = await standIn(task, chosen);
        const holder = instead?.person ?? chosen;
        task.assignee = ref(holder);
        task.managerId = holder.managerId;
        if (task.delegate?.id === holder.id) task.delegate = undefined;
        const note = instead ? instead.note : holder.id !== to.id ? `the task is asked of ${'role' in spec.assignee ? spec.assignee.role : 'a role'}: its holder takes it` : undefined;
        moved.push({ part: 'assignee', to: task.assignee, what: `the assignee of the task "${spec.title}"`, mailed: true, ...(note ? { note } : {}) });
        await task.send('task.assigned', [task.assignee], { reason });
      }
      if (held.delegate && task.delegate?.id === h.from) {
        // A conflicting delegate is not named: the assignee, accountable anyway, does the work.
        const conflict = conflictOf(task.spec.conflicts, to.id);
        task.delegate = to.id === task.assignee.id || conflict ? undefined : ref(to);
        moved.push({
          part: 'delegate',
          to: task.delegate ?? task.assignee,
          what: `the delegate of the task "${task.spec.title}"`,
          mailed: !conflict,
          ...(conflict ? { note: `${conflictText(conflict)}: the assignee ${task.assignee.name} does the work` } : {}),
        });
        if (task.delegate) await task.send('task.assigned', [task.delegate], { reason });
      }
      // A new assignee brings their own manager; otherwise the recorded one is replaced.
      if (held.manager && !held.assignee) {
        task.managerId = to.id;
        moved.push({ part: 'escalation-manager', to: ref(to), what: `the manager the task "${task.spec.title}" escalates to` });
      }
      return moved;
    },
  });
}
