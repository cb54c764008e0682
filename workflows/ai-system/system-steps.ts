/**
 * The steps of an AI system's lifecycle (6.1.4, 8.4, A.5): registration, the wait for the
 * planned reassessment or a significant change, an impact assessment run as a child, the
 * record of its outcome with the next due date, and retirement.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import { ActivityFailure, CancellationScope, ChildWorkflowFailure, condition, isCancellation, log, patched, startChild, type ChildWorkflowHandle } from '@temporalio/workflow';
import { attachChangeSignal, IMPACT_ASSESSMENT_WORKFLOW, impactAssessmentWorkflowId } from '../../src/ai-system/contract.js';
import type { ImpactAssessmentInput, ImpactAssessmentResult, ImpactAssessmentTrigger, SignificantChange } from '../../src/ai-system/impact-assessment.js';
import { retryStartMs, type AiSystemResult } from '../../src/ai-system/schema.js';
import type { PersonRef } from '../../src/common/schemas.js';
import { RISK_ASSESSMENT_WORKFLOW, riskAssessmentWorkflowId } from '../../src/risk/contract.js';
import type { RiskAssessmentInput } from '../../src/risk/schema.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { startDetached } from '../lib/children.js';
import { acts } from '../lib/activities.js';
import { formatDay } from '../lib/util.js';
import type { impactAssessment } from './impact-assessment.js';
import type { AiSystem, RunningAssessment } from './system-state.js';

/** Attempts at a free assessment number when an id is already taken. */
const MAX_NUMBER_ATTEMPTS = 50;

/** A change, or risks from the impact assessment, start a risk reassessment of the system (issue #18). */
const RISK_REASSESSMENT_PATCH = 'ai-system-starts-risk-assessment';

/** After a cancelled or failed assessment the next one is scheduled (issue #13); before, scheduled starts were held until a change. */
const RETRY_PATCH = 'ai-system-retry-after-cancelled';

/** How an assessment ended: its result, or why it has none (cancelled, or failed). */
export interface AssessmentOutcome {
  assessmentRef: string;
  workflowId: string;
  /** Every change it took: at its start and attached since. */
  changes: SignificantChange[];
  result: ImpactAssessmentResult | undefined;
  failure: string | undefined;
}

/** Register: the organization's timing; on a first run also the registration and what the ledger already holds. */
export async function register(s: AiSystem): Promise<void> {
  s.setUp(await acts.impactAssessmentSettings());
  const { spec } = s;
  if (spec.carried) return;
  if (!spec.system) s.system = await acts.aiSystemFromInventory(s.systemId);
  const seed = await acts.aiSystemLedgerState(s.systemId);
  s.last = seed.last;
  Object.assign(s.numbers, seed.numbers);
  s.assessmentsTotal = seed.assessmentsTotal;
  s.nextDueAtMs = s.last ? Date.parse(s.last.recordedAt) + s.reassessEveryMs : Date.now() + s.firstAssessmentInMs + s.startBeforeMs;
  const { last, system, source } = s;
  s.event('registered', spec.registeredBy, `registered from the ${source === 'api' ? 'admin API' : 'organization file'}${last ? `; last assessment ${last.assessmentRef}` : ''}`);
  await s.recorder.append('ai-system.registered', spec.registeredBy, { system, source, last: last ?? null, nextDueAt: new Date(s.nextDueAtMs).toISOString() }, 'registered');
}

/**
 * Waits for the next start, a message that changes the plan, or the due date (to show
 * overdue); true when an assessment starts now.
 */
export async function waitForStart(s: AiSystem): Promise<boolean> {
  const startAt = s.nextStartMs();
  if (startAt !== undefined && startAt <= Date.now()) return true;
  const seen = s.wake;
  const dueWake = s.nextDueAtMs !== undefined && s.nextDueAtMs > Date.now() ? s.nextDueAtMs : undefined;
  const wakeAt = Math.min(startAt ?? Infinity, dueWake ?? Infinity);
  const woke = () => s.wake !== seen || s.retiring !== undefined;
  if (Number.isFinite(wakeAt)) await condition(woke, Math.max(1, wakeAt - Date.now()));
  else await condition(woke);
  return false;
}

