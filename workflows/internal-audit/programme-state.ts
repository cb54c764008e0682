/**
 * An internal audit programme's state: the plan on its way to approval, the audits it tracks
 * (each with its child workflow, its reminder and escalation watch and its progress), the
 * coverage, and what it publishes (status query, search attributes, memo, summary line),
 * records and sends. The checks its updates share live here too.
 */
import { isCancellation, workflowInfo, type CancellationScope, type ChildWorkflowHandle } from '@temporalio/workflow';
import type { InternalAuditSettings } from '../../activities/internal-audit.js';
import { durationMs } from '../../src/common/duration.js';
import type { UpdateAck } from '../../src/common/messages.js';
import type { PersonRef } from '../../src/common/schemas.js';
import { auditChangeSignal, internalAuditWorkflowId, programmeKey, type InternalAuditWorkflow } from '../../src/internal-audit/contract.js';
import {
  describeIssues,
  windowChangeProblems,
  windowEndMs,
  windowStartMs,
  type AuditChange,
  type AuditWindow,
  type AuditState,
  type CoverageResult,
  type InternalAuditProgrammeSpec,
  type PlanIssue,
  type PlannedAudit,
  type ProgrammeState,
  type ProgrammeStatus,
  type TrackedAudit,
  type TrackedAuditState,
} from '../../src/internal-audit/schema.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { acts } from '../lib/activities.js';
import { Recorder } from '../lib/recorder.js';
import { formatDay, reject } from '../lib/util.js';

export type ProgrammeEventType =
  | 'started'
  | 'plan-submitted'
  | 'plan-task-closed'
  | 'plan-approved'
  | 'plan-rejected'
  | 'auditor-reminded'
  | 'audit-escalated'
  | 'audit-rescheduled'
  | 'auditor-changed'
  | 'auditee-changed'
  /** A handover's new lead auditor would break impartiality: top management names another. */
  | 'auditor-conflict'
  /** An audit's workflow, the planning task or the plan's approval failed: asked again, or given up. */
  | 'audit-failed'
  | 'step-failed'
  | 'handover'
  | 'audit-added'
  | 'audit-cancelled'
  | 'year-closed'
  | 'interim-reported'
  | 'reported';

/** A plan checked and waiting for approval. */
export interface PendingPlan {
  audits: PlannedAudit[];
  by: string;
  warnings: PlanIssue[];
  coverage: CoverageResult;
}

const stateText: Record<ProgrammeState, string> = {
  planning: 'waiting for the plan',
  validating: 'checking the plan',
  approval: 'plan awaiting approval',
  running: 'audits under way',
  reporting: 'writing the year-end report',
  finishing: 'interim report written, audits under way finishing',
  closed: 'closed',
  cancelled: 'cancelled',
};

const startedSteps: readonly (AuditState | 'not-started')[] = ['fieldwork', 'findings', 'report-approval', 'reported'];

/** Whether an audit has started its fieldwork (then it can no longer be moved, nor be overdue). */
export const started = (a: TrackedAudit): boolean => startedSteps.includes(a.step);
export const closedAudit = (a: TrackedAudit): boolean => a.state === 'reported' || a.state === 'cancelled';

function trackedState(a: TrackedAudit): TrackedAuditState {
  if (a.cancellation) return 'cancelled';
  if (a.step === 'reported') return 'reported';
  if (started(a)) return 'in-progress';
  return a.escalated ? 'overdue' : 'planned';
}

/** The planned audit behind a tracked one (what its workflow starts with and what validation checks). */
export function plannedOf(a: TrackedAudit): PlannedAudit {
  return {
    auditId: a.auditId,
    title: a.title,
    ...(a.objectives ? { objectives: a.objectives } : {}),
    ...(a.criteria ? { criteria: a.criteria } : {}),
    scope: a.scope,
    window: a.window,
    leadAuditor: a.leadAuditor,
    auditee: a.auditee,
  };
}

