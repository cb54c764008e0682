/**
 * Reads what the calendar is made of: one bounded visibility list of the running process
 * workflows, the person's open tasks and approvals (a second list), the status of the few running
 * internal audit programmes and certification cycles (their full plans; a cycle or programme whose
 * worker does not answer in time falls back to what visibility shows of it, and the page says
 * so), and the risk register's review dates from the ledger. The lists have a deadline; when
 * Temporal does not answer in time, `VisibilityTimeout` is thrown and the page answers 503.
 */
import { isGrpcServiceError, ServiceError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import { certificationStatusQuery } from '../certification/contract.js';
import type { CertificationStatus } from '../certification/schema.js';
import { programmeStatusQuery } from '../internal-audit/contract.js';
import type { ProgrammeStatus } from '../internal-audit/schema.js';
import type { RecordsStore } from '../records/types.js';
import { readRegister } from '../risk/register.js';
import { listWork } from '../task/work.js';
import { searchAttributes } from '../temporal/search-attributes.js';
import { isoOf, visibilityLiteral as literal } from '../temporal/visibility.js';
import type { CalendarKind, CalendarSources, CycleDates, ListedWorkflow, ProgrammeDates } from './items.js';

/** More running process workflows than an organization has; the page says when the list is cut. */
export const MAX_LISTED = 2000;
/** The person's own open work shown. */
export const MAX_OWN = 200;
/** Programmes and cycles whose full status is read (there are one or two of each at a time). */
const MAX_QUERIED = 5;

/** Temporal did not answer a visibility list in time (or at all). */
export class VisibilityTimeout extends Error {
  constructor(what: string, cause: unknown) {
    super(`Temporal did not list ${what} in time`, { cause });
    this.name = 'VisibilityTimeout';
  }
}

/** Workflow types by the calendar kinds they give. */
const typesOf: Record<string, readonly CalendarKind[]> = {
  internalAuditProgramme: ['internal-audit'],
  internalAudit: ['internal-audit'],
  managementReview: ['management-review'],
  certificationCycle: ['external-audit', 'certificate'],
  aiSystem: ['impact-assessment'],
  impactAssessment: ['impact-assessment'],
  objectiveMeasurement: ['objective'],
};

export interface CalendarReadDeps {
  client: Client;
  taskQueue: string;
  records: Pick<RecordsStore, 'list'>;
  /** Deadline of each visibility list. */
  listTimeoutMs: number;
  /** Deadline of each status query. */
  queryTimeoutMs: number;
}

export interface CalendarRead {
  sources: CalendarSources;
  /** What could not be read, in words for the page. */
  gaps: string[];
  /** The list of process workflows reached MAX_LISTED. */
  cut: boolean;
}

function listed(info: WorkflowExecutionInfo): ListedWorkflow {
  const sa = info.typedSearchAttributes;
  return {
    workflowId: info.workflowId,
    type: info.type,
    ref: sa.get(searchAttributes.ref),
    state: sa.get(searchAttributes.state),
    owner: sa.get(searchAttributes.owner),
    dueAt: isoOf(sa.get(searchAttributes.dueDate)),
    memo: info.memo ?? {},
  };
}

/** The visibility query of the running workflows giving `kinds`. */
export function processQuery(taskQueue: string, kinds: ReadonlySet<CalendarKind>): string | undefined {
  const types = Object.entries(typesOf)
    .filter(([, given]) => given.some((k) => kinds.has(k)))
    .map(([type]) => `WorkflowType = ${literal(type)}`);
  if (types.length === 0) return undefined;
  return `ExecutionStatus = 'Running' AND TaskQueue = ${literal(taskQueue)} AND (${types.join(' OR ')})`;
}

/** Runs a visibility read with a deadline; Temporal not answering (in time) becomes VisibilityTimeout. */
export async function listWithin<R>(client: Client, ms: number, what: string, call: () => Promise<R>): Promise<R> {
  try {
    return await client.connection.withDeadline(Date.now() + ms, call);
  } catch (err) {
    if (err instanceof ServiceError || isGrpcServiceError(err) || (err instanceof Error && /deadline|unavailable|connect/i.test(err.message))) throw new VisibilityTimeout(what, err);
    throw err;
  }
}

async function queried<S>(deps: CalendarReadDeps, workflowId: string, query: QueryDefinition<S>): Promise<S | string> {
  try {
    return await deps.client.connection.withDeadline(Date.now() + deps.queryTimeoutMs, () => deps.client.workflow.getHandle(workflowId).query(query));
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Reads the calendar's sources for `person` (their own work) and the kinds they may see. */
export async function readCalendar(deps: CalendarReadDeps, person: string | undefined, kinds: ReadonlySet<CalendarKind>): Promise<CalendarRead> {
  const query = processQuery(deps.taskQueue, kinds);
  const [workflows, own] = await Promise.all([
    query
      ? listWithin(deps.client, deps.listTimeoutMs, 'the running processes', async () => {
          const out: ListedWorkflow[] = [];
          for await (const info of deps.client.workflow.list({ query, pageSize: 1000 })) {
            out.push(listed(info));
            if (out.length >= MAX_LISTED) break;
          }
          return out;
        })
      : Promise.resolve([]),
    person ? listWithin(deps.client, deps.listTimeoutMs, 'your open work', () => listWork(deps.client, deps.taskQueue, { assignee: person }, MAX_OWN)) : Promise.resolve([]),
  ]);

  const gaps: string[] = [];
  const programmes: ProgrammeDates[] = [];
  const cycles: CycleDates[] = [];
  await Promise.all([
    ...workflows
      .filter((w) => w.type === 'internalAuditProgramme')
      .slice(0, MAX_QUERIED)
      .map(async (w) => {
        const status = await queried<ProgrammeStatus>(deps, w.workflowId, programmeStatusQuery);
        if (typeof status === 'string') {
          gaps.push(`The plan of ${w.workflowId} could not be read in time (${status}); its audits show on the day their window ends.`);
          return;
        }
        programmes.push({ year: status.year, workflowId: status.workflowId, audits: status.audits });
      }),
    ...workflows
      .filter((w) => w.type === 'certificationCycle')
      .slice(0, MAX_QUERIED)
      .map(async (w) => {
        const status = await queried<CertificationStatus>(deps, w.workflowId, certificationStatusQuery);
        if (typeof status === 'string') {
          gaps.push(`The plan of ${w.workflowId} could not be read in time (${status}); only its next audit and the certificate's expiry show.`);
          return;
        }
        cycles.push({ certificateId: status.certificateId, workflowId: status.workflowId, plan: status.plan, certificate: status.certificate, audits: status.audits });
      }),
  ]);

  let risks: CalendarSources['risks'] = [];
  if (kinds.has('risk-review')) {
    try {
      risks = (await readRegister(deps.records)).map((r) => ({ riskId: r.riskId, title: r.title, owner: r.owner, state: r.state, reviewDueAt: r.reviewDueAt }));
    } catch (err) {
      gaps.push(`The risk register could not be read (${err instanceof Error ? err.message : String(err)}); risk reviews are not shown.`);
    }
  }
  return {
    sources: { workflows, programmes, cycles, risks, own: own.map((w) => ({ id: w.id, kind: w.kind, title: w.title, dueAt: w.dueAt, overdue: w.overdue, process: w.process, state: w.state })) },
    gaps: gaps.sort(),
    cut: workflows.length >= MAX_LISTED,
  };
}
