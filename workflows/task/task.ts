/**
 * Human task: one piece of work for one person, with a due date, reminders before it, an
 * escalation ladder after it, and completion through a validated update. Runs as a child
 * workflow of a PDCA process (or standalone for ad-hoc work), so each task shows in the UI.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  isCancellation,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { describeProblems, validateForm } from '../../src/forms/index.js';
import { completeTaskSchema, delegateTaskSchema, extendDueSchema, humanTaskInputSchema, reassignTaskSchema, type HumanTaskInput, type HumanTaskResult, type TaskEvent, type TaskEventType, type TaskState, type TaskStatus } from '../../src/task/schema.js';
import { cancelSchema, commentSchema, type PersonRef } from '../../src/common/schemas.js';
import type { NotificationKind } from '../../activities/notify.js';
import type { ResolvedTaskPeople } from '../../activities/directory.js';
import { cancelUpdate, commentUpdate, type UpdateAck } from '../../src/common/messages.js';
import { completeTaskUpdate, delegateTaskUpdate, extendDueUpdate, reassignTaskUpdate, taskStatusQuery } from '../../src/task/contract.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { acts, notify } from '../lib/activities.js';
import { DueTimeline, waitForNext } from '../lib/ladder.js';
import { formatDay, guardedUpdate, parseOrThrow, reject } from '../lib/util.js';

export async function humanTask(rawInput: HumanTaskInput): Promise<HumanTaskResult> {
  const spec = parseOrThrow(humanTaskInputSchema, rawInput, 'task input');
  const info = workflowInfo();
  const taskId = info.workflowId;
  const createdAt = new Date().toISOString();

  // Until the organization look-up returns, the task shows whom it was asked for.
  let resolved: ResolvedTaskPeople | undefined = undefined;
  let assignee: PersonRef =
    'person' in spec.assignee
      ? { id: spec.assignee.person, name: spec.assignee.person, email: '' }
      : { id: '', name: `${spec.assignee.role}${spec.assignee.of ? ` of ${spec.assignee.of}` : ''}`, email: '' };
  let managerId: string | undefined;
  let delegate: PersonRef | undefined;
  let state: TaskState = 'open';
  let escalationLevel = 0;
  let changed = false;
  let completion: TaskStatus['completion'];
  let cancellation: TaskStatus['cancellation'];
  const history: TaskEvent[] = [];
  let timeline = new DueTimeline({ reminderOffsetsMs: [], escalationAfterMs: [] });
  timeline.arm(Date.parse(spec.dueAt), Date.now());
  let notificationSeq = 0;

  const record = (type: TaskEventType, by: string, detail: string, data?: Record<string, unknown>) => {
    history.push({ at: new Date().toISOString(), type, by, detail, ...(data ? { data } : {}) });
  };
  const isClosed = () => state === 'completed' || state === 'cancelled';
  const actors = () => [assignee.id, ...(delegate ? [delegate.id] : [])];
  const dueIso = () => new Date(timeline.dueAt).toISOString();

  const status = (): TaskStatus => ({
    taskId,
    title: spec.title,
    instructions: spec.instructions,
    clauses: spec.clauses,
    process: spec.process,
    ...(spec.aiSystem ? { aiSystem: spec.aiSystem } : {}),
    form: spec.form,
    choices: spec.choices ?? [],
    state,
    assignee,
    ...(delegate ? { delegate } : {}),
    requestedBy: spec.requestedBy,
    dueAt: dueIso(),
    createdAt,
    escalationLevel,
    ...(completion ? { completion } : {}),
    ...(cancellation ? { cancellation } : {}),
    history,
  });

  const publish = () => {
    upsertSearchAttributes([
      { key: searchAttributes.process, value: spec.process },
      ...(assignee.id ? [{ key: searchAttributes.owner, value: assignee.id }] : []),
      { key: searchAttributes.assignees, value: isClosed() ? [] : actors().filter(Boolean) },
      { key: searchAttributes.state, value: state },
      { key: searchAttributes.dueDate, value: new Date(timeline.dueAt) },
      { key: searchAttributes.clauses, value: spec.clauses },
      ...(spec.aiSystem ? [{ key: searchAttributes.aiSystem, value: spec.aiSystem }] : []),
    ]);
    upsertMemo({ kind: 'task', title: spec.title, dueAt: dueIso() });
    const who = delegate ? `${assignee.name} (delegated to ${delegate.name})` : assignee.name;
    const clauses = spec.clauses.length ? ` · clause ${spec.clauses.join(', ')}` : '';
    const level = escalationLevel ? ` · escalation ${escalationLevel}` : '';
    setCurrentDetails(`**${state}** · ${spec.title} · ${who} · due ${formatDay(timeline.dueAt)}${level}${clauses}`);
  };

  const send = (kind: NotificationKind, to: PersonRef[], extra: Record<string, unknown> = {}) =>
    notify({
      notificationId: `${taskId}/${info.firstExecutionRunId}/${++notificationSeq}-${kind}`,
      kind,
      to,
      link: { wf: taskId, task: taskId, action: 'task.view' },
      data: {
        title: spec.title,
        instructions: spec.instructions,
        clauses: spec.clauses,
        dueDate: dueIso(),
        ...extra,
      },
    });

  // Queries and updates.
  setHandler(taskStatusQuery, status);

  const ack = (message: string): UpdateAck => ({ ok: true, state, message });
  const ready = () => resolved !== undefined;
  /** The resolved people once set up; rejects when the task is closed. */
  const ensureOpen = (): ResolvedTaskPeople => {
    if (isClosed()) reject(`the task is already ${state}`);
    if (!resolved) reject('the task is still being set up; try again in a moment');
    return resolved;
  };
  const managers = () => [ensureOpen().aimsManagerId, ...(managerId ? [managerId] : [])];
  /** Runs an organization look-up from a handler; an unknown person rejects the update. */
  const lookUp = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ActivityFailure) reject(err.cause?.message ?? err.message);
      throw err;
    }
  };

  setHandler(
    completeTaskUpdate,
    ...guardedUpdate({
      schema: completeTaskSchema,
      ready,
      check: (input) => {
        ensureOpen();
        if (!actors().includes(input.by)) {
          reject(`only ${assignee.name}${delegate ? ` or ${delegate.name}` : ''} can complete this task`);
        }
        const form = validateForm(spec.form, input.data, spec.choices ?? []);
        if (!form.ok) reject(`the form is not valid: ${describeProblems(form.problems)}`);
      },
      apply: (input) => {
        const form = validateForm(spec.form, input.data, spec.choices ?? []);
        completion = { by: input.by, at: new Date().toISOString(), data: form.ok ? form.data : input.data };
        state = 'completed';
        record('completed', input.by, 'completed the task', completion.data);
        return ack('Thank you: the task is complete.');
      },
    }),
  );

  setHandler(
    reassignTaskUpdate,
    ...guardedUpdate({
      schema: reassignTaskSchema,
      ready,
      check: (input) => {
        if (!['system', ...managers()].includes(input.by)) {
          reject("only the AIMS manager or the assignee's manager can reassign this task");
        }
        if (input.to === assignee.id) reject(`the task is already assigned to ${assignee.name}`);
      },
      apply: async (input) => {
        const to = await lookUp(() => acts.resolvePerson(input.to));
        ensureOpen();
        const previous = assignee;
        assignee = { id: to.id, name: to.name, email: to.email };
        managerId = to.managerId;
        delegate = undefined;
        record('reassigned', input.by, `reassigned from ${previous.name} to ${to.name}: ${input.reason}`, {
          from: previous.id,
          to: to.id,
        });
        changed = true;
        publish();
        await send('task.assigned', [assignee], { reason: input.reason });
        await send('task.reassigned', [previous], { reason: input.reason, newAssigneeName: to.name });
        return ack(`Reassigned to ${to.name}.`);
      },
    }),
  );

  setHandler(
    delegateTaskUpdate,
    ...guardedUpdate({
      schema: delegateTaskSchema,
      ready,
      check: (input) => {
        ensureOpen();
        if (input.by !== assignee.id) reject(`only the assignee (${assignee.name}) can delegate this task`);
        if (input.to === assignee.id) reject('cannot delegate a task to its own assignee');
      },
      apply: async (input) => {
        const to = await lookUp(() => acts.resolvePerson(input.to));
        ensureOpen();
        delegate = { id: to.id, name: to.name, email: to.email };
        record('delegated', input.by, `delegated to ${to.name}${input.note ? `: ${input.note}` : ''}`, { to: to.id });
        changed = true;
        publish();
        await send('task.assigned', [delegate], { reason: `Delegated by ${assignee.name}${input.note ? `: ${input.note}` : ''}` });
        return ack(`Delegated to ${to.name}; ${assignee.name} stays accountable.`);
      },
    }),
  );

  setHandler(
    extendDueUpdate,
    ...guardedUpdate({
      schema: extendDueSchema,
      ready,
      check: (input) => {
        if (!['system', ...managers()].includes(input.by)) {
          reject("only the AIMS manager or the assignee's manager can change the due date");
        }
        const due = Date.parse(input.dueAt);
        if (due <= Date.now()) reject('the new due date must be in the future');
        if (due === timeline.dueAt) reject('the new due date is the same as the current one');
      },
      apply: async (input) => {
        const previous = dueIso();
        timeline.arm(Date.parse(input.dueAt), Date.now());
        if (state === 'overdue') state = 'open';
        escalationLevel = 0;
        record('due-extended', input.by, `due date moved from ${formatDay(Date.parse(previous))} to ${formatDay(timeline.dueAt)}: ${input.reason}`, {
          from: previous,
          to: dueIso(),
        });
        changed = true;
        publish();
        await send('task.due-changed', delegate ? [assignee, delegate] : [assignee], { reason: input.reason, previousDueDate: previous });
        return ack(`The due date is now ${formatDay(timeline.dueAt)}.`);
      },
    }),
  );

  setHandler(
    commentUpdate,
    ...guardedUpdate({
      schema: commentSchema,
      ready,
      check: (input) => {
        if (!['system', ...actors(), ...managers()].includes(input.by)) {
          reject('only people involved in this task can comment on it');
        }
      },
      apply: (input) => {
        record('commented', input.by, input.text);
        return ack('Comment added.');
      },
    }),
  );

  setHandler(
    cancelUpdate,
    ...guardedUpdate({
      schema: cancelSchema,
      ready,
      check: (input) => {
        if (!['system', ensureOpen().aimsManagerId].includes(input.by)) reject('only the AIMS manager can cancel this task');
      },
      apply: (input) => {
        cancellation = { by: input.by, at: new Date().toISOString(), reason: input.reason };
        state = 'cancelled';
        record('cancelled', input.by, `cancelled: ${input.reason}`);
        return ack('The task is cancelled.');
      },
    }),
  );

  // The task's life.
  record('created', spec.requestedBy, `task created, due ${formatDay(timeline.dueAt)}`);
  publish();
  const people = await acts.resolveTaskPeople({ assignee: spec.assignee, policy: spec.policy });
  assignee = people.assignee;
  managerId = people.managerId;
  timeline = new DueTimeline({ reminderOffsetsMs: people.reminderOffsetsMs, escalationAfterMs: people.escalationAfterMs });
  timeline.arm(Date.parse(spec.dueAt), Date.parse(createdAt));
  resolved = people;
  publish();
  let cancelledBy: Error | undefined;
  try {
    await send('task.assigned', [assignee]);
    record('assigned', 'system', `assigned to ${assignee.name}`);

    while (!isClosed()) {
      const event = await waitForNext(timeline, () => isClosed() || changed);
      changed = false;
      if (!event || isClosed()) continue;
      switch (event.kind) {
        case 'reminder':
          record('reminded', 'system', `reminder sent, due ${formatDay(timeline.dueAt)}`);
          await send('task.reminder', delegate ? [delegate, assignee] : [assignee]);
          break;
        case 'overdue':
          state = 'overdue';
          record('overdue', 'system', 'the due date has passed');
          publish();
          break;
        case 'escalation': {
          const step = people.escalation[event.index];
          if (!step) break;
          const targets = await acts.resolveEscalation({ assigneeId: assignee.id, to: step.to });
          // The level and its history entry change together, so a status read never sees one without the other.
          escalationLevel = event.index + 1;
          record('escalated', 'system', `escalated to ${targets.map((t) => t.name).join(', ')} (level ${escalationLevel})`, {
            level: escalationLevel,
            to: targets.map((t) => t.id),
          });
          publish();
          await send('task.escalated', targets, { escalationLevel, assigneeName: assignee.name });
          await send('task.escalated', delegate ? [assignee, delegate] : [assignee], {
            escalationLevel,
            assigneeName: assignee.name,
            reason: `Copy for you: escalated to ${targets.map((t) => t.name).join(', ')}`,
          });
          break;
        }
        case 'expire':
          break;
      }
    }
  } catch (err) {
    if (!isCancellation(err)) throw err;
    cancelledBy = err as Error;
    cancellation = { by: 'system', at: new Date().toISOString(), reason: 'cancelled by its parent process or an operator' };
    state = 'cancelled';
    record('cancelled', 'system', cancellation.reason);
  }

  // Handlers change the state behind the compiler's back; read it afresh.
  const finalState = state as TaskState;
  // Closing work runs even when the workflow itself is being cancelled.
  await CancellationScope.nonCancellable(async () => {
    publish();
    if (finalState === 'completed' && completion) {
      await acts.appendRecord({
        id: `${taskId}/${info.firstExecutionRunId}/completed`,
        kind: 'task.completed',
        subject: taskId,
        clauses: spec.clauses,
        actor: completion.by,
        occurredAt: completion.at,
        content: {
          taskId,
          title: spec.title,
          process: spec.process,
          instructions: spec.instructions,
          form: spec.form,
          data: completion.data,
          assignee: assignee.id,
          ...(delegate ? { delegate: delegate.id } : {}),
          dueAt: dueIso(),
          history,
        },
      });
      const completer = delegate && completion.by === delegate.id ? delegate : assignee;
      await send('task.completed', completer === assignee ? [assignee] : [completer, assignee], {
        completedAt: completion.at,
        completedByName: completer.name,
      });
    } else if (cancellation) {
      await acts.appendRecord({
        id: `${taskId}/${info.firstExecutionRunId}/cancelled`,
        kind: 'task.cancelled',
        subject: taskId,
        clauses: spec.clauses,
        actor: cancellation.by,
        occurredAt: cancellation.at,
        content: { taskId, title: spec.title, reason: cancellation.reason, history },
      });
      await send('task.cancelled', delegate ? [assignee, delegate] : [assignee], { reason: cancellation.reason });
    }
    await condition(allHandlersFinished);
  });

  // Cancelled through Temporal (parent or operator): close as cancelled once the closing work is done.
  if (cancelledBy) throw cancelledBy;
  return {
    taskId,
    status: finalState === 'completed' ? 'completed' : 'cancelled',
    ...(completion ? { completedBy: completion.by, completedAt: completion.at, data: completion.data } : {}),
    ...(cancellation ? { cancellation } : {}),
    history,
  };
}
