/**
 * Child workflows of the PDCA processes, with ids derived from the parent's id so each step is
 * findable (e.g. `corrective-action/NC-2027-004/root-cause-1`) and shows in the Temporal UI:
 * steps the parent waits for (a human task, an approval), and work that outlives its parent
 * (a nonconformity raised by an audit, an action decided by a review).
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type SearchAttributePair } from '@temporalio/common';
import {
  CancellationScope,
  ChildWorkflowFailure,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  patched,
  startChild,
  TerminatedFailure,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
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
import { StepCancelled, StepFailed } from './util.js';

/** The id of this workflow's child for `key`. */
export function childWorkflowId(key: string): string {
  return `${workflowInfo().workflowId}/${key}`;
}

/**
 * A child that failed is asked again as a fresh child instead of failing its parent (issue #21).
 * Histories in which a failed child failed its parent replay the old way.
 */
export const FAILED_CHILD_PATCH = 'failed-child-reasked';

/** How many times a step whose child keeps failing is asked in all before its process gives up on it. */
export const STEP_ATTEMPTS = 3;

/**
 * Whether `err` is a child that failed on its own: it failed, timed out, was terminated, or was
 * cancelled by someone other than this workflow (the scope it runs in is not being cancelled).
 */
export function childFailed(err: unknown): err is ChildWorkflowFailure {
  if (!(err instanceof ChildWorkflowFailure)) return false;
  return !isCancellation(err) || !CancellationScope.current().consideredCancelled;
}

/** What happened to a failed child, in words for the timeline and the ledger. */
export function failureText(err: ChildWorkflowFailure): string {
  const cause = err.cause;
  if (cause instanceof TerminatedFailure) return 'it was terminated';
  if (cause instanceof TimeoutFailure) return 'it timed out';
  if (isCancellation(err)) return 'it was cancelled outside its process';
  return `it failed: ${cause?.message ?? err.message}`;
}

/** The key of a step's child asked the n-th time: the step's own key first, then `<key>-r<n>`. */
export const askedKey = (key: string, ask: number): string => (ask === 1 ? key : `${key}-r${ask}`);

/** A step's child failed: which one, why, how often so far, and the fresh child asked next (none when the process gives up). */
export interface StepFailure {
  key: string;
  workflowId: string;
  reason: string;
  failures: number;
  next?: { key: string; workflowId: string };
}

/** How a step re-asks a failed child: the process records each failure (timeline and ledger) before the next ask. */
export interface Reask {
  onFailed: (failure: StepFailure) => void | Promise<void>;
  /** Asks in all (default `STEP_ATTEMPTS`). */
  attempts?: number;
}

/**
 * Runs a step's child under `key`; one that fails is asked again as a fresh child
 * (`<key>-r2`, ...) up to `attempts` times in all, each failure told to `onFailed`; then the step
 * ends with `StepFailed`, which the process's lifecycle ends like a step cancelled on its own.
 * Without `reask`, or in a history from before, a failed child fails the step as it always did.
 */
export async function reasking<T>(key: string, what: string, run: (key: string) => Promise<T>, reask?: Reask): Promise<T> {
  const attempts = reask?.attempts ?? STEP_ATTEMPTS;
  for (let ask = 1; ; ask += 1) {
    const current = askedKey(key, ask);
    try {
      return await run(current);
    } catch (err) {
      if (!reask || !childFailed(err) || !patched(FAILED_CHILD_PATCH)) throw err;
      const reason = failureText(err);
      const nextKey = ask < attempts ? askedKey(key, ask + 1) : undefined;
      await reask.onFailed({
        key: current,
        workflowId: childWorkflowId(current),
        reason,
        failures: ask,
        ...(nextKey ? { next: { key: nextKey, workflowId: childWorkflowId(nextKey) } } : {}),
      });
      if (!nextKey) throw new StepFailed(`the step "${what}" failed ${ask} time(s); the last time ${reason}`);
    }
  }
}

/** Runs a human task as a child and waits for its result (completed or cancelled); a failed one is asked again with `reask`. */
export function runTask(key: string, input: HumanTaskInput, reask?: Reask): Promise<HumanTaskResult> {
  return reasking(
    key,
    input.title,
    (asked) =>
      executeChild<HumanTaskWorkflow>(TASK_WORKFLOW, {
        workflowId: childWorkflowId(asked),
        args: [input],
        staticSummary: input.title,
        typedSearchAttributes: [{ key: searchAttributes.process, value: input.process ?? 'adhoc' }],
      }),
    reask,
  );
}

/** A completed step: who completed it, the form data, and the task's workflow id. */
export interface CompletedStep {
  by: string;
  data: Record<string, unknown>;
  workflowId: string;
}

/**
 * Runs a human task as a step of a process: resolves with who completed it and the data, and
 * throws `StepCancelled` when the task was cancelled on its own (not by this workflow). A task
 * that fails is asked again with `reask` (see `reasking`).
 */
export async function runStep(key: string, input: HumanTaskInput, what = input.title, reask?: Reask): Promise<CompletedStep> {
  const result = await runTask(key, input, reask);
  if (result.status !== 'completed') {
    const c = result.cancellation;
    throw new StepCancelled(c?.by ?? 'system', `the step "${what}" was cancelled${c ? `: ${c.reason}` : ''}`);
  }
  return { by: result.completedBy ?? 'system', data: result.data ?? {}, workflowId: result.taskId };
}

/** Runs an approval as a child and waits for its result; a failed one is asked again with `reask` (its id is the result's `approvalId`). */
export function runApproval(key: string, input: ApprovalInput, reask?: Reask): Promise<ApprovalResult> {
  return reasking(
    key,
    input.title,
    (asked) =>
      executeChild<ApprovalWorkflow>(APPROVAL_WORKFLOW, {
        workflowId: childWorkflowId(asked),
        args: [input],
        staticSummary: input.title,
        typedSearchAttributes: [{ key: searchAttributes.process, value: input.process ?? 'adhoc' }],
      }),
    reask,
  );
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
