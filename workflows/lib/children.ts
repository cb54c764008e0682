/**
 * Child workflows of the PDCA processes, with ids derived from the parent's id so each step is
 * findable (e.g. `corrective-action/NC-2027-004/root-cause-1`) and shows in the Temporal UI.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import { executeChild, ParentClosePolicy, startChild, workflowInfo } from '@temporalio/workflow';
import type { ApprovalInput, ApprovalResult } from '../../src/approval/schema.js';
import { type CorrectiveActionInput, type CorrectiveActionResult } from '../../src/corrective-action/schema.js';
import { correctiveActionWorkflowId } from '../../src/corrective-action/contract.js';
import type { HumanTaskInput, HumanTaskResult } from '../../src/task/schema.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { nonconformityAttributes } from '../../src/corrective-action/contract.js';
import { acts } from './activities.js';

/** The id of this workflow's child for `key`. */
export function childWorkflowId(key: string): string {
  return `${workflowInfo().workflowId}/${key}`;
}

/** Runs a human task as a child and waits for its result (completed or cancelled). */
export function runTask(key: string, input: HumanTaskInput): Promise<HumanTaskResult> {
  return executeChild<(input: HumanTaskInput) => Promise<HumanTaskResult>>('humanTask', {
    workflowId: childWorkflowId(key),
    args: [input],
    staticSummary: input.title,
    typedSearchAttributes: [{ key: searchAttributes.process, value: input.process ?? 'adhoc' }],
  });
}

/** Runs an approval as a child and waits for its result. */
export function runApproval(key: string, input: ApprovalInput): Promise<ApprovalResult> {
  return executeChild<(input: ApprovalInput) => Promise<ApprovalResult>>('approval', {
    workflowId: childWorkflowId(key),
    args: [input],
    staticSummary: input.title,
    typedSearchAttributes: [{ key: searchAttributes.process, value: input.process ?? 'adhoc' }],
  });
}

/**
 * Raises a nonconformity from a parent workflow (an audit, a certification cycle, a concern):
 * allocates its NC id from `key` (so a retry gets the same one) and starts the corrective
 * action as a child that outlives the parent. Returns the NC id and its workflow id.
 */
export async function raiseNonconformity(
  key: string,
  input: Omit<CorrectiveActionInput, 'ncId'>,
): Promise<{ ncId: string; workflowId: string }> {
  const year = new Date(input.raisedAt ?? Date.now()).getUTCFullYear();
  const ncId = await acts.allocateNonconformityId({ year, key: childWorkflowId(key) });
  const workflowId = correctiveActionWorkflowId(ncId);
  try {
    await startChild<(input: CorrectiveActionInput) => Promise<CorrectiveActionResult>>('correctiveAction', {
      workflowId,
      args: [{ ...input, ncId }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      // An NC id names one nonconformity for good: a closed NC is never started again.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      staticSummary: `${ncId}: ${input.title}`,
      typedSearchAttributes: nonconformityAttributes({ ...input, ncId, clauses: input.clauses ?? [] }),
    });
  } catch (err) {
    // Already started for this key (the parent retried): the NC is there, which is what was asked.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return { ncId, workflowId };
}
