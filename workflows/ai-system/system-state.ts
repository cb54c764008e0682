/**
 * An AI system's state in its long-lived workflow: the registration, the last signed-off
 * assessment and the next due date, the changes waiting for their debounce window, the
 * assessment running now, the assessment numbering, and what it publishes (status query,
 * search attributes, memo, summary line), records and carries into its next run.
 */
import { workflowInfo, type CancellationScope, type ChildWorkflowHandle } from '@temporalio/workflow';
import { IMPACT_ASSESSMENT_CLAUSES, type AiSystemRegistration, type ImpactAssessmentSettings, type ImpactAssessmentTrigger, type SignificantChange } from '../../src/ai-system/impact-assessment.js';
import { DEFAULT_RETRY_AFTER_MS, type AiSystemCarried, type AiSystemEvent, type AiSystemInput, type AiSystemSpec, type AiSystemState, type AiSystemStatus, type LastAssessment, type Retire } from '../../src/ai-system/schema.js';
import { durationMs } from '../../src/common/duration.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { Recorder } from '../lib/recorder.js';
import { formatDay, reject } from '../lib/util.js';
import type { impactAssessment } from './impact-assessment.js';

type EventType = AiSystemEvent['type'];

const HISTORY_KEPT = 50;
const DEFAULT_CONTINUE_AS_NEW_AFTER = 10;
const DEFAULT_MAX_HISTORY_EVENTS = 5000;

const stateText: Record<AiSystemState, string> = {
  current: 'assessment current',
  due: 'reassessment due',
  'in-progress': 'assessment in progress',
  overdue: 'reassessment overdue',
  retired: 'retired',
};

/**
 * The assessment running now; changes announced while its child is being started wait in
 * `queued`; `changes` holds every change it took (at its start and attached since).
 */
export type RunningAssessment = NonNullable<AiSystemStatus['current']> & {
  handle?: ChildWorkflowHandle<typeof impactAssessment>;
  queued: SignificantChange[];
  changes: SignificantChange[];
};

export class AiSystem {
  readonly workflowId = workflowInfo().workflowId;
  readonly systemId: string;
  readonly source: AiSystemCarried['source'];
  readonly registeredAt: string;
  /** Runs of this workflow, this one included. */
  readonly runs: number;
  system: AiSystemRegistration;
  last: LastAssessment | undefined;
  nextDueAtMs: number | undefined;
  readonly pendingChanges: SignificantChange[];
  /** Workflows from before the retry: after a cancelled assessment, scheduled starts wait for a change. */
  held: boolean;
  /** After a cancelled or failed assessment: when the next one starts, and the changes it takes over. */
  retryAtMs: number | undefined;
  retryChanges: SignificantChange[];
  /** Assessment numbers used per year. */
  readonly numbers: Record<string, number>;
  assessmentsTotal: number;
  sendBacksTotal: number;
  current: RunningAssessment | undefined;
  currentScope: CancellationScope | undefined;
  retiring: Retire | undefined;
  retired: AiSystemStatus['retired'];
  /** True once the settings and the registration are known. */
  ready = false;
  /** Bumped by every message that changes the plan, to wake the wait for the next start. */
  wake = 0;
  assessmentsThisRun = 0;
  reassessEveryMs = 0;
  startBeforeMs = 0;
  debounceMs = 0;
  firstAssessmentInMs = 0;
  retryAfterMs = DEFAULT_RETRY_AFTER_MS;
  readonly recorder: Recorder<EventType>;

  constructor(readonly spec: AiSystemSpec) {
    const carried = spec.carried;
    this.systemId = spec.systemId;
    this.system = carried?.system ?? spec.system ?? { id: spec.systemId, name: spec.systemId, owner: '', purpose: '', impactTier: 'low', lifecycle: 'deployed' };
    this.source = carried?.source ?? spec.source;
    this.registeredAt = carried?.registeredAt ?? new Date().toISOString();
    this.last = carried?.last;
    this.nextDueAtMs = carried?.nextDueAt ? Date.parse(carried.nextDueAt) : undefined;
    this.pendingChanges = [...(carried?.pendingChanges ?? [])];
    this.held = carried?.held ?? false;
    this.retryAtMs = carried?.retryAt ? Date.parse(carried.retryAt) : undefined;
    this.retryChanges = [...(carried?.retryChanges ?? [])];
    this.numbers = { ...(carried?.numbers ?? {}) };
    this.assessmentsTotal = carried?.assessmentsTotal ?? 0;
    this.sendBacksTotal = carried?.sendBacksTotal ?? 0;
    this.runs = (carried?.runs ?? 0) + 1;
    this.recorder = new Recorder<EventType>({
      view: () => this.view(),
      clauses: IMPACT_ASSESSMENT_CLAUSES,
      identity: () => ({ systemId: this.systemId }),
      numberedBefore: carried?.recordSeq ?? 0,
      timeline: [...(carried?.history ?? [])],
      keep: HISTORY_KEPT,
    });
  }

