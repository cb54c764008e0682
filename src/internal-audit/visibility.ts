/**
 * Internal audit programmes and audits as Temporal visibility shows them: for the admin list
 * and for operations (the same queries work in the Temporal UI, e.g.
 * `WorkflowType = 'internalAudit' AND AimsState = 'fieldwork'`).
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { searchAttributes } from '../temporal/search-attributes.js';
import { visibilityLiteral } from '../temporal/visibility.js';
import { INTERNAL_AUDIT_PROGRAMME_WORKFLOW } from './contract.js';

export interface ProgrammeListItem {
  year: number | null;
  workflowId: string;
  /** The programme's state (planning, approval, running, ...), `overdue` while an audit is. */
  state: string;
  trigger?: string;
  audits: Record<string, string>;
  executionStatus: string;
  startedAt: string;
  closedAt?: string;
}

export const MAX_PROGRAMMES = 200;

/** Visibility query for the programmes (or, with `workflowType`, the audits) on a task queue. */
export function programmeQuery(taskQueue: string, workflowType = INTERNAL_AUDIT_PROGRAMME_WORKFLOW): string {
  return `TaskQueue = ${visibilityLiteral(taskQueue)} AND WorkflowType = ${visibilityLiteral(workflowType)}`;
}

export function programmeListItem(info: WorkflowExecutionInfo): ProgrammeListItem {
  const memo = info.memo ?? {};
  const audits = memo.auditStates && typeof memo.auditStates === 'object' ? (memo.auditStates as Record<string, string>) : {};
  const year = typeof memo.year === 'number' ? memo.year : Number(/^internal-audit-programme\/(\d{4})/.exec(info.workflowId)?.[1] ?? NaN);
  const trigger = info.typedSearchAttributes.get(searchAttributes.source);
  return {
    year: Number.isFinite(year) ? year : null,
    workflowId: info.workflowId,
    state: info.typedSearchAttributes.get(searchAttributes.state) ?? 'unknown',
    ...(trigger ? { trigger } : {}),
    audits,
    executionStatus: info.status.name,
    startedAt: info.startTime.toISOString(),
    ...(info.closeTime ? { closedAt: info.closeTime.toISOString() } : {}),
  };
}

/** The programmes on `taskQueue`, newest first. */
export async function listProgrammes(client: Client, taskQueue: string, limit = MAX_PROGRAMMES): Promise<ProgrammeListItem[]> {
  const items: ProgrammeListItem[] = [];
  for await (const info of client.workflow.list({ query: programmeQuery(taskQueue), pageSize: Math.min(limit, MAX_PROGRAMMES) })) {
    items.push(programmeListItem(info));
    if (items.length >= limit) break;
  }
  return items;
}
