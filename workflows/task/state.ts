/**
 * A human task's state: who holds it, its due date ladder, how it ended, and what it
 * publishes (status query, search attributes, memo, summary line) and records.
 */
import { patched, workflowInfo } from '@temporalio/workflow';
import type { ResolvedTaskPeople } from '../../activities/directory.js';
import type { NotificationKind } from '../../activities/notifications.js';
import type { PersonRef } from '../../src/common/schemas.js';
import { conflictOf, conflictText, taskHolderRefusal } from '../../src/people/duties.js';
import type { HumanTaskResult, HumanTaskSpec, TaskEventType, TaskState, TaskStatus } from '../../src/task/schema.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { acts, directory } from '../lib/activities.js';
import { DueTimeline } from '../lib/ladder.js';
import { ref } from '../lib/people.js';
import { Recorder } from '../lib/recorder.js';
import { formatDay, reject } from '../lib/util.js';

/** The look-up before a reminder or an escalation runs as a local activity. */
const LOCAL_REROUTE_PATCH = 'task-reroute-resolves-locally';

export class Task {
  readonly taskId = workflowInfo().workflowId;
  readonly createdAt = new Date().toISOString();
  /** Until the organization look-up returns, the task shows whom it was asked for. */
  assignee: PersonRef;
  managerId: string | undefined;
  delegate: PersonRef | undefined;
  state: TaskState = 'open';
  escalationLevel = 0;
  completion: TaskStatus['completion'];
  cancellation: TaskStatus['cancellation'];
  people: ResolvedTaskPeople | undefined;
  timeline = new DueTimeline({ reminderOffsetsMs: [], escalationAfterMs: [] });
  readonly recorder: Recorder<TaskEventType>;

  constructor(readonly spec: HumanTaskSpec) {
    this.assignee =
      'person' in spec.assignee
        ? { id: spec.assignee.person, name: spec.assignee.person, email: '' }
        : { id: '', name: `${spec.assignee.role}${spec.assignee.of ? ` of ${spec.assignee.of}` : ''}`, email: '' };
    this.timeline.arm(Date.parse(spec.dueAt), Date.now());
    this.recorder = new Recorder<TaskEventType>({
      view: () => this.view(),
      clauses: spec.clauses,
      identity: () => ({ taskId: this.taskId }),
    });
  }

  get history() {
    return this.recorder.timeline;
  }

  isClosed(): boolean {
    return this.state === 'completed' || this.state === 'cancelled';
  }

  /** Who may complete it: the assignee, and a delegate. */
  actors(): string[] {
    return [this.assignee.id, ...(this.delegate ? [this.delegate.id] : [])];
  }

  dueIso(): string {
    return new Date(this.timeline.dueAt).toISOString();
  }

  record(type: TaskEventType, by: string, detail: string, data?: Record<string, unknown>): void {
    this.recorder.event(type, by, detail, { data });
  }

  publish(): void {
    this.recorder.publish();
  }

  /** The resolved people once set up; rejects when the task is closed. */
  ensureOpen(): ResolvedTaskPeople {
    if (this.isClosed()) reject(`the task is already ${this.state}`);
    if (!this.people) reject('the task is still being set up; try again in a moment');
    return this.people;
  }

  /** Rejects giving the task to `to` when its process named them as conflicting (src/people/duties.ts). */
  refuseConflicting(to: string, action: 'delegated' | 'reassigned'): void {
    const why = taskHolderRefusal(this.spec.conflicts, to, action);
    if (why) reject(why);
  }

  /** `: <reason> [<rule>]` when the task's process named `person` as conflicting, else empty (for refusals). */
  conflictNote(person: string): string {
    const conflict = conflictOf(this.spec.conflicts, person);
    return conflict ? `: ${conflictText(conflict)}` : '';
  }

  /** The AIMS manager and the assignee's manager. */
  managers(): string[] {
    return [this.ensureOpen().aimsManagerId, ...(this.managerId ? [this.managerId] : [])];
  }

  /**
   * The organization's people and timing, once looked up: re-arms the ladder from the task's
   * creation. An assignee not in the organization (or a role nobody holds) was replaced by a
   * fallback: the timeline says why.
   */
  setUp(people: ResolvedTaskPeople): void {
    this.assignee = ref(people.assignee);
    this.managerId = people.managerId;
    this.timeline = new DueTimeline({ reminderOffsetsMs: people.reminderOffsetsMs, escalationAfterMs: people.escalationAfterMs });
    this.timeline.arm(Date.parse(this.spec.dueAt), Date.parse(this.createdAt));
    this.people = people;
    if (people.rerouted) this.record('rerouted', 'system', people.rerouted.reason, { from: people.rerouted.from, to: people.rerouted.to });
  }

