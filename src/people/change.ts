/**
 * Putting a version of the organization file into force. The version is checked against the
 * running work first: a role it leaves with nobody in it, while running work needs that role,
 * is refused (naming the role and the work), and the version in force stays. Otherwise it is
 * accepted (every process takes it within seconds, see src/organization/holder.ts), the change
 * goes to the ledger, and the running work of people who left, or whose AI system changed
 * hands, is handed over by an `organizationChange` workflow.
 *
 * Run when a worker starts, and on `POST /admin/organization/reload`.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { organizationHash } from '../organization/holder.js';
import { parseOrganization } from '../organization/load.js';
import type { Organization } from '../organization/schema.js';
import type { RecordsStore } from '../records/types.js';
import { searchAttributes } from '../temporal/search-attributes.js';
import { ORGANIZATION_CHANGE_WORKFLOW, organizationChangeWorkflowId, type OrganizationChangeInput, type OrganizationChangeWorkflow } from './contract.js';
import { leaversBetween, movesBetween, vacantRoles, vacantRolesMessage, type VacantRole } from './rules.js';
import { peopleInRunningWork, runningWorkOf } from './work.js';

export interface ApplyDeps {
  client: Client;
  taskQueue: string;
  records: Pick<RecordsStore, 'organizations' | 'append'>;
}

export type ApplyOutcome =
  | { status: 'unchanged'; version: number }
  | { status: 'accepted'; version: number; hash: string; leavers: string[]; changeWorkflowId?: string }
  | { status: 'refused'; message: string; vacant: VacantRole[] };

/** Puts `org` into force unless it leaves a role that running work needs vacant. */
export async function applyOrganization(deps: ApplyDeps, org: Organization, opts: { by: string; reason: string }): Promise<ApplyOutcome> {
  const hash = organizationHash(org);
  const latest = await deps.records.organizations.latest();
  if (latest?.hash === hash) return { status: 'unchanged', version: latest.seq };
  const before = latest ? parseOrganization(latest.document, `organization version ${latest.seq}`) : undefined;

  const needs = { types: ['impactAssessment', 'aiSystem', 'internalAuditProgramme', 'internalAudit'], processes: Object.keys(before?.roles.processOwners ?? {}) };
  const vacant = vacantRoles(before, org, await runningWorkOf(deps.client, deps.taskQueue, needs));
  if (vacant.length) return { status: 'refused', message: vacantRolesMessage(vacant), vacant };

  // People who left since the version in force, and anyone running work still names who is not in the file.
  const inFile = new Set(org.people.map((p) => p.id));
  const named = [...(await peopleInRunningWork(deps.client, deps.taskQueue))].filter((id) => id !== 'system' && !inFile.has(id));
  const leavers = [...new Set([...leaversBetween(before, org), ...named])].sort();

  const accepted = await deps.records.organizations.accept({ hash, document: org, acceptedBy: opts.by, reason: opts.reason });
  await deps.records.append({
    id: `organization/${hash}/${accepted.seq}`,
    kind: 'organization.changed',
    subject: 'organization',
    clauses: ['5.3', '7.5'],
    actor: opts.by,
    occurredAt: accepted.acceptedAt,
    content: { version: accepted.seq, hash, previousHash: latest?.hash ?? null, leavers, reason: opts.reason },
  });
  const moves = movesBetween(before, org, leavers);
  if (!moves.length) return { status: 'accepted', version: accepted.seq, hash, leavers };
  const ref = `v${accepted.seq}-${hash.slice(0, 12)}`;
  const changeWorkflowId = await startOrganizationChange(deps, { ref, by: opts.by, reason: `organization version ${accepted.seq}: ${opts.reason}`, moves });
  return { status: 'accepted', version: accepted.seq, hash, leavers, changeWorkflowId };
}

/** Starts the handover of the moves; a change already started under the same ref is the one asked for. */
export async function startOrganizationChange(deps: Pick<ApplyDeps, 'client' | 'taskQueue'>, input: OrganizationChangeInput): Promise<string> {
  const workflowId = organizationChangeWorkflowId(input.ref);
  try {
    await deps.client.workflow.start<OrganizationChangeWorkflow>(ORGANIZATION_CHANGE_WORKFLOW, {
      taskQueue: deps.taskQueue,
      workflowId,
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      staticSummary: `Organization change: ${input.reason}`.slice(0, 200),
      typedSearchAttributes: [
        { key: searchAttributes.process, value: 'organization-change' },
        { key: searchAttributes.ref, value: input.ref },
      ],
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return workflowId;
}
