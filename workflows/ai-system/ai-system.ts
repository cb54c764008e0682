/**
 * One long-lived workflow per AI system of the inventory (ISO/IEC 42001 6.1.4, 8.4, Annex A.5),
 * id `ai-system/<systemId>`: it holds the system's registration, the assessment status, the
 * last result and the next reassessment date. The periodic reassessment starts `startBefore`
 * ahead of its due date (the reassessment interval after the last sign-off); significant
 * changes (model, data source, intended use, deployment context, jurisdiction) start one
 * reassessment per debounce window, counted from the first change; a change announced while an
 * assessment runs is attached to it. Each assessment is an `impactAssessment` child
 * (`impact-assessment/<systemId>/<year>-<n>`). The workflow continues as new on a bound,
 * carrying its state; retiring the system ends it after a final record.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import {
  allHandlersFinished,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  isCancellation,
  log,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import {
  aiSystemInputSchema,
  retireSchema,
  updateRegistrationSchema,
  type AiSystemCarried,
  type AiSystemEvent,
  type AiSystemInput,
  type AiSystemResult,
  type AiSystemState,
  type AiSystemStatus,
  type LastAssessment,
  type Retire,
} from '../../src/ai-system/schema.js';
import { durationMs } from '../../src/common/duration.js';
import {
  IMPACT_ASSESSMENT_CLAUSES,
  significantChangeSchema,
  type AiSystemRegistration,
  type ImpactAssessmentInput,
  type ImpactAssessmentResult,
  type ImpactAssessmentTrigger,
  type SignificantChange,
} from '../../src/ai-system/impact-assessment.js';
import { zodProblems } from '../../src/common/schemas.js';
import {
  aiSystemStatusQuery,
  announceChangeUpdate,
  attachChangeSignal,
  impactAssessmentWorkflowId,
  retireUpdate,
  significantChangeSignal,
  updateRegistrationUpdate,
  type ChangeAck,
} from '../../src/ai-system/contract.js';
import type { UpdateAck } from '../../src/common/messages.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import type { impactAssessment } from './impact-assessment.js';
import { acts } from '../lib/activities.js';
import { formatDay, parseOrThrow, reject } from '../lib/util.js';
import { guardedUpdate } from '../lib/handlers.js';
import { ledgerWriter } from '../lib/ledger.js';

const HISTORY_KEPT = 50;
const DEFAULT_CONTINUE_AS_NEW_AFTER = 10;
const DEFAULT_MAX_HISTORY_EVENTS = 5000;
/** Attempts at a free assessment number when an id is already taken. */
const MAX_NUMBER_ATTEMPTS = 50;

const stateText: Record<AiSystemState, string> = {
  current: 'assessment current',
  due: 'reassessment due',
  'in-progress': 'assessment in progress',
  overdue: 'reassessment overdue',
  retired: 'retired',
};