/** Starts the assessment under the next free number of this year; undefined when the start was cancelled (retirement). */
async function startAssessment(
  s: AiSystem,
  trigger: ImpactAssessmentTrigger,
  changes: SignificantChange[],
): Promise<{ running: RunningAssessment; handle: ChildWorkflowHandle<typeof impactAssessment>; scope: CancellationScope } | undefined> {
  const { system, systemId, last, nextDueAtMs } = s;
  const year = String(new Date().getUTCFullYear());
  // Changes announced while the child is being started; sent to it once it runs.
  const queued: SignificantChange[] = [];
  for (let attempt = 1; attempt <= MAX_NUMBER_ATTEMPTS; attempt += 1) {
    const n = (s.numbers[year] ?? 0) + 1;
    s.numbers[year] = n;
    const assessmentRef = `${year}-${n}`;
    const workflowId = impactAssessmentWorkflowId(systemId, assessmentRef);
    const input: ImpactAssessmentInput = {
      system,
      assessmentRef,
      trigger,
      changes,
      ...(nextDueAtMs !== undefined ? { dueAt: new Date(Math.max(nextDueAtMs, Date.now())).toISOString() } : {}),
      ...(last ? { previous: { assessmentRef: last.assessmentRef, level: last.level, signedOffAt: last.signedOffAt } } : {}),
      policy: s.spec.policy.assessment,
    };
    const running: RunningAssessment = { assessmentRef, workflowId, trigger, startedAt: new Date().toISOString(), queued, changes: [...changes] };
    const scope = new CancellationScope();
    s.current = running;
    s.currentScope = scope;
    s.publish();
    try {
      const handle = await scope.run(() =>
        startChild<typeof impactAssessment>(IMPACT_ASSESSMENT_WORKFLOW, {
          workflowId,
          args: [input],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          staticSummary: `Impact assessment ${systemId}/${assessmentRef}: ${system.name}`.slice(0, 200),
          typedSearchAttributes: [
            { key: searchAttributes.process, value: 'impact-assessment' },
            { key: searchAttributes.aiSystem, value: systemId },
            { key: searchAttributes.ref, value: `${systemId}/${assessmentRef}` },
            { key: searchAttributes.state, value: 'scoping' },
            { key: searchAttributes.owner, value: system.owner },
          ],
        }),
      );
      running.handle = handle;
      return { running, handle, scope };
    } catch (err) {
      s.current = undefined;
      // That number was used by an earlier workflow of this system: take the next one.
      if (err instanceof WorkflowExecutionAlreadyStartedError) continue;
      if (isCancellation(err)) return undefined;
      throw err;
    }
  }
  throw new Error(`no free assessment number for ${systemId} in ${year} after ${MAX_NUMBER_ATTEMPTS} attempts`);
}

/** Runs one assessment as a child and waits for it; undefined when it was cancelled before it started. */
export async function runAssessment(s: AiSystem, trigger: ImpactAssessmentTrigger, changes: SignificantChange[]): Promise<AssessmentOutcome | undefined> {
  const started = await startAssessment(s, trigger, changes);
  if (!started) return undefined;
  const { running, handle, scope } = started;
  const { assessmentRef, workflowId } = running;
  s.event('assessment-started', 'system', `assessment ${assessmentRef} started (${trigger}${changes.length ? `, ${changes.length} change(s)` : ''})`, workflowId);
  await s.recorder.append('ai-system.assessment-started', 'system', { assessmentRef, workflowId, trigger, changes }, `assessment-started-${assessmentRef}`);
  for (const change of running.queued.splice(0)) await handle.signal(attachChangeSignal, change);
  s.publish();

  // The system shows overdue once the due date passes with the assessment still running.
  const dueAt = s.nextDueAtMs;
  const watch = (async () => {
    const ms = dueAt === undefined ? 0 : dueAt - Date.now();
    if (ms > 0 && !(await condition(() => s.current !== running, ms))) s.publish();
  })();
  let result: ImpactAssessmentResult | undefined;
  let failure: string | undefined;
  try {
    result = await scope.run(() => handle.result());
  } catch (err) {
    if (isCancellation(err)) result = undefined;
    else if (err instanceof ChildWorkflowFailure) failure = err.cause?.message ?? err.message;
    else throw err;
  }
  s.current = undefined;
  s.currentScope = undefined;
  await watch;
  return { assessmentRef, workflowId, changes: running.changes, result, failure };
}

