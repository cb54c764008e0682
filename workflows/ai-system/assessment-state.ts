/**
 * One impact assessment's state: the changes that led to it (and those attached while it
 * runs), the scope, the impacts as assessed, the review and sign-off rounds, how it ended, and
 * what it publishes (status query, search attributes, memo, summary line) and records.
 */
import { patched, workflowInfo, type CancellationScope } from '@temporalio/workflow';
import {
  IMPACT_ASSESSMENT_CLAUSES,
  impactAreaText,
  resultingLevel,
  type ImpactAssessmentEvent,
  type ImpactAssessmentResult,
  type ImpactAssessmentSettings,
  type ImpactAssessmentSpec,
  type ImpactAssessmentState,
  type ImpactAssessmentStatus,
  type ScoredImpact,
  type SignificantChange,
} from '../../src/ai-system/impact-assessment.js';
import { durationMs } from '../../src/common/duration.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import type { HumanTaskInput } from '../../src/task/schema.js';
import { childWorkflowId } from '../lib/children.js';
import { Recorder } from '../lib/recorder.js';
import { formatDay } from '../lib/util.js';

type EventType = ImpactAssessmentEvent['type'];

/** A change announced during the review or sign-off sends the assessment back to the assessment step (issue #13); before, it was only attached. */
const REOPEN_PATCH = 'impact-assessment-change-reopens';

const stateText: Record<ImpactAssessmentState, string> = {
  scoping: 'scoping',
  assessment: 'assessing the impacts',
  review: 'review by AI governance',
  'sign-off': 'sign-off',
  recorded: 'recorded',
  cancelled: 'cancelled',
};

/** How long each step may take, in milliseconds. */
export interface StepDue {
  scoping: number;
  assessment: number;
  review: number;
  signOff: number;
  riskTreatment: number;
}

/** A step's task: who does it, the form and how long it may take. */
export type StepTask = Pick<HumanTaskInput, 'assignee' | 'form' | 'choices' | 'conflicts'> & { dueMs: number };

export class ImpactAssessment {
  readonly workflowId = workflowInfo().workflowId;
  /** The system as assessed; its owner moves with a handover. */
  system: ImpactAssessmentSpec['system'];
  /** `<systemId>/<year>-<n>`. */
  readonly assessmentId: string;
  readonly clauses = IMPACT_ASSESSMENT_CLAUSES;
  state: ImpactAssessmentState = 'scoping';
  round = 0;
  sendBacks = 0;
  signOffRefusals = 0;
  /** Times a change announced during the review or sign-off sent it back to the assessment step. */
  reopened = 0;
  /** The scope of the running review and sign-off, which such a change cancels. */
  reviewScope: CancellationScope | undefined;
  currentStep: ImpactAssessmentStatus['currentStep'];
  scope: ImpactAssessmentStatus['scope'];
  impacts: ScoredImpact[] = [];
  assessedBy: string | undefined;
  level: number | undefined;
  signOff: ImpactAssessmentStatus['signOff'];
  contentHash: string | undefined;
  recordedAt: string | undefined;
  cancellation: ImpactAssessmentStatus['cancellation'];
  readonly riskTreatments: ImpactAssessmentStatus['riskTreatments'] = [];
  readonly risks: NonNullable<ImpactAssessmentStatus['risks']> = [];
  readonly changes: ImpactAssessmentStatus['changes'];
  /** The organization's scales, thresholds and step durations, once looked up. */
  settings!: ImpactAssessmentSettings;
  due!: StepDue;
  readonly recorder: Recorder<EventType>;

  constructor(readonly spec: ImpactAssessmentSpec) {
    this.system = spec.system;
    this.assessmentId = `${spec.system.id}/${spec.assessmentRef}`;
    this.changes = spec.changes.map((c) => ({ ...c, attached: false }));
    this.recorder = new Recorder<EventType>({
      view: () => this.view(),
      clauses: this.clauses,
      identity: () => ({ assessmentId: this.assessmentId, assessmentRef: spec.assessmentRef, systemId: this.system.id }),
    });
  }

