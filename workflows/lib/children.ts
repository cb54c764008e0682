/**
 * Child workflows of the PDCA processes, with ids derived from the parent's id so each step is
 * findable (e.g. `corrective-action/NC-2027-004/root-cause-1`) and shows in the Temporal UI:
 * steps the parent waits for (a human task, an approval), and work that outlives its parent
 * (a nonconformity raised by an audit, an action decided by a review).
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type SearchAttributePair } from '@temporalio/common';
import { executeChild, ParentClosePolicy, startChild, workflowInfo } from '@temporalio/workflow';
import { APPROVAL_WORKFLOW, type ApprovalWorkflow } from '../../src/approval/contract.js';
import type { ApprovalInput, ApprovalResult } from '../../src/approval/schema.js';
import {
  CORRECTIVE_ACTION_WORKFLOW,
  correctiveActionWorkflowId,
  nonconformityAttributes,
  type CorrectiveActionWorkflow,
} from '../../src/corrective-action/contract.js';
import type { CorrectiveActionInput, CorrectiveActionResult } from '../../src/corrective-action/schema.js';
import { TASK_WORKFLOW, type HumanTaskWorkflow } from '../../src/task/contract.js';
import type { HumanTaskInput, HumanTaskResult } from '../../src/task/schema.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { acts } from './activities.js';
import { StepCancelled } from './util.js';

/** The id of this workflow's child for `key`. */
export function childWorkflowId(key: string): string {
  return `${workflowInfo().workflowId}/${key}`;
}

/** Runs a human task as a child and waits for its result (completed or cancelled). */
export function runTask(key: string, input: HumanTaskInput): Promise<HumanTaskResult> {
  return executeChild<HumanTaskWorkflow>(TASK_WORKFLOW, {
    workflowId: childWorkflowId(key),
    args: [input],
    staticSummary: input.title,
    typedSearchAttributes: [{ key: searchAttributes.process, value: input.process ?? 'adhoc' }],
  });
}

/** A completed step: who completed it, the form data, and the task's workflow id. */
export interface CompletedStep {
  by: string;
  data: Record<string, unknown>;
  workflowId: string;
}

/**
 * Runs a human task as a step of a process: resolves with who completed it and the data, and
 * throws `StepCancelled` when the task was cancelled on its own (not by this workflow).
 */
export async function runStep(key: string, input: HumanTaskInput, what = input.title): Promise<CompletedStep> {
  const result = await runTask(key, input);
  if (result.status !== 'completed') {
    const c = result.cancellation;
    throw new StepCancelled(c?.by ?? 'system', `the step "${what}" was cancelled${c ? `: ${c.reason}` : ''}`);
  }
  return { by: result.completedBy ?? 'system', data: result.data ?? {}, workflowId: childWorkflowId(key) };
}

/** Runs an approval as a child and waits for its result. */
export function runApproval(key: string, input: ApprovalInput): Promise<ApprovalResult> {
  return executeChild<ApprovalWorkflow>(APPROVAL_WORKFLOW, {
    workflowId: childWorkflowId(key),
    args: [input],
    staticSummary: input.title,
    typedSearchAttributes: [{ key: searchAttributes.process, value: input.process ?? 'adhoc' }],
  });
}

export interface DetachedChild {
  workflowId: string;
  args: unknown[];
  staticSummary: string;
  typedSearchAttributes: SearchAttributePair[];
  /** Default: a finished workflow with this id may run again (Temporal's default). */
  workflowIdReusePolicy?: WorkflowIdReusePolicy;
  /**
   * Told when the child finishes while this workflow still runs: its result, or `undefined` when
   * it failed, timed out or was terminated. Not told for a child an earlier attempt started.
   */
  onClosed?: (result: unknown) => void;
}

/**
 * Starts a child that outlives this workflow (parent close policy abandon). A child already
 * started with that id (this workflow retried, or an earlier run started it) is what was
 * asked for: resolves `false` then, `true` when this call started it.
 */
export async function startDetached(workflowType: string, child: DetachedChild): Promise<boolean> {
  try {
    const handle = await startChild(workflowType, {
      workflowId: child.workflowId,
      args: child.args,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      ...(child.workflowIdReusePolicy !== undefined ? { workflowIdReusePolicy: child.workflowIdReusePolicy } : {}),
      staticSummary: child.staticSummary,
      typedSearchAttributes: child.typedSearchAttributes,
    });
    // Waiting for the child's result issues no command: its completion is an event in this history.
    const { onClosed } = child;
    if (onClosed) void handle.result().then(onClosed, () => onClosed(undefined));
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}

/** Starts a human task that outlives this workflow (an action decided by a review, a treatment). */
export function startDetachedTask(
  key: string,
  input: HumanTaskInput,
  options: { typedSearchAttributes: SearchAttributePair[]; summary?: string; reuse?: WorkflowIdReusePolicy },
): Promise<boolean> {
  return startDetached(TASK_WORKFLOW, {
    workflowId: childWorkflowId(key),
    args: [input],
    staticSummary: options.summary ?? input.title,
    typedSearchAttributes: options.typedSearchAttributes,
    ...(options.reuse !== undefined ? { workflowIdReusePolicy: options.reuse } : {}),
  });
}

/**
 * Raises a nonconformity from a parent workflow (an audit, a certification cycle, a concern):
 * allocates its NC id from `key` (so a retry gets the same one) and starts the corrective
 * action as a child that outlives the parent. Returns the NC id and its workflow id;
 * `onClosed` is told the corrective action's result if it ends while the parent runs.
 */
export async function raiseNonconformity(
  key: string,
  input: Omit<CorrectiveActionInput, 'ncId'>,
  onClosed?: (result: CorrectiveActionResult | undefined) => void,
): Promise<{ ncId: string; workflowId: string }> {
  const year = new Date(input.raisedAt ?? Date.now()).getUTCFullYear();
  const ncId = await acts.allocateNonconformityId({ year, key: childWorkflowId(key) });
  const workflowId = correctiveActionWorkflowId(ncId);
  const args: Parameters<CorrectiveActionWorkflow> = [{ ...input, ncId }];
  await startDetached(CORRECTIVE_ACTION_WORKFLOW, {
    workflowId,
    args,
    // An NC id names one nonconformity for good: a closed NC is never started again.
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    staticSummary: `${ncId}: ${input.title}`,
    typedSearchAttributes: nonconformityAttributes({ ...input, ncId, clauses: input.clauses ?? [] }),
    ...(onClosed ? { onClosed: (result: unknown) => onClosed(result as CorrectiveActionResult | undefined) } : {}),
  });
  return { ncId, workflowId };
}
