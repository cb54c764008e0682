/**
 * An approval's state: who prepared it and who approves, the content version and its hash,
 * the decisions, the due-date ladder, and what it publishes and records.
 */
import { workflowInfo } from '@temporalio/workflow';
import type { ResolvedTaskPeople } from '../../activities/directory.js';
import type { NotificationKind } from '../../activities/notifications.js';
import type { PersonRef } from '../../src/common/schemas.js';
import type { ApprovalEvent, ApprovalResult, ApprovalSpec, ApprovalState, ApprovalStatus, Decision } from '../../src/approval/schema.js';
import { durationMs } from '../../src/common/duration.js';
import { conflictOf, conflictText } from '../../src/people/duties.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { acts } from '../lib/activities.js';
import { DueTimeline } from '../lib/ladder.js';
import { ref, type Person } from '../lib/people.js';
import { Recorder } from '../lib/recorder.js';
import { formatDay, reject } from '../lib/util.js';

const closedStates: readonly ApprovalState[] = ['approved', 'rejected', 'expired', 'cancelled'];

export class Approval {
  readonly approvalId = workflowInfo().workflowId;
  readonly createdAt = Date.now();
  readonly expireAfterMs: number;
  /** Until the organization look-ups return, the approval shows only what it was asked for. */
  preparer: PersonRef;
  approvers: PersonRef[] = [];
  required = 0;
  people: ResolvedTaskPeople | undefined;
  state: ApprovalState = 'pending';
  contentHash: string;
  title: string;
  summary: string;
  contentUrl: string | undefined;
  version = 1;
  cancelReason: string | undefined;
  readonly decisions: Decision[] = [];
  timeline: DueTimeline;
  readonly recorder: Recorder<ApprovalEvent['type']>;

  constructor(readonly spec: ApprovalSpec) {
    this.preparer = { id: spec.preparer, name: spec.preparer, email: '' };
    this.contentHash = spec.contentHash;
    this.title = spec.title;
    this.summary = spec.summary;
    this.contentUrl = spec.contentUrl;
    this.expireAfterMs = durationMs(spec.expireAfter);
    this.timeline = new DueTimeline({ reminderOffsetsMs: [], escalationAfterMs: [], expireAfterMs: this.expireAfterMs });
    this.timeline.arm(Date.parse(spec.dueAt), this.createdAt);
    this.recorder = new Recorder<ApprovalEvent['type']>({
      view: () => this.view(),
      clauses: spec.clauses,
      identity: () => ({ approvalId: this.approvalId }),
    });
  }

  get history() {
    return this.recorder.timeline;
  }

  event(type: ApprovalEvent['type'], by: string, detail: string, data?: Record<string, unknown>): void {
    this.recorder.event(type, by, detail, { data });
  }

  publish(): void {
    this.recorder.publish();
  }

  isClosed(): boolean {
    return closedStates.includes(this.state);
  }

  /** Decisions on the current version. */
  current(): Decision[] {
    return this.decisions.filter((d) => !d.voided);
  }

  /** Approvers who have not decided on the current version. */
  pending(): PersonRef[] {
    return this.approvers.filter((a) => !this.current().some((d) => d.by === a.id));
  }

  dueIso(): string {
    return new Date(this.timeline.dueAt).toISOString();
  }

  nameOf(id: string): string {
    return this.approvers.find((a) => a.id === id)?.name ?? id;
  }

  /** The organization's timing once set up; rejects when the approval is closed. */
  ensureOpen(): ResolvedTaskPeople {
    if (this.isClosed()) reject(`the approval is already ${this.state}`);
    if (!this.people) reject('the approval is still being set up; try again in a moment');
    return this.people;
  }

  ruleText(): string {
    const n = this.approvers.length;
    const { rule } = this.spec;
    return rule.type === 'all' ? `all ${n} approvers` : rule.type === 'any' ? `any one of ${n} approvers` : `${this.required} of ${n} approvers`;
  }

  /** Who decided on the current version, for the preparer's mail. */
  deciders(): string {
    const names = this.current().map((d) => this.nameOf(d.by));
    return names.length ? names.join(', ') : 'nobody';
  }

  send(kind: NotificationKind, to: PersonRef[], extra: Record<string, unknown> = {}): Promise<boolean> {
    return this.recorder.notify({
      kind,
      to,
      link: { wf: this.approvalId, task: this.approvalId, action: 'approval.decide' },
      data: { title: this.title, instructions: this.summary, dueDate: this.dueIso(), clauses: this.spec.clauses, preparerName: this.preparer.name, ...extra },
    });
  }