  /** The organization's settings, with the assessment's own step durations over them. */
  setUp(settings: ImpactAssessmentSettings): void {
    const p = this.spec.policy;
    const own = (d: string | undefined, fallback: number) => (d ? durationMs(d) : fallback);
    this.settings = settings;
    this.due = {
      scoping: own(p.scopingDue, settings.stepDueMs.scoping),
      assessment: own(p.assessmentDue, settings.stepDueMs.assessment),
      review: own(p.reviewDue, settings.stepDueMs.review),
      signOff: own(p.signOffDue, settings.stepDueMs.signOff),
      riskTreatment: own(p.riskTreatmentDue, settings.stepDueMs.riskTreatment),
    };
  }

  isClosed(): boolean {
    return this.state === 'recorded' || this.state === 'cancelled';
  }

  event(type: EventType, by: string, detail: string, workflowId?: string): void {
    this.recorder.event(type, by, detail, { workflowId });
  }

  publish(): void {
    this.recorder.publish();
  }

  /** A step's child is running: the status names it. */
  stepStarted(key: string, detail: string): void {
    const workflowId = childWorkflowId(key);
    this.currentStep = { key, workflowId };
    this.event('step-started', 'system', detail, workflowId);
    this.publish();
  }

  /**
   * A change announced while the assessment runs, attached by the AI system's workflow. During
   * the review or sign-off it was not assessed: it cancels the running review task or sign-off
   * approval, and the assessment goes back to the assessment step.
   */
  attach(change: SignificantChange): void {
    const reopens = (this.state === 'review' || this.state === 'sign-off') && patched(REOPEN_PATCH);
    this.changes.push({ ...change, attached: true, ...(reopens ? { awaitingAssessment: true } : {}) });
    this.event('change-attached', change.by, `${change.type} change attached${reopens ? ` during the ${this.state}` : ''}: ${change.why}`);
    if (reopens) this.reviewScope?.cancel();
    this.publish();
  }

  /** Changes announced during the review or sign-off, not assessed yet. */
  awaitingAssessment(): SignificantChange[] {
    return this.changes.filter((c) => c.awaitingAssessment).map(({ attached: _, awaitingAssessment: __, ...c }) => c);
  }

  /** The assessment step is done: every change known now went through it. */
  assessedChanges(): void {
    for (const c of this.changes) delete c.awaitingAssessment;
  }

  /** The changes that went through the assessment step, as the sign-off and the record show them. */
  assessed(): ImpactAssessmentStatus['changes'] {
    return this.changes.filter((c) => !c.awaitingAssessment);
  }

  dueIn(ms: number): string {
    return new Date(Date.now() + ms).toISOString();
  }

  /** A step's human task: the instructions followed by everything known so far. */
  taskInput(title: string, instructions: string, task: StepTask): HumanTaskInput {
    return {
      title: `${this.system.name}: ${title}`.slice(0, 200),
      instructions: `${instructions}\n\n${this.context()}`.slice(0, 10000),
      clauses: this.clauses,
      process: 'impact-assessment',
      aiSystem: this.system.id,
      assignee: task.assignee,
      dueAt: this.dueIn(task.dueMs),
      form: task.form ?? 'text',
      ...(task.choices ? { choices: task.choices } : {}),
      requestedBy: 'system',
      policy: this.spec.policy.tasks,
      ...(task.conflicts?.length ? { conflicts: task.conflicts } : {}),
    };
  }

  /** What the sign-off approves, bound by its hash. */
  content(): Record<string, unknown> {
    const { assessmentId, system, scope, impacts, level } = this;
    return { assessmentId, system, trigger: this.spec.trigger, changes: this.assessed().map(({ attached: _, ...c }) => c), scope, impacts, level };
  }