export class Programme {
  readonly workflowId = workflowInfo().workflowId;
  readonly year: number;
  /** What the programme's audits are filed under (`internal-audit/<key>/<auditId>`). */
  readonly key: string;
  readonly yearEndAtMs: number;
  readonly clauses = ['9.2'];
  state: ProgrammeState;
  aimsManagerId: string | undefined;
  internalAuditors: string[] = [];
  /** The organization's timing with the programme's overrides, once set up. */
  reminderBeforeMs = 0;
  planDueMs = 0;
  approvalDueMs = 0;
  coverageCycleYears = 0;
  planTask: ProgrammeStatus['planTask'];
  approval: ProgrammeStatus['approval'];
  approvedAt: string | undefined;
  lastRejection: string | undefined;
  warnings: PlanIssue[] = [];
  coverage: CoverageResult | undefined;
  interimReportedAt: string | undefined;
  reportedAt: string | undefined;
  pendingPlan: PendingPlan | undefined;
  /** An update is validating a change; another is refused until this one is applied. */
  busy = false;
  closeYearNow: { by: string; reason: string } | undefined;
  readonly audits: TrackedAudit[] = [];
  /** Per audit: the scope its child and watch run in, the child's handle, and a counter bumped on every change. */
  readonly scopes = new Map<string, CancellationScope>();
  readonly handles = new Map<string, ChildWorkflowHandle<InternalAuditWorkflow>>();
  readonly generation = new Map<string, number>();
  /** Each audit's run, awaited before the programme closes. */
  readonly running: Promise<void>[] = [];
  /** Audits whose lead auditor top management is asked to name (a handover's `to` conflicted): the task's key. */
  readonly naming = new Map<string, string>();
  /** Naming tasks started so far (their keys are numbered). */
  namings = 0;
  readonly recorder: Recorder<ProgrammeEventType>;

  constructor(readonly spec: InternalAuditProgrammeSpec) {
    this.year = spec.year;
    this.key = programmeKey(this.workflowId, spec.year);
    this.yearEndAtMs = spec.policy.yearEndAt ? Date.parse(spec.policy.yearEndAt) : Date.UTC(spec.year + 1, 0, 1);
    this.state = spec.audits ? 'validating' : 'planning';
    this.recorder = new Recorder<ProgrammeEventType>({
      view: () => this.view(),
      clauses: this.clauses,
      identity: () => ({ year: this.year, workflowId: this.workflowId }),
    });
  }

  get timeline() {
    return this.recorder.timeline;
  }

  /** Whether the organization's people are known, so the updates' checks can run. */
  readonly ready = (): boolean => this.aimsManagerId !== undefined;

  ack(message: string): UpdateAck {
    return { ok: true, state: this.state, message };
  }

  /** The AIMS manager, once set up. */
  get aimsManager(): string {
    return this.aimsManagerId!;
  }

  event(type: ProgrammeEventType, by: string, detail: string): void {
    this.recorder.event(type, by, detail);
  }

  /** Brings each audit's tracked state up to date, then publishes the view. */
  publish(): void {
    for (const a of this.audits) a.state = trackedState(a);
    this.recorder.publish();
  }

  /** The organization's people and timing, with the programme's overrides. */
  setUp(settings: InternalAuditSettings): void {
    const { policy } = this.spec;
    this.reminderBeforeMs = policy.reminderBefore ? durationMs(policy.reminderBefore) : settings.reminderBeforeMs;
    this.planDueMs = policy.planDue ? durationMs(policy.planDue) : settings.planDueMs;
    this.approvalDueMs = policy.approvalDue ? durationMs(policy.approvalDue) : settings.approvalDueMs;
    this.coverageCycleYears = settings.coverageCycleYears;
    this.internalAuditors = settings.internalAuditorIds;
    this.aimsManagerId = settings.aimsManagerId;
  }

  find(auditId: string): TrackedAudit | undefined {
    return this.audits.find((a) => a.auditId === auditId);
  }