  status(): ApprovalStatus {
    return {
      approvalId: this.approvalId,
      kind: this.spec.kind,
      title: this.title,
      summary: this.summary,
      contentUrl: this.contentUrl,
      contentHash: this.contentHash,
      version: this.version,
      rule: this.spec.rule,
      required: this.required,
      preparer: { id: this.preparer.id, name: this.preparer.name, email: this.preparer.email },
      approvers: this.approvers,
      pending: this.isClosed() ? [] : this.pending().map((p) => p.id),
      state: this.state,
      dueAt: this.dueIso(),
      expiresAt: new Date(this.timeline.dueAt + this.expireAfterMs).toISOString(),
      decisions: this.decisions,
      history: this.history,
    };
  }

  private view() {
    const approvals = this.current().filter((d) => d.decision === 'approve').length;
    return {
      attributes: [
        { key: searchAttributes.process, value: this.spec.process },
        { key: searchAttributes.owner, value: this.preparer.id },
        { key: searchAttributes.assignees, value: this.isClosed() ? [] : this.pending().map((p) => p.id) },
        { key: searchAttributes.state, value: this.state },
        { key: searchAttributes.dueDate, value: new Date(this.timeline.dueAt) },
        { key: searchAttributes.clauses, value: this.spec.clauses },
      ],
      memo: { kind: 'approval', title: this.title, dueAt: this.dueIso() },
      details: `**${this.state}** · ${this.title} · ${approvals}/${this.required} approvals (${this.spec.rule.type}) · version ${this.version} · due ${formatDay(this.timeline.dueAt)}`,
    };
  }

  /** Whether `id` may take a decision here: neither the preparer nor already an approver. */
  eligible(id: string): boolean {
    return id !== this.preparer.id && !conflictOf(this.spec.conflicts, id) && !this.approvers.some((a) => a.id === id);
  }

  /**
   * Who takes the decision of the approver `fromId`: `to` when they may; when they may not
   * (separation of duties: `to` prepared the content or already approves), or there is no `to`
   * (`fromId` left), the first top manager who may; undefined when nobody may.
   */
  async standIn(to: PersonRef | undefined, fromId: string): Promise<{ person: PersonRef; note?: string } | undefined> {
    if (to && this.eligible(to.id)) return { person: to };
    const conflict = to ? conflictOf(this.spec.conflicts, to.id) : undefined;
    const why = !to
      ? `${fromId} is not in the organization`
      : to.id === this.preparer.id
        ? `${to.name} prepared the content (separation of duties)`
        : conflict
          ? conflictText(conflict)
          : `${to.name} already approves it (separation of duties)`;
    const top = await acts.resolvePeople([{ role: 'top-management' }]);
    const person = top.find((c) => !c.unknown && !c.insteadOf && this.eligible(c.id));
    return person ? { person: ref(person), note: `${why}: ${person.name} of top management decides instead` } : undefined;
  }

  /** Puts `to` in the place of the undecided approver `fromId`; the ladder looks at the approvers again. */
  replaceApprover(fromId: string, to: PersonRef): void {
    this.approvers = this.approvers.map((a) => (a.id === fromId ? to : a));
    this.timeline.touch();
  }

  /**
   * Undecided approvers the organization no longer names hand their decision to a stand-in (see
   * `standIn`), who is asked for it when `ask`; the timeline says why.
   */
  async rerouteGone(people: readonly Person[], ask: boolean): Promise<void> {
    const gone = people.filter((p) => p.unknown && this.pending().some((a) => a.id === p.id));
    if (gone.length === 0) return;
    for (const person of gone) {
      const stand = await this.standIn(undefined, person.id);
      if (!stand) {
        this.event('rerouted', 'system', `${person.id} is not in the organization and nobody else may decide in their place`);
        continue;
      }
      this.replaceApprover(person.id, stand.person);
      this.event('rerouted', 'system', stand.note ?? `${person.id} → ${stand.person.name}`);
      if (ask) await this.send('approval.requested', [stand.person], { rule: this.ruleText(), reason: stand.note });
    }
    this.publish();
  }

  /** The result, the ledger record of every decision, and the preparer's mail. */
  async close(result: ApprovalResult): Promise<void> {
    this.publish();
    await this.recorder.append(
      `approval.${result.status}`,
      'system',
      {
        kind: this.spec.kind,
        title: this.title,
        summary: this.summary,
        contentHash: this.contentHash,
        version: this.version,
        rule: this.spec.rule,
        preparer: this.preparer.id,
        approvers: this.approvers.map((a) => a.id),
        decisions: this.decisions,
        ...(this.cancelReason ? { reason: this.cancelReason } : {}),
      },
      result.status,
      result.decidedAt,
    );
    await this.send('approval.decided', [this.preparer], {
      decision: result.status,
      deciderName: this.deciders(),
      decidedAt: result.decidedAt,
      ...(this.cancelReason ? { reason: this.cancelReason } : {}),
    });
  }
}
