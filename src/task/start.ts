/**
 * Starting a standalone human task (the admin API's ad-hoc work): the input is validated with
 * the task schema (every bad field named), people are checked against the organization, and
 * the workflow starts with its summary line, memo and search attributes.
 */
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { Organization } from '../organization/schema.js';
import { searchAttributes } from '../temporal/search-attributes.js';
import { adhocWorkflowId, initialAttributes, parseStartInput, resolveRef, StartInputError, type StartIssue, type StartOptions } from '../temporal/start.js';
import { TASK_WORKFLOW, type HumanTaskWorkflow } from './contract.js';
import { humanTaskInputSchema, type HumanTaskInput, type HumanTaskSpec } from './schema.js';

function checkTaskPeople(org: Organization, spec: HumanTaskSpec): void {
  const issues: StartIssue[] = [];
  resolveRef(org, spec.assignee, 'person' in spec.assignee ? 'assignee.person' : 'assignee', issues);
  if (spec.requestedBy !== 'system' && !org.people.some((p) => p.id === spec.requestedBy)) {
    issues.push({ path: 'requestedBy', message: `unknown person "${spec.requestedBy}"` });
  }
  if (spec.aiSystem !== undefined && !org.aiSystems.some((s) => s.id === spec.aiSystem)) {
    issues.push({ path: 'aiSystem', message: `unknown AI system "${spec.aiSystem}" (not in the inventory)` });
  }
  if (issues.length) throw new StartInputError('task input', issues);
}

/**
 * Validates `input` (throws StartInputError naming each bad field) and starts a `humanTask`
 * workflow. Throws WorkflowExecutionAlreadyStartedError when `workflowId` is taken.
 */
export async function startHumanTask(
  client: Client,
  taskQueue: string,
  input: HumanTaskInput,
  opts: StartOptions = {},
): Promise<WorkflowHandleWithFirstExecutionRunId<HumanTaskWorkflow>> {
  const spec = parseStartInput(humanTaskInputSchema, input, 'task input');
  if (opts.organization) checkTaskPeople(opts.organization, spec);
  const person = 'person' in spec.assignee ? spec.assignee.person : undefined;
  return client.workflow.start<HumanTaskWorkflow>(TASK_WORKFLOW, {
    taskQueue,
    workflowId: opts.workflowId ?? adhocWorkflowId('task'),
    args: [spec],
    staticSummary: spec.title,
    memo: { kind: 'task', title: spec.title, dueAt: spec.dueAt },
    typedSearchAttributes: [
      ...initialAttributes(spec, 'open', person ? { owner: person, assignees: [person] } : {}),
      ...(spec.aiSystem ? [{ key: searchAttributes.aiSystem, value: spec.aiSystem }] : []),
    ],
  });
}
