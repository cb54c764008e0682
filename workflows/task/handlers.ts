/**
 * What people can do to a running task: complete it, reassign, delegate, move the due date,
 * comment and cancel. Each update's validator refuses with a reason a person can read.
 */
import { setHandler } from '@temporalio/workflow';
import { describeProblems, validateForm } from '../../src/forms/index.js';
import type { UpdateAck } from '../../src/common/messages.js';
import { completeTaskUpdate, delegateTaskUpdate, extendDueUpdate, reassignTaskUpdate, taskStatusQuery } from '../../src/task/contract.js';
import { completeTaskSchema, delegateTaskSchema, extendDueSchema, reassignTaskSchema } from '../../src/task/schema.js';
import { acts } from '../lib/activities.js';
import { lookUpOrReject, onCancel, onComment, onUpdate } from '../lib/handlers.js';
import { rejectUnknown } from '../lib/people.js';
import { formatDay, reject } from '../lib/util.js';
import { registerTaskHandover } from './handover.js';
import type { Task } from './state.js';

export function registerTaskHandlers(task: Task): void {
  const ack = (message: string): UpdateAck => ({ ok: true, state: task.state, message });
  const ready = () => task.people !== undefined;
  const managersOnly = (input: { by: string }, what: string) => {
    if (!['system', ...task.managers()].includes(input.by)) reject(`only the AIMS manager or the assignee's manager can ${what}`);
  };

  setHandler(taskStatusQuery, () => task.status());

  onUpdate(completeTaskUpdate, {
    schema: completeTaskSchema,
    ready,
    check: (input) => {
      task.ensureOpen();
      if (!task.actors().includes(input.by)) {
        reject(`only ${task.assignee.name}${task.delegate ? ` or ${task.delegate.name}` : ''} can complete this task${task.conflictNote(input.by)}`);
      }
      const form = validateForm(task.spec.form, input.data, task.spec.choices ?? []);
      if (!form.ok) reject(`the form is not valid: ${describeProblems(form.problems)}`);
    },
    apply: (input) => {
      const form = validateForm(task.spec.form, input.data, task.spec.choices ?? []);
      task.completion = { by: input.by, at: new Date().toISOString(), data: form.ok ? form.data : input.data, ...(input.via ? { via: input.via } : {}) };
      task.state = 'completed';
      task.record('completed', input.by, 'completed the task', task.completion.data);
      return ack('Thank you: the task is complete.');
    },
  });

  onUpdate(reassignTaskUpdate, {
    schema: reassignTaskSchema,
    ready,
    check: (input) => {
      managersOnly(input, 'reassign this task');
      if (input.to === task.assignee.id) reject(`the task is already assigned to ${task.assignee.name}`);
      task.refuseConflicting(input.to, 'reassigned');
    },
    apply: async (input) => {
      const to = await lookUpOrReject(() => acts.resolvePerson(input.to));
      rejectUnknown([to]);
      task.ensureOpen();
      const previous = task.assignee;
      task.assignee = { id: to.id, name: to.name, email: to.email };
      task.managerId = to.managerId;
      task.delegate = undefined;
      task.record('reassigned', input.by, `reassigned from ${previous.name} to ${to.name}: ${input.reason}`, { from: previous.id, to: to.id });
      task.timeline.touch();
      task.publish();
      await task.send('task.assigned', [task.assignee], { reason: input.reason });
      await task.send('task.reassigned', [previous], { reason: input.reason, newAssigneeName: to.name });
      return ack(`Reassigned to ${to.name}.`);
    },
  });

  onUpdate(delegateTaskUpdate, {
    schema: delegateTaskSchema,
    ready,
    check: (input) => {
      task.ensureOpen();
      if (input.by !== task.assignee.id) reject(`only the assignee (${task.assignee.name}) can delegate this task`);
      if (input.to === task.assignee.id) reject('cannot delegate a task to its own assignee');
      task.refuseConflicting(input.to, 'delegated');
    },
    apply: async (input) => {
      const to = await lookUpOrReject(() => acts.resolvePerson(input.to));
      rejectUnknown([to]);
      task.ensureOpen();
      task.delegate = { id: to.id, name: to.name, email: to.email };
      task.record('delegated', input.by, `delegated to ${to.name}${input.note ? `: ${input.note}` : ''}`, { to: to.id });
      task.timeline.touch();
      task.publish();
      await task.send('task.assigned', [task.delegate], { reason: `Delegated by ${task.assignee.name}${input.note ? `: ${input.note}` : ''}` });
      return ack(`Delegated to ${to.name}; ${task.assignee.name} stays accountable.`);
    },
  });

  onUpdate(extendDueUpdate, {
    schema: extendDueSchema,
    ready,
    check: (input) => {
      managersOnly(input, 'change the due date');
      const due = Date.parse(input.dueAt);
      if (due <= Date.now()) reject('the new due date must be in the future');
      if (due === task.timeline.dueAt) reject('the new due date is the same as the current one');
    },
    apply: async (input) => {
      const previous = task.dueIso();
      task.timeline.arm(Date.parse(input.dueAt), Date.now());
      if (task.state === 'overdue') task.state = 'open';
      task.escalationLevel = 0;
      task.record('due-extended', input.by, `due date moved from ${formatDay(Date.parse(previous))} to ${formatDay(task.timeline.dueAt)}: ${input.reason}`, {
        from: previous,
        to: task.dueIso(),
      });
      task.timeline.touch();
      task.publish();
      await task.send('task.due-changed', task.holders(), { reason: input.reason, previousDueDate: previous });
      return ack(`The due date is now ${formatDay(task.timeline.dueAt)}.`);
    },
  });

  onComment(
    { ready, allowed: () => ['system', ...task.actors(), ...task.managers()], refusal: 'only people involved in this task can comment on it' },
    (input) => task.record('commented', input.by, input.text),
    ack,
  );

  registerTaskHandover(task);

  onCancel(
    { ready, ensureOpen: () => task.ensureOpen(), allowed: () => ['system', task.ensureOpen().aimsManagerId], refusal: 'only the AIMS manager can cancel this task' },
    (input) => {
      task.cancellation = { by: input.by, at: new Date().toISOString(), reason: input.reason };
      task.state = 'cancelled';
      task.record('cancelled', input.by, `cancelled: ${input.reason}`);
    },
    ack,
    'The task is cancelled.',
  );
}
