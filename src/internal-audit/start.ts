/**
 * Starting the internal audit programme of a year from the admin API or CLI: the input is
 * validated with the domain schema and, when the organization and the ledger are at hand, by
 * the plan rules (impartiality, windows inside the year; coverage gaps come back as warnings),
 * so a bad plan is a field error rather than a failed workflow. One programme per year:
 * `internal-audit-programme/<year>`; a programme that ended in failure or was terminated can be
 * started again, a running or completed one cannot.
 */
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import {
  internalAuditProgrammeInputSchema,
  type CoverageResult,
  type InternalAuditProgrammeInput,
  type InternalAuditProgrammeSpec,
  type PlanIssue,
  type PlannedAudit,
} from './schema.js';
import type { Organization } from '../organization/schema.js';
import type { RecordsStore } from '../records/types.js';
import { validatePlan } from './rules.js';
import { searchAttributes } from '../temporal/search-attributes.js';
import { consoleDetails, parseStartInput, StartCheck, StartInputError, type StartIssue } from '../temporal/start.js';
import { INTERNAL_AUDIT_PROGRAMME_WORKFLOW, internalAuditProgrammeWorkflowId, type InternalAuditProgrammeWorkflow } from './contract.js';


export interface ProgrammeStartDeps {
  organization?: Organization;
  records?: Pick<RecordsStore, 'list'>;
  /** The API's public base URL: the programme then links to its console page (src/temporal/start.ts `consoleDetails`). */
  publicBaseUrl?: string | undefined;
}

/** Parses a programme input; throws StartInputError naming every bad field. */
export function parseProgrammeInput(input: unknown): InternalAuditProgrammeSpec {
  return parseStartInput(internalAuditProgrammeInputSchema, input, 'internal audit programme');
}

const issuesOf = (problems: PlanIssue[]): StartIssue[] => problems.map((p) => ({ path: p.field, message: `${p.message} [${p.rule}]` }));

/**
 * Checks a plan against the organization and the ledger: errors throw StartInputError (`what`
 * names the input), warnings and the coverage are returned.
 */
export async function checkPlan(
  deps: ProgrammeStartDeps,
  year: number,
  audits: PlannedAudit[],
  what = 'internal audit plan',
  opts: { checkIds?: string[]; rename?: (field: string) => string } = {},
): Promise<{ warnings: PlanIssue[]; coverage?: CoverageResult }> {
  if (!deps.organization || !deps.records) return { warnings: [] };
  const result = await validatePlan(deps.organization, deps.records, { year, audits, ...(opts.checkIds ? { checkIds: opts.checkIds } : {}) });
  const rename = opts.rename ?? ((f: string) => f);
  if (result.errors.length) throw new StartInputError(what, issuesOf(result.errors.map((e) => ({ ...e, field: rename(e.field) }))));
  return { warnings: result.warnings, coverage: result.coverage };
}

/** Validates and starts `internal-audit-programme/<year>`. */
export async function startInternalAuditProgramme(
  client: Client,
  taskQueue: string,
  input: InternalAuditProgrammeInput,
  deps: ProgrammeStartDeps = {},
): Promise<{ handle: WorkflowHandleWithFirstExecutionRunId<InternalAuditProgrammeWorkflow>; warnings: PlanIssue[]; spec: InternalAuditProgrammeSpec }> {
  const spec = parseProgrammeInput(input);
  new StartCheck('internal audit programme', deps.organization).actor('requestedBy', spec.requestedBy).done();
  const { warnings } = spec.audits ? await checkPlan(deps, spec.year, spec.audits, 'internal audit programme') : { warnings: [] };
  const handle = await client.workflow.start<InternalAuditProgrammeWorkflow>(INTERNAL_AUDIT_PROGRAMME_WORKFLOW, {
    taskQueue,
    workflowId: internalAuditProgrammeWorkflowId(spec.year),
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    args: [spec],
    staticSummary: `Internal audit programme ${spec.year}`,
    ...consoleDetails(deps.publicBaseUrl, internalAuditProgrammeWorkflowId(spec.year)),
    memo: { kind: 'internal-audit-programme', year: spec.year },
    typedSearchAttributes: [
      { key: searchAttributes.process, value: 'internal-audit-programme' },
      { key: searchAttributes.ref, value: `IAP-${spec.year}` },
      { key: searchAttributes.state, value: spec.audits ? 'validating' : 'planning' },
      { key: searchAttributes.clauses, value: ['9.2'] },
      { key: searchAttributes.source, value: spec.trigger },
      ...(deps.organization ? [{ key: searchAttributes.owner, value: deps.organization.roles.aimsManager }] : []),
    ],
  });
  return { handle, warnings, spec };
}
