/**
 * Starting a standalone approval (the admin API's ad-hoc work): the input is validated with
 * the approval schema, approvers are checked against the organization (separation of duties
 * counted), and the workflow starts in state `pending`.
 */
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { adhocWorkflowId, consoleDetails, initialAttributes, parseStartInput, StartCheck, type StartOptions } from '../temporal/start.js';
import { APPROVAL_WORKFLOW, type ApprovalWorkflow } from './contract.js';
import { approvalInputSchema, requiredApprovals, type ApprovalInput } from './schema.js';

/**
 * Validates `input` (throws StartInputError naming each bad field) and starts an `approval`
 * workflow. Its initial state is `pending`, as the approval itself names it.
 */
export async function startApproval(
  client: Client,
  taskQueue: string,
  input: ApprovalInput,
  opts: StartOptions = {},
): Promise<WorkflowHandleWithFirstExecutionRunId<ApprovalWorkflow>> {
  const spec = parseStartInput(approvalInputSchema, input, 'approval input');
  const check = new StartCheck('approval input', opts.organization).person('preparer', spec.preparer);
  const approvers = new Set(spec.approvers.flatMap((ref, i) => check.ref(`approvers.${i}`, ref)));
  spec.conflicts.forEach((c, i) => check.person(`conflicts.${i}.person`, c.person));
  if (opts.organization && check.issues.length === 0) {
    // Separation of duties: the preparer and those who conflict never approve, so count the others.
    approvers.delete(spec.preparer);
    for (const c of spec.conflicts) approvers.delete(c.person);
    const required = requiredApprovals(spec.rule, approvers.size);
    if (approvers.size === 0 || required > approvers.size) {
      const others = spec.conflicts.length ? ' and those who conflict' : '';
      check.add('approvers', `needs at least ${required || 1} approver(s) other than the preparer${others}; found ${approvers.size}`);
    }
  }
  check.done();
  const workflowId = opts.workflowId ?? adhocWorkflowId('approval');
  return client.workflow.start<ApprovalWorkflow>(APPROVAL_WORKFLOW, {
    taskQueue,
    workflowId,
    ...consoleDetails(opts.publicBaseUrl, workflowId),
    args: [spec],
    staticSummary: spec.title,
    memo: { kind: 'approval', title: spec.title, dueAt: spec.dueAt },
    typedSearchAttributes: initialAttributes(spec, 'pending', { owner: spec.preparer }),
  });
}
