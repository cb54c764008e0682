/**
 * People's part in running work, from Temporal visibility: what one person holds (the work
 * they own, the work waiting for them), the people running work names at all, and the running
 * work that needs a role. Every workflow publishes its owner (AimsOwner) and who must act now
 * (AimsAssignees), so these are queries, not scans of workflow state.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { searchAttributes } from '../temporal/search-attributes.js';
import { isoOf, memoText, visibilityLiteral as literal } from '../temporal/visibility.js';
import { workflowsKeepingRole, type HeldRole, type PersonWorkItem, type RunningWork, type WorkPart } from './rules.js';

const RUNNING = `ExecutionStatus = 'Running'`;
/** Most work items read for one person or one check (a safety bound, far above real use). */
export const MAX_WORK_ITEMS = 5_000;

function itemOf(info: WorkflowExecutionInfo, personId: string): PersonWorkItem {
  const sa = info.typedSearchAttributes;
  const parts: WorkPart[] = [];
  if (sa.get(searchAttributes.owner) === personId) parts.push('owner');
  if ((sa.get(searchAttributes.assignees) ?? []).includes(personId)) parts.push('assignee');
  return {
    workflowId: info.workflowId,
    type: info.type,
    process: sa.get(searchAttributes.process),
    ref: sa.get(searchAttributes.ref),
    aiSystem: sa.get(searchAttributes.aiSystem),
    title: memoText(info.memo?.title) ?? info.workflowId,
    state: sa.get(searchAttributes.state),
    dueAt: isoOf(sa.get(searchAttributes.dueDate)),
    parts,
  };
}

async function list(client: Client, query: string, limit = MAX_WORK_ITEMS): Promise<WorkflowExecutionInfo[]> {
  const out: WorkflowExecutionInfo[] = [];
  for await (const info of client.workflow.list({ query, pageSize: Math.min(limit, 1000) })) {
    out.push(info);
    if (out.length >= limit) break;
  }
  return out;
}

/** The running work `personId` holds on `taskQueue`: what they own and what waits for them, soonest due first. */
export async function personWork(client: Client, taskQueue: string, personId: string): Promise<PersonWorkItem[]> {
  const who = literal(personId);
  const query = `${RUNNING} AND TaskQueue = ${literal(taskQueue)} AND (${searchAttributes.owner.name} = ${who} OR ${searchAttributes.assignees.name} = ${who})`;
  const items = (await list(client, query)).map((info) => itemOf(info, personId));
  return items.sort((a, b) => (a.dueAt ?? '9999').localeCompare(b.dueAt ?? '9999') || a.workflowId.localeCompare(b.workflowId));
}

/**
 * The running workflows that keep one of `roles` (resolved at their start, so visibility does
 * not name the holder), as work items with the part `role`.
 */
export async function workKeepingRoles(client: Client, taskQueue: string, roles: readonly HeldRole[]): Promise<PersonWorkItem[]> {
  const types = [...new Set(roles.flatMap((role) => workflowsKeepingRole[role]))];
  if (!types.length) return [];
  const query = `${RUNNING} AND TaskQueue = ${literal(taskQueue)} AND WorkflowType IN (${types.map(literal).join(', ')})`;
  return (await list(client, query)).map((info) => ({ ...itemOf(info, ''), parts: ['role'] }));
}

/** Every person id running work on `taskQueue` names as its owner or as someone who must act. */
export async function peopleInRunningWork(client: Client, taskQueue: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const info of await list(client, `${RUNNING} AND TaskQueue = ${literal(taskQueue)}`)) {
    const sa = info.typedSearchAttributes;
    const owner = sa.get(searchAttributes.owner);
    if (owner) ids.add(owner);
    for (const id of sa.get(searchAttributes.assignees) ?? []) ids.add(id);
  }
  return ids;
}

/** The running work of some workflow types and processes (a few ids each), for the vacant-role check. */
export async function runningWorkOf(client: Client, taskQueue: string, want: { types: string[]; processes: string[] }): Promise<RunningWork> {
  const few = 20;
  const base = `${RUNNING} AND TaskQueue = ${literal(taskQueue)}`;
  const byType = await Promise.all(want.types.map(async (type) => [type, (await list(client, `${base} AND WorkflowType = ${literal(type)}`, few)).map((i) => i.workflowId)] as const));
  const byProcess = await Promise.all(
    want.processes.map(async (p) => [p, (await list(client, `${base} AND ${searchAttributes.process.name} = ${literal(p)}`, few)).map((i) => i.workflowId)] as const),
  );
  return { types: Object.fromEntries(byType), processes: Object.fromEntries(byProcess) };
}
