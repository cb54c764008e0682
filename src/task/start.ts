/**
 * Starting a standalone human task (the admin API's ad-hoc work): the input is validated with
 * the task schema (every bad field named), people are checked against the organization, and
 * the workflow starts with its summary line, memo and search attributes.
 */
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { searchAttributes } from '../temporal/search-attributes.js';
import { adhocWorkflowId, consoleDetails, initialAttributes, parseStartInput, StartCheck, type StartOptions } from '../temporal/start.js';
import { TASK_WORKFLOW, type HumanTaskWorkflow } from './contract.js';
import { humanTaskInputSchema, type HumanTaskInput } from './schema.js';
import { conflictOf, conflictText } from '../people/duties.js';

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
  const check = new StartCheck('task input', opts.organization);
  check.ref('person' in spec.assignee ? 'assignee.person' : 'assignee', spec.assignee);
  spec.conflicts.forEach((c, i) => check.person(`conflicts.${i}.person`, c.person));
  // Separation of duties: nobody is given a task the input says they must not hold.
  const conflict = 'person' in spec.assignee ? conflictOf(spec.conflicts, spec.assignee.person) : undefined;
  if (conflict) check.add('assignee.person', `may not hold this task: ${conflictText(conflict)}`);
  check.actor('requestedBy', spec.requestedBy).aiSystem('aiSystem', spec.aiSystem).done();
  const person = 'person' in spec.assignee ? spec.assignee.person : undefined;
  const workflowId = opts.workflowId ?? adhocWorkflowId('task');
  return client.workflow.start<HumanTaskWorkflow>(TASK_WORKFLOW, {
    taskQueue,
    workflowId,
    ...consoleDetails(opts.publicBaseUrl, workflowId),
    args: [spec],
    staticSummary: spec.title,
    memo: { kind: 'task', title: spec.title, dueAt: spec.dueAt },
    typedSearchAttributes: [
      ...initialAttributes(spec, 'open', person ? { owner: person, assignees: [person] } : {}),
      ...(spec.aiSystem ? [{ key: searchAttributes.aiSystem, value: spec.aiSystem }] : []),
    ],
  });
}
