/**
 * Drivers that take workflows through their steps as people would (through the same updates
 * the pages and the admin API send), as the workflow tests do: wait for a step's task or
 * approval to be open, then complete it or decide. And reading a workflow's history sizes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { approvalStatusQuery, decideUpdate } from '../../src/approval/contract.js';
import { completeTaskUpdate, taskStatusQuery } from '../../src/task/contract.js';

/** Reads until `predicate` holds (errors count as not yet); throws naming `what` after `timeoutMs`. */
export async function until<T>(what: string, read: () => Promise<T>, predicate: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await read();
      if (predicate(value)) return value;
      last = value;
    } catch (err) {
      last = err instanceof Error ? err.message : err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${Math.round(timeoutMs / 1000)} s; last: ${JSON.stringify(last)?.slice(0, 500)}`);
    await sleep(150);
  }
}

/** Waits for the task `taskId` to be open with its assignee set up, then completes it as `by`. */
export async function completeTask(client: Client, taskId: string, by: string, data: Record<string, unknown>): Promise<void> {
  const task = client.workflow.getHandle(taskId);
  await until(`task ${taskId} open`, () => task.query(taskStatusQuery), (s) => s.state === 'open' && s.assignee.id !== '');
  await task.executeUpdate(completeTaskUpdate, { args: [{ by, data }] });
}

/** Waits for the approval `approvalId` to be pending, then decides as `by` on the content shown. */
export async function decide(client: Client, approvalId: string, by: string, decision: 'approve' | 'reject'): Promise<void> {
  const approval = client.workflow.getHandle(approvalId);
  const s = await until(`approval ${approvalId} pending`, () => approval.query(approvalStatusQuery), (st) => st.state === 'pending' && st.approvers.length > 0);
  await approval.executeUpdate(decideUpdate, { args: [{ by, decision, contentHash: s.contentHash }] });
}

export interface RunSize {
  runId: string;
  events: number;
  status: string;
}

/** Every run of `workflowId` (oldest first) with its history length, as Temporal reports it. */
export async function runSizes(client: Client, workflowId: string): Promise<RunSize[]> {
  const runs: { runId: string; startTime: Date }[] = [];
  for await (const info of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push({ runId: info.runId, startTime: info.startTime });
  runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  const sizes: RunSize[] = [];
  for (const { runId } of runs) {
    const d = await client.workflow.getHandle(workflowId, runId).describe();
    sizes.push({ runId, events: d.historyLength, status: d.status.name });
  }
  return sizes;
}

/** The history length of the children of `parentId` (ids under `<parentId>/`), from visibility. */
export async function childrenSizes(client: Client, parentId: string): Promise<{ children: number; events: number }> {
  let children = 0;
  let events = 0;
  for await (const info of client.workflow.list({ query: `WorkflowId STARTS_WITH '${parentId}/'` })) {
    const d = await client.workflow.getHandle(info.workflowId, info.runId).describe();
    children += 1;
    events += d.historyLength;
  }
  return { children, events };
}
