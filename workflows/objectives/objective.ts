/**
 * One long-lived workflow per AI objective (ISO/IEC 42001 6.2, 9.1), id `objective/<id>`: at
 * each interval the measurer (the owner unless the definition names someone) gets a
 * measurement task; the value is evaluated against the target and the at-risk threshold and
 * recorded; a miss sends an "objective at risk" notice to the AIMS manager, and two misses in a
 * row offer a corrective action. The status query shows the series. It continues as new on a
 * bound, carrying the series; retiring ends it after a final record.
 */
import { allHandlersFinished, condition, continueAsNew } from '@temporalio/workflow';
import { objectiveInputSchema, type ObjectiveInput, type ObjectiveResult } from '../../src/objectives/schema.js';
import { parseOrThrow } from '../lib/util.js';
import { registerObjectiveHandlers } from './handlers.js';
import { Objective } from './state.js';
import { evaluate, measure, register, retire, waitForNext } from './steps.js';

export async function objectiveMeasurement(rawInput: ObjectiveInput): Promise<ObjectiveResult> {
  const s = new Objective(parseOrThrow(objectiveInputSchema, rawInput, 'objective input'));
  registerObjectiveHandlers(s);

  s.publish();
  await register(s);
  s.ready = true;
  s.publish();

  while (!s.retiring) {
    // Continue as new on the bound, once the offers still open are answered.
    if (s.shouldContinueAsNew()) {
      await Promise.all([...s.openOffers]);
      await condition(allHandlersFinished);
      if (!s.retiring) {
        s.event('continued-as-new', 'system', `continued as new after ${s.measuredThisRun} measurement(s) in run ${s.runs}`);
        await continueAsNew<typeof objectiveMeasurement>(s.continued());
      }
      continue;
    }
    if (!(await waitForNext(s))) continue;
    // Measure, then plan the next one; a measurement taken is evaluated and recorded.
    const taken = await measure(s);
    if (!s.retiring) s.planNext();
    if (taken) await evaluate(s, taken.n, taken.step);
    s.publish();
  }

  const result = await retire(s);
  await condition(allHandlersFinished);
  return result;
}
