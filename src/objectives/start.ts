/**
 * Ensuring the measurement workflow of an objective runs (`objective/<id>`): the definition is
 * checked with the same rules as the organization file's (known owner and measurer), and the
 * workflow starts with the USE_EXISTING conflict policy, so ensuring a running objective changes
 * nothing. `syncObjectives` ensures every objective of the organization file.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Organization } from '../organization/schema.js';
import { searchAttributes } from '../temporal/search-attributes.js';
import { consoleDetails, describeIfRunning, parseStartInput, StartCheck } from '../temporal/start.js';
import { changeObjectiveUpdate, OBJECTIVE_WORKFLOW, objectiveStatusQuery, objectiveWorkflowId, type ObjectiveWorkflow } from './contract.js';
import { OBJECTIVE_CLAUSES, objectiveInputSchema, objectivePeople, type ObjectiveInput } from './schema.js';

export interface EnsureObjectiveResult {
  objectiveId: string;
  workflowId: string;
  runId: string;
  created: boolean;
}

/** Starts `objective/<id>` unless it runs already; throws StartInputError naming each bad field. */
export async function ensureObjective(
  client: Client,
  taskQueue: string,
  input: ObjectiveInput,
  opts: { organization?: Organization; publicBaseUrl?: string | undefined } = {},
): Promise<EnsureObjectiveResult> {
  const spec = parseStartInput(objectiveInputSchema, input, 'objective');
  const check = new StartCheck('objective', opts.organization);
  for (const { field, person } of objectivePeople(spec.definition)) check.person(`definition.${field}`, person, ' (not in people)');
  if (spec.definition.id !== spec.objectiveId) check.add('definition.id', `must be the objective id "${spec.objectiveId}"`);
  check.done();
  const workflowId = objectiveWorkflowId(spec.objectiveId);
  const running = await describeIfRunning(client, workflowId);
  if (running) return { objectiveId: spec.objectiveId, workflowId, runId: running.runId, created: false };
  const handle = await client.workflow.start<ObjectiveWorkflow>(OBJECTIVE_WORKFLOW, {
    taskQueue,
    workflowId,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    args: [spec],
    staticSummary: `Objective ${spec.objectiveId}: ${spec.definition.statement}`.slice(0, 200),
    ...consoleDetails(opts.publicBaseUrl, workflowId),
    memo: { kind: 'objective', objectiveId: spec.objectiveId, title: spec.definition.statement.slice(0, 200) },
    typedSearchAttributes: [
      { key: searchAttributes.process, value: 'objective' },
      { key: searchAttributes.ref, value: spec.objectiveId },
      { key: searchAttributes.state, value: 'not-measured' },
      { key: searchAttributes.owner, value: spec.definition.owner },
      { key: searchAttributes.clauses, value: [...OBJECTIVE_CLAUSES] },
    ],
  });
  return { objectiveId: spec.objectiveId, workflowId, runId: handle.firstExecutionRunId, created: true };
}

/** Query attempts of a sync: a workflow just started, or a busy worker, may not answer the first one. */
const QUERY_ATTEMPTS = 3;

/** `query()`, asked again after 1 s and 2 s when it fails (a workflow that does not exist fails every time). */
async function queryWithRetry<T>(query: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await query();
    } catch (err) {
      if (attempt >= QUERY_ATTEMPTS || err instanceof WorkflowNotFoundError) throw err;
      await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
    }
  }
}

/** JSON with object keys sorted, to compare definitions whatever order their fields came in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
}

/**
 * Ensures the workflow of every objective in the organization file; a running objective whose
 * definition differs from the file's follows the file (a recorded change, reason "changed in the
 * organization file").
 */
export async function syncObjectives(
  client: Client,
  taskQueue: string,
  org: Organization,
  opts: { publicBaseUrl?: string | undefined } = {},
): Promise<{ started: string[]; running: string[]; updated: string[]; failed: Array<{ objectiveId: string; reason: string }> }> {
  const result = { started: [] as string[], running: [] as string[], updated: [] as string[], failed: [] as Array<{ objectiveId: string; reason: string }> };
  for (const definition of org.objectives) {
    try {
      const ensured = await ensureObjective(client, taskQueue, { objectiveId: definition.id, definition, source: 'organization-file' }, { organization: org, publicBaseUrl: opts.publicBaseUrl });
      (ensured.created ? result.started : result.running).push(definition.id);
      if (ensured.created) continue;
      const handle = client.workflow.getHandle(ensured.workflowId);
      const current = (await queryWithRetry(() => handle.query(objectiveStatusQuery))).definition;
      const { id: _id, ...fields } = definition;
      const changes = Object.fromEntries(Object.entries(fields).filter(([k, v]) => canonical(current[k as keyof typeof current]) !== canonical(v)));
      if (Object.keys(changes).length === 0) continue;
      await handle.executeUpdate(changeObjectiveUpdate, { args: [{ by: 'system', reason: 'changed in the organization file', changes }] });
      result.updated.push(definition.id);
    } catch (err) {
      result.failed.push({ objectiveId: definition.id, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  return result;
}
