/**
 * AI systems as Temporal visibility sees them: one entry per `aiSystem` workflow on a task
 * queue (running, or closed once retired), with its registration summary from the memo and
 * its assessment state, owner and next due date from the search attributes.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { AiSystemState } from './schema.js';
import { searchAttributes } from '../temporal/search-attributes.js';
import { isoOf, memoText, visibilityLiteral as literal, workflowsOf } from '../temporal/visibility.js';
import { AI_SYSTEM_WORKFLOW } from './contract.js';

export interface AiSystemListItem {
  systemId: string;
  workflowId: string;
  name: string;
  owner: string | undefined;
  impactTier: string | undefined;
  lifecycle: string | undefined;
  source: string | undefined;
  /** current, due, in-progress, overdue or retired. */
  state: string;
  nextDueAt: string | undefined;
  lastAssessment: { assessmentRef: string; level: number; signedOffAt: string } | undefined;
  currentAssessment: string | undefined;
  executionStatus: string;
  startedAt: string;
}

export interface AiSystemFilter {
  state?: AiSystemState | undefined;
  owner?: string | undefined;
}

export const DEFAULT_AI_SYSTEM_LIMIT = 200;
export const MAX_AI_SYSTEM_LIMIT = 1000;

/** The visibility query for the AI systems on `taskQueue` matching `filter`. */
export function aiSystemQuery(taskQueue: string, filter: AiSystemFilter): string {
  const parts = workflowsOf(taskQueue, AI_SYSTEM_WORKFLOW);
  if (filter.owner) parts.push(`${searchAttributes.owner.name} = ${literal(filter.owner)}`);
  if (filter.state === 'retired') parts.push(`ExecutionStatus != 'Running'`);
  else if (filter.state) parts.push(`ExecutionStatus = 'Running'`);
  return parts.join(' AND ');
}

export function aiSystemListItem(info: WorkflowExecutionInfo, now = new Date()): AiSystemListItem {
  const memo = info.memo ?? {};
  const sa = info.typedSearchAttributes;
  const due = sa.get(searchAttributes.dueDate);
  const nextDueAt = isoOf(due);
  const running = info.status.name === 'RUNNING';
  let state = running ? (sa.get(searchAttributes.state) ?? 'due') : 'retired';
  // A current assessment whose due date passed since the workflow last published is overdue.
  if (running && state === 'current' && nextDueAt && Date.parse(nextDueAt) < now.getTime()) state = 'overdue';
  const last = memo.lastAssessment as AiSystemListItem['lastAssessment'] | null | undefined;
  return {
    systemId: sa.get(searchAttributes.aiSystem) ?? info.workflowId.replace(/^ai-system\//, ''),
    workflowId: info.workflowId,
    name: memoText(memo.title) ?? info.workflowId,
    owner: sa.get(searchAttributes.owner),
    impactTier: memoText(memo.impactTier),
    lifecycle: memoText(memo.lifecycle),
    source: memoText(memo.source),
    state,
    nextDueAt,
    lastAssessment: last ?? undefined,
    currentAssessment: memoText(memo.currentAssessment),
    executionStatus: info.status.name,
    startedAt: info.startTime.toISOString(),
  };
}

/**
 * The AI systems on `taskQueue` (one entry per system: the newest workflow of each id), sorted
 * by id. Visibility is eventually consistent: a new system shows within seconds.
 */
export async function listAiSystems(client: Client, taskQueue: string, filter: AiSystemFilter = {}, limit = DEFAULT_AI_SYSTEM_LIMIT): Promise<AiSystemListItem[]> {
  const now = new Date();
  const bySystem = new Map<string, AiSystemListItem>();
  for await (const info of client.workflow.list({ query: aiSystemQuery(taskQueue, filter), pageSize: Math.min(limit, MAX_AI_SYSTEM_LIMIT) })) {
    const item = aiSystemListItem(info, now);
    const seen = bySystem.get(item.workflowId);
    if (seen && seen.startedAt >= item.startedAt) continue;
    bySystem.set(item.workflowId, item);
    if (bySystem.size >= MAX_AI_SYSTEM_LIMIT) break;
  }
  return [...bySystem.values()]
    .filter((item) => !filter.state || item.state === filter.state)
    .sort((a, b) => a.systemId.localeCompare(b.systemId))
    .slice(0, limit);
}
