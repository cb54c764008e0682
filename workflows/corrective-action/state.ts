/**
 * A nonconformity's state while its corrective action runs: where it is in 10.2, what each
 * step found, the timing resolved from the organization, and what it publishes and records.
 */
import { workflowInfo } from '@temporalio/workflow';
import type { PersonRef } from '../../src/common/schemas.js';
import type { CancelRequest, CorrectiveActionSpec, CorrectiveActionTiming, NcEventType, NcState, NcStatus } from '../../src/corrective-action/schema.js';
import { durationMs } from '../../src/common/duration.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { Recorder } from '../lib/recorder.js';
import { formatDay, reject } from '../lib/util.js';

const stateText: Record<NcState, string> = {
  containment: 'containment and correction',
  'root-cause': 'root cause analysis',
  'action-plan': 'action plan',
  implementation: 'implementation of the actions',
  'waiting-effectiveness': 'waiting before the effectiveness review',
  'effectiveness-review': 'effectiveness review',
  'system-change': 'change to the management system',
  closed: 'closed',
  cancelled: 'cancelled',
};

export class Nonconformity {
  readonly workflowId = workflowInfo().workflowId;
  readonly clauses: string[];
  readonly raisedAt: string;
  state: NcState = 'containment';
  /** Who owns the corrective action: the input's owner until a handover (or their leaving) moves it. */
  owner: string;
  aimsManagerId: string | undefined;
  targetAtMs: number;
  overdue = false;
  cycle = 1;
  notEffectiveCount = 0;
  currentStep: NcStatus['currentStep'];
  containment: Record<string, unknown> | undefined;
  systemChange: NcStatus['systemChange'];
  closedAt: string | undefined;
  cancellation: NcStatus['cancellation'];
  /** A cancellation waiting for top management, and how many were asked for so far. */
  cancelRequest: CancelRequest | undefined;
  cancelRequests = 0;
  readonly rootCauses: NcStatus['rootCauses'] = [];
  readonly actions: NcStatus['actions'] = [];
  readonly effectiveness: NcStatus['effectiveness'] = [];
  readonly mergedConcerns: string[] = [];
  /** Step due times, resolved from the organization's defaults and the input's policy. */
  stepDueMs = 0;
  approvalDueMs = 0;
  effectivenessWaitMs = 0;
  readonly recorder: Recorder<NcEventType>;

  constructor(readonly spec: CorrectiveActionSpec) {
    this.clauses = [...new Set(['10.2', ...spec.clauses])];
    this.raisedAt = new Date(spec.raisedAt ?? Date.now()).toISOString();
    this.targetAtMs = Date.parse(this.raisedAt);
    this.owner = spec.owner;
    this.recorder = new Recorder<NcEventType>({ view: () => this.view(), clauses: this.clauses, identity: () => ({ ncId: spec.ncId }) });
  }

  get ncId(): string {
    return this.spec.ncId;
  }

  event(type: NcEventType, by: string, detail: string, extra: { workflowId?: string; data?: Record<string, unknown> } = {}): void {
    this.recorder.event(type, by, detail, extra);
  }

  publish(): void {
    this.recorder.publish();
  }

  isClosed(): boolean {
    return this.state === 'closed' || this.state === 'cancelled';
  }

  ensureOpen(): void {
    if (this.isClosed()) reject(`the nonconformity is already ${this.state}`);
  }

  /** The organization's timing for the severity, overridden by the input's policy. */
  setTiming(timing: CorrectiveActionTiming): void {
    const { policy } = this.spec;
    this.stepDueMs = policy.stepDue ? durationMs(policy.stepDue) : timing.stepDueMs;
    this.approvalDueMs = policy.approvalDue ? durationMs(policy.approvalDue) : this.stepDueMs;
    this.effectivenessWaitMs = policy.effectivenessWait ? durationMs(policy.effectivenessWait) : timing.effectivenessWaitMs;
    this.targetAtMs = Date.parse(this.raisedAt) + (policy.overallTarget ? durationMs(policy.overallTarget) : timing.overallTargetMs);
    this.aimsManagerId = timing.aimsManagerId;
  }

