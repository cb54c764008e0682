/**
 * Human task: one piece of work for one person, with a due date, reminders before it, an
 * escalation ladder after it, and completion through a validated update. Runs as a child
 * workflow of a PDCA process (or standalone for ad-hoc work), so each task shows in the UI.
 */
import { isCancellation } from '@temporalio/workflow';
import { humanTaskInputSchema, type HumanTaskInput, type HumanTaskResult } from '../../src/task/schema.js';
import { acts } from '../lib/activities.js';
import { walkLadder } from '../lib/ladder.js';
import { closing } from '../lib/lifecycle.js';
import { formatDay, parseOrThrow } from '../lib/util.js';
import { registerTaskHandlers } from './handlers.js';
import { Task } from './state.js';

export async function humanTask(rawInput: HumanTaskInput): Promise<HumanTaskResult> {
  const task = new Task(parseOrThrow(humanTaskInputSchema, rawInput, 'task input'));
  registerTaskHandlers(task);

  // Resolve the assignee and the organization's timing.
  task.record('created', task.spec.requestedBy, `task created, due ${formatDay(task.timeline.dueAt)}`);
  task.publish();
  task.setUp(await acts.resolveTaskPeople({ assignee: task.spec.assignee, policy: task.spec.policy }));
  task.publish();

  let cancelledBy: Error | undefined;
  try {
    // Assign, then remind before the due date and escalate after it until the task closes.
    await task.send('task.assigned', [task.assignee]);
    task.record('assigned', 'system', `assigned to ${task.assignee.name}`);
    await walkLadder(task.timeline, () => task.isClosed(), {
      reminder: async () => {
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
        const targets = await acts.resolveEscalation({ assigneeId: task.assignee.id, to: step.to });
        // The level and its history entry change together, so a status read never sees one without the other.
        task.escalationLevel = index + 1;
        const names = targets.map((t) => t.name).join(', ');
        task.record('escalated', 'system', `escalated to ${names} (level ${task.escalationLevel})`, { level: task.escalationLevel, to: targets.map((t) => t.id) });
        task.publish();
        const data = { escalationLevel: task.escalationLevel, assigneeName: task.assignee.name };
        await task.send('task.escalated', targets, data);
        await task.send('task.escalated', task.holders(), { ...data, reason: `Copy for you: escalated to ${names}` });
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
