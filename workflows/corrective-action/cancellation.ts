/**
 * Cancelling a nonconformity that needs top management's approval (rule
 * cancel-needs-top-management: a major NC, or one the certification body raised): the cancel
 * update records the request, an approval child bound to the request decides it, and only an
 * approved request cancels the NC. The request and its outcome go to the ledger.
 */
import { CancellationScope, ChildWorkflowFailure, condition, isCancellation } from '@temporalio/workflow';
import { approvalOutcome } from '../../src/approval/schema.js';
import type { CancelRequest } from '../../src/corrective-action/schema.js';
import type { Cancel } from '../../src/common/schemas.js';
import { acts } from '../lib/activities.js';
import { childWorkflowId, runApproval } from '../lib/children.js';
import type { Nonconformity } from './state.js';
import { dueIn } from './steps.js';

const requestKey = (n: number) => `cancel-approval-${n}`;

/** Records a cancellation request; `decideCancellations` asks top management about it. */
export async function requestCancellation(nc: Nonconformity, input: Cancel): Promise<void> {
  nc.cancelRequests += 1;
  const key = requestKey(nc.cancelRequests);
  const request: CancelRequest = { by: input.by, at: new Date().toISOString(), reason: input.reason, workflowId: childWorkflowId(key) };
  nc.cancelRequest = request;
  nc.event('cancel-requested', input.by, `cancellation asked of top management: ${input.reason}`, { workflowId: request.workflowId });
  nc.publish();
  await nc.recorder.append(
    'nonconformity.cancellation-requested',
    input.by,
    { reason: input.reason, severity: nc.spec.severity, source: nc.spec.source, state: nc.state, approvalWorkflowId: request.workflowId },
    `${key}-requested`,
  );
}

/**
 * Decides each cancellation request as it comes: an approval by top management bound to the
 * request; approved cancels the lifecycle, anything else leaves the NC running. Runs until its
 * scope is cancelled (the NC ended); a request still open then is recorded as withdrawn.
 */
export async function decideCancellations(nc: Nonconformity, lifecycle: CancellationScope): Promise<void> {
  for (;;) {
    await condition(() => nc.cancelRequest !== undefined);
    const request = nc.cancelRequest;
    if (!request) continue;
    const key = requestKey(nc.cancelRequests);
    let outcome: { approved: boolean; by: string; status: string; reason: string };
    try {
      const decision = await runApproval(key, {
        kind: 'corrective-action-cancel',
        title: `${nc.ncId}: cancel the nonconformity?`,
        summary:
          `Cancellation asked by ${request.by}: ${request.reason}\n\n` +
          `Approving cancels ${nc.ncId} (${nc.spec.severity}, from ${nc.spec.source}) and its running step (now: ${nc.stateText()}); ` +
          `no corrective action or effectiveness review follows. Rejecting keeps the corrective action running.\n\n${nc.context()}`,
        contentHash: await acts.contentHash({ ncId: nc.ncId, request: 'cancel', by: request.by, at: request.at, reason: request.reason }),
        approvers: [{ role: 'top-management' }],
        rule: { type: 'any' },
        // A request by the system (the admin API) is prepared on behalf of the AIMS manager.
        preparer: request.by === 'system' ? (nc.aimsManagerId ?? 'system') : request.by,
        process: 'corrective-action',
        clauses: nc.clauses,
        dueAt: dueIn(nc.approvalDueMs),
        policy: nc.spec.policy.tasks,
      });
      const read = approvalOutcome(decision);
      outcome = { approved: read.approved, by: read.approvedBy[0] ?? read.rejectedBy ?? 'system', status: decision.status, reason: read.reason };
    } catch (err) {
      if (isCancellation(err)) {
        await CancellationScope.nonCancellable(() => settle(nc, request, { approved: false, by: 'system', status: 'withdrawn', reason: 'the nonconformity ended before top management decided' }));
        throw err;
      }
      if (!(err instanceof ChildWorkflowFailure)) throw err;
      outcome = { approved: false, by: 'system', status: 'failed', reason: `the approval could not run: ${err.cause?.message ?? err.message}` };
    }
    await settle(nc, request, outcome);
    if (outcome.approved) {
      lifecycle.cancel();
      return;
    }
  }
}

/** Records a request's outcome; an approved one becomes the NC's cancellation. */
async function settle(nc: Nonconformity, request: CancelRequest, outcome: { approved: boolean; by: string; status: string; reason: string }): Promise<void> {
  nc.cancelRequest = undefined;
  if (outcome.approved) {
    nc.cancellation = { by: request.by, at: new Date().toISOString(), reason: request.reason, approvedBy: outcome.by };
    nc.event('cancel-approved', outcome.by, `cancellation approved by top management: ${request.reason}`, { workflowId: request.workflowId });
  } else if (outcome.status === 'withdrawn') {
    nc.event('cancel-withdrawn', outcome.by, `cancellation request withdrawn: ${outcome.reason}`, { workflowId: request.workflowId });
  } else {
    nc.event('cancel-refused', outcome.by, `cancellation not approved (${outcome.status}): ${outcome.reason}; the corrective action goes on`, { workflowId: request.workflowId });
  }
  nc.publish();
  const key = request.workflowId.slice(request.workflowId.lastIndexOf('/') + 1);
  await nc.recorder.append(
    'nonconformity.cancellation-decided',
    outcome.by,
    { outcome: outcome.status, approved: outcome.approved, requestedBy: request.by, requestedAt: request.at, reason: request.reason, ...(outcome.approved ? {} : { why: outcome.reason }), approvalWorkflowId: request.workflowId },
    `${key}-decided`,
  );
}
