/**
 * Certification cycles as Temporal visibility sees them: one entry per certificate's workflow
 * on a task queue (the latest run of each), with its state, cycle and next due date.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { CertificationState } from './schema.js';
import { searchAttributes } from '../temporal/search-attributes.js';
import { isoOf, memoText, visibilityLiteral as literal, workflowsOf } from '../temporal/visibility.js';
import { CERTIFICATION_WORKFLOW, CERTIFICATION_WORKFLOW_PREFIX } from './contract.js';

export interface CertificationListItem {
  certificateId: string;
  workflowId: string;
  state: string;
  cycle: number | undefined;
  expiresOn: string | undefined;
  /** The next audit's planned time. */
  dueAt: string | undefined;
  executionStatus: string;
  startedAt: string;
}

export function certificationQuery(taskQueue: string, filter: { state?: CertificationState | undefined } = {}): string {
  const parts = workflowsOf(taskQueue, CERTIFICATION_WORKFLOW);
  if (filter.state) parts.push(`${searchAttributes.state.name} = ${literal(filter.state)}`);
  return parts.join(' AND ');
}

export function certificationListItem(info: WorkflowExecutionInfo): CertificationListItem {
  const memo = info.memo ?? {};
  const sa = info.typedSearchAttributes;
  const due = sa.get(searchAttributes.dueDate);
  return {
    certificateId: sa.get(searchAttributes.ref) ?? memoText(memo.certificateId) ?? info.workflowId.slice(CERTIFICATION_WORKFLOW_PREFIX.length),
    workflowId: info.workflowId,
    state: sa.get(searchAttributes.state) ?? memoText(memo.state) ?? 'unknown',
    cycle: typeof memo.cycle === 'number' ? memo.cycle : undefined,
    expiresOn: memoText(memo.expiresOn),
    dueAt: isoOf(due),
    executionStatus: info.status.name,
    startedAt: info.startTime.toISOString(),
  };
}

/**
 * The certification cycles on `taskQueue`, newest first; a certificate's earlier runs (before
 * continue-as-new) are left out.
 */
export async function listCertifications(client: Client, taskQueue: string, filter: { state?: CertificationState | undefined } = {}, limit = 100): Promise<CertificationListItem[]> {
  const seen = new Set<string>();
  const items: CertificationListItem[] = [];
  for await (const info of client.workflow.list({ query: certificationQuery(taskQueue, filter), pageSize: Math.min(limit, 1000) })) {
    if (seen.has(info.workflowId)) continue;
    seen.add(info.workflowId);
    items.push(certificationListItem(info));
    if (items.length >= limit) break;
  }
  return items;
}