  /** Adds an audit to the tracked list. */
  track(a: PlannedAudit, unplanned: boolean): TrackedAudit {
    const tracked: TrackedAudit = {
      ...a,
      workflowId: internalAuditWorkflowId(this.key, a.auditId),
      state: 'planned',
      step: 'not-started',
      unplanned,
      reminded: false,
      escalated: false,
      ncIds: [],
    };
    this.audits.push(tracked);
    this.generation.set(a.auditId, 0);
    return tracked;
  }

  /** An audit was moved or given another auditor: its watch re-arms, and the change is shown. */
  changed(a: TrackedAudit, type: ProgrammeEventType, by: string, detail: string): void {
    this.generation.set(a.auditId, (this.generation.get(a.auditId) ?? 0) + 1);
    this.event(type, by, detail);
    this.publish();
  }

  /** The open audit an admin's change is about, once the plan is approved; rejects otherwise. */
  auditToChange(input: { by: string; auditId: string }, what: string, verb: string): TrackedAudit {
    this.ensureChangeable(input.by, what, verb);
    return this.openAudit(input.auditId);
  }

  /**
   * Rejects a change to the year's audits unless it comes from the AIMS manager (or the system)
   * while the audits run: `what` the person tried to do, `verb` what audits can be then.
   */
  ensureChangeable(by: string, what: string, verb: string): void {
    if (by !== 'system' && by !== this.aimsManagerId) reject(`only the AIMS manager can ${what}`);
    if (this.state !== 'running') {
      reject(`the programme is ${stateText[this.state]}: audits can be ${verb} only once the plan is approved and before the year-end report`);
    }
  }

  /** Rejects unless a plan can be submitted now. */
  ensureWaitingForPlan(): void {
    if (this.state !== 'planning' || this.pendingPlan) reject(`the programme is ${stateText[this.state]}: a plan can be submitted only while it waits for one`);
  }

  ensureNotBusy(): void {
    if (this.busy) reject('another change is being applied; try again in a moment');
  }

  /** The audit, still open; rejects with the audits there are otherwise. */
  openAudit(auditId: string): TrackedAudit {
    const a = this.find(auditId);
    if (!a) reject(`no audit ${auditId} in the ${this.year} programme (audits: ${this.audits.map((x) => x.auditId).join(', ') || 'none'})`);
    if (a.state === 'reported') reject(`audit ${auditId} is already reported`);
    if (a.state === 'cancelled') reject(`audit ${auditId} is cancelled`);
    return a;
  }

  windowInYear(w: { start: string; end: string }): void {
    if (windowStartMs(w) < Date.UTC(this.year, 0, 1) || windowEndMs(w) > Date.UTC(this.year + 1, 0, 1)) reject(`window: must be within ${this.year}`);
  }

  /** Rejects a window in the past, unless it records an audit already held with a reason (`windowChangeProblems`); `path` prefixes the window's field. */
  windowNotPast(change: { window: AuditWindow; alreadyHeld?: boolean | undefined; reason?: string | undefined }, path = ''): void {
    const problems = windowChangeProblems(change, Date.now());
    if (problems.length) reject(describeIssues(problems.map((i) => (i.field === 'window' ? { ...i, field: `${path}window` } : i))));
  }

  /** Validates with an activity; a validation that cannot run rejects the update with the reason. */
  async validate(input: { audits: PlannedAudit[]; checkIds?: string[] }) {
    try {
      return await acts.validateInternalAuditPlan({ year: this.year, ...input });
    } catch (err) {
      if (isCancellation(err)) throw err;
      return reject(`the plan could not be checked: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`);
    }
  }

  /**
   * Gives the audit another lead auditor (checked by the caller): shown, passed to the audit's
   * workflow (which invites them and restarts a running auditor step for them) and recorded.
   */
  async changeAuditor(a: TrackedAudit, leadAuditor: string, by: string, reason: string): Promise<void> {
    const previous = a.leadAuditor;
    a.leadAuditor = leadAuditor;
    this.changed(a, 'auditor-changed', by, `${a.auditId}: lead auditor ${previous} → ${a.leadAuditor}: ${reason}`);
    await this.signalAudit(a.auditId, { type: 'auditor', leadAuditor, reason, by });
    await this.recorder.append('internal-audit-programme.auditor-changed', by, { auditId: a.auditId, from: previous, to: leadAuditor, reason });
  }

