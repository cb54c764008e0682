/**
 * One long-lived workflow per AI system of the inventory (ISO/IEC 42001 6.1.4, 8.4, Annex A.5),
 * id `ai-system/<systemId>`: it holds the system's registration, the assessment status, the
 * last result and the next reassessment date. The periodic reassessment starts `startBefore`
 * ahead of its due date (the reassessment interval after the last sign-off); significant
 * changes (model, data source, intended use, deployment context, jurisdiction) start one
 * reassessment per debounce window, counted from the first change; a change announced while an
 * assessment runs is attached to it. After an assessment that was cancelled or failed, the next
 * starts `retryAfter` later and the AIMS manager is told. Each assessment is an `impactAssessment` child
 * (`impact-assessment/<systemId>/<year>-<n>`). The workflow continues as new on a bound,
 * carrying its state; retiring the system ends it after a final record.
 */
import { allHandlersFinished, condition, continueAsNew } from '@temporalio/workflow';
import { aiSystemInputSchema, type AiSystemInput, type AiSystemResult } from '../../src/ai-system/schema.js';
import { parseOrThrow } from '../lib/util.js';
import { registerAiSystemHandlers } from './system-handlers.js';
import { AiSystem } from './system-state.js';
import { recordOutcome, register, retire, runAssessment, waitForStart } from './system-steps.js';

export async function aiSystem(rawInput: AiSystemInput): Promise<AiSystemResult> {
  const s = new AiSystem(parseOrThrow(aiSystemInputSchema, rawInput, 'AI system input'));
  registerAiSystemHandlers(s);

  // Register: the settings, the registration and (on a first run) what the ledger already holds.
  s.publish();
  await register(s);
  s.ready = true;
  s.publish();

  while (!s.retiring) {
    s.publish();
    // Continue as new on the bound, carrying the state (not while retiring or assessing).
    if (s.shouldContinueAsNew()) {
      await condition(allHandlersFinished);
      if (!s.retiring && !s.current) {
        s.event('continued-as-new', 'system', `continued as new after ${s.assessmentsThisRun} assessment(s) in run ${s.runs}`);
        await continueAsNew<typeof aiSystem>(s.continued());
      }
      continue;
    }
    // Wait for the planned reassessment or a significant change.
    if (!(await waitForStart(s))) continue;
    // Run an assessment, then record its outcome: the next due date, or the next attempt after one that did not complete.
    const { trigger, changes } = s.takeStart();
    const outcome = await runAssessment(s, trigger, changes);
    s.assessmentsThisRun += 1;
    if (outcome) await recordOutcome(s, outcome);
  }

  // Retired: the final record, then the workflow ends.
  const result = await retire(s);
  await condition(allHandlersFinished);
  return result;
}
