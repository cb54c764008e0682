/**
 * One AI system impact assessment (ISO/IEC 42001 6.1.4, 8.4, Annex A.5), id
 * `impact-assessment/<systemId>/<year>-<n>`, started by the system's long-lived workflow:
 * the system owner scopes it (intended use, foreseeable misuse, deployment context,
 * jurisdictions, who is affected) and assesses the impacts on individuals or groups (A.5.4)
 * and on society (A.5.5) with severity, likelihood and mitigations; the AI governance role
 * reviews it (approve, or send back with comments, counted); top management signs it off when
 * the resulting level reaches the organization's threshold, the AIMS manager otherwise (an
 * approval bound to the content hash; a high-tier system's always goes to top management). The
 * assessment goes to the ledger (A.5.3) and every residual impact at or above the
 * risk-treatment threshold opens a task for the owner. Changes announced while it runs are
 * attached to it; one announced during the review or sign-off withdraws that step and sends
 * the assessment back to the assessment step, so the record lists only assessed changes.
 */
import { CancellationScope } from '@temporalio/workflow';
import { impactAssessmentInputSchema, type ImpactAssessmentInput, type ImpactAssessmentResult } from '../../src/ai-system/impact-assessment.js';
import { acts } from '../lib/activities.js';
import { closing, runLifecycle } from '../lib/lifecycle.js';
import { parseOrThrow } from '../lib/util.js';
import { registerImpactAssessmentHandlers } from './assessment-handlers.js';
import { ImpactAssessment } from './assessment-state.js';
import { assessImpacts, closeCancelled, openRiskTreatments, record, reviewAndSignOff, scopeAssessment } from './assessment-steps.js';

export async function impactAssessment(rawInput: ImpactAssessmentInput): Promise<ImpactAssessmentResult> {
  const a = new ImpactAssessment(parseOrThrow(impactAssessmentInputSchema, rawInput, 'impact assessment input'));
  registerImpactAssessmentHandlers(a);

  // Started: the organization's scales, thresholds and step durations.
  const { spec } = a;
  a.event('started', 'system', `started (${spec.trigger})${a.changes.length ? ` after ${a.changes.length} significant change(s)` : ''}`);
  a.publish();
  a.setUp(await acts.impactAssessmentSettings());
  await a.recorder.append('impact-assessment.started', 'system', { trigger: spec.trigger, system: a.system, changes: spec.changes, dueAt: spec.dueAt ?? null }, 'started');

  const ending = await runLifecycle(
    new CancellationScope(),
    async () => {
      // 1. Scoping by the system owner.
      await scopeAssessment(a);
      let feedback = '';
      for (;;) {
        a.round += 1;
        // 2. The impacts, rated on the organization's scales, with mitigations.
        const assessedBy = await assessImpacts(a, feedback);
        // 3. Review by the AI governance role: approved, or sent back to be assessed again.
        // 4. Sign-off, bound to the content hash; a refusal means another round. A significant
        //    change announced during either withdraws it and means another round too.
        const back = await reviewAndSignOff(a, assessedBy);
        if (back === undefined) return;
        feedback = back;
      }
    },
    // Nothing in the assessment cancels it on purpose: a cancellation comes from its AI system or an operator.
    () => false,
  );

  return closing(async () => {
    // A step cancelled on its own, or the assessment cancelled: recorded as cancelled (the parent reads the result).
    if (ending.kind !== 'done') {
      await closeCancelled(a, ending);
      return a.result();
    }
    // 5. The record (A.5.3), then 6. a risk-treatment task per high residual impact.
    await openRiskTreatments(a, await record(a));
    a.publish();
    return a.result();
  });
}
