/**
 * A reported concern (ISO/IEC 42001 Annex A.3.3), one workflow per report, id
 * `concern/<yyyy>/<short-random>`: the AIMS manager (top management when the reporter says it is
 * about the AIMS manager) triages it in a human task and accepts it
 * (a nonconformity is raised with source `concern`), rejects it (the reporter, when they left
 * an e-mail address, is told the reason) or merges it into an open nonconformity. A merge the
 * nonconformity refuses, or an owner who is not in the organization, asks the triage again
 * with the reason. The report and the outcome go to the ledger.
 */
import { concernInputSchema, DEFAULT_TRIAGE_DUE, type ConcernInput, type ConcernResult } from '../../src/concern/schema.js';
import { durationMs } from '../../src/common/duration.js';
import { acts } from '../lib/activities.js';
import { runTask } from '../lib/children.js';
import { parseOrThrow, StepFailed } from '../lib/util.js';
import type { HumanTaskResult } from '../../src/task/schema.js';
import { Concern, type Triage } from './state.js';

export async function concern(rawInput: ConcernInput): Promise<ConcernResult> {
  const c = new Concern(parseOrThrow(concernInputSchema, rawInput, 'concern'));
  c.recorder.publish();
  await c.recorder.append('concern.reported', 'system', { description: c.spec.description, ...(c.spec.aboutAimsManager ? { aboutAimsManager: true } : {}) }, 'reported');
  const [aimsManager] = await acts.resolvePeople([{ role: 'aims-manager' }]);
  const triageDueMs = durationMs(c.spec.policy.triageDue ?? DEFAULT_TRIAGE_DUE);

  let feedback = '';
  for (let round = 1; ; round += 1) {
    let task: HumanTaskResult;
    try {
      task = await runTask(`triage-${round}`, c.triageTask(feedback, triageDueMs, aimsManager?.id), c.reask());
    } catch (err) {
      // A triage task that failed every time it was asked: the concern ends as cancelled, saying why.
      if (!(err instanceof StepFailed)) throw err;
      return c.finish('system', 'cancelled', { note: err.reason });
    }
    if (task.status !== 'completed') {
      const cancelled = task.cancellation;
      return c.finish(cancelled?.by ?? 'system', 'cancelled', cancelled ? { note: cancelled.reason } : {});
    }
    const by = task.completedBy ?? 'system';
    const triage = (task.data ?? {}) as unknown as Triage;
    const outcome =
      triage.decision === 'accept'
        ? await c.accept(by, triage)
        : triage.decision === 'merge' && triage.ncId
          ? await c.merge(by, triage.ncId, triage, aimsManager?.id)
          : await c.reject(by, triage);
    if (!('again' in outcome)) return outcome;
    feedback = outcome.again;
  }
}