  /** The system, the trigger, the changes, the scope and the impacts, as people read them. */
  context(): string {
    const { system, spec, changes, scope, impacts } = this;
    const trigger = spec.trigger === 'change' ? 'after a significant change' : spec.trigger === 'initial' ? 'as the first assessment' : 'as the planned reassessment';
    const changeLines = changes.map((c) => `- ${c.type} (${c.by}, ${c.at.slice(0, 10)}${c.attached ? ', announced during this assessment' : ''}): ${c.why}`);
    const impactLines = impacts.map(
      (i, n) =>
        `${n + 1}. On ${impactAreaText[i.area]}: ${i.description}\n   ${i.severity} × ${i.likelihood} = level ${i.level}; mitigation: ${i.mitigation}\n   after mitigation ${i.residualSeverity} × ${i.residualLikelihood} = level ${i.residualLevel}`,
    );
    return [
      `AI system ${system.name} (${system.id}, ${system.impactTier} impact tier, ${system.lifecycle}): ${system.purpose}`,
      `Assessment ${this.assessmentId}, started ${trigger}.`,
      ...(spec.previous ? [`Previous assessment ${spec.previous.assessmentRef}: level ${spec.previous.level}, signed off ${spec.previous.signedOffAt.slice(0, 10)}.`] : []),
      ...(changes.length ? [`Significant changes:\n${changeLines.join('\n')}`] : []),
      ...(scope
        ? [
            `Scope:\nIntended use: ${scope.intendedUse}\nForeseeable misuse: ${scope.foreseeableMisuse}\nDeployment context: ${scope.deploymentContext}\n` +
              `Jurisdictions: ${scope.jurisdictions.join(', ')}\nAffected individuals: ${scope.affectedIndividuals}\nAffected groups: ${scope.affectedGroups}\nSociety: ${scope.society}`,
          ]
        : []),
      ...(impacts.length ? [`Impacts:\n${impactLines.join('\n')}\nResulting level (highest residual): ${this.level ?? resultingLevel(impacts)}`] : []),
    ].join('\n\n');
  }

  status(): ImpactAssessmentStatus {
    const { spec } = this;
    return {
      assessmentId: this.assessmentId,
      assessmentRef: spec.assessmentRef,
      workflowId: this.workflowId,
      systemId: this.system.id,
      system: this.system,
      trigger: spec.trigger,
      state: this.state,
      dueAt: spec.dueAt,
      round: this.round,
      sendBacks: this.sendBacks,
      signOffRefusals: this.signOffRefusals,
      ...(this.reopened ? { reopened: this.reopened } : {}),
      currentStep: this.currentStep,
      changes: this.changes,
      scope: this.scope,
      impacts: this.impacts,
      assessedBy: this.assessedBy,
      level: this.level,
      signOff: this.signOff,
      contentHash: this.contentHash,
      riskTreatments: this.riskTreatments,
      ...(this.risks.length ? { risks: this.risks } : {}),
      recordedAt: this.recordedAt,
      cancellation: this.cancellation,
      timeline: this.recorder.timeline,
    };
  }

  private view() {
    const { spec, system, state, changes, level } = this;
    const attached = changes.filter((c) => c.attached).length;
    return {
      attributes: [
        { key: searchAttributes.process, value: 'impact-assessment' },
        { key: searchAttributes.aiSystem, value: system.id },
        { key: searchAttributes.ref, value: this.assessmentId },
        { key: searchAttributes.state, value: state },
        { key: searchAttributes.owner, value: system.owner },
        { key: searchAttributes.clauses, value: this.clauses },
        ...(spec.dueAt ? [{ key: searchAttributes.dueDate, value: new Date(spec.dueAt) }] : []),
      ],
      memo: { kind: 'impact-assessment', assessmentId: this.assessmentId, systemId: system.id, title: system.name, state, ...(level !== undefined ? { level } : {}) },
      details: [
        `**Impact assessment ${this.assessmentId}** · ${stateText[state]} · ${system.name} (${system.impactTier} tier) · owner ${system.owner}`,
        `trigger ${spec.trigger}${changes.length ? ` (${changes.length} change(s)${attached ? `, ${attached} attached while running` : ''})` : ''}`,
        ...(spec.dueAt ? [`due ${formatDay(Date.parse(spec.dueAt))}`] : []),
        ...(this.sendBacks ? [`sent back ${this.sendBacks}×`] : []),
        ...(level !== undefined ? [`level ${level}`] : []),
      ].join(' · '),
    };
  }

  result(): ImpactAssessmentResult {
    const { assessmentId, sendBacks } = this;
    const { assessmentRef } = this.spec;
    if (this.cancellation) return { assessmentId, assessmentRef, status: 'cancelled', sendBacks, riskTreatments: [], cancellation: this.cancellation };
    const signed = this.signOff!;
    return {
      assessmentId,
      assessmentRef,
      status: 'recorded',
      level: this.level ?? 0,
      signOffRole: signed.role,
      signedOffBy: signed.by,
      signedOffAt: signed.at,
      ...(this.recordedAt ? { recordedAt: this.recordedAt } : {}),
      sendBacks,
      riskTreatments: this.riskTreatments.map((r) => r.workflowId),
      ...(this.risks.length ? { risks: this.risks.map((r) => r.riskId) } : {}),
    };
  }
}
