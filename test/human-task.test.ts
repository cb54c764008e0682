import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import type { HumanTaskInput, HumanTaskResult } from '../src/task/schema.js';
import { cancelUpdate, commentUpdate } from '../src/common/messages.js';
import { completeTaskUpdate, delegateTaskUpdate, extendDueUpdate, reassignTaskUpdate, taskStatusQuery } from '../src/task/contract.js';
import { isNotification } from './helpers/smtp.js';
import { eventually, inMs, startTestStack, updateRejection, type TestStack } from './helpers/temporal.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

type TaskHandle = Awaited<ReturnType<typeof startTask>>;

function startTask(overrides: Partial<HumanTaskInput> = {}) {
  const input: HumanTaskInput = {
    title: 'Contain the credit-scoring drift incident',
    instructions: 'Describe the containment and attach the evidence.',
    clauses: ['10.2', 'A.6.2.6'],
    process: 'corrective-action',
    assignee: { role: 'process-owner', of: 'corrective-action' },
    dueAt: inMs(60 * 60_000),
    form: 'evidence',
    policy: { reminderOffsets: [], escalation: [] },
    ...overrides,
  };
  return stack.start<[HumanTaskInput], HumanTaskResult>('humanTask', [input]);
}

const status = (handle: TaskHandle) => handle.query(taskStatusQuery);

/** Mails that arrived for a person of a kind, for this workflow. */
function mails(handle: TaskHandle, to: string, kind: string) {
  return stack.smtp.messages.filter((m) => isNotification(m, handle.workflowId, kind, to));
}

function mailTo(handle: TaskHandle, to: string, kind: string) {
  return stack.smtp.waitFor((m) => isNotification(m, handle.workflowId, kind, to), 20_000);
}

const priya = 'priya.raman@northwind.example';
const evidence = { summary: 'Model rolled back to v41; monitoring alert tuned.', links: ['https://wiki.northwind.example/inc/42'] };


