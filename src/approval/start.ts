/**
 * Starting a standalone approval (the admin API's ad-hoc work): the input is validated with
 * the approval schema, approvers are checked against the organization (separation of duties
 * counted), and the workflow starts in state `pending`.
 */
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { Organization } from '../organization/schema.js';
import { adhocWorkflowId, initialAttributes, parseStartInput, resolveRef, StartInputError, type StartIssue, type StartOptions } from '../temporal/start.js';
import { APPROVAL_WORKFLOW, type ApprovalWorkflow } from './contract.js';
import { approvalInputSchema, requiredApprovals, type ApprovalInput, type ApprovalSpec } from './schema.js';

function checkApprovalPeople(org: Organization, spec: ApprovalSpec): void {
  const issues: StartIssue[] = [];
  if (!org.people.some((p) => p.id === spec.preparer)) {
    issues.push({ path: 'preparer', message: `unknown person "${spec.preparer}"` });
  }
  const ids = new Set<string>();
  spec.approvers.forEach((ref, i) => {
    for (const id of resolveRef(org, ref, `approvers.${i}`, issues)) ids.add(id);
  });
  if (issues.length === 0) {
    ids.delete(spec.preparer);
    const required = requiredApprovals(spec.rule, ids.size);
    if (ids.size === 0 || required > ids.size) {
      issues.push({
        path: 'approvers',
        message: `needs at least ${required || 1} approver(s) other than the preparer; found ${ids.size}`,
      });
    }
  }
  if (issues.length) throw new StartInputError('approval input', issues);
}

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
  if (opts.organization) checkApprovalPeople(opts.organization, spec);
  return client.workflow.start<ApprovalWorkflow>(APPROVAL_WORKFLOW, {
    taskQueue,
    workflowId: opts.workflowId ?? adhocWorkflowId('approval'),
    args: [spec],
    staticSummary: spec.title,
    memo: { kind: 'approval', title: spec.title, dueAt: spec.dueAt },
    typedSearchAttributes: initialAttributes(spec, 'pending', { owner: spec.preparer }),
  });
}
