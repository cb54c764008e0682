/**
 * One risk assessment's state: the risks of its scope as they move through the steps, the
 * Annex A comparison, the treatment plan, the approvals, and what it publishes (status query,
 * search attributes, memo, summary line) and records (the assessment's own records and a
 * version of each risk under `risk/<id>`).
 */
import { workflowInfo } from '@temporalio/workflow';
import { durationMs } from '../../src/common/duration.js';
import { reviewInterval, scoreRisk, type RiskCriteria } from '../../src/risk/criteria.js';
import type { RiskRecord } from '../../src/risk/register.js';
import {
  aimsScope,
  RISK_CLAUSES,
  type AnnexAComparison,
  type Risk,
  type RiskAssessmentEvent,
  type RiskAssessmentResult,
  type RiskAssessmentSettings,
  type RiskAssessmentSpec,
  type RiskAssessmentState,
  type RiskAssessmentStatus,
  type ScoredRating,
} from '../../src/risk/schema.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import type { HumanTaskInput } from '../../src/task/schema.js';
import { acts } from '../lib/activities.js';
import { childWorkflowId } from '../lib/children.js';
import { Recorder } from '../lib/recorder.js';

type EventType = RiskAssessmentEvent['type'];

export type StepTask = Pick<HumanTaskInput, 'assignee' | 'form' | 'choices' | 'conflicts'> & { dueMs: number };

const stateText: Record<RiskAssessmentState, string> = {
  identify: 'identifying risks',
  analyse: 'analysing and evaluating',
  treat: 'choosing the treatment',
  'plan-approval': 'plan approval by the risk owners',
  acceptance: 'residual risk acceptance by top management',
  treatment: 'carrying out the treatment plan',
  verification: 'verifying the treatment',
  recorded: 'recorded',
  cancelled: 'cancelled',
};

export class RiskAssessment {
  readonly workflowId = workflowInfo().workflowId;
  /** `<scope>/<year>-<n>`. */
  readonly assessmentId: string;
  readonly clauses = [...RISK_CLAUSES];
  state: RiskAssessmentState = 'identify';
  round = 0;
  currentStep: RiskAssessmentStatus['currentStep'];
  /** The risks of the scope this assessment works on, by id, in order. */
  risks: Risk[] = [];
  closedRisks: string[] = [];
  annexA: AnnexAComparison[] = [];
  /** Who prepared the treatment (the treatment step's completer). */
  preparedBy = 'system';
  contentHash: string | undefined;
  recordedAt: string | undefined;
  recordId: string | undefined;
  soaVersion: number | undefined;
  cancelReason: string | undefined;
  settings!: RiskAssessmentSettings;
  readonly recorder: Recorder<EventType>;

  constructor(readonly spec: RiskAssessmentSpec) {
    this.assessmentId = `${spec.scope}/${spec.assessmentRef}`;
    this.recorder = new Recorder<EventType>({
      view: () => this.view(),
      clauses: this.clauses,
      identity: () => ({ assessmentId: this.assessmentId, scope: spec.scope }),
    });
  }

  get criteria(): RiskCriteria {
    return this.settings.criteria;
  }

  setUp(settings: RiskAssessmentSettings): void {
    this.settings = settings;
  }

  /** A step's due time: the input's policy over the organization's. */
  dueMs(step: keyof RiskAssessmentSettings['stepDueMs']): number {
    const own = { identify: this.spec.policy.identifyDue, analyse: this.spec.policy.analyseDue, treat: this.spec.policy.treatDue, planApproval: this.spec.policy.planApprovalDue, acceptance: this.spec.policy.acceptanceDue, verification: this.spec.policy.verificationDue, treatment: undefined }[step];
    return own ? durationMs(own) : this.settings.stepDueMs[step];
  }

  dueIn(ms: number): string {
    return new Date(Date.now() + ms).toISOString();
  }

  event(type: EventType, by: string, detail: string, workflowId?: string): void {
    this.recorder.event(type, by, detail, { workflowId });
  }

  publish(): void {
    this.recorder.publish();
  }

  stepStarted(key: string, detail: string): void {
    const workflowId = childWorkflowId(key);
    this.currentStep = { key, workflowId };
    this.event('step-started', 'system', detail, workflowId);
    this.publish();
  }

  scopeText(): string {
    return this.spec.scope === aimsScope ? 'the AIMS' : `${this.settings.systemName ?? this.spec.scope} (${this.spec.scope})`;
  }

  rate(rating: { likelihood: string; consequence: string }): ScoredRating {
    const { score, level } = scoreRisk(this.criteria, rating);
    return { likelihood: rating.likelihood, consequence: rating.consequence, score, level };
  }

  /** The review date of a risk decided now, from its residual (else inherent) level. */
  reviewDueAt(risk: Risk): string {
    const level = risk.residual?.level ?? risk.inherent?.level ?? this.criteria.levels[0]!.name;
    return new Date(Date.now() + durationMs(reviewInterval(this.criteria, level))).toISOString();
  }