describe('human task', () => {
  it('assigns by role, mails a signed link, completes through the validated update and records evidence', async () => {
    const handle = await startTask();
    const mail = await mailTo(handle, priya, 'task.assigned');
    expect(mail.subject).toContain('Contain the credit-scoring drift incident');
    const link = /http:\/\/127\.0\.0\.1:3999\/t\?token=[\w.-]+/.exec(mail.text ?? '')?.[0];
    expect(link).toBeDefined();
    const claims = await stack.links.verify(new URL(link!).searchParams.get('token'), { action: 'task.view' });
    expect(claims).toMatchObject({ wf: handle.workflowId, person: 'priya.raman' });

    const open = await status(handle);
    expect(open.state).toBe('open');
    expect(open.assignee.id).toBe('priya.raman');

    const ack = await handle.executeUpdate(completeTaskUpdate, { args: [{ by: claims.person, data: evidence }] });
    expect(ack.state).toBe('completed');
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'completed', completedBy: 'priya.raman', data: evidence });

    const receipt = await mailTo(handle, priya, 'task.completed');
    expect(receipt.subject).toBeTruthy();
    const [record] = await stack.records.list({ subject: handle.workflowId, kind: 'task.completed' });
    expect(record?.actor).toBe('priya.raman');
    expect(record?.clauses).toEqual(['10.2', 'A.6.2.6']);
    expect((record?.content as { data: unknown }).data).toEqual(evidence);

    const described = await handle.describe();
    expect(described.searchAttributes.AimsState).toEqual(['completed']);
    expect(described.searchAttributes.AimsOwner).toEqual(['priya.raman']);
  });

  it('rejects a completion by the wrong person, with an invalid form, and once closed', async () => {
    const handle = await startTask();
    await mailTo(handle, priya, 'task.assigned');

    expect(await updateRejection(handle.executeUpdate(completeTaskUpdate, { args: [{ by: 'tom.baker', data: evidence }] }))).toMatch(
      /only Priya Raman can complete/,
    );
    expect(
      await updateRejection(handle.executeUpdate(completeTaskUpdate, { args: [{ by: 'priya.raman', data: { summary: 'x', links: [] } }] })),
    ).toMatch(/links: needs at least one evidence link/);
    expect(
      await updateRejection(handle.executeUpdate(completeTaskUpdate, { args: [{ by: 'priya.raman', data: { summary: 'x', links: ['ftp://x'] } }] })),
    ).toMatch(/links\.0: must be an http\(s\) link/);

    await handle.executeUpdate(completeTaskUpdate, { args: [{ by: 'priya.raman', data: evidence }] });
    expect(await updateRejection(handle.executeUpdate(completeTaskUpdate, { args: [{ by: 'priya.raman', data: evidence }] }))).toMatch(
      /already completed/,
    );
    const final = await handle.result();
    expect(final.history.filter((e) => e.type === 'completed')).toHaveLength(1);
  });

  it('accepts a date form inside the workflow and refuses an impossible date', async () => {
    const handle = await startTask({ form: 'date', title: 'Set the next review date' });
    expect(
      await updateRejection(handle.executeUpdate(completeTaskUpdate, { args: [{ by: 'priya.raman', data: { date: '2030-02-30' } }] })),
    ).toMatch(/date: must be a date as YYYY-MM-DD/);
    await handle.executeUpdate(completeTaskUpdate, { args: [{ by: 'priya.raman', data: { date: '2030-01-31', note: 'after Q4' } }] });
    expect((await handle.result()).data).toEqual({ date: '2030-01-31', note: 'after Q4' });
  });

  it('sends each reminder before the due date, then marks the task overdue', async () => {
    const handle = await startTask({ dueAt: inMs(5000), policy: { reminderOffsets: ['3500ms', '1500ms'], escalation: [] } });
    await eventually(() => status(handle), (s) => s.state === 'overdue', { timeoutMs: 20_000 });
    const s = await status(handle);
    const types = s.history.map((e) => e.type);
    expect(types.filter((t) => t === 'reminded')).toHaveLength(2);
    expect(types.indexOf('reminded')).toBeLessThan(types.indexOf('overdue'));
    await eventually(async () => mails(handle, priya, 'task.reminder').length, (n) => n === 2);
    const described = await handle.describe();
    expect(described.searchAttributes.AimsState).toEqual(['overdue']);
    await handle.executeUpdate(cancelUpdate, { args: [{ by: 'system', reason: 'test done' }] });
  });

  it('escalates in order: the assignee’s manager, then top management, each copying the assignee', async () => {
    const handle = await startTask({
      assignee: { person: 'sofia.lind' },
      dueAt: inMs(1000),
      policy: { reminderOffsets: [], escalation: [{ after: '1s', to: 'manager' }, { after: '3s', to: 'top-management' }] },
    });
    const s = await eventually(() => status(handle), (st) => st.escalationLevel === 2, { timeoutMs: 25_000 });
    const escalations = s.history.filter((e) => e.type === 'escalated');
    expect(escalations.map((e) => e.data?.to)).toEqual([['marco.rossi'], ['hannah.okafor', 'david.chen']]);
    await mailTo(handle, 'marco.rossi@northwind.example', 'task.escalated');
    await mailTo(handle, 'hannah.okafor@northwind.example', 'task.escalated');
    await mailTo(handle, 'david.chen@northwind.example', 'task.escalated');
    await eventually(async () => mails(handle, 'sofia.lind@northwind.example', 'task.escalated').length, (n) => n === 2);
    await handle.executeUpdate(cancelUpdate, { args: [{ by: 'priya.raman', reason: 'test done' }] });
    const result = await handle.result();
    expect(result.status).toBe('cancelled');
  });

  it('extending the due date re-arms reminders and escalations and is recorded', async () => {
    const handle = await startTask({ dueAt: inMs(3000), policy: { reminderOffsets: ['2s'], escalation: [{ after: '500ms', to: 'manager' }] } });
    await eventually(() => status(handle), (s) => s.history.some((e) => e.type === 'reminded'));
    // Not allowed for a bystander.
    expect(
      await updateRejection(handle.executeUpdate(extendDueUpdate, { args: [{ by: 'tom.baker', dueAt: inMs(60_000), reason: 'x' }] })),
    ).toMatch(/only the AIMS manager or the assignee's manager/);
    // The manager of priya.raman is david.chen.
    const newDue = inMs(4000);
    await handle.executeUpdate(extendDueUpdate, { args: [{ by: 'david.chen', dueAt: newDue, reason: 'waiting for vendor logs' }] });
    const s = await eventually(() => status(handle), (st) => st.escalationLevel === 1, { timeoutMs: 20_000 });
    const types = s.history.map((e) => e.type);
    expect(types.filter((t) => t === 'reminded')).toHaveLength(2);
    expect(types.indexOf('due-extended')).toBeLessThan(types.lastIndexOf('reminded'));
    expect(types.filter((t) => t === 'overdue')).toHaveLength(1);
    expect(s.dueAt).toBe(newDue);
    const ext = s.history.find((e) => e.type === 'due-extended');
    expect(ext?.detail).toContain('waiting for vendor logs');
    await handle.executeUpdate(cancelUpdate, { args: [{ by: 'system', reason: 'test done' }] });
  });

  it('delegation hands the work over while the assignee stays accountable', async () => {
    const handle = await startTask();
    await mailTo(handle, priya, 'task.assigned');
    expect(await updateRejection(handle.executeUpdate(delegateTaskUpdate, { args: [{ by: 'liam.walsh', to: 'liam.walsh' }] }))).toMatch(
      /only the assignee/,
    );
    await handle.executeUpdate(delegateTaskUpdate, { args: [{ by: 'priya.raman', to: 'liam.walsh', note: 'Liam has the logs' }] });
    await mailTo(handle, 'liam.walsh@northwind.example', 'task.assigned');
    const s = await status(handle);
    expect(s.delegate?.id).toBe('liam.walsh');
    expect(s.assignee.id).toBe('priya.raman');
    const described = await handle.describe();
    expect(described.searchAttributes.AimsAssignees).toEqual(['priya.raman', 'liam.walsh']);

    await handle.executeUpdate(commentUpdate, { args: [{ by: 'liam.walsh', text: 'On it' }] });
    await handle.executeUpdate(completeTaskUpdate, { args: [{ by: 'liam.walsh', data: evidence }] });
    const result = await handle.result();
    expect(result.completedBy).toBe('liam.walsh');
    await mailTo(handle, priya, 'task.completed');
    await mailTo(handle, 'liam.walsh@northwind.example', 'task.completed');
  });

  it('reassignment by the AIMS manager moves the task; others are refused', async () => {
    const handle = await startTask({ assignee: { person: 'sofia.lind' } });
    await mailTo(handle, 'sofia.lind@northwind.example', 'task.assigned');
    expect(
      await updateRejection(handle.executeUpdate(reassignTaskUpdate, { args: [{ by: 'tom.baker', to: 'liam.walsh', reason: 'x' }] })),
    ).toMatch(/only the AIMS manager or the assignee's manager/);
    expect(
      await updateRejection(handle.executeUpdate(reassignTaskUpdate, { args: [{ by: 'priya.raman', to: 'nobody.here', reason: 'x' }] })),
    ).toMatch(/unknown person "nobody.here"/);
    await handle.executeUpdate(reassignTaskUpdate, { args: [{ by: 'priya.raman', to: 'tom.baker', reason: 'Tom owns the process now' }] });
    await mailTo(handle, 'tom.baker@northwind.example', 'task.assigned');
    await mailTo(handle, 'sofia.lind@northwind.example', 'task.reassigned');
    const s = await status(handle);
    expect(s.assignee.id).toBe('tom.baker');
    expect(
      await updateRejection(handle.executeUpdate(completeTaskUpdate, { args: [{ by: 'sofia.lind', data: evidence }] })),
    ).toMatch(/only Tom Baker can complete/);
    await handle.executeUpdate(completeTaskUpdate, { args: [{ by: 'tom.baker', data: evidence }] });
    expect((await handle.result()).completedBy).toBe('tom.baker');
  });

  it('cancelled by its parent (Temporal cancellation): closed as cancelled, assignee told, recorded', async () => {
    const handle = await startTask();
    await mailTo(handle, priya, 'task.assigned');
    await handle.cancel();
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    const described = await handle.describe();
    expect(described.status.name).toBe('CANCELLED');
    expect(described.searchAttributes.AimsState).toEqual(['cancelled']);
    await mailTo(handle, priya, 'task.cancelled');
    const [record] = await stack.records.list({ subject: handle.workflowId, kind: 'task.cancelled' });
    expect(record).toBeDefined();
  });

  it('fails clearly on bad input, naming the fields', async () => {
    const handle = await stack.start<[unknown], HumanTaskResult>('humanTask', [
      { title: 'x', instructions: '', assignee: { person: 'priya.raman' }, dueAt: 'tomorrow' },
    ]);
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const message = (err as WorkflowFailedError).cause?.message ?? '';
    expect(message).toContain('title');
    expect(message).toContain('instructions');
    expect(message).toContain('dueAt: must be an ISO-8601 date-time');
  });

  it('a role nobody holds does not fail the task: the AIMS manager holds it', async () => {
    const handle = await startTask({ assignee: { role: 'process-owner', of: 'no-such-process' } });
    await mailTo(handle, priya, 'task.assigned');
    const s = await status(handle);
    expect(s.state).toBe('open');
    expect(s.assignee.id).toBe('priya.raman');
    await handle.executeUpdate(completeTaskUpdate, { args: [{ by: 'priya.raman', data: evidence }] });
    expect((await handle.result()).completedBy).toBe('priya.raman');
  });
});
