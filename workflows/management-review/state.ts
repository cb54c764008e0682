/**
 * A management review's state: the organization's settings for it, the inputs (a)-(e), the
 * pack, the minutes and their approval, the actions it raised, and what it publishes (status
 * query, search attributes, memo, summary line) and records.
 */
import { CancellationScope, workflowInfo } from '@temporalio/workflow';
import type { ApprovalResult } from '../../src/approval/schema.js';
import type { UpdateAck } from '../../src/common/messages.js';
import type { PersonRef } from '../../src/common/schemas.js';
import {
  MANAGEMENT_REVIEW_PROCESS,
  reviewInputKeys,
  reviewInputTitles,
  type ManagementReviewEventType,
  type ManagementReviewResult,
  type ManagementReviewSetup,
  type ManagementReviewSpec,
  type ManagementReviewState,
  type ManagementReviewStatus,
  type ReviewActionOutcome,
  type ReviewInputKey,
  type ReviewInputStatus,
  type ReviewMinutes,
  type ReviewPack,
} from '../../src/management-review/schema.js';
import { resolveMissingInputs } from '../../src/management-review/rules.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { childWorkflowId } from '../lib/children.js';
import { Recorder, type PublishedView } from '../lib/recorder.js';
import { formatDay } from '../lib/util.js';
import { meetingWords } from './texts.js';

export const CLAUSES = ['9.3'];

const stateText: Record<ManagementReviewState, string> = {
  'collecting-inputs': 'collecting inputs',
  'awaiting-minutes': 'waiting for the minutes',
  'awaiting-approval': 'waiting for top management approval',
  completed: 'completed',
  cancelled: 'cancelled',
};

const sourceOf: Record<ManagementReviewSpec['trigger'], string> = { certification: 'certification-audit', schedule: 'schedule', admin: 'admin' };

const iso = (ms: number) => new Date(ms).toISOString();

export type ReviewSettings = ManagementReviewSetup & { previousReviewId: string | null };

export class Review {
  readonly workflowId = workflowInfo().workflowId;
  readonly startedMs = Date.now();
  state: ManagementReviewState = 'collecting-inputs';
  /** The organization's settings for this review; the handlers wait for them. */
  setup: ReviewSettings | undefined;
  inputs: ReviewInputStatus[] = [];
  /** The AIMS manager, who organizes the meeting, and everyone invited to it. */
  organizer: PersonRef | undefined;
  attendees: PersonRef[] = [];
  pack: ReviewPack | undefined;
  minutes: ManagementReviewStatus['minutes'];
  /** Minutes recorded that no approval round has taken up yet. */
  minutesPending = false;
  /** The hash of pack + minutes top management approves, and the summary they read. */
  approvalHash: string | undefined;
  approvalSummary = '';
  approval: ManagementReviewStatus['approval'];
  /** An approval round is waiting for top management (edited minutes revise it). */
  approvalRunning = false;
  approved = false;
  approvedAt: string | undefined;
  completedAt: string | undefined;
  cancellation: ManagementReviewStatus['cancellation'];
  /** An update is recording minutes; the next one waits its turn. */
  busy = false;
  readonly actions: ReviewActionOutcome[] = [];
  /** The scope of the steps up to the approval: the cancel update cancels it. */
  readonly scope = new CancellationScope();
  readonly recorder: Recorder<ManagementReviewEventType>;

  constructor(readonly spec: ManagementReviewSpec) {
    this.recorder = new Recorder<ManagementReviewEventType>({
      view: () => this.view(),
      clauses: CLAUSES,
      identity: () => ({ reviewId: spec.reviewId, workflowId: this.workflowId }),
    });
  }

  /** The organization's settings, which every step after the planning reads. */
  get settings(): ReviewSettings {
    if (!this.setup) throw new Error(`management review ${this.spec.reviewId} is not set up yet`);
    return this.setup;
  }

  /** Takes the organization's settings: one input per key (a)-(e), requested from its owner. */
  setUp(settings: ReviewSettings): void {
    this.inputs = reviewInputKeys.map((key) => ({
      key,
      title: reviewInputTitles[key],
      owner: settings.inputOwners[key],
      taskWorkflowId: childWorkflowId(`input-${key}`),
      dueAt: iso(settings.inputsDueAtMs),
      state: 'requested' as const,
    }));
    this.setup = settings;
  }