  /** The organization's timing, with the system's own policy over it. */
  setUp(settings: ImpactAssessmentSettings): void {
    const { policy } = this.spec;
    this.reassessEveryMs = policy.reassessEvery ? durationMs(policy.reassessEvery) : settings.reassessEveryMs;
    this.startBeforeMs = Math.min(policy.startBefore ? durationMs(policy.startBefore) : settings.startBeforeMs, this.reassessEveryMs);
    this.debounceMs = policy.changeDebounce ? durationMs(policy.changeDebounce) : settings.changeDebounceMs;
    this.firstAssessmentInMs = policy.firstAssessmentIn ? durationMs(policy.firstAssessmentIn) : (settings.firstAssessmentInMs ?? 0);
    this.retryAfterMs = policy.retryAfter ? durationMs(policy.retryAfter) : (settings.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS);
  }

  event(type: EventType, by: string, detail: string, workflowId?: string): void {
    this.recorder.event(type, by, detail, { workflowId });
  }

  publish(): void {
    this.recorder.publish();
  }

  /** Rejects messages once the system is retired or being retired. */
  ensureActive(): void {
    if (this.retired || this.retiring) reject(`the AI system ${this.systemId} is retired`);
  }

  /** Retires the system: a running assessment is cancelled and the lifecycle ends. */
  retire(retirement: Retire): void {
    this.retiring = retirement;
    this.currentScope?.cancel();
    this.wake += 1;
  }

  state(): AiSystemState {
    if (this.retired) return 'retired';
    const late = this.nextDueAtMs !== undefined && Date.now() > this.nextDueAtMs;
    if (this.current) return late ? 'overdue' : 'in-progress';
    if (late) return 'overdue';
    if (this.pendingChanges.length || this.retryChanges.length || !this.last) return 'due';
    return 'current';
  }

  /** The planned start: `startBefore` ahead of the due date. */
  plannedStartMs(): number | undefined {
    return this.nextDueAtMs === undefined ? undefined : this.nextDueAtMs - this.startBeforeMs;
  }

  private scheduledStartMs(): number {
    if (this.held) return Infinity;
    return this.retryAtMs ?? this.plannedStartMs() ?? Infinity;
  }

  private changeStartMs(): number {
    const first = this.pendingChanges[0];
    return first ? Date.parse(first.at) + this.debounceMs : Infinity;
  }

  /**
   * When the next assessment starts: `startBefore` ahead of the due date (or at the retry after
   * a cancelled or failed one), or once the first pending change's debounce window closes.
   */
  nextStartMs(): number | undefined {
    if (this.current || this.retired) return undefined;
    const at = Math.min(this.scheduledStartMs(), this.changeStartMs());
    return Number.isFinite(at) ? at : undefined;
  }

  /** The trigger of the assessment starting now, and the changes it takes: those of a cancelled one first, then the pending ones. */
  takeStart(): { trigger: ImpactAssessmentTrigger; changes: SignificantChange[] } {
    const byChange = this.changeStartMs() <= this.scheduledStartMs() || this.retryChanges.length > 0;
    const trigger: ImpactAssessmentTrigger = byChange ? 'change' : this.last ? 'scheduled' : 'initial';
    this.held = false;
    this.retryAtMs = undefined;
    return { trigger, changes: [...this.retryChanges.splice(0), ...this.pendingChanges.splice(0)] };
  }

  shouldContinueAsNew(): boolean {
    const { policy } = this.spec;
    const info = workflowInfo();
    return (
      this.assessmentsThisRun >= (policy.continueAsNewAfter ?? DEFAULT_CONTINUE_AS_NEW_AFTER) ||
      info.continueAsNewSuggested ||
      info.historyLength >= (policy.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS)
    );
  }

