/**
 * Starting a corrective action from a client (the admin API): the NC's people and AI system
 * are checked against the organization, and the workflow starts as `corrective-action/<ncId>`.
 */
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { Organization } from '../organization/schema.js';
import { consoleDetails, parseStartInput, StartCheck, type StartOptions } from '../temporal/start.js';
import { CORRECTIVE_ACTION_WORKFLOW, correctiveActionWorkflowId, nonconformityAttributes, type CorrectiveActionWorkflow } from './contract.js';
import { correctiveActionInputSchema, type CorrectiveActionInput, type CorrectiveActionSpec } from './schema.js';

/**
 * Checks a nonconformity's people and AI system against the organization (throws
 * StartInputError naming each bad field), so a caller can refuse it before allocating its id.
 */
export function checkNonconformityPeople(
  org: Organization,
  spec: Pick<CorrectiveActionSpec, 'owner' | 'raisedBy' | 'aiSystem'>,
): void {
  new StartCheck('nonconformity', org).person('owner', spec.owner).actor('raisedBy', spec.raisedBy).aiSystem('aiSystem', spec.aiSystem).done();
}

/**
 * Validates `input` (throws StartInputError naming each bad field) and starts the corrective
 * action of one nonconformity as `corrective-action/<ncId>`. The NC id comes from the records
 * store's sequence (see `allocateNcId` in activities/corrective-action.ts). An NC id is never
 * reused: throws WorkflowExecutionAlreadyStartedError when that NC runs or ever ran.
 */
export async function startCorrectiveAction(
  client: Client,
  taskQueue: string,
  input: CorrectiveActionInput,
  opts: Pick<StartOptions, 'organization' | 'publicBaseUrl'> = {},
): Promise<WorkflowHandleWithFirstExecutionRunId<CorrectiveActionWorkflow>> {
  const spec = parseStartInput(correctiveActionInputSchema, input, 'nonconformity');
  if (opts.organization) checkNonconformityPeople(opts.organization, spec);
  return client.workflow.start<CorrectiveActionWorkflow>(CORRECTIVE_ACTION_WORKFLOW, {
    taskQueue,
    workflowId: correctiveActionWorkflowId(spec.ncId),
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    args: [spec],
    staticSummary: `${spec.ncId}: ${spec.title}`,
    ...consoleDetails(opts.publicBaseUrl, correctiveActionWorkflowId(spec.ncId)),
    memo: { kind: 'nonconformity', ncId: spec.ncId, title: spec.title, severity: spec.severity, source: spec.source },
    typedSearchAttributes: nonconformityAttributes(spec),
  });
}
