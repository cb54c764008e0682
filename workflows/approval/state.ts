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
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { DueTimeline } from '../lib/ladder.js';
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

  event(type: ApprovalEvent['type'], by: string, detail: string): void {
    this.recorder.event(type, by, detail);
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