  /**
   * Before a reminder or an escalation: an assignee no longer in the organization hands the task
   * to the fallback (the manager recorded at assignment, else the AIMS manager), who gets the
   * assignment mail with the reason. True when it moved.
   */
  async rerouteIfGone(): Promise<boolean> {
    const { assignee, managerId } = this;
    const who = { assignee: { person: assignee.id }, policy: this.spec.policy, ...(managerId ? { managerId } : {}) };
    // Looked up in the workflow task the reminder or escalation runs in, so its mail is not held back by a round trip.
    const found = await (patched(LOCAL_REROUTE_PATCH) ? directory : acts).resolveTaskPeople(who);
    if (!found.rerouted || this.isClosed() || this.assignee.id !== assignee.id) return false;
    this.assignee = ref(found.assignee);
    this.managerId = found.managerId;
    if (this.delegate?.id === this.assignee.id) this.delegate = undefined;
    this.record('rerouted', 'system', found.rerouted.reason, { from: assignee.id, to: this.assignee.id });
    this.publish();
    await this.send('task.assigned', [this.assignee], { reason: found.rerouted.reason });
    return true;
  }

  /** The assignee, with the delegate first when there is one. */
  holders(delegateFirst = false): PersonRef[] {
    if (!this.delegate) return [this.assignee];
    return delegateFirst ? [this.delegate, this.assignee] : [this.assignee, this.delegate];
  }

  send(kind: NotificationKind, to: PersonRef[], extra: Record<string, unknown> = {}): Promise<boolean> {
    return this.recorder.notify({
      kind,
      to,
      link: { wf: this.taskId, task: this.taskId, action: 'task.view' },
      data: { title: this.spec.title, instructions: this.spec.instructions, clauses: this.spec.clauses, dueDate: this.dueIso(), ...extra },
    });
  }

  status(): TaskStatus {
    const { spec } = this;
    return {
      taskId: this.taskId,
      title: spec.title,
      instructions: spec.instructions,
      clauses: spec.clauses,
      process: spec.process,
      aiSystem: spec.aiSystem,
      form: spec.form,
      choices: spec.choices ?? [],
      state: this.state,
      assignee: this.assignee,
      delegate: this.delegate,
      ...(this.managerId ? { escalationManager: this.managerId } : {}),
      requestedBy: spec.requestedBy,
      dueAt: this.dueIso(),
      createdAt: this.createdAt,
      escalationLevel: this.escalationLevel,
      completion: this.completion,
      cancellation: this.cancellation,
      history: this.history,
    };
  }

  private view() {
    const { spec } = this;
    const who = this.delegate ? `${this.assignee.name} (delegated to ${this.delegate.name})` : this.assignee.name;
    const clauses = spec.clauses.length ? ` · clause ${spec.clauses.join(', ')}` : '';
    const level = this.escalationLevel ? ` · escalation ${this.escalationLevel}` : '';
    return {
      attributes: [
        { key: searchAttributes.process, value: spec.process },
        ...(this.assignee.id ? [{ key: searchAttributes.owner, value: this.assignee.id }] : []),
        { key: searchAttributes.assignees, value: this.isClosed() ? [] : this.actors().filter(Boolean) },
        { key: searchAttributes.state, value: this.state },
        { key: searchAttributes.dueDate, value: new Date(this.timeline.dueAt) },
        { key: searchAttributes.clauses, value: spec.clauses },
        ...(spec.aiSystem ? [{ key: searchAttributes.aiSystem, value: spec.aiSystem }] : []),
      ],
      memo: { kind: 'task', title: spec.title, dueAt: this.dueIso() },
      details: `**${this.state}** · ${spec.title} · ${who} · due ${formatDay(this.timeline.dueAt)}${level}${clauses}`,
    };
  }

  /** The evidence of how the task ended, and the mail that says so. */
  async close(): Promise<void> {
    const { spec } = this;
    this.publish();
    if (this.state === 'completed' && this.completion) {
      const c = this.completion;
      await this.recorder.append(
        'task.completed',
        c.by,
        {
          title: spec.title,
          process: spec.process,
          instructions: spec.instructions,
          form: spec.form,
          data: c.data,
          assignee: this.assignee.id,
          ...(this.delegate ? { delegate: this.delegate.id } : {}),
          dueAt: this.dueIso(),
          history: this.history,
          ...(c.via ? { via: c.via } : {}),
        },
        'completed',
        c.at,
      );
      const completer = this.delegate && c.by === this.delegate.id ? this.delegate : this.assignee;
      await this.send('task.completed', completer === this.assignee ? [this.assignee] : [completer, this.assignee], {
        completedAt: c.at,
        completedByName: completer.name,
      });
    } else if (this.cancellation) {
      const c = this.cancellation;
      await this.recorder.append('task.cancelled', c.by, { title: spec.title, reason: c.reason, history: this.history }, 'cancelled', c.at);
      await this.send('task.cancelled', this.holders(), { reason: c.reason });
    }
  }

  result(): HumanTaskResult {
    const c = this.completion;
    return {
      taskId: this.taskId,
      status: this.state === 'completed' ? 'completed' : 'cancelled',
      ...(c ? { completedBy: c.by, completedAt: c.at, data: c.data } : {}),
      ...(this.cancellation ? { cancellation: this.cancellation } : {}),
      history: this.history,
    };
  }
}