  meetingStart(): string {
    return iso(this.settings.meetingStartMs);
  }

  meetingEnd(): string {
    return iso(this.settings.meetingEndMs);
  }

  /** `Tue 15 Dec 2026, 10:00 to 12:00 UTC`. */
  meetingText(): string {
    return meetingWords(this.settings.meetingStartMs, this.settings.meetingEndMs);
  }

  inputsDue(): string {
    return iso(this.settings.inputsDueAtMs);
  }

  /** Reminders and escalation of the review's tasks: the input's policy wins over the organization's, key by key. */
  taskPolicy() {
    return { ...this.settings.taskPolicy, ...this.spec.policy.tasks };
  }

  /** The period the performance figures cover. */
  period(): { from: string; to: string } {
    return { from: this.settings.periodFrom, to: this.spec.meetingDate };
  }

  /** Who records and prepares: the person who recorded the minutes, or the AIMS manager for `system`. */
  preparer(by: string | undefined): string {
    return by && by !== 'system' ? by : this.settings.aimsManagerId;
  }

  event(type: ManagementReviewEventType, by: string, detail: string, child?: string): void {
    this.recorder.event(type, by, detail, { workflowId: child });
  }

  publish(): void {
    this.recorder.publish();
  }

  isClosed(): boolean {
    return this.state === 'completed' || this.state === 'cancelled';
  }

  /** The inputs the pack marks missing: the minutes decide on each. */
  missingInputs(): ReviewInputKey[] {
    return (this.pack?.inputs ?? []).filter((i) => i.state === 'missing').map((i) => i.key);
  }

  supplied(): number {
    return this.inputs.filter((i) => i.state === 'supplied').length;
  }

  ack(message: string): UpdateAck {
    return { ok: true, state: this.state, message };
  }

  /** What top management approves: the pack (by its hash) and the minutes. */
  approvalContent(minutes: ReviewMinutes) {
    return { reviewId: this.spec.reviewId, packHash: this.pack?.contentHash ?? null, minutes };
  }

  status(): ManagementReviewStatus {
    const { spec, setup } = this;
    return {
      reviewId: spec.reviewId,
      workflowId: this.workflowId,
      trigger: spec.trigger,
      triggerRef: spec.triggerRef,
      requestedBy: spec.requestedBy,
      meetingDate: spec.meetingDate,
      ...(setup ? { meetingStart: iso(setup.meetingStartMs), inputsDueAt: iso(setup.inputsDueAtMs), aimsManager: setup.aimsManagerId } : {}),
      state: this.state,
      attendees: setup?.attendees ?? [],
      inputs: this.inputs,
      pack: this.pack,
      minutes: this.minutes,
      approvalHash: this.approvalHash,
      approval: this.approval,
      approvedAt: this.approvedAt,
      actions: this.actions,
      completedAt: this.completedAt,
      cancellation: this.cancellation,
      timeline: this.recorder.timeline,
    };
  }

  /** While inputs are collected, their due date; then the meeting. */
  private dueDate(): Date {
    const { setup } = this;
    if (!setup) return new Date(this.startedMs);
    return new Date(this.state === 'collecting-inputs' ? setup.inputsDueAtMs : setup.meetingStartMs);
  }