/**
 * Records how an assessment ended: a signed-off result sets the next due date; a cancelled or
 * failed one schedules the next (see `scheduleRetry`), unless the system is being retired.
 */
export async function recordOutcome(s: AiSystem, outcome: AssessmentOutcome): Promise<void> {
  const { assessmentRef, workflowId, result } = outcome;
  if (result?.status === 'recorded' && result.recordedAt) {
    const last = {
      assessmentRef,
      workflowId,
      level: result.level ?? 0,
      signOffRole: result.signOffRole ?? 'aims-manager',
      signedOffBy: result.signedOffBy ?? 'system',
      signedOffAt: result.signedOffAt ?? result.recordedAt,
      recordedAt: result.recordedAt,
    };
    s.last = last;
    s.assessmentsTotal += 1;
    s.sendBacksTotal += result.sendBacks;
    const nextDueAtMs = Date.parse(result.recordedAt) + s.reassessEveryMs;
    s.nextDueAtMs = nextDueAtMs;
    s.event('assessment-recorded', 'system', `assessment ${assessmentRef} recorded (level ${last.level}); next due ${formatDay(nextDueAtMs)}`, workflowId);
    await s.recorder.append('ai-system.reassessment-scheduled', 'system', { assessmentRef, level: last.level, nextDueAt: new Date(nextDueAtMs).toISOString() });
    if ((outcome.changes.length || result.risks?.length) && patched(RISK_REASSESSMENT_PATCH)) await startRiskAssessment(s, outcome);
    return;
  }
  const why = outcome.failure ?? result?.cancellation?.reason ?? 'cancelled';
  if (!s.retiring && patched(RETRY_PATCH)) return scheduleRetry(s, outcome, why);
  if (!s.retiring) s.held = true;
  s.event('assessment-cancelled', result?.cancellation?.by ?? 'system', `assessment ${assessmentRef} did not complete: ${why}`, workflowId);
  await s.recorder.append('ai-system.assessment-cancelled', 'system', { assessmentRef, reason: why });
}

/**
 * 8.2: a significant change, or an impact assessment whose residual impacts put risks in the
 * register, starts a reassessment of the system's risks once the impact assessment is recorded
 * (so the risk assessment starts from what it found). It outlives this workflow.
 */