  /** Passes a change to the audit's workflow, once started. */
  async signalAudit(auditId: string, change: AuditChange): Promise<void> {
    const handle = this.handles.get(auditId);
    if (handle) await handle.signal(auditChangeSignal, change);
  }

  send(kind: 'internal-audit.reminder' | 'internal-audit.escalated', to: PersonRef[], data: Record<string, unknown>): Promise<boolean> {
    return this.recorder.notify({ kind, to, data: { clauses: this.clauses, ...data } });
  }

  /**
   * Runs `apply` with the programme marked busy, so a second change is refused until this one
   * is applied. Returns `apply`'s own promise (not a wrapper), so the update completes at the
   * same point of the workflow task as the work it did.
   */
  exclusively<T>(apply: () => Promise<T>): Promise<T> {
    this.busy = true;
    const applied = apply();
    const done = () => {
      this.busy = false;
    };
    void applied.then(done, done);
    return applied;
  }

  status(): ProgrammeStatus {
    return {
      year: this.year,
      workflowId: this.workflowId,
      state: this.state,
      trigger: this.spec.trigger,
      requestedBy: this.spec.requestedBy,
      ...(this.aimsManagerId ? { aimsManager: this.aimsManagerId } : {}),
      planTask: this.planTask,
      approval: this.approval,
      ...(this.pendingPlan && (this.state === 'validating' || this.state === 'approval') ? { plan: { audits: this.pendingPlan.audits, by: this.pendingPlan.by } } : {}),
      approvedAt: this.approvedAt,
      audits: this.audits,
      warnings: this.warnings,
      lastRejection: this.lastRejection,
      coverage: this.coverage,
      yearEndAt: new Date(this.yearEndAtMs).toISOString(),
      ...(this.interimReportedAt ? { interimReportedAt: this.interimReportedAt } : {}),
      reportedAt: this.reportedAt,
      timeline: this.timeline,
    };
  }

  private view() {
    const { audits, state, year } = this;
    const count = (s: TrackedAuditState) => audits.filter((a) => a.state === s).length;
    const overdue = count('overdue');
    const tally = audits.length
      ? ` · ${audits.length} audit(s): ${count('planned')} planned, ${count('in-progress')} in progress, ${count('reported')} reported${overdue ? `, ${overdue} overdue` : ''}${count('cancelled') ? `, ${count('cancelled')} cancelled` : ''}`
      : '';
    const gaps = this.coverage?.uncovered.length ? ` · coverage gaps: ${this.coverage.uncovered.length}` : '';
    return {
      attributes: [
        { key: searchAttributes.process, value: 'internal-audit-programme' },
        { key: searchAttributes.ref, value: `IAP-${year}` },
        { key: searchAttributes.state, value: overdue && state === 'running' ? 'overdue' : state },
        { key: searchAttributes.dueDate, value: new Date(this.yearEndAtMs) },
        { key: searchAttributes.clauses, value: this.clauses },
        { key: searchAttributes.source, value: this.spec.trigger },
        ...(this.aimsManagerId ? [{ key: searchAttributes.owner, value: this.aimsManagerId }] : []),
        { key: searchAttributes.assignees, value: [...new Set(audits.filter((a) => !closedAudit(a)).map((a) => a.leadAuditor))] },
      ],
      memo: { kind: 'internal-audit-programme', year, state, auditStates: Object.fromEntries(audits.map((a) => [a.auditId, a.state])) },
      details: `**Internal audit programme ${year}** · ${stateText[state]}${tally}${gaps} · year-end report ${formatDay(this.yearEndAtMs)}`,
    };
  }
}
