/**
 * Human tasks as an admin starts them through the API (`POST /admin/tasks`), and the bare
 * workflow as the baseline starts it through the Temporal client.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { HumanTaskInput } from '../../src/task/schema.js';
import type { AimsflowProcess } from './aimsflow.js';
import { BARE_TASK_QUEUE } from './bare.js';

/** People of the example organization who get ad-hoc tasks (in turn). */
export const EXAMPLE_ASSIGNEES = ['sofia.lind', 'tom.baker', 'marco.rossi', 'liam.walsh', 'elena.petrova', 'aisha.khan'];

const DAY_MS = 86_400_000;

/** A realistic ad-hoc task: due in two weeks, the organization's reminders and escalation. */
export function taskInput(i: number, assignees: readonly string[] = EXAMPLE_ASSIGNEES, overrides: Partial<HumanTaskInput> = {}): HumanTaskInput {
  return {
    title: `Review the model card of release ${i}`,
    instructions: 'Check the intended use, the limitations and the evaluation results against the AI policy, and attach the reviewed card.',
    clauses: ['8.1', 'A.6.2.7'],
    assignee: { person: assignees[i % assignees.length]! },
    dueAt: new Date(Date.now() + 14 * DAY_MS).toISOString(),
    form: 'evidence',
    requestedBy: 'priya.raman',
    ...overrides,
  };
}

/** `POST /admin/tasks`; the started workflow's id. Anything but 201 throws, saying what came back. */
export async function startTaskViaApi(aimsflow: AimsflowProcess, input: HumanTaskInput): Promise<string> {
  const res = await fetch(`${aimsflow.apiUrl}/admin/tasks`, { method: 'POST', headers: aimsflow.adminHeaders, body: JSON.stringify(input) });
  const body = await res.text();
  if (res.status !== 201) throw new Error(`POST /admin/tasks answered ${res.status}: ${body.slice(0, 500)}`);
  return (JSON.parse(body) as { workflowId: string }).workflowId;
}

/** Starts the bare no-op workflow; its id. */
export async function startNoop(client: Client, prefix = 'noop'): Promise<string> {
  const handle = await client.workflow.start('benchNoop', { taskQueue: BARE_TASK_QUEUE, workflowId: `bench/${prefix}/${randomUUID()}`, args: [] });
  return handle.workflowId;
}