async function startRiskAssessment(s: AiSystem, outcome: AssessmentOutcome): Promise<void> {
  const { assessmentRef, changes, result } = outcome;
  const year = new Date().getUTCFullYear();
  const n = await acts.allocateRiskAssessmentNumber({ scope: s.systemId, year, key: `${s.recorder.base}/risk-${assessmentRef}` });
  const ref = `${year}-${n}`;
  const workflowId = riskAssessmentWorkflowId(s.systemId, ref);
  const trigger = changes.length ? 'change' : 'impact-assessment';
  const reason = [
    ...(changes.length ? [`Significant change(s): ${changes.map((c) => `${c.type} (${c.why})`).join('; ')}.`] : []),
    `Impact assessment ${s.systemId}/${assessmentRef} recorded${result?.risks?.length ? `; its high residual impacts are in the register as ${result.risks.join(', ')}` : ''}.`,
  ].join(' ');
  const input: RiskAssessmentInput = { scope: s.systemId, assessmentRef: ref, trigger, reason: reason.slice(0, 5000), startedBy: 'system', system: { name: s.system.name, owner: s.system.owner }, policy: { tasks: s.spec.policy.assessment?.tasks ?? {} } };
  await startDetached(RISK_ASSESSMENT_WORKFLOW, {
    workflowId,
    args: [input],
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    staticSummary: `Risk assessment ${s.systemId}/${ref}: ${s.system.name}`.slice(0, 200),
    typedSearchAttributes: [
      { key: searchAttributes.process, value: 'risk-assessment' },
      { key: searchAttributes.aiSystem, value: s.systemId },
    ],
  });
  s.event('risk-assessment-started', 'system', `risk assessment ${ref} started (${trigger})`, workflowId);
  await s.recorder.append('ai-system.risk-assessment-started', 'system', { assessmentRef, riskAssessment: workflowId, trigger });
}

/**
 * 8.4 asks for assessment at planned intervals: after a cancelled or failed assessment the next
 * one starts `retryAfter` later (or at the planned start when that is sooner) and takes over
 * the changes it did not assess; the AIMS manager is told. The system shows overdue once the
 * planned date passes without a recorded assessment.
 */
async function scheduleRetry(s: AiSystem, outcome: AssessmentOutcome, why: string): Promise<void> {
  const { assessmentRef, workflowId, changes } = outcome;
  const retryAtMs = retryStartMs({ nowMs: Date.now(), retryAfterMs: s.retryAfterMs, plannedStartMs: s.plannedStartMs() });
  s.retryAtMs = retryAtMs;
  s.retryChanges.push(...changes);
  const nextStartAt = new Date(retryAtMs).toISOString();
  const nextDueAt = new Date(s.nextDueAtMs ?? retryAtMs).toISOString();
  s.event('assessment-cancelled', outcome.result?.cancellation?.by ?? 'system', `assessment ${assessmentRef} did not complete: ${why}; the next one starts ${formatDay(retryAtMs)}`, workflowId);
  await s.recorder.append('ai-system.assessment-cancelled', 'system', { assessmentRef, reason: why, nextStartAt, nextDueAt, changes });
  const to = await aimsManager(s);
  if (to.length === 0) return;
  await s.recorder.notify(
    {
      kind: 'impact-assessment.not-completed',
      to,
      data: { title: `${s.system.name} (${s.systemId}/${assessmentRef})`.slice(0, 300), reason: why.slice(0, 2000), dueDate: nextDueAt, nextStartAt, clauses: ['8.4', '6.1.4'] },
    },
    `not-completed-${assessmentRef}`,
  );
}

/** The AIMS manager, to be told; nobody when the organization file names no one (logged). */
async function aimsManager(s: AiSystem): Promise<PersonRef[]> {
  try {
    return await acts.resolvePeople([{ role: 'aims-manager' }]);
  } catch (err) {
    if (!(err instanceof ActivityFailure) || isCancellation(err)) throw err;
    log.warn('AIMS manager not told: look-up failed', { systemId: s.systemId, error: err.cause?.message ?? err.message });
    return [];
  }
}

/** Retired: the final record. */
export async function retire(s: AiSystem): Promise<AiSystemResult> {
  const { by, reason } = s.retiring ?? { by: 'system', reason: 'retired' };
  const retired = { by, at: new Date().toISOString(), reason };
  s.retired = retired;
  s.event('retired', by, `retired: ${reason}`);
  s.publish();
  await s.recorder.append('ai-system.retired', by, { system: s.system, reason, last: s.last ?? null, assessmentsTotal: s.assessmentsTotal, pendingChanges: s.pendingChanges }, 'retired');
  return { systemId: s.systemId, status: 'retired', retired, assessmentsTotal: s.assessmentsTotal };
}