  private view(): PublishedView {
    const { spec, setup, state } = this;
    const pendingOwners = [...new Set(this.inputs.filter((i) => i.state === 'requested').map((i) => i.owner))];
    const assignees = state === 'collecting-inputs' ? pendingOwners : state === 'awaiting-minutes' && setup ? [setup.aimsManagerId] : [];
    const progress =
      state === 'collecting-inputs' && this.inputs.length
        ? ` · ${this.supplied()}/${this.inputs.length} inputs in, due ${formatDay(setup?.inputsDueAtMs ?? this.startedMs)}`
        : '';
    const missing = this.missingInputs().length;
    const gaps = missing ? ` · ${missing} input(s) missing` : '';
    const outputs = state === 'completed' ? ` · ${this.actions.length} action(s)` : '';
    const meeting = setup ? meetingWords(setup.meetingStartMs, setup.meetingEndMs) : spec.meetingDate;
    return {
      attributes: [
        { key: searchAttributes.process, value: MANAGEMENT_REVIEW_PROCESS },
        { key: searchAttributes.ref, value: spec.reviewId },
        { key: searchAttributes.state, value: state },
        { key: searchAttributes.clauses, value: CLAUSES },
        { key: searchAttributes.source, value: sourceOf[spec.trigger] },
        { key: searchAttributes.assignees, value: this.isClosed() ? [] : assignees },
        { key: searchAttributes.dueDate, value: this.dueDate() },
        ...(setup ? [{ key: searchAttributes.owner, value: setup.aimsManagerId }] : []),
      ],
      memo: { kind: 'management-review', reviewId: spec.reviewId, meetingDate: spec.meetingDate, state },
      details: `**Management review ${spec.reviewId}** · ${stateText[state]}${progress}${gaps} · meeting ${meeting} · started by ${spec.trigger}${outputs}`,
    };
  }

  /** The approved results on record: the meeting, the inputs, the decisions and the actions raised. */
  async complete(decision: ApprovalResult, m: NonNullable<ManagementReviewStatus['minutes']>): Promise<void> {
    const { spec } = this;
    this.state = 'completed';
    this.completedAt = new Date().toISOString();
    this.event('completed', 'system', `results approved; ${this.actions.length} action(s) raised`);
    await this.recorder.append(
      'management-review.completed',
      'system',
      {
        meetingDate: spec.meetingDate,
        meetingStart: this.meetingStart(),
        trigger: spec.trigger,
        triggerRef: spec.triggerRef ?? null,
        approvedAt: this.approvedAt,
        approvalWorkflowId: this.approval?.workflowId ?? null,
        approvers: decision.decisions.filter((d) => !d.voided).map((d) => ({ by: d.by, decision: d.decision, at: d.at })),
        packHash: this.pack?.contentHash ?? null,
        approvalHash: this.approvalHash ?? null,
        inputs: (this.pack?.inputs ?? this.inputs).map((i) => ({ key: i.key, state: i.state, owner: i.owner, suppliedBy: i.suppliedBy ?? null })),
        minutesVersion: m.version,
        attendees: m.attendees,
        improvementDecisions: m.improvementDecisions,
        changeDecisions: m.changeDecisions,
        missingInputs: resolveMissingInputs(m).map((d) =>
          d.decision === 'accepted'
            ? d
            : { input: d.input, decision: d.decision, action: d.n, title: d.action?.title ?? null, workflowId: this.actions.find((a) => a.n === d.n)?.workflowId ?? null },
        ),
        notes: m.notes ?? null,
        actions: this.actions,
      },
      'completed',
      this.approvedAt,
    );
  }

  /** The cancellation on record, and the meeting withdrawn from the attendees' calendars. */
  async cancel(): Promise<void> {
    const { spec, organizer } = this;
    this.state = 'cancelled';
    const c = this.cancellation ?? { by: 'system', at: new Date().toISOString(), reason: 'cancelled' };
    this.event('cancelled', c.by, `cancelled: ${c.reason}`);
    await this.recorder.append('management-review.cancelled', c.by, { reason: c.reason, timeline: this.recorder.timeline }, 'cancelled');
    if (!organizer) return;
    await this.recorder.notify(
      {
        kind: 'management-review.cancelled',
        to: this.attendees,
        data: { title: `Management review ${spec.reviewId}`, clauses: CLAUSES, meetingText: this.meetingText(), reason: c.reason },
        invite: {
          uid: this.workflowId,
          title: `Management review ${spec.reviewId}`,
          start: this.meetingStart(),
          end: this.meetingEnd(),
          sequence: this.pack ? 2 : 1,
          cancelled: true,
          organizer,
        },
      },
      'cancelled',
    );
  }

  result(): ManagementReviewResult {
    return {
      reviewId: this.spec.reviewId,
      status: this.state === 'completed' ? 'completed' : 'cancelled',
      ...(this.approvedAt ? { approvedAt: this.approvedAt } : {}),
      actions: this.actions,
    };
  }
}
