/**
 * Starting the triage of a reported concern (the public concern form), as
 * `concern/<yyyy>/<short-random>`.
 */
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { searchAttributes } from '../temporal/search-attributes.js';
import { consoleDetails, parseStartInput, shortRandomId, StartCheck, type StartOptions } from '../temporal/start.js';
import { CONCERN_WORKFLOW, CONCERN_WORKFLOW_PREFIX, type ConcernWorkflow } from './contract.js';
import { concernInputSchema, type ConcernInput } from './schema.js';

/**
 * Validates a reported concern (throws StartInputError naming each bad field; an AI system not
 * in the inventory is one) and starts its triage as `concern/<yyyy>/<short-random>`.
 */
export async function startConcern(
  client: Client,
  taskQueue: string,
  input: ConcernInput,
  opts: Pick<StartOptions, 'organization' | 'publicBaseUrl'> = {},
): Promise<WorkflowHandleWithFirstExecutionRunId<ConcernWorkflow>> {
  const spec = parseStartInput(concernInputSchema, input, 'concern');
  new StartCheck('concern', opts.organization).aiSystem('aiSystem', spec.aiSystem).done();
  const reportedAt = new Date(spec.reportedAt);
  const workflowId = `${CONCERN_WORKFLOW_PREFIX}${reportedAt.getUTCFullYear()}/${shortRandomId()}`;
  return client.workflow.start<ConcernWorkflow>(CONCERN_WORKFLOW, {
    taskQueue,
    workflowId,
    args: [spec],
    staticSummary: 'Reported concern (A.3.3)',
    ...consoleDetails(opts.publicBaseUrl, workflowId),
    memo: { kind: 'concern' },
    typedSearchAttributes: [
      { key: searchAttributes.process, value: 'concern' },
      { key: searchAttributes.state, value: 'triage' },
      { key: searchAttributes.clauses, value: ['A.3.3'] },
      ...(spec.aiSystem ? [{ key: searchAttributes.aiSystem, value: spec.aiSystem }] : []),
    ],
  });
}
