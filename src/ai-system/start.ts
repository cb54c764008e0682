/**
 * Ensuring the long-lived workflow of an AI system runs (`ai-system/<systemId>`): the
 * registration is validated with the same rules as the inventory of the organization file
 * (id pattern, a known owner, an impact tier), and the workflow is started with the
 * USE_EXISTING conflict policy, so ensuring a system that already runs changes nothing.
 * `syncAiSystems` ensures every system of the organization file's inventory.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { aiSystemInputSchema, type AiSystemInput, type AiSystemSource } from './schema.js';
import { IMPACT_ASSESSMENT_CLAUSES, aiSystemRegistrationSchema, type AiSystemRegistration } from './impact-assessment.js';
import type { Organization } from '../organization/schema.js';
import { AI_SYSTEM_WORKFLOW, type AiSystemWorkflow, aiSystemStatusQuery, aiSystemWorkflowId, retireUpdate, updateRegistrationUpdate } from './contract.js';
import { searchAttributes } from '../temporal/search-attributes.js';
import { consoleDetails, describeIfRunning, parseStartInput, StartCheck } from '../temporal/start.js';


/** Validates a registration against the organization (throws StartInputError naming each bad field). */
export function checkRegistration(org: Organization | undefined, input: unknown): AiSystemRegistration {
  const system = parseStartInput(aiSystemRegistrationSchema, input, 'AI system');
  new StartCheck('AI system', org).person('owner', system.owner, ' (not in people)').done();
  return system;
}

export interface EnsureResult {
  systemId: string;
  workflowId: string;
  runId: string;
  /** false: the workflow was already running. */
  created: boolean;
}

/**
 * Starts `ai-system/<systemId>` unless it runs already (USE_EXISTING); a retired (closed) one
 * is started again. Throws StartInputError naming each bad field.
 */
export async function ensureAiSystem(
  client: Client,
  taskQueue: string,
  input: AiSystemInput,
  opts: { organization?: Organization; publicBaseUrl?: string | undefined } = {},
): Promise<EnsureResult> {
  const spec = parseStartInput(aiSystemInputSchema, input, 'AI system');
  if (spec.system) checkRegistration(opts.organization, spec.system);
  const workflowId = aiSystemWorkflowId(spec.systemId);
  const running = await describeIfRunning(client, workflowId);
  if (running) return { systemId: spec.systemId, workflowId, runId: running.runId, created: false };
  const name = spec.system?.name ?? opts.organization?.aiSystems.find((s) => s.id === spec.systemId)?.name ?? spec.systemId;
  const owner = spec.system?.owner ?? opts.organization?.aiSystems.find((s) => s.id === spec.systemId)?.owner;
  const handle = await client.workflow.start<AiSystemWorkflow>(AI_SYSTEM_WORKFLOW, {
    taskQueue,
    workflowId,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    args: [spec],
    staticSummary: `AI system ${spec.systemId}: ${name}`.slice(0, 200),
    ...consoleDetails(opts.publicBaseUrl, workflowId),
    memo: { kind: 'ai-system', systemId: spec.systemId, title: name, source: spec.source },
    typedSearchAttributes: [
      { key: searchAttributes.process, value: 'ai-system' },
      { key: searchAttributes.aiSystem, value: spec.systemId },
      { key: searchAttributes.ref, value: spec.systemId },
      { key: searchAttributes.state, value: 'due' },
      { key: searchAttributes.clauses, value: IMPACT_ASSESSMENT_CLAUSES },
      ...(owner ? [{ key: searchAttributes.owner, value: owner }] : []),
    ],
  });
  return { systemId: spec.systemId, workflowId, runId: handle.firstExecutionRunId, created: true };
}

export interface SyncResult {
  /** Systems whose workflow was started now. */
  started: string[];
  /** Systems whose workflow already ran. */
  running: string[];
  /** Running systems whose registration followed a change in the file. */
  updated: string[];
  /** Systems marked retired in the file whose workflow was asked to retire. */
  retired: string[];
  /** Systems that could not be ensured, with the reason. */
  failed: Array<{ systemId: string; reason: string }>;
}

/**
 * Ensures the workflow of every system in the organization file's inventory; a system whose
 * lifecycle is `retired` in the file is retired if its workflow runs, and not started otherwise.
 */
export async function syncAiSystems(
  client: Client,
  taskQueue: string,
  org: Organization,
  opts: { policy?: AiSystemInput['policy']; publicBaseUrl?: string | undefined } = {},
): Promise<SyncResult> {
  const result: SyncResult = { started: [], running: [], updated: [], retired: [], failed: [] };
  for (const system of org.aiSystems) {
    try {
      if (system.lifecycle === 'retired') {
        const handle = client.workflow.getHandle(aiSystemWorkflowId(system.id));
        const description = await handle.describe().catch((err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return undefined;
          throw err;
        });
        if (description?.status.name === 'RUNNING') {
          await handle.executeUpdate(retireUpdate, { args: [{ by: 'system', reason: 'retired in the organization file' }] });
          result.retired.push(system.id);
        }
        continue;
      }
      const ensured = await ensureAiSystem(
        client,
        taskQueue,
        { systemId: system.id, system, source: 'organization-file' satisfies AiSystemSource, ...(opts.policy ? { policy: opts.policy } : {}) },
        { organization: org, publicBaseUrl: opts.publicBaseUrl },
      );
      (ensured.created ? result.started : result.running).push(system.id);
      if (!ensured.created) {
        // The file is the source of truth for its systems: a running one follows its edits.
        const handle = client.workflow.getHandle(ensured.workflowId);
        const current = (await handle.query(aiSystemStatusQuery)).system;
        // Still setting up (its registration not read yet): nothing to compare.
        if (!current.owner) continue;
        const changes = Object.fromEntries(
          (['name', 'owner', 'purpose', 'impactTier', 'lifecycle'] as const).filter((k) => current[k] !== system[k]).map((k) => [k, system[k]]),
        );
        if (Object.keys(changes).length) {
          await handle.executeUpdate(updateRegistrationUpdate, { args: [{ by: 'system', changes, reason: 'changed in the organization file' }] });
          result.updated.push(system.id);
        }
      }
    } catch (err) {
      result.failed.push({ systemId: system.id, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  return result;
}
