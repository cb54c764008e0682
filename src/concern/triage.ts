/**
 * Triaging a reported concern without the e-mailed link (the admin API and the console): find
 * the concern's open triage task and complete it as whoever acts. The task's validator is the
 * only place that decides whether that person may triage and whether the decision is sound.
 */
import type { UpdateAck } from '../common/messages.js';
import type { z } from 'zod';
import type { triageSchema } from '../forms/index.js';
import { TASK_WORKFLOW, completeTaskUpdate } from '../task/contract.js';
import { HttpError } from '../api/errors.js';
import type { WorkflowGateway } from '../api/gateway.js';
import { answerUpdate } from '../api/plugins/temporal-routes.js';
import { CONCERN_WORKFLOW } from './contract.js';

/** Triage rounds looked at for the open one (a merge into an unknown NC asks again). */
const MAX_TRIAGE_ROUNDS = 50;

/** `concern/<year>/<ref>`. */
export const concernWorkflowId = (year: string, ref: string) => `concern/${year}/${ref}`;

/**
 * Completes the open triage task of `concernId` with `data` as `by`. A 404 when there is no
 * such concern, a 409 saying why when it has no open triage or the task refused.
 */
export async function triageConcern(gateway: WorkflowGateway, concernId: string, by: string, data: z.output<typeof triageSchema>): Promise<{ taskId: string; ack: UpdateAck }> {
  // Triage rounds are `<concern>/triage-1`, `-2`, ...; the open one is the last that runs.
  let open;
  for (let round = 1; round <= MAX_TRIAGE_ROUNDS; round += 1) {
    const task = await gateway.find(`${concernId}/triage-${round}`, TASK_WORKFLOW);
    if (!task) break;
    if (task.running) open = task;
  }
  if (!open) {
    const concern = await gateway.find(concernId, CONCERN_WORKFLOW);
    if (!concern) throw new HttpError(404, `No concern ${concernId}.`);
    throw new HttpError(409, `Not triaged: ${concernId} has no open triage (${concern.description.status.name.toLowerCase()}).`);
  }
  const ack = answerUpdate(await gateway.update(open, completeTaskUpdate, { by, data }), 'triaged', {
    closed: (status) => `the triage task is ${status}`,
    gone: 'the triage task closed in the meantime',
  });
  return { taskId: open.workflowId, ack };
}
