/**
 * Open work across tasks and approvals, read from Temporal visibility (eventually consistent):
 * the admin work list and each person's "my open tasks" page read it the same way.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { APPROVAL_WORKFLOW } from '../approval/contract.js';
import { searchAttributes } from '../temporal/search-attributes.js';
import { isoOf, visibilityLiteral as literal } from '../temporal/visibility.js';
import { TASK_WORKFLOW } from './contract.js';

export type WorkKind = 'task' | 'approval';

/** The state that lists failed workflows of every type (for operations), not open work. */
export const FAILED = 'failed';

export interface WorkItem {
  id: string;
  /** `other` for a failed workflow that is neither a task nor an approval. */
  kind: WorkKind | 'other';
  /** The workflow type, e.g. `humanTask`, `correctiveAction`. */
  type: string;
  title: string;
  state: string;
  process: string | undefined;
  owner: string | undefined;
  assignees: string[];
  dueAt: string | undefined;
  overdue: boolean;
  clauses: string[];
  startedAt: string;
}

export interface WorkFilter {
  /** Person id: matches the owner or any current assignee. */
  owner?: string | undefined;
  /** Person id: matches current assignees only (the person must act). */
  assignee?: string | undefined;
  process?: string | undefined;
  kind?: WorkKind | undefined;
  state?: string | undefined;
  /** true: due date passed; false: not yet due. */
  overdue?: boolean | undefined;
}

export const DEFAULT_WORK_LIMIT = 100;
export const MAX_WORK_LIMIT = 500;


/**
 * The visibility query for open tasks and approvals on `taskQueue` matching `filter`; with
 * state `failed`, for the workflows of every type that failed (of `kind`'s type when given).
 */
export function workQuery(taskQueue: string, filter: WorkFilter, now = new Date()): string {
  const failed = filter.state === FAILED;
  const types = filter.kind ? [filter.kind === 'task' ? TASK_WORKFLOW : APPROVAL_WORKFLOW] : failed ? [] : [TASK_WORKFLOW, APPROVAL_WORKFLOW];
  const parts = [
    failed ? `ExecutionStatus = 'Failed'` : `ExecutionStatus = 'Running'`,
    `TaskQueue = ${literal(taskQueue)}`,
    ...(types.length === 0 ? [] : [types.length === 1 ? `WorkflowType = ${literal(types[0] ?? '')}` : `(${types.map((t) => `WorkflowType = ${literal(t)}`).join(' OR ')})`]),
  ];
  if (filter.owner) {
    parts.push(`(${searchAttributes.owner.name} = ${literal(filter.owner)} OR ${searchAttributes.assignees.name} = ${literal(filter.owner)})`);
  }
  if (filter.assignee) parts.push(`${searchAttributes.assignees.name} = ${literal(filter.assignee)}`);
  if (filter.process) parts.push(`${searchAttributes.process.name} = ${literal(filter.process)}`);
  if (filter.state && !failed) parts.push(`${searchAttributes.state.name} = ${literal(filter.state)}`);
  if (filter.overdue !== undefined) {
    parts.push(`${searchAttributes.dueDate.name} ${filter.overdue ? '<' : '>='} ${literal(now.toISOString())}`);
  }
  return parts.join(' AND ');
}

function workItem(info: WorkflowExecutionInfo, now: Date): WorkItem {
  const memo = info.memo ?? {};
  const sa = info.typedSearchAttributes;
  const due = sa.get(searchAttributes.dueDate) ?? (typeof memo.dueAt === 'string' ? new Date(memo.dueAt) : undefined);
  const dueAt = isoOf(due);
  const failed = info.status.name === 'FAILED';
  const state = failed ? FAILED : (sa.get(searchAttributes.state) ?? 'unknown');
  return {
    id: info.workflowId,
    kind: info.type === APPROVAL_WORKFLOW ? 'approval' : info.type === TASK_WORKFLOW ? 'task' : 'other',
    type: info.type,
    title: typeof memo.title === 'string' ? memo.title : info.workflowId,
    state,
    process: sa.get(searchAttributes.process),
    owner: sa.get(searchAttributes.owner),
    assignees: sa.get(searchAttributes.assignees) ?? [],
    dueAt,
    overdue: !failed && (state === 'overdue' || (dueAt !== undefined && Date.parse(dueAt) < now.getTime())),
    clauses: sa.get(searchAttributes.clauses) ?? [],
    startedAt: info.startTime.toISOString(),
  };
}

/** Overdue first, then by due date (soonest first), then by start. */
export function byUrgency(a: WorkItem, b: WorkItem): number {
  if (a.overdue !== b.overdue) return a.overdue ? -1 : 1;
  const da = a.dueAt ? Date.parse(a.dueAt) : Number.POSITIVE_INFINITY;
  const db = b.dueAt ? Date.parse(b.dueAt) : Number.POSITIVE_INFINITY;
  return da - db || a.startedAt.localeCompare(b.startedAt);
}

/** Open tasks and approvals from visibility (eventually consistent), most urgent first. */
export async function listWork(
  client: Client,
  taskQueue: string,
  filter: WorkFilter,
  limit = DEFAULT_WORK_LIMIT,
): Promise<WorkItem[]> {
  const now = new Date();
  const items: WorkItem[] = [];
  for await (const info of client.workflow.list({ query: workQuery(taskQueue, filter, now), pageSize: Math.min(limit, 1000) })) {
    items.push(workItem(info, now));
    if (items.length >= limit) break;
  }
  return items.sort(byUrgency);
}
