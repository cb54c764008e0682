/**
 * Corrective action (ISO/IEC 42001 10.2): one workflow per nonconformity, from containment
 * through root-cause analysis, an approved action plan, the actions in parallel and, after a
 * waiting period, an effectiveness review; not effective goes back to root-cause analysis.
 * Each step is a human task or an approval run as a child workflow; the NC, every step's
 * result and the closure go to the ledger. An NC still open past its overall target is
 * escalated to top management; cancelling a major one, or one the certification body raised,
 * waits for top management's approval.
 */
import { CancellationScope, isCancellation } from '@temporalio/workflow';
import { correctiveActionInputSchema, type CorrectiveActionInput, type CorrectiveActionResult, type RootCause } from '../../src/corrective-action/schema.js';
import { acts } from '../lib/activities.js';
import { closing, runLifecycle } from '../lib/lifecycle.js';
import { parseOrThrow } from '../lib/util.js';
import { decideCancellations } from './cancellation.js';
import { registerNonconformityHandlers } from './handlers.js';
import { Nonconformity } from './state.js';
import { approvedPlan, changeSystemIfNeeded, effective, implement, step, watchTarget } from './steps.js';

export async function correctiveAction(rawInput: CorrectiveActionInput): Promise<CorrectiveActionResult> {
  const nc = new Nonconformity(parseOrThrow(correctiveActionInputSchema, rawInput, 'corrective action input'));
  const { spec } = nc;
  const lifecycleScope = new CancellationScope();
  registerNonconformityHandlers(nc, lifecycleScope);

  nc.event('raised', spec.raisedBy, `${spec.severity} nonconformity raised from ${spec.source}${spec.sourceRef ? ` (${spec.sourceRef})` : ''}`);
  nc.publish();
  nc.setTiming(await acts.correctiveActionTiming(spec.severity));
  nc.publish();
  await nc.recorder.append('nonconformity.raised', spec.raisedBy, { ...spec, clauses: nc.clauses, raisedAt: nc.raisedAt, targetAt: nc.targetAt() }, 'raised');

  const lifecycle = async () => {
    // a) React: contain and correct, deal with the consequences.
    nc.containment = (
      await step(nc, 'containment', 'Contain and correct', 'Contain the nonconformity and correct it: what was done to control it and to deal with its consequences, with evidence.', 'evidence', {
        recordKind: 'nonconformity.containment',
      })
    ).data;
    for (;;) {
      // b) Review: the root cause, and whether similar nonconformities exist or could occur.
      nc.state = 'root-cause';
      const analysed = await step(
        nc,
        `root-cause-${nc.cycle}`,
        `Root cause analysis${nc.cycle > 1 ? ` (cycle ${nc.cycle})` : ''}`,
        'Find the root cause (5 whys or cause categories) and say whether similar nonconformities exist or could occur elsewhere.',
        'root-cause',
        { recordKind: 'nonconformity.root-cause' },
      );
      nc.rootCauses.push({ ...(analysed.data as Omit<RootCause, 'cycle' | 'by'>), cycle: nc.cycle, by: analysed.by });

      // c) Plan and implement the actions, proportionate to the effects.
      await implement(nc, await approvedPlan(nc));

      // d) After a waiting period, review whether the actions were effective; if not, analyse again.
      if (await effective(nc)) break;
    }

    // e) Change the management system if needed.
    await changeSystemIfNeeded(nc);
  };

  // The overall target is watched, and cancellation requests decided, while the steps run.
  let failure: Error | undefined;
  const keepFailure = (err: unknown) => {
    if (!isCancellation(err)) failure ??= err instanceof Error ? err : new Error(String(err));
  };
  const watching = CancellationScope.cancellable(() => watchTarget(nc)).catch(keepFailure);
  const requests = new CancellationScope();
  const deciding = requests.run(() => decideCancellations(nc, lifecycleScope)).catch(keepFailure);
  const ending = await runLifecycle(lifecycleScope, lifecycle, () => nc.cancellation !== undefined);
  requests.cancel();
  if (ending.kind === 'done') {
    nc.state = 'closed';
    nc.closedAt = new Date().toISOString();
    nc.event('closed', 'system', nc.notEffectiveCount ? `closed after ${nc.notEffectiveCount} not-effective review(s)` : 'closed');
  } else {
    nc.cancellation ??=
      ending.kind === 'step-cancelled'
        ? { by: ending.by, at: new Date().toISOString(), reason: ending.reason }
        : { by: 'system', at: new Date().toISOString(), reason: 'cancelled by an operator' };
    nc.state = 'cancelled';
    nc.currentStep = undefined;
    const approved = nc.cancellation.approvedBy ? ` (approved by ${nc.cancellation.approvedBy})` : '';
    nc.event('cancelled', nc.cancellation.by, `cancelled: ${nc.cancellation.reason}${approved}`);
  }

  // f) Close: the record of the nonconformity, its actions and their results.
  await closing(async () => {
    await watching;
    await deciding;
    nc.publish();
    if (nc.state === 'closed' && nc.closedAt) {
      const { closedAt, notEffectiveCount, rootCauses, actions, effectiveness, systemChange } = nc;
      await nc.recorder.append('nonconformity.closed', 'system', { closedAt, notEffectiveCount, rootCauses, actions, effectiveness, systemChange: systemChange ?? null, timeline: nc.recorder.timeline }, 'closed');
      // An owner no longer in the organization: the AIMS manager is told instead.
      const [owner, aimsManager] = await acts.resolvePeople([{ person: nc.owner }, { role: 'aims-manager' }]);
      const told = owner?.unknown && aimsManager ? aimsManager : owner;
      if (owner?.unknown) nc.event('rerouted', 'system', `the owner ${owner.id} is not in the organization; the closure is told to the AIMS manager`);
      if (told) await nc.send('nc.closed', [told], { closedAt, notEffectiveCount });
    } else if (nc.cancellation) {
      const { reason, approvedBy } = nc.cancellation;
      await nc.recorder.append('nonconformity.cancelled', nc.cancellation.by, { reason, ...(approvedBy ? { approvedBy } : {}), state: nc.state, timeline: nc.recorder.timeline }, 'cancelled');
    }
  });
  if (failure) throw failure;
  if (ending.kind === 'cancelled' && ending.temporal) throw ending.temporal;
  return {
    ncId: spec.ncId,
    status: nc.state === 'closed' ? 'closed' : 'cancelled',
    notEffectiveCount: nc.notEffectiveCount,
    ...(nc.closedAt ? { closedAt: nc.closedAt } : {}),
    ...(nc.cancellation ? { cancellation: nc.cancellation } : {}),
  };
}