  /** The input of the next run, carrying the state. */
  continued(): AiSystemInput {
    const { spec } = this;
    const carried: AiSystemCarried = {
      system: this.system,
      source: this.source,
      registeredAt: this.registeredAt,
      ...(this.last ? { last: this.last } : {}),
      ...(this.nextDueAtMs !== undefined ? { nextDueAt: new Date(this.nextDueAtMs).toISOString() } : {}),
      pendingChanges: this.pendingChanges,
      held: this.held,
      ...(this.retryAtMs !== undefined ? { retryAt: new Date(this.retryAtMs).toISOString() } : {}),
      retryChanges: this.retryChanges,
      numbers: this.numbers,
      assessmentsTotal: this.assessmentsTotal,
      sendBacksTotal: this.sendBacksTotal,
      runs: this.runs,
      history: this.recorder.timeline,
      recordSeq: this.recorder.numbered(),
    };
    return { systemId: this.systemId, system: this.system, source: this.source, registeredBy: spec.registeredBy, policy: spec.policy, carried };
  }

  status(): AiSystemStatus {
    const startAt = this.nextStartMs();
    const { current, last, nextDueAtMs } = this;
    return {
      systemId: this.systemId,
      workflowId: this.workflowId,
      system: this.system,
      source: this.source,
      registeredAt: this.registeredAt,
      state: this.state(),
      ...(nextDueAtMs !== undefined ? { nextDueAt: new Date(nextDueAtMs).toISOString() } : {}),
      ...(startAt !== undefined ? { nextStartAt: new Date(startAt).toISOString() } : {}),
      ...(last ? { last } : {}),
      ...(current?.handle
        ? { current: { assessmentRef: current.assessmentRef, workflowId: current.workflowId, trigger: current.trigger, startedAt: current.startedAt } }
        : {}),
      pendingChanges: this.pendingChanges,
      held: this.held,
      ...(this.retryAtMs !== undefined ? { retryAt: new Date(this.retryAtMs).toISOString() } : {}),
      retryChanges: this.retryChanges,
      assessmentsTotal: this.assessmentsTotal,
      sendBacksTotal: this.sendBacksTotal,
      runs: this.runs,
      retired: this.retired,
      history: this.recorder.timeline,
    };
  }

  private view() {
    const state = this.state();
    const { system, systemId, last, current, nextDueAtMs } = this;
    return {
      attributes: [
        { key: searchAttributes.process, value: 'ai-system' },
        { key: searchAttributes.aiSystem, value: systemId },
        { key: searchAttributes.ref, value: systemId },
        { key: searchAttributes.state, value: state },
        { key: searchAttributes.clauses, value: IMPACT_ASSESSMENT_CLAUSES },
        ...(system.owner ? [{ key: searchAttributes.owner, value: system.owner }] : []),
        ...(nextDueAtMs !== undefined ? [{ key: searchAttributes.dueDate, value: new Date(nextDueAtMs) }] : []),
      ],
      memo: {
        kind: 'ai-system',
        systemId,
        title: system.name,
        impactTier: system.impactTier,
        lifecycle: system.lifecycle,
        source: this.source,
        state,
        lastAssessment: last ? { assessmentRef: last.assessmentRef, level: last.level, signedOffAt: last.signedOffAt } : null,
        currentAssessment: current ? current.assessmentRef : null,
      },
      details: [
        `**${system.name}** (${systemId}) · ${stateText[state]} · ${system.impactTier} tier · owner ${system.owner || 'unknown'}`,
        ...(last ? [`last ${last.assessmentRef}, level ${last.level}`] : ['never assessed']),
        ...(current ? [`running ${current.assessmentRef} (${current.trigger})`] : []),
        ...(nextDueAtMs !== undefined && !this.retired ? [`next due ${formatDay(nextDueAtMs)}`] : []),
        ...(this.retryAtMs !== undefined && !current ? [`next attempt ${formatDay(this.retryAtMs)} after one that did not complete`] : []),
        ...(this.pendingChanges.length ? [`${this.pendingChanges.length} change(s) pending`] : []),
      ].join(' · '),
    };
  }
}
