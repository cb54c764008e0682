/**
 * Corrective action (ISO/IEC 42001 10.2): one workflow per nonconformity, from containment
 * through root-cause analysis, an approved action plan, the actions in parallel and, after a
 * waiting period, an effectiveness review; not effective goes back to root-cause analysis.
 * Each step is a human task or an approval run as a child workflow; the NC, every step's
 * result and the closure go to the ledger. An NC still open past its overall target is
 * escalated to top management.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  isCancellation,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  correctiveActionInputSchema,
  mergeConcernSchema,
  type CorrectiveActionInput,
  type CorrectiveActionResult,
  type NcEvent,
  type NcEventType,
  type NcState,
  type NcStatus,
} from '../../src/corrective-action/schema.js';
import { durationMs } from '../../src/common/duration.js';
import type { FormKey, PlanAction } from '../../src/forms/index.js';
import { cancelSchema, commentSchema, type PersonRef } from '../../src/common/schemas.js';
import { cancelUpdate, commentUpdate, type UpdateAck } from '../../src/common/messages.js';
import { mergeConcernUpdate, ncStatusQuery } from '../../src/corrective-action/contract.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { acts, notify } from '../lib/activities.js';
import { childWorkflowId, runApproval, runTask } from '../lib/children.js';
import { formatDay, parseOrThrow, reject, StepCancelled } from '../lib/util.js';
import { guardedUpdate } from '../lib/handlers.js';
import { ledgerWriter } from '../lib/ledger.js';

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


export async function correctiveAction(rawInput: CorrectiveActionInput): Promise<CorrectiveActionResult> {
  const spec = parseOrThrow(correctiveActionInputSchema, rawInput, 'corrective action input');
  const info = workflowInfo();
  const workflowId = info.workflowId;
  const clauses = [...new Set(['10.2', ...spec.clauses])];
  const raisedAt = new Date(spec.raisedAt ?? Date.now()).toISOString();

  let state: NcState = 'containment';
  let aimsManagerId: string | undefined = undefined;
  let targetAtMs = Date.parse(raisedAt);
  let overdue = false;
  let cycle = 1;
  let notEffectiveCount = 0;
  let currentStep: NcStatus['currentStep'];
  let containment: Record<string, unknown> | undefined;
  let systemChange: NcStatus['systemChange'];
  let closedAt: string | undefined;
  let cancellation: NcStatus['cancellation'];
  let notificationSeq = 0;
  const rootCauses: NcStatus['rootCauses'] = [];
  const actions: NcStatus['actions'] = [];
  const effectiveness: NcStatus['effectiveness'] = [];
  const mergedConcerns: string[] = [];
  const timeline: NcEvent[] = [];

  const event = (type: NcEventType, by: string, detail: string, extra: { workflowId?: string; data?: Record<string, unknown> } = {}) =>
    timeline.push({ at: new Date().toISOString(), type, by, detail, ...extra });
  const isClosed = () => state === 'closed' || state === 'cancelled';

  const status = (): NcStatus => ({
    ncId: spec.ncId,
    workflowId,
    title: spec.title,
    description: spec.description,
    severity: spec.severity,
    source: spec.source,
    ...(spec.sourceRef ? { sourceRef: spec.sourceRef } : {}),
    clauses,
    ...(spec.aiSystem ? { aiSystem: spec.aiSystem } : {}),
    owner: spec.owner,
    raisedBy: spec.raisedBy,
    raisedAt,
    targetAt: new Date(targetAtMs).toISOString(),
    state,
    overdue,
    cycle,
    notEffectiveCount,
    ...(currentStep ? { currentStep } : {}),
    ...(containment ? { containment } : {}),
    rootCauses,
    actions,
    effectiveness,
    ...(systemChange ? { systemChange } : {}),
    mergedConcerns,
    ...(closedAt ? { closedAt } : {}),
    ...(cancellation ? { cancellation } : {}),
    timeline,
  });

  const publish = () => {
    upsertSearchAttributes([
      { key: searchAttributes.process, value: 'corrective-action' },
      { key: searchAttributes.ref, value: spec.ncId },
      { key: searchAttributes.severity, value: spec.severity },
      { key: searchAttributes.source, value: spec.source },
      { key: searchAttributes.owner, value: spec.owner },
      { key: searchAttributes.state, value: overdue && !isClosed() ? 'overdue' : state },
      { key: searchAttributes.dueDate, value: new Date(targetAtMs) },
      { key: searchAttributes.clauses, value: clauses },
      ...(spec.aiSystem ? [{ key: searchAttributes.aiSystem, value: spec.aiSystem }] : []),
    ]);
    upsertMemo({ kind: 'nonconformity', ncId: spec.ncId, title: spec.title, severity: spec.severity, source: spec.source, state });
    const loops = notEffectiveCount ? ` · not effective ${notEffectiveCount}×` : '';
    const late = overdue && !isClosed() ? ' · past target, escalated' : '';
    setCurrentDetails(
      `**${spec.ncId}** · ${stateText[state]} · ${spec.severity} · ${spec.title} · owner ${spec.owner} · target ${formatDay(targetAtMs)}${loops}${late}`,
    );
  };

  const records = ledgerWriter({ clauses: clauses, identity: () => ({ ncId: spec.ncId }) });
  const ledger = records.append;

  const send = (kind: 'nc.escalated' | 'nc.closed', to: PersonRef[], data: Record<string, unknown>) =>
    notify({
      notificationId: `${workflowId}/${info.firstExecutionRunId}/${++notificationSeq}-${kind}`,
      kind,
      to,
      data: { title: `${spec.ncId}: ${spec.title}`, clauses, ...data },
    });

  // Queries and updates.
  setHandler(ncStatusQuery, status);
  const ack = (message: string): UpdateAck => ({ ok: true, state, message });
  const ready = () => aimsManagerId !== undefined;
  const involved = () => ['system', spec.owner, ...(aimsManagerId ? [aimsManagerId] : [])];
  const ensureOpen = () => {
    if (isClosed()) reject(`the nonconformity is already ${state}`);
  };
  const lifecycleScope = new CancellationScope();

  setHandler(
    commentUpdate,
    ...guardedUpdate({
      schema: commentSchema,
      ready,
      check: (input) => {
        if (!involved().includes(input.by)) reject('only the owner or the AIMS manager can post an update on this nonconformity');
      },
      apply: async (input) => {
        event('commented', input.by, input.text);
        await ledger('nonconformity.comment', input.by, { text: input.text });
        return ack('Update posted.');
      },
    }),
  );

  setHandler(
    mergeConcernUpdate,
    ...guardedUpdate({
      schema: mergeConcernSchema,
      ready,
      check: (input) => {
        ensureOpen();
        if (!['system', aimsManagerId].includes(input.by)) reject('only the AIMS manager can merge a concern into a nonconformity');
        if (mergedConcerns.includes(input.concernId)) reject(`concern ${input.concernId} is already merged into ${spec.ncId}`);
      },
      apply: async (input) => {
        mergedConcerns.push(input.concernId);
        event('concern-merged', input.by, `concern ${input.concernId} merged${input.note ? `: ${input.note}` : ''}`, {
          data: { concernId: input.concernId, summary: input.summary },
        });
        await ledger('nonconformity.concern-merged', input.by, { concernId: input.concernId, summary: input.summary, note: input.note ?? null });
        return ack(`Concern ${input.concernId} merged into ${spec.ncId}.`);
      },
    }),
  );

  setHandler(
    cancelUpdate,
    ...guardedUpdate({
      schema: cancelSchema,
      ready,
      check: (input) => {
        ensureOpen();
        if (!['system', aimsManagerId].includes(input.by)) reject('only the AIMS manager can cancel a nonconformity');
      },
      apply: (input) => {
        cancellation = { by: input.by, at: new Date().toISOString(), reason: input.reason };
        lifecycleScope.cancel();
        return ack('The nonconformity is being cancelled.');
      },
    }),
  );

  // Timing: organization defaults for the severity, overridden by the input's policy.
  event('raised', spec.raisedBy, `${spec.severity} nonconformity raised from ${spec.source}${spec.sourceRef ? ` (${spec.sourceRef})` : ''}`);
  publish();
  const timing = await acts.correctiveActionTiming(spec.severity);
  const stepDueMs = spec.policy.stepDue ? durationMs(spec.policy.stepDue) : timing.stepDueMs;
  const approvalDueMs = spec.policy.approvalDue ? durationMs(spec.policy.approvalDue) : stepDueMs;
  const effectivenessWaitMs = spec.policy.effectivenessWait ? durationMs(spec.policy.effectivenessWait) : timing.effectivenessWaitMs;
  targetAtMs = Date.parse(raisedAt) + (spec.policy.overallTarget ? durationMs(spec.policy.overallTarget) : timing.overallTargetMs);
  aimsManagerId = timing.aimsManagerId;
  const aimsManager = aimsManagerId;
  publish();
  await ledger('nonconformity.raised', spec.raisedBy, { ...spec, clauses, raisedAt, targetAt: new Date(targetAtMs).toISOString() }, 'raised');

  const dueIn = (ms: number) => new Date(Date.now() + ms).toISOString();
  const context = () =>
    [
      `Nonconformity ${spec.ncId} (${spec.severity}, from ${spec.source}): ${spec.title}`,
      spec.description,
      ...rootCauses.slice(-1).map((rc) => `Root cause (cycle ${rc.cycle}): ${rc.rootCause}`),
      ...(notEffectiveCount ? [`Earlier corrective actions were found not effective ${notEffectiveCount} time(s).`] : []),
    ].join('\n\n');

  /** Runs one step as a human task; returns who completed it and the form data. */
  const step = async (
    key: string,
    title: string,
    instructions: string,
    form: FormKey,
    opts: { assignee?: string; dueAt?: string; choices?: string[]; recordKind: string },
  ): Promise<{ by: string; data: Record<string, unknown> }> => {
    const child = childWorkflowId(key);
    currentStep = { key, workflowId: child };
    event('step-started', 'system', title, { workflowId: child });
    publish();
    const result = await runTask(key, {
      title: `${spec.ncId}: ${title}`,
      instructions: `${instructions}\n\n${context()}`,
      clauses,
      process: 'corrective-action',
      ...(spec.aiSystem ? { aiSystem: spec.aiSystem } : {}),
      assignee: { person: opts.assignee ?? spec.owner },
      dueAt: opts.dueAt ?? dueIn(stepDueMs),
      form,
      ...(opts.choices ? { choices: opts.choices } : {}),
      requestedBy: 'system',
      policy: spec.policy.tasks,
    });
    currentStep = undefined;
    if (result.status !== 'completed') {
      const c = result.cancellation;
      throw new StepCancelled(c?.by ?? 'system', `the step "${title}" was cancelled${c ? `: ${c.reason}` : ''}`);
    }
    const by = result.completedBy ?? 'system';
    const data = result.data ?? {};
    event('step-completed', by, title, { workflowId: child, data });
    await ledger(opts.recordKind, by, { step: key, title, workflowId: child, data }, key);
    return { by, data };
  };

  /** The action plan for this cycle, approved by the AIMS manager (top management when the owner is the AIMS manager). */
  const approvedPlan = async (): Promise<PlanAction[]> => {
    let feedback = '';
    for (let round = 1; ; round += 1) {
      state = 'action-plan';
      const plan = await step(
        `action-plan-${cycle}-${round}`,
        'Plan the corrective actions',
        `List the actions that remove the root cause, proportionate to its effects: an owner, a due date and a description for each.${feedback}`,
        'action-plan',
        { recordKind: 'nonconformity.action-plan' },
      );
      const planned = (plan.data.actions ?? []) as PlanAction[];
      try {
        await acts.resolvePeople(planned.map((a) => ({ person: a.owner })));
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        feedback = `\n\nThe previous plan could not be used: ${err.cause?.message ?? err.message}.`;
        continue;
      }
      const content = { ncId: spec.ncId, cycle, rootCause: rootCauses.at(-1)?.rootCause ?? '', actions: planned };
      const contentHash = await acts.contentHash(content);
      const key = `plan-approval-${cycle}-${round}`;
      currentStep = { key, workflowId: childWorkflowId(key) };
      publish();
      const approvers = plan.by === aimsManager ? [{ role: 'top-management' as const }] : [{ person: aimsManager }];
      const decision = await runApproval(key, {
        kind: 'corrective-action-plan',
        title: `${spec.ncId}: action plan (cycle ${cycle})`,
        summary: `${context()}\n\nActions:\n${planned.map((a, i) => `${i + 1}. ${a.description} (owner ${a.owner}, due ${a.dueDate})`).join('\n')}`,
        contentHash,
        approvers,
        rule: { type: 'any' },
        preparer: plan.by,
        process: 'corrective-action',
        clauses,
        dueAt: dueIn(approvalDueMs),
        policy: spec.policy.tasks,
      });
      currentStep = undefined;
      if (decision.status === 'approved') {
        event('plan-approved', decision.decisions.find((d) => d.decision === 'approve')?.by ?? 'system', `action plan approved (cycle ${cycle})`, {
          workflowId: childWorkflowId(key),
        });
        return planned;
      }
      if (decision.status === 'cancelled') throw new StepCancelled('system', 'the approval of the action plan was cancelled');
      const comments = decision.decisions.filter((d) => d.decision === 'reject' && d.comment).map((d) => d.comment);
      const why = decision.status === 'expired' ? 'nobody decided before the approval expired' : comments.join('; ');
      event('plan-rejected', decision.decisions.find((d) => d.decision === 'reject')?.by ?? 'system', `action plan sent back: ${why}`, {
        workflowId: childWorkflowId(key),
      });
      feedback = `\n\nThe previous plan was sent back: ${why}`;
    }
  };

  const lifecycle = async () => {
    const contained = await step(
      'containment',
      'Contain and correct',
      'Contain the nonconformity and correct it: what was done to control it and to deal with its consequences, with evidence.',
      'evidence',
      { recordKind: 'nonconformity.containment' },
    );
    containment = contained.data;
    for (;;) {
      state = 'root-cause';
      const analysed = await step(
        `root-cause-${cycle}`,
        `Root cause analysis${cycle > 1 ? ` (cycle ${cycle})` : ''}`,
        'Find the root cause (5 whys or cause categories) and say whether similar nonconformities exist or could occur elsewhere.',
        'root-cause',
        { recordKind: 'nonconformity.root-cause' },
      );
      const d = analysed.data as Omit<NcStatus['rootCauses'][number], 'cycle' | 'by'>;
      rootCauses.push({ ...d, cycle, by: analysed.by });

      const planned = await approvedPlan();
      state = 'implementation';
      const first = actions.length;
      planned.forEach((a, i) => actions.push({ ...a, cycle, workflowId: childWorkflowId(`action-${cycle}-${i + 1}`), done: false }));
      publish();
      await Promise.all(
        planned.map(async (a, i) => {
          await step(`action-${cycle}-${i + 1}`, `Action ${i + 1}: ${a.description.slice(0, 120)}`, a.description, 'evidence', {
            assignee: a.owner,
            dueAt: `${a.dueDate}T23:59:59Z`,
            recordKind: 'nonconformity.action',
          });
          const done = actions[first + i];
          if (done) done.done = true;
        }),
      );

      state = 'waiting-effectiveness';
      event('step-started', 'system', `waiting ${Math.round(effectivenessWaitMs / 86_400_000)} day(s) before the effectiveness review`);
      publish();
      await sleep(effectivenessWaitMs);

      state = 'effectiveness-review';
      const review = await step(
        `effectiveness-${cycle}`,
        'Review the effectiveness of the corrective action',
        'Were the actions effective: has the nonconformity stopped and not recurred? Answer yes or no and justify with what you checked.',
        'yes-no',
        { recordKind: 'nonconformity.effectiveness' },
      );
      const effective = review.data.answer === 'yes';
      effectiveness.push({ cycle, effective, justification: typeof review.data.justification === 'string' ? review.data.justification : '', by: review.by, at: new Date().toISOString() });
      if (effective) {
        event('effective', review.by, `effective (cycle ${cycle})`);
        break;
      }
      notEffectiveCount += 1;
      event('not-effective', review.by, `not effective (cycle ${cycle}); back to root cause analysis`, { data: { count: notEffectiveCount } });
      cycle += 1;
    }

    state = 'system-change';
    const change = await step(
      `system-change-${cycle}`,
      'Does the management system need to change?',
      'Must the AI management system change because of this nonconformity (a process, a policy, a control)? Answer yes or no and justify.',
      'yes-no',
      { recordKind: 'nonconformity.system-change-decision' },
    );
    systemChange = { required: change.data.answer === 'yes', justification: typeof change.data.justification === 'string' ? change.data.justification : '' };
    if (systemChange.required) {
      await step(
        'system-change',
        'Change the management system',
        `Make the change to the management system and attach the evidence. Why it is needed: ${systemChange.justification}`,
        'evidence',
        { recordKind: 'nonconformity.system-change' },
      );
    }
  };

  /** Past the overall target with the NC still open: escalate it to top management, once. */
  const watchTarget = async () => {
    if (await condition(isClosed, Math.max(1, targetAtMs - Date.now()))) return;
    overdue = true;
    event('escalated', 'system', `open past its target date ${formatDay(targetAtMs)}; escalated to top management`);
    publish();
    const [owner, ...top] = await acts.resolvePeople([{ person: spec.owner }, { role: 'top-management' }]);
    await ledger('nonconformity.escalated', 'system', { targetAt: new Date(targetAtMs).toISOString(), state, to: top.map((p) => p.id) }, 'escalated');
    await send('nc.escalated', top, {
      ownerName: owner?.name ?? spec.owner,
      severity: spec.severity,
      targetDate: new Date(targetAtMs).toISOString(),
      stateText: stateText[state],
    });
  };

  let failure: Error | undefined;
  let cancelledByTemporal: Error | undefined;
  const watching = CancellationScope.cancellable(watchTarget).catch((err: unknown) => {
    if (!isCancellation(err)) failure ??= err instanceof Error ? err : new Error(String(err));
  });
  try {
    await lifecycleScope.run(lifecycle);
    state = 'closed';
    closedAt = new Date().toISOString();
    event('closed', 'system', notEffectiveCount ? `closed after ${notEffectiveCount} not-effective review(s)` : 'closed');
  } catch (err) {
    if (err instanceof StepCancelled) {
      cancellation = { by: err.by, at: new Date().toISOString(), reason: err.reason };
    } else if (isCancellation(err)) {
      if (!cancellation) {
        cancelledByTemporal = err as Error;
        cancellation = { by: 'system', at: new Date().toISOString(), reason: 'cancelled by an operator' };
      }
    } else {
      throw err;
    }
    state = 'cancelled';
    currentStep = undefined;
    event('cancelled', cancellation.by, `cancelled: ${cancellation.reason}`);
  }

  const finalState = state as NcState;
  await CancellationScope.nonCancellable(async () => {
    await watching;
    publish();
    if (finalState === 'closed' && closedAt) {
      await ledger('nonconformity.closed', 'system', { closedAt, notEffectiveCount, rootCauses, actions, effectiveness, systemChange: systemChange ?? null, timeline }, 'closed');
      const [owner] = await acts.resolvePeople([{ person: spec.owner }]);
      if (owner) await send('nc.closed', [owner], { closedAt, notEffectiveCount });
    } else if (cancellation) {
      await ledger('nonconformity.cancelled', cancellation.by, { reason: cancellation.reason, state: finalState, timeline }, 'cancelled');
    }
    await condition(allHandlersFinished);
  });
  if (failure) throw failure;
  if (cancelledByTemporal) throw cancelledByTemporal;
  return {
    ncId: spec.ncId,
    status: finalState === 'closed' ? 'closed' : 'cancelled',
    notEffectiveCount,
    ...(closedAt ? { closedAt } : {}),
    ...(cancellation ? { cancellation } : {}),
  };
}