export async function aiSystem(rawInput: AiSystemInput): Promise<AiSystemResult> {
  const spec = parseOrThrow(aiSystemInputSchema, rawInput, 'AI system input');
  const info = workflowInfo();
  const workflowId = info.workflowId;
  const systemId = spec.systemId;
  const carried = spec.carried;
  const clauses = IMPACT_ASSESSMENT_CLAUSES;

  let system: AiSystemRegistration = carried?.system ??
    spec.system ?? { id: systemId, name: systemId, owner: '', purpose: '', impactTier: 'low', lifecycle: 'deployed' };
  const source = carried?.source ?? spec.source;
  const registeredAt = carried?.registeredAt ?? new Date().toISOString();
  let last: LastAssessment | undefined = carried?.last;
  let nextDueAtMs: number | undefined = carried?.nextDueAt ? Date.parse(carried.nextDueAt) : undefined;
  const pendingChanges: SignificantChange[] = [...(carried?.pendingChanges ?? [])];
  let held = carried?.held ?? false;
  const numbers: Record<string, number> = { ...(carried?.numbers ?? {}) };
  let assessmentsTotal = carried?.assessmentsTotal ?? 0;
  let sendBacksTotal = carried?.sendBacksTotal ?? 0;
  const runs = (carried?.runs ?? 0) + 1;
  const history: AiSystemEvent[] = [...(carried?.history ?? [])];
  let current: (AiSystemStatus['current'] & { handle?: ChildWorkflowHandle<typeof impactAssessment>; queued: SignificantChange[] }) | undefined;
  let currentScope: CancellationScope | undefined;
  let retiring: Retire | undefined;
  let retired: AiSystemStatus['retired'] = undefined;
  let ready = false;
  let wake = 0;
  let assessmentsThisRun = 0;
  let startBeforeMs = 0;
  let debounceMs = 0;

  const event = (type: AiSystemEvent['type'], by: string, detail: string, child?: string) => {
    history.push({ at: new Date().toISOString(), type, by, detail, ...(child ? { workflowId: child } : {}) });
    if (history.length > HISTORY_KEPT) history.splice(0, history.length - HISTORY_KEPT);
  };

  const stateNow = (): AiSystemState => {
    if (retired) return 'retired';
    const late = nextDueAtMs !== undefined && Date.now() > nextDueAtMs;
    if (current) return late ? 'overdue' : 'in-progress';
    if (late) return 'overdue';
    if (pendingChanges.length || !last) return 'due';
    return 'current';
  };

  const nextStartMs = (): number | undefined => {
    if (current || retired) return undefined;
    const scheduled = held || nextDueAtMs === undefined ? Infinity : nextDueAtMs - startBeforeMs;
    const first = pendingChanges[0];
    const changed = first ? Date.parse(first.at) + debounceMs : Infinity;
    const at = Math.min(scheduled, changed);
    return Number.isFinite(at) ? at : undefined;
  };

  const status = (): AiSystemStatus => {
    const startAt = nextStartMs();
    return {
      systemId,
      workflowId,
      system,
      source,
      registeredAt,
      state: stateNow(),
      ...(nextDueAtMs !== undefined ? { nextDueAt: new Date(nextDueAtMs).toISOString() } : {}),
      ...(startAt !== undefined ? { nextStartAt: new Date(startAt).toISOString() } : {}),
      ...(last ? { last } : {}),
      ...(current?.handle
        ? { current: { assessmentRef: current.assessmentRef, workflowId: current.workflowId, trigger: current.trigger, startedAt: current.startedAt } }
        : {}),
      pendingChanges,
      held,
      assessmentsTotal,
      sendBacksTotal,
      runs,
      ...(retired ? { retired } : {}),
      history,
    };
  };

  const publish = () => {
    const state = stateNow();
    upsertSearchAttributes([
      { key: searchAttributes.process, value: 'ai-system' },
      { key: searchAttributes.aiSystem, value: systemId },
      { key: searchAttributes.ref, value: systemId },
      { key: searchAttributes.state, value: state },
      { key: searchAttributes.clauses, value: clauses },
      ...(system.owner ? [{ key: searchAttributes.owner, value: system.owner }] : []),
      ...(nextDueAtMs !== undefined ? [{ key: searchAttributes.dueDate, value: new Date(nextDueAtMs) }] : []),
    ]);
    upsertMemo({
      kind: 'ai-system',
      systemId,
      title: system.name,
      impactTier: system.impactTier,
      lifecycle: system.lifecycle,
      source,
      state,
      lastAssessment: last ? { assessmentRef: last.assessmentRef, level: last.level, signedOffAt: last.signedOffAt } : null,
      currentAssessment: current ? current.assessmentRef : null,
    });
    const parts = [
      `**${system.name}** (${systemId}) · ${stateText[state]} · ${system.impactTier} tier · owner ${system.owner || 'unknown'}`,
      ...(last ? [`last ${last.assessmentRef}, level ${last.level}`] : ['never assessed']),
      ...(current ? [`running ${current.assessmentRef} (${current.trigger})`] : []),
      ...(nextDueAtMs !== undefined && !retired ? [`next due ${formatDay(nextDueAtMs)}`] : []),
      ...(pendingChanges.length ? [`${pendingChanges.length} change(s) pending`] : []),
    ];
    setCurrentDetails(parts.join(' · '));
  };

  const records = ledgerWriter({ clauses: clauses, identity: () => ({ systemId }), numberedBefore: carried?.recordSeq ?? 0 });
  const ledger = records.append;

  /** Takes a change: attaches it to the running assessment, or keeps it for the next one. */
  const takeChange = async (change: SignificantChange): Promise<ChangeAck> => {
    const running = current;
    if (running) {
      event('change-attached', change.by, `${change.type} change attached to ${running.assessmentRef}: ${change.why}`, running.workflowId);
      if (running.handle) await running.handle.signal(attachChangeSignal, change);
      else running.queued.push(change);
      publish();
      await ledger('ai-system.change-announced', change.by, { change, disposition: 'attached', assessmentRef: running.assessmentRef });
      return { ok: true, state: stateNow(), message: `Change attached to the running assessment ${running.workflowId}.`, disposition: 'attached', assessmentId: running.workflowId };
    }
    pendingChanges.push(change);
    wake += 1;
    event('change-announced', change.by, `${change.type} change announced: ${change.why}`);
    publish();
    await ledger('ai-system.change-announced', change.by, { change, disposition: 'pending' });
    const startAt = nextStartMs();
    return {
      ok: true,
      state: stateNow(),
      message: `Change recorded; the reassessment starts ${startAt !== undefined ? `at ${new Date(startAt).toISOString()}` : 'soon'}.`,
      disposition: 'pending',
      ...(startAt !== undefined ? { startsAt: new Date(startAt).toISOString() } : {}),
    };
  };

  const ensureActive = () => {
    if (retired || retiring) reject(`the AI system ${systemId} is retired`);
  };

  // Messages.
  setHandler(aiSystemStatusQuery, status);

  setHandler(significantChangeSignal, async (raw) => {
    const parsed = significantChangeSchema.safeParse(raw);
    if (!parsed.success) {
      log.warn('significant change ignored: invalid', { systemId, problems: zodProblems(parsed.error) });
      return;
    }
    if (!ready) await condition(() => ready);
    if (retired || retiring) {
      log.warn('significant change ignored: the system is retired', { systemId });
      return;
    }
    await takeChange({ ...parsed.data, at: new Date().toISOString() });
  });

  setHandler(
    announceChangeUpdate,
    ...guardedUpdate({
      schema: significantChangeSchema,
      ready: () => ready,
      check: ensureActive,
      apply: (change) => takeChange({ ...change, at: new Date().toISOString() }),
    }),
  );

  setHandler(
    updateRegistrationUpdate,
    ...guardedUpdate({
      schema: updateRegistrationSchema,
      ready: () => ready,
      check: ensureActive,
      apply: async (input): Promise<UpdateAck> => {
        if (input.changes.owner) await acts.resolvePerson(input.changes.owner).catch(() => reject(`owner: unknown person "${input.changes.owner}"`));
        const before = system;
        const changed = (Object.keys(input.changes) as Array<keyof typeof input.changes>).filter((k) => input.changes[k] !== before[k]);
        if (changed.length === 0) return { ok: true, state: stateNow(), message: 'Nothing to change: the registration already says so.' };
        system = { ...system, ...input.changes };
        const fields = changed.join(', ');
        event('updated', input.by, `registration updated (${fields})${input.reason ? `: ${input.reason}` : ''}`);
        publish();
        await ledger('ai-system.updated', input.by, { before, after: system, changes: input.changes, reason: input.reason ?? null });
        if (input.changes.lifecycle === 'retired') {
          retiring = { by: input.by, reason: input.reason ?? 'lifecycle set to retired' };
          currentScope?.cancel();
          wake += 1;
          return { ok: true, state: 'retired', message: `Registration updated; ${systemId} is being retired.` };
        }
        return { ok: true, state: stateNow(), message: `Registration updated (${fields}).` };
      },
    }),
  );

  setHandler(
    retireUpdate,
    ...guardedUpdate({
      schema: retireSchema,
      ready: () => ready,
      check: ensureActive,
      apply: (input): UpdateAck => {
        retiring = input;
        currentScope?.cancel();
        wake += 1;
        return { ok: true, state: 'retired', message: `${systemId} is being retired${current ? `; the running assessment ${current.assessmentRef} is cancelled` : ''}.` };
      },
    }),
  );

  // Set-up: settings, the registration, and (on a first run) what the ledger already holds.
  publish();
  const settings = await acts.impactAssessmentSettings();
  const policy = spec.policy;
  const reassessEveryMs = policy.reassessEvery ? durationMs(policy.reassessEvery) : settings.reassessEveryMs;
  startBeforeMs = Math.min(policy.startBefore ? durationMs(policy.startBefore) : settings.startBeforeMs, reassessEveryMs);
  debounceMs = policy.changeDebounce ? durationMs(policy.changeDebounce) : settings.changeDebounceMs;
  if (!carried) {
    if (!spec.system) system = await acts.aiSystemFromInventory(systemId);
    const seed = await acts.aiSystemLedgerState(systemId);
    last = seed.last;
    Object.assign(numbers, seed.numbers);
    assessmentsTotal = seed.assessmentsTotal;
    nextDueAtMs = last
      ? Date.parse(last.recordedAt) + reassessEveryMs
      : Date.now() + (policy.firstAssessmentIn ? durationMs(policy.firstAssessmentIn) : (settings.firstAssessmentInMs ?? 0)) + startBeforeMs;
    event('registered', spec.registeredBy, `registered from the ${source === 'api' ? 'admin API' : 'organization file'}${last ? `; last assessment ${last.assessmentRef}` : ''}`);
    await ledger('ai-system.registered', spec.registeredBy, { system, source, last: last ?? null, nextDueAt: new Date(nextDueAtMs).toISOString() }, 'registered');
  }
  ready = true;
  publish();

  /** Runs one assessment as a child; returns its result, or undefined when it was cancelled. */
  const runAssessment = async (trigger: ImpactAssessmentTrigger, changes: SignificantChange[]) => {
    const year = String(new Date().getUTCFullYear());
    // Changes announced while the child is being started; sent to it once it runs.
    const queued: SignificantChange[] = [];
    for (let attempt = 1; attempt <= MAX_NUMBER_ATTEMPTS; attempt += 1) {
      const n = (numbers[year] ?? 0) + 1;
      numbers[year] = n;
      const assessmentRef = `${year}-${n}`;
      const childId = impactAssessmentWorkflowId(systemId, assessmentRef);
      const input: ImpactAssessmentInput = {
        system,
        assessmentRef,
        trigger,
        changes,
        ...(nextDueAtMs !== undefined ? { dueAt: new Date(Math.max(nextDueAtMs, Date.now())).toISOString() } : {}),
        ...(last ? { previous: { assessmentRef: last.assessmentRef, level: last.level, signedOffAt: last.signedOffAt } } : {}),
        policy: policy.assessment,
      };
      current = { assessmentRef, workflowId: childId, trigger, startedAt: new Date().toISOString(), queued };
      const running = current;
      currentScope = new CancellationScope();
      publish();
      let handle: ChildWorkflowHandle<typeof impactAssessment>;
      try {
        handle = await currentScope.run(() =>
          startChild<typeof impactAssessment>('impactAssessment', {
            workflowId: childId,
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
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          // That number was used by an earlier workflow of this system: take the next one.
          current = undefined;
          continue;
        }
        current = undefined;
        if (isCancellation(err)) return undefined;
        throw err;
      }
      running.handle = handle;
      event('assessment-started', 'system', `assessment ${assessmentRef} started (${trigger}${changes.length ? `, ${changes.length} change(s)` : ''})`, childId);
      await ledger('ai-system.assessment-started', 'system', { assessmentRef, workflowId: childId, trigger, changes }, `assessment-started-${assessmentRef}`);
      for (const change of running.queued.splice(0)) await handle.signal(attachChangeSignal, change);
      publish();

      // The system shows overdue once the due date passes with the assessment still running.
      const dueAt = nextDueAtMs;
      const watch = (async () => {
        const ms = dueAt === undefined ? 0 : dueAt - Date.now();
        if (ms > 0 && !(await condition(() => current !== running, ms))) publish();
      })();
      let result: ImpactAssessmentResult | undefined;
      let failure: string | undefined;
      try {
        result = await currentScope.run(() => handle.result());
      } catch (err) {
        if (isCancellation(err)) result = undefined;
        else if (err instanceof ChildWorkflowFailure) failure = err.cause?.message ?? err.message;
        else throw err;
      }
      current = undefined;
      currentScope = undefined;
      await watch;
      return { assessmentRef, workflowId: childId, result, failure };
    }
    throw new Error(`no free assessment number for ${systemId} in ${year} after ${MAX_NUMBER_ATTEMPTS} attempts`);
  };

  const shouldContinueAsNew = () => {
    const now = workflowInfo();
    return (
      assessmentsThisRun >= (policy.continueAsNewAfter ?? DEFAULT_CONTINUE_AS_NEW_AFTER) ||
      now.continueAsNewSuggested ||
      now.historyLength >= (policy.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS)
    );
  };

  for (;;) {
    if (retiring) break;
    publish();
    if (shouldContinueAsNew()) {
      await condition(allHandlersFinished);
      if (!retiring && !current) {
        event('continued-as-new', 'system', `continued as new after ${assessmentsThisRun} assessment(s) in run ${runs}`);
        const state: AiSystemCarried = {
          system,
          source,
          registeredAt,
          ...(last ? { last } : {}),
          ...(nextDueAtMs !== undefined ? { nextDueAt: new Date(nextDueAtMs).toISOString() } : {}),
          pendingChanges,
          held,
          numbers,
          assessmentsTotal,
          sendBacksTotal,
          runs,
          history,
          recordSeq: records.numbered(),
        };
        await continueAsNew<typeof aiSystem>({ systemId, system, source, registeredBy: spec.registeredBy, policy: spec.policy, carried: state });
      }
      continue;
    }
    const startAt = nextStartMs();
    if (startAt === undefined || startAt > Date.now()) {
      // Wait for the start, a message, or the due date (to show overdue).
      const seen = wake;
      const dueWake = nextDueAtMs !== undefined && nextDueAtMs > Date.now() ? nextDueAtMs : undefined;
      const wakeAt = Math.min(startAt ?? Infinity, dueWake ?? Infinity);
      const woke = () => wake !== seen || retiring !== undefined;
      if (Number.isFinite(wakeAt)) await condition(woke, Math.max(1, wakeAt - Date.now()));
      else await condition(woke);
      continue;
    }

    const first = pendingChanges[0];
    const changeStart = first ? Date.parse(first.at) + debounceMs : Infinity;
    const scheduledStart = held || nextDueAtMs === undefined ? Infinity : nextDueAtMs - startBeforeMs;
    const trigger: ImpactAssessmentTrigger = changeStart <= scheduledStart ? 'change' : last ? 'scheduled' : 'initial';
    const changes = pendingChanges.splice(0);
    held = false;
    const outcome = await runAssessment(trigger, changes);
    assessmentsThisRun += 1;
    if (!outcome) continue;
    const { result } = outcome;
    if (result?.status === 'recorded' && result.recordedAt) {
      last = {
        assessmentRef: outcome.assessmentRef,
        workflowId: outcome.workflowId,
        level: result.level ?? 0,
        signOffRole: result.signOffRole ?? 'aims-manager',
        signedOffBy: result.signedOffBy ?? 'system',
        signedOffAt: result.signedOffAt ?? result.recordedAt,
        recordedAt: result.recordedAt,
      };
      assessmentsTotal += 1;
      sendBacksTotal += result.sendBacks;
      nextDueAtMs = Date.parse(result.recordedAt) + reassessEveryMs;
      event('assessment-recorded', 'system', `assessment ${outcome.assessmentRef} recorded (level ${last.level}); next due ${formatDay(nextDueAtMs)}`, outcome.workflowId);
      await ledger('ai-system.reassessment-scheduled', 'system', {
        assessmentRef: outcome.assessmentRef,
        level: last.level,
        nextDueAt: new Date(nextDueAtMs).toISOString(),
      });
    } else {
      // Cancelled or failed: scheduled starts wait for a change (or an update) before trying again.
      const why = outcome.failure ?? result?.cancellation?.reason ?? 'cancelled';
      if (!retiring) held = true;
      event('assessment-cancelled', result?.cancellation?.by ?? 'system', `assessment ${outcome.assessmentRef} did not complete: ${why}`, outcome.workflowId);
      await ledger('ai-system.assessment-cancelled', 'system', { assessmentRef: outcome.assessmentRef, reason: why });
    }
  }

  // Retired: the final record, then the workflow ends.
  const retirement: Retire = retiring ?? { by: 'system', reason: 'retired' };
  const by = retirement.by;
  retired = { by, at: new Date().toISOString(), reason: retirement.reason };
  event('retired', by, `retired: ${retirement.reason}`);
  publish();
  await ledger('ai-system.retired', by, { system, reason: retirement.reason, last: last ?? null, assessmentsTotal, pendingChanges }, 'retired');
  await condition(allHandlersFinished);
  return { systemId, status: 'retired', retired, assessmentsTotal };
}

