/**
 * What needs the attention of the AIMS manager and top management, for the console's home:
 * overdue work by process, work due in the rest of this month, approvals waiting (whose, since
 * when) and the readiness of the next external audit.
 *
 * Two bounded visibility lists, each with a deadline: the running workflows that are overdue,
 * due before the month ends, or certification cycles; and the running approvals. The readiness
 * is the latest report the certification cycle wrote for its next audit (src/certification/
 * readiness.ts), read through the cycle's status query with the page's query deadline; a cycle
 * that does not answer in time shows as "not available", the rest of the page still shows.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { APPROVAL_WORKFLOW } from '../approval/contract.js';
import { CERTIFICATION_WORKFLOW, certificationStatusQuery } from '../certification/contract.js';
import { auditNames, readinessLines, type AuditKey, type CertificationStatus } from '../certification/schema.js';
import { listWithin } from '../calendar/sources.js';
import { dayIn } from '../calendar/items.js';
import { listWork, type WorkItem } from '../task/work.js';
import { searchAttributes } from '../temporal/search-attributes.js';
import { isoOf, visibilityLiteral as literal } from '../temporal/visibility.js';

/** Listed at most per list; the page says when a list is cut. */
export const MAX_ATTENTION = 500;

export interface AttentionItem {
  workflowId: string;
  type: string;
  title: string;
  process: string;
  state: string;
  owner: string | undefined;
  assignees: string[];
  dueAt: string | undefined;
  overdue: boolean;
  startedAt: string;
}

export interface ProcessGroup {
  process: string;
  items: AttentionItem[];
}

export interface WaitingApproval {
  workflowId: string;
  title: string;
  process: string | undefined;
  /** Who must decide now. */
  approvers: string[];
  /** Who asked (the preparer). */
  preparer: string | undefined;
  since: string;
  dueAt: string | undefined;
  overdue: boolean;
}

export type Readiness =
  | { kind: 'none' }
  | {
      kind: 'cycle';
      certificateId: string;
      workflowId: string;
      audit?: { key: AuditKey; name: string; planned: string } | undefined;
      /** The latest report for that audit, or why it cannot be shown. */
      report:
        | { kind: 'report'; at: string; ready: boolean; lines: string[]; check: string }
        | { kind: 'not-yet'; checks: string[] }
        | { kind: 'unavailable'; reason: string }
        | { kind: 'no-audit'; state: string };
    };

export interface Attention {
  overdue: ProcessGroup[];
  dueThisMonth: AttentionItem[];
  approvals: WaitingApproval[];
  readiness: Readiness;
  /** A list reached MAX_ATTENTION. */
  cut: boolean;
}

/** What a workflow without a title of its own is called, by type. */
const typeNames: Record<string, string> = {
  managementReview: 'Management review',
  certificationCycle: 'Certification cycle',
  internalAuditProgramme: 'Internal audit programme',
  aiSystem: 'AI system',
  riskAssessment: 'Risk assessment',
  objectiveMeasurement: 'Objective',
};

function attentionItem(info: WorkflowExecutionInfo, nowMs: number): AttentionItem {
  const sa = info.typedSearchAttributes;
  const memo = info.memo ?? {};
  const dueAt = isoOf(sa.get(searchAttributes.dueDate));
  const state = sa.get(searchAttributes.state) ?? 'unknown';
  const ref = sa.get(searchAttributes.ref);
  const named = typeNames[info.type];
  const title =
    typeof memo.title === 'string' ? (ref && !memo.title.includes(ref) ? `${ref}: ${memo.title}` : memo.title) : ref ? (named ? `${named} ${ref}` : ref) : info.workflowId;
  return {
    workflowId: info.workflowId,
    type: info.type,
    title,
    process: sa.get(searchAttributes.process) ?? 'other',
    state,
    owner: sa.get(searchAttributes.owner),
    assignees: sa.get(searchAttributes.assignees) ?? [],
    dueAt,
    overdue: state === 'overdue' || (dueAt !== undefined && Date.parse(dueAt) < nowMs),
    startedAt: info.startTime.toISOString(),
  };
}

/** The first instant after the month `now` falls in, in `timeZone`. */
export function endOfMonth(now: Date, timeZone: string): Date {
  const [y, m] = dayIn(now.toISOString(), timeZone).split('-').map(Number) as [number, number];
  const next = m === 12 ? { y: y + 1, m: 1 } : { y, m: m + 1 };
  // Midnight of the 1st of the next month in the time zone: start from UTC midnight and correct by the zone's offset then.
  const utc = Date.UTC(next.y, next.m - 1, 1);
  const offsetMs = zoneOffsetMs(new Date(utc), timeZone);
  return new Date(utc - offsetMs);
}

function zoneOffsetMs(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - at.getTime();
}

/** The visibility query of the first list: overdue, due before `monthEnd`, or a certification cycle. */
export function attentionQuery(taskQueue: string, monthEnd: Date): string {
  return [
    `ExecutionStatus = 'Running'`,
    `TaskQueue = ${literal(taskQueue)}`,
    `(${searchAttributes.state.name} = 'overdue' OR ${searchAttributes.dueDate.name} < ${literal(monthEnd.toISOString())} OR WorkflowType = ${literal(CERTIFICATION_WORKFLOW)})`,
  ].join(' AND ');
}

