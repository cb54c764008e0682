/**
 * Human task: one piece of work for one person, with a due date, reminders before it, an
 * escalation ladder after it, and completion through a validated update. Runs as a child
 * workflow of a PDCA process (or standalone for ad-hoc work), so each task shows in the UI.
 */
import { isCancellation, patched } from '@temporalio/workflow';
import { humanTaskInputSchema, type HumanTaskInput, type HumanTaskResult } from '../../src/task/schema.js';
import { acts, directory } from '../lib/activities.js';
import { walkLadder } from '../lib/ladder.js';
import { closing } from '../lib/lifecycle.js';
import { formatDay, parseOrThrow } from '../lib/util.js';
import { registerTaskHandlers } from './handlers.js';
import { Task } from './state.js';

/** An assignee who left the organization hands the task to the fallback at the next reminder or escalation (issue #21). */
const REROUTE_PATCH = 'task-reroutes-unknown-assignee';
/** The assignee is looked up in the first workflow task (a local activity), so the assignment mail is scheduled with it. */
const LOCAL_SETUP_PATCH = 'task-resolves-people-locally';

export async function humanTask(rawInput: HumanTaskInput): Promise<HumanTaskResult> {
  const task = new Task(parseOrThrow(humanTaskInputSchema, rawInput, 'task input'));
  registerTaskHandlers(task);

  // Resolve the assignee and the organization's timing.
  task.record('created', task.spec.requestedBy, `task created, due ${formatDay(task.timeline.dueAt)}`);
  const who = { assignee: task.spec.assignee, policy: task.spec.policy };
  if (patched(LOCAL_SETUP_PATCH)) {
    task.setUp(await directory.resolveTaskPeople(who));
  } else {
    task.publish();
    task.setUp(await acts.resolveTaskPeople(who));
  }
  task.publish();

  let cancelledBy: Error | undefined;
  try {
    // Assign, then remind before the due date and escalate after it until the task closes.
    const rerouted = task.people?.rerouted;
    await task.send('task.assigned', [task.assignee], rerouted ? { reason: rerouted.reason } : {});
    task.record('assigned', 'system', `assigned to ${task.assignee.name}`);
    await walkLadder(task.timeline, () => task.isClosed(), {
      reminder: async () => {
        // An assignee who left the organization hands the task to the fallback first.
        if (patched(REROUTE_PATCH)) await task.rerouteIfGone();
        task.record('reminded', 'system', `reminder sent, due ${formatDay(task.timeline.dueAt)}`);
        await task.send('task.reminder', task.holders(true));
      },
      overdue: () => {
        task.state = 'overdue';
        task.record('overdue', 'system', 'the due date has passed');
        task.publish();
      },
      escalation: async (index) => {
        const step = task.people?.escalation[index];
        if (!step) return;
        // The ladder climbs from whom the task was assigned to, with the manager recorded then:
        // an assignee who left escalates to that manager (else top management), and the task
        // itself goes to the fallback.
        const { assignee, managerId } = task;
        if (patched(REROUTE_PATCH)) await task.rerouteIfGone();
        const targets = await acts.resolveEscalation({ assigneeId: assignee.id, to: step.to, ...(managerId ? { managerId } : {}) });
        // The level and its history entry change together, so a status read never sees one without the other.
        task.escalationLevel = index + 1;
        const names = targets.map((t) => t.name).join(', ');
        const why = targets.find((t) => t.insteadOf)?.insteadOf;
        task.record('escalated', 'system', `escalated to ${names} (level ${task.escalationLevel})${why ? `: ${why}` : ''}`, { level: task.escalationLevel, to: targets.map((t) => t.id) });
        task.publish();
        const data = { escalationLevel: task.escalationLevel, assigneeName: assignee.name, ...(why ? { reason: why } : {}) };
        await task.send('task.escalated', targets, data);
        const copied = task.holders().filter((h) => !targets.some((t) => t.id === h.id));
        await task.send('task.escalated', copied, { ...data, reason: `Copy for you: escalated to ${names}` });
      },
    });
  } catch (err) {
    // Cancelled through Temporal (parent or operator): close as cancelled once the closing work is done.
    if (!isCancellation(err)) throw err;
    cancelledBy = err as Error;
    task.cancellation = { by: 'system', at: new Date().toISOString(), reason: 'cancelled by its parent process or an operator' };
    task.state = 'cancelled';
    task.record('cancelled', 'system', task.cancellation.reason);
  }

  await closing(() => task.close());
  if (cancelledBy) throw cancelledBy;
  return task.result();
}
