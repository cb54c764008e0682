/**
 * One AI risk assessment (ISO/IEC 42001 6.1.2, 6.1.3, 8.2, 8.3) of an AI system or of the AIMS,
 * id `risk-assessment/<scope>/<year>-<n>`: started at the planned interval, by a significant
 * change to an AI system, by an impact assessment with a high residual impact, or by an admin.
 * The assessor (the system owner; for the AIMS the owner of `ai-risk-management`) identifies the
 * risks (confirming or closing those in the register), analyses and evaluates them against the
 * organization's criteria, and plans their treatment: option, controls, the comparison with
 * every Annex A control, and a plan of actions with owners and dates. The risk owners approve
 * the plan; top management accepts every residual risk at or above the acceptance criterion,
 * each through an approval bound to the content hash of the risk as decided. The actions run as
 * tasks, the AIMS manager verifies the treatment (not effective: treated again), and
 * `risk-assessment.recorded` goes to the ledger with a version of every risk under
 * `risk/<id>`; the Annex A controls the treatment selected make a new SoA version.
 */
import { CancellationScope } from '@temporalio/workflow';
import { riskAssessmentInputSchema, type RiskAssessmentInput, type RiskAssessmentResult } from '../../src/risk/schema.js';
import { acts } from '../lib/activities.js';
import { closing, runLifecycle } from '../lib/lifecycle.js';
import { parseOrThrow } from '../lib/util.js';
import { registerRiskAssessmentHandlers } from './handlers.js';
import { RiskAssessment } from './state.js';
import { acceptResiduals, analyse, approvePlan, carryOut, closeCancelled, identify, record, toTreat, treat, verify } from './steps.js';

export async function riskAssessment(rawInput: RiskAssessmentInput): Promise<RiskAssessmentResult> {
  const r = new RiskAssessment(parseOrThrow(riskAssessmentInputSchema, rawInput, 'risk assessment input'));
  registerRiskAssessmentHandlers(r);

  // Started: the organization's risk criteria, the assessor and the step durations.
  r.setUp(await acts.riskAssessmentSettings(r.spec.scope, r.spec.system));
  r.event('started', r.spec.startedBy, `started (${r.spec.trigger})${r.spec.reason ? `: ${r.spec.reason}` : ''}`);
  r.publish();
  await r.recorder.append('risk-assessment.started', r.spec.startedBy, { trigger: r.spec.trigger, reason: r.spec.reason, assessor: r.settings.assessor, criteria: r.criteria }, 'started');

  const ending = await runLifecycle(
    new CancellationScope(),
    async () => {
      // 1. Identify (6.1.2 c): the open risks of the register confirmed or closed, new ones added.
      await identify(r);
      // 2. Analyse and evaluate against the criteria (6.1.2 d, e); below the treatment level a risk is retained.
      await analyse(r);
      let feedback = '';
      while (toTreat(r).length > 0) {
        r.round += 1;
        // 3. Treatment (6.1.3): option, controls, the Annex A comparison, the plan.
        await treat(r, feedback);
        // 4. The risk owners approve the plan; 5. top management accepts the residual risks above the criterion.
        //    A refusal of either plans the treatment again.
        const refused = (await approvePlan(r)) ?? (await acceptResiduals(r));
        if (refused) {
          feedback = refused;
          continue;
        }
        // 6. The plan's actions as tasks (8.3); 7. the verification: not effective plans it again.
        await carryOut(r);
        const notEffective = await verify(r);
        if (!notEffective) return;
        feedback = notEffective;
      }
    },
    // Nothing in the assessment cancels it on purpose: a cancellation comes from its AI system or an operator.
    () => false,
  );

  return closing(async () => {
    if (ending.kind !== 'done') {
      await closeCancelled(r, ending);
      return r.result();
    }
    // 8. The record, and the SoA version that follows from the treatment.
    await record(r);
    r.publish();
    return r.result();
  });
}