  /**
   * The owner is not in the organization (any more): the AIMS manager owns the NC from now on
   * (its later steps, escalation and closure mail), and the timeline says why.
   */
  ownerGone(ownerId: string): void {
    if (this.owner !== ownerId || !this.aimsManagerId) return;
    this.owner = this.aimsManagerId;
    this.event('rerouted', 'system', `the owner ${ownerId} is not in the organization; the AIMS manager ${this.aimsManagerId} owns the nonconformity now`, {
      data: { from: ownerId, to: this.aimsManagerId },
    });
    this.publish();
  }

  targetAt(): string {
    return new Date(this.targetAtMs).toISOString();
  }

  /** What every step's instructions end with: the NC, the latest root cause, earlier failures. */
  context(): string {
    const { spec } = this;
    return [
      `Nonconformity ${spec.ncId} (${spec.severity}, from ${spec.source}): ${spec.title}`,
      spec.description,
      ...this.rootCauses.slice(-1).map((rc) => `Root cause (cycle ${rc.cycle}): ${rc.rootCause}`),
      ...(this.notEffectiveCount ? [`Earlier corrective actions were found not effective ${this.notEffectiveCount} time(s).`] : []),
    ].join('\n\n');
  }

  stateText(): string {
    return stateText[this.state];
  }

  send(kind: 'nc.escalated' | 'nc.closed', to: PersonRef[], data: Record<string, unknown>): Promise<boolean> {
    return this.recorder.notify({ kind, to, data: { title: `${this.spec.ncId}: ${this.spec.title}`, clauses: this.clauses, ...data } });
  }

  status(): NcStatus {
    const { spec } = this;
    return {
      ncId: spec.ncId,
      workflowId: this.workflowId,
      title: spec.title,
      description: spec.description,
      severity: spec.severity,
      source: spec.source,
      sourceRef: spec.sourceRef,
      clauses: this.clauses,
      aiSystem: spec.aiSystem,
      owner: this.owner,
      raisedBy: spec.raisedBy,
      raisedAt: this.raisedAt,
      targetAt: this.targetAt(),
      state: this.state,
      overdue: this.overdue,
      cycle: this.cycle,
      notEffectiveCount: this.notEffectiveCount,
      currentStep: this.currentStep,
      containment: this.containment,
      rootCauses: this.rootCauses,
      actions: this.actions,
      effectiveness: this.effectiveness,
      systemChange: this.systemChange,
      mergedConcerns: this.mergedConcerns,
      cancelRequest: this.cancelRequest,
      closedAt: this.closedAt,
      cancellation: this.cancellation,
      timeline: this.recorder.timeline,
    };
  }

  private view() {
    const { spec } = this;
    const late = this.overdue && !this.isClosed();
    const loops = this.notEffectiveCount ? ` · not effective ${this.notEffectiveCount}×` : '';
    const asked = this.cancelRequest && !this.isClosed() ? ' · cancellation awaiting top management' : '';
    return {
      attributes: [
        { key: searchAttributes.process, value: 'corrective-action' },
        { key: searchAttributes.ref, value: spec.ncId },
        { key: searchAttributes.severity, value: spec.severity },
        { key: searchAttributes.source, value: spec.source },
        { key: searchAttributes.owner, value: this.owner },
        { key: searchAttributes.state, value: late ? 'overdue' : this.state },
        { key: searchAttributes.dueDate, value: new Date(this.targetAtMs) },
        { key: searchAttributes.clauses, value: this.clauses },
        ...(spec.aiSystem ? [{ key: searchAttributes.aiSystem, value: spec.aiSystem }] : []),
      ],
      memo: { kind: 'nonconformity', ncId: spec.ncId, title: spec.title, severity: spec.severity, source: spec.source, state: this.state },
      details: `**${spec.ncId}** · ${stateText[this.state]} · ${spec.severity} · ${spec.title} · owner ${this.owner} · target ${formatDay(this.targetAtMs)}${loops}${late ? ' · past target, escalated' : ''}${asked}`,
    };
  }
}