/** Groups what the first list found: overdue by process (most first), and due in the rest of the month. */
export function sortAttention(items: readonly AttentionItem[], nowMs: number, monthEndMs: number): Pick<Attention, 'overdue' | 'dueThisMonth'> {
  const byDue = (a: AttentionItem, b: AttentionItem) => (a.dueAt ? Date.parse(a.dueAt) : Infinity) - (b.dueAt ? Date.parse(b.dueAt) : Infinity) || a.workflowId.localeCompare(b.workflowId);
  const groups = new Map<string, AttentionItem[]>();
  for (const item of items.filter((i) => i.overdue)) groups.set(item.process, [...(groups.get(item.process) ?? []), item]);
  const overdue = [...groups.entries()]
    .map(([process, list]) => ({ process, items: list.sort(byDue) }))
    .sort((a, b) => b.items.length - a.items.length || a.process.localeCompare(b.process));
  // Approvals have a list of their own (who must decide, since when).
  const dueThisMonth = items
    .filter((i) => !i.overdue && i.type !== APPROVAL_WORKFLOW && i.dueAt !== undefined && Date.parse(i.dueAt) >= nowMs && Date.parse(i.dueAt) < monthEndMs)
    .sort(byDue);
  return { overdue, dueThisMonth };
}

function waiting(item: WorkItem): WaitingApproval {
  return {
    workflowId: item.id,
    title: item.title,
    process: item.process && item.process !== 'adhoc' ? item.process : undefined,
    approvers: item.assignees,
    preparer: item.owner,
    since: item.startedAt,
    dueAt: item.dueAt,
    overdue: item.overdue,
  };
}

/** The next audit of the certification cycle and its latest readiness report. */
export function readinessOf(status: CertificationStatus, checks: string[]): Readiness {
  const current = status.current;
  if (current === undefined || current === 'decision') {
    return { kind: 'cycle', certificateId: status.certificateId, workflowId: status.workflowId, report: { kind: 'no-audit', state: current === 'decision' ? 'awaiting the certification decision' : status.state } };
  }
  const audit = status.audits.find((a) => a.audit === current);
  const planned = audit?.planned ?? status.plan[current] ?? '';
  const latest = audit?.readiness.at(-1);
  return {
    kind: 'cycle',
    certificateId: status.certificateId,
    workflowId: status.workflowId,
    audit: { key: current, name: auditNames[current], planned },
    report: latest ? { kind: 'report', at: latest.at, ready: latest.ready, lines: readinessLines(latest), check: latest.check } : { kind: 'not-yet', checks },
  };
}

export interface AttentionDeps {
  client: Client;
  taskQueue: string;
  timeZone: string;
  listTimeoutMs: number;
  queryTimeoutMs: number;
  /** The organization's readiness checks before an external audit, e.g. `['60d', '30d']`. */
  readinessChecks: string[];
}

const within = <R>(deps: AttentionDeps, what: string, call: () => Promise<R>): Promise<R> => listWithin(deps.client, deps.listTimeoutMs, what, call);

/** Reads what needs attention; throws VisibilityTimeout when a list does not answer in time. */
export async function readAttention(deps: AttentionDeps, now = new Date()): Promise<Attention> {
  const nowMs = now.getTime();
  const monthEnd = endOfMonth(now, deps.timeZone);
  const [listed, approvals] = await Promise.all([
    within(deps, 'what is overdue and due this month', async () => {
      const out: AttentionItem[] = [];
      for await (const info of deps.client.workflow.list({ query: attentionQuery(deps.taskQueue, monthEnd), pageSize: 1000 })) {
        out.push(attentionItem(info, nowMs));
        if (out.length >= MAX_ATTENTION) break;
      }
      return out;
    }),
    within(deps, 'the approvals waiting', () => listWork(deps.client, deps.taskQueue, { kind: 'approval' }, MAX_ATTENTION)),
  ]);
  const cycles = listed.filter((i) => i.type === CERTIFICATION_WORKFLOW);
  const work = listed.filter((i) => i.type !== CERTIFICATION_WORKFLOW || i.overdue || (i.dueAt !== undefined && Date.parse(i.dueAt) < monthEnd.getTime()));
  // The cycle whose next audit comes first (a cycle without a planned audit last).
  const next = [...cycles].sort((a, b) => (a.dueAt ? Date.parse(a.dueAt) : Infinity) - (b.dueAt ? Date.parse(b.dueAt) : Infinity))[0];
  let readiness: Readiness = { kind: 'none' };
  if (next) {
    try {
      const status = await deps.client.connection.withDeadline(Date.now() + deps.queryTimeoutMs, () => deps.client.workflow.getHandle(next.workflowId).query(certificationStatusQuery));
      readiness = readinessOf(status, deps.readinessChecks);
    } catch (err) {
      readiness = {
        kind: 'cycle',
        certificateId: next.title,
        workflowId: next.workflowId,
        report: { kind: 'unavailable', reason: `the certification cycle did not answer in time (${err instanceof Error ? err.message : String(err)})` },
      };
    }
  }
  return {
    ...sortAttention(work, nowMs, monthEnd.getTime()),
    approvals: approvals.map(waiting).sort((a, b) => a.since.localeCompare(b.since)),
    readiness,
    cut: listed.length >= MAX_ATTENTION || approvals.length >= MAX_ATTENTION,
  };
}
