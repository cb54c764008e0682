/**
 * Nonconformities as Temporal visibility sees them: one entry per corrective-action workflow
 * on a task queue, running or closed, with its NC id, title, severity, source, state, owner
 * and overall target. Filters run in the visibility query where they can and are re-checked
 * here, because an NC past its target shows `overdue` in the `AimsState` search attribute
 * while its memo keeps the step it is in.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { NcSource, NcState, Severity } from './schema.js';
import { searchAttributes } from '../temporal/search-attributes.js';
import { isoOf, memoText, visibilityLiteral as literal, workflowsOf } from '../temporal/visibility.js';
import { CORRECTIVE_ACTION_WORKFLOW } from './contract.js';

const closedStates: readonly string[] = ['closed', 'cancelled'];

export interface NcListItem {
  ncId: string;
  workflowId: string;
  title: string;
  severity: Severity | undefined;
  source: NcSource | undefined;
  /** The step the NC is in (`containment` … `closed`, `cancelled`), from its memo. */
  state: string;
  owner: string | undefined;
  aiSystem: string | undefined;
  clauses: string[];
  /** The overall target date. */
  targetAt: string | undefined;
  /** Open past its overall target. */
  overdue: boolean;
  /** Temporal's execution status, e.g. `RUNNING`, `COMPLETED`, `TERMINATED`. */
  executionStatus: string;
  startedAt: string;
  closedAt: string | undefined;
}

export interface NcFilter {
  state?: NcState | undefined;
  severity?: Severity | undefined;
  source?: NcSource | undefined;
  /** Person id of the NC's owner. */
  owner?: string | undefined;
  /** true: open past the overall target; false: not (closed NCs included). */
  overdue?: boolean | undefined;
  /** Started at or after this instant (ISO-8601). */
  startedFrom?: string | undefined;
  /** Started before this instant (ISO-8601). */
  startedTo?: string | undefined;
}

export const DEFAULT_NC_LIMIT = 100;
export const MAX_NC_LIMIT = 1000;


/** The visibility query for the corrective actions on `taskQueue` matching `filter`. */
export function ncQuery(taskQueue: string, filter: NcFilter, now = new Date()): string {
  const sa = searchAttributes;
  const parts = workflowsOf(taskQueue, CORRECTIVE_ACTION_WORKFLOW);
  if (filter.severity) parts.push(`${sa.severity.name} = ${literal(filter.severity)}`);
  if (filter.source) parts.push(`${sa.source.name} = ${literal(filter.source)}`);
  if (filter.owner) parts.push(`${sa.owner.name} = ${literal(filter.owner)}`);
  if (filter.state) {
    const states = closedStates.includes(filter.state) ? [filter.state] : [filter.state, 'overdue'];
    parts.push(`${sa.state.name} IN (${states.map(literal).join(', ')})`);
  }
  if (filter.overdue === true) {
    parts.push(`ExecutionStatus = 'Running'`, `(${sa.state.name} = 'overdue' OR ${sa.dueDate.name} < ${literal(now.toISOString())})`);
  }
  if (filter.startedFrom) parts.push(`StartTime >= ${literal(filter.startedFrom)}`);
  if (filter.startedTo) parts.push(`StartTime < ${literal(filter.startedTo)}`);
  return parts.join(' AND ');
}

export function ncListItem(info: WorkflowExecutionInfo, now = new Date()): NcListItem {
  const memo = info.memo ?? {};
  const sa = info.typedSearchAttributes;
  const saState = sa.get(searchAttributes.state);
  const state = memoText(memo.state) ?? (saState && saState !== 'overdue' ? saState : 'unknown');
  const target = sa.get(searchAttributes.dueDate);
  const targetAt = isoOf(target);
  const running = info.status.name === 'RUNNING';
  const open = running && !closedStates.includes(state);
  return {
    ncId: memoText(memo.ncId) ?? sa.get(searchAttributes.ref) ?? info.workflowId.replace(/^corrective-action\//, ''),
    workflowId: info.workflowId,
    title: memoText(memo.title) ?? info.workflowId,
    severity: sa.get(searchAttributes.severity) as Severity | undefined,
    source: sa.get(searchAttributes.source) as NcSource | undefined,
    state,
    owner: sa.get(searchAttributes.owner),
    aiSystem: sa.get(searchAttributes.aiSystem),
    clauses: sa.get(searchAttributes.clauses) ?? [],
    targetAt,
    overdue: open && (saState === 'overdue' || (targetAt !== undefined && Date.parse(targetAt) < now.getTime())),
    executionStatus: info.status.name,
    startedAt: info.startTime.toISOString(),
    closedAt: info.closeTime?.toISOString(),
  };
}

function matches(item: NcListItem, filter: NcFilter): boolean {
  if (filter.state && item.state !== filter.state) return false;
  if (filter.overdue !== undefined && item.overdue !== filter.overdue) return false;
  return true;
}

/**
 * Corrective actions on `taskQueue` matching `filter`, newest first, at most `limit` (visibility
 * is eventually consistent: a new NC shows within seconds).
 */
export async function listNonconformities(
  client: Client,
  taskQueue: string,
  filter: NcFilter = {},
  limit = DEFAULT_NC_LIMIT,
): Promise<NcListItem[]> {
  const now = new Date();
  const items: NcListItem[] = [];
  for await (const info of client.workflow.list({ query: ncQuery(taskQueue, filter, now), pageSize: Math.min(limit, MAX_NC_LIMIT) })) {
    const item = ncListItem(info, now);
    if (!matches(item, filter)) continue;
    items.push(item);
    if (items.length >= limit) break;
  }
  return items;
}