  risk(riskId: string): Risk {
    const found = this.risks.find((r) => r.riskId === riskId);
    if (!found) throw new Error(`risk ${riskId} is not part of ${this.assessmentId}`);
    return found;
  }

  /** Changes a risk and stamps who and when. */
  update(riskId: string, by: string, change: Partial<Risk>): Risk {
    const i = this.risks.findIndex((r) => r.riskId === riskId);
    const next: Risk = { ...this.risks[i]!, ...change, updatedAt: new Date().toISOString(), updatedBy: by };
    this.risks[i] = next;
    return next;
  }

  /** A ledger version of each risk, with ids derived from this workflow and `key`. */
  async recordRisks(kind: RiskRecord['kind'], key: string, versions: Array<{ risk: Risk; change: string }>, actor: string): Promise<void> {
    if (!versions.length) return;
    await acts.recordRisks(
      versions.map(({ risk, change }) => ({
        id: `${this.recorder.base}/risk/${risk.riskId}/${key}`,
        kind,
        risk,
        actor,
        change,
        clauses: risk.controls.filter((c) => c.annexA).map((c) => c.ref),
      })),
    );
  }

  /** A step's human task: the instructions followed by the risks as they stand. */
  taskInput(title: string, instructions: string, task: StepTask): HumanTaskInput {
    return {
      title: `${this.scopeText()}: ${title}`.slice(0, 200),
      instructions: `${instructions}\n\n${this.context()}`.slice(0, 10000),
      clauses: this.clauses,
      process: 'risk-assessment',
      ...(this.spec.scope !== aimsScope ? { aiSystem: this.spec.scope } : {}),
      assignee: task.assignee,
      dueAt: this.dueIn(task.dueMs),
      form: task.form ?? 'text',
      ...(task.choices ? { choices: task.choices } : {}),
      requestedBy: 'system',
      policy: this.spec.policy.tasks,
      ...(task.conflicts?.length ? { conflicts: task.conflicts } : {}),
    };
  }

  /** The risks as people read them. */
  context(): string {
    const lines = this.risks.map((r) => {
      const rating = (s: ScoredRating | undefined, what: string) => (s ? `; ${what} ${s.likelihood} × ${s.consequence} = ${s.level}` : '');
      const controls = r.controls.length ? `; controls ${r.controls.map((c) => c.ref).join(', ')}` : '';
      return `- ${r.riskId} ${r.title} (${r.categories.join(', ')}; owner ${r.owner}; ${r.state}${rating(r.inherent, 'inherent')}${rating(r.residual, 'residual')}${controls})\n  ${r.description}`;
    });
    return [
      `Risk assessment ${this.assessmentId} of ${this.scopeText()} (trigger: ${this.spec.trigger}).${this.spec.reason ? ` ${this.spec.reason}` : ''}`,
      lines.length ? `Risks:\n${lines.join('\n')}` : 'No open risks in the register for this scope yet.',
      ...(this.closedRisks.length ? [`Closed in this assessment: ${this.closedRisks.join(', ')}`] : []),
    ].join('\n\n');
  }

  status(): RiskAssessmentStatus {
    return {
      assessmentId: this.assessmentId,
      workflowId: this.workflowId,
      scope: this.spec.scope,
      trigger: this.spec.trigger,
      state: this.state,
      round: this.round,
      currentStep: this.currentStep,
      risks: this.risks,
      closedRisks: this.closedRisks,
      annexA: this.annexA,
      contentHash: this.contentHash,
      recordedAt: this.recordedAt,
      timeline: this.recorder.timeline,
    };
  }

  private view() {
    const { spec, state } = this;
    const owner = this.settings?.assessor ?? 'system';
    return {
      attributes: [
        { key: searchAttributes.process, value: 'risk-assessment' },
        ...(spec.scope !== aimsScope ? [{ key: searchAttributes.aiSystem, value: spec.scope }] : []),
        { key: searchAttributes.ref, value: this.assessmentId },
        { key: searchAttributes.state, value: state },
        { key: searchAttributes.owner, value: owner },
        { key: searchAttributes.clauses, value: this.clauses },
      ],
      memo: { kind: 'risk-assessment', title: `Risk assessment ${this.assessmentId}`, assessmentId: this.assessmentId, scope: spec.scope, state, risks: this.risks.length },
      details: [`**Risk assessment ${this.assessmentId}** · ${stateText[state]}`, `trigger ${spec.trigger}`, `${this.risks.length} risk(s)`, ...(this.round > 1 ? [`treatment round ${this.round}`] : [])].join(' · '),
    };
  }

  result(): RiskAssessmentResult {
    return {
      assessmentId: this.assessmentId,
      status: this.state === 'recorded' ? 'recorded' : 'cancelled',
      risks: this.risks.map((r) => ({ riskId: r.riskId, state: r.state, level: r.inherent?.level, residualLevel: r.residual?.level })),
      ...(this.recordId ? { recordId: this.recordId } : {}),
      ...(this.soaVersion !== undefined ? { soaVersion: this.soaVersion } : {}),
      ...(this.cancelReason ? { reason: this.cancelReason } : {}),
    };
  }
}
