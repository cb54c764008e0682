import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import type { HumanTaskInput, HumanTaskResult } from '../src/task/schema.js';
import { cancelUpdate, commentUpdate, handoverUpdate } from '../src/common/messages.js';
import type { Organization } from '../src/organization/schema.js';
import { completeTaskUpdate, delegateTaskUpdate, extendDueUpdate, reassignTaskUpdate, taskStatusQuery } from '../src/task/contract.js';
import { recordHistory } from './helpers/histories.js';
import { isNotification } from './helpers/smtp.js';
import { eventually, exampleOrganization, inMs, startTestStack, updateRejection, type TestStack } from './helpers/temporal.js';

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

/**
 * People change while tasks run (issue #21): a stack of its own whose organization the tests
 * change as an organization file reload would.
 */
describe('human task when people change', () => {
  let people: TestStack;
  let org: Organization;
  beforeAll(async () => {
    org = structuredClone(await exampleOrganization());
    people = await startTestStack({ organization: org });
  });
  afterAll(async () => {
    await people?.stop();
  });

  const start = (overrides: Partial<HumanTaskInput>) =>
    people.start<[HumanTaskInput], HumanTaskResult>('humanTask', [
      {
        title: 'Review the fraud-detection thresholds',
        instructions: 'Check the thresholds against last month and attach the evidence.',
        clauses: ['8.2'],
        process: 'ai-system-lifecycle',
        assignee: { person: 'sofia.lind' },
        dueAt: inMs(60 * 60_000),
        form: 'evidence',
        policy: { reminderOffsets: [], escalation: [] },
        ...overrides,
      },
    ]);
  const mailed = (handle: TaskHandle, email: string, kind: string) => people.smtp.waitFor((m) => isNotification(m, handle.workflowId, kind, email), 20_000);
  const count = (handle: TaskHandle, email: string, kind: string) => people.smtp.messages.filter((m) => isNotification(m, handle.workflowId, kind, email)).length;
  const sofia = 'sofia.lind@northwind.example';
  const marco = 'marco.rossi@northwind.example';
  /** sofia.lind leaves; her process goes to marco.rossi. Returns the undo. */
  const sofiaLeaves = () => {
    const before = structuredClone({ people: org.people, processOwners: org.roles.processOwners });
    org.people = org.people.filter((p) => p.id !== 'sofia.lind');
    org.roles.processOwners['data-management'] = 'marco.rossi';
    return () => {
      org.people = before.people;
      org.roles.processOwners = before.processOwners;
    };
  };
  const handover = (handle: TaskHandle, from: string, to: string) =>
    handle.executeUpdate(handoverUpdate, { args: [{ by: 'system', from, to, reason: `${from} moved to another team`, ref: 'org-change-7' }] });

  it('an assignee unknown at escalation does not fail the task: it escalates to the manager recorded at assignment, who takes the task', async () => {
    const handle = await start({ dueAt: inMs(1500), policy: { reminderOffsets: [], escalation: [{ after: '500ms', to: 'manager' }] } });
    await mailed(handle, sofia, 'task.assigned');
    const undo = sofiaLeaves();
    try {
      const s = await eventually(() => handle.query(taskStatusQuery), (st) => st.escalationLevel === 1, { timeoutMs: 20_000 });
      expect(s.state).toBe('overdue');
      expect(s.assignee.id).toBe('marco.rossi');
      const rerouted = s.history.find((e) => e.type === 'rerouted');
      expect(rerouted?.detail).toBe('sofia.lind is not in the organization; the task goes to Marco Rossi, the manager recorded at assignment');
      const escalated = s.history.find((e) => e.type === 'escalated');
      expect(escalated?.data?.to).toEqual(['marco.rossi']);
      expect(escalated?.detail).toContain('sofia.lind is not in the organization');
      const assigned = await mailed(handle, marco, 'task.assigned');
      expect(assigned.text).toContain('Reason: sofia.lind is not in the organization');
      await mailed(handle, marco, 'task.escalated');
      expect(count(handle, sofia, 'task.escalated')).toBe(0);
      await handle.executeUpdate(completeTaskUpdate, { args: [{ by: 'marco.rossi', data: evidence }] });
      expect(await handle.result()).toMatchObject({ status: 'completed', completedBy: 'marco.rossi' });
      await recordHistory('human-task-rerouted', handle.workflowId);
    } finally {
      undo();
    }
  });

  it('an assignee unknown at a reminder hands the task to the fallback, who is reminded', async () => {
    const handle = await start({ dueAt: inMs(2500), policy: { reminderOffsets: ['1500ms'], escalation: [] } });
    await mailed(handle, sofia, 'task.assigned');
    const undo = sofiaLeaves();
    try {
      await mailed(handle, marco, 'task.reminder');
      expect(count(handle, sofia, 'task.reminder')).toBe(0);
      const s = await handle.query(taskStatusQuery);
      expect(s.assignee.id).toBe('marco.rossi');
      expect(s.history.map((e) => e.type)).toEqual(expect.arrayContaining(['rerouted', 'reminded']));
      await handle.executeUpdate(cancelUpdate, { args: [{ by: 'system', reason: 'test done' }] });
    } finally {
      undo();
    }
  });

  it('hands over the assignee: the new one is mailed, the ledger records it, a second handover moves nothing', async () => {
    const handle = await start({ assignee: { person: 'tom.baker' } });
    await mailed(handle, 'tom.baker@northwind.example', 'task.assigned');
    const ack = await handover(handle, 'tom.baker', 'elena.petrova');
    expect(ack).toMatchObject({ ok: true, moved: true, parts: [{ part: 'assignee', to: 'elena.petrova' }] });
    const assigned = await mailed(handle, 'elena.petrova@northwind.example', 'task.assigned');
    expect(assigned.text).toContain('Handed over from tom.baker: tom.baker moved to another team');
    const s = await handle.query(taskStatusQuery);
    expect(s.assignee.id).toBe('elena.petrova');
    // The manager recorded at assignment is the new assignee's.
    expect(
      await updateRejection(handle.executeUpdate(completeTaskUpdate, { args: [{ by: 'tom.baker', data: evidence }] })),
    ).toMatch(/only Elena Petrova can complete/);
    const [record] = await people.records.list({ subject: handle.workflowId, kind: 'handover' });
    expect(record?.content).toMatchObject({ taskId: handle.workflowId, from: 'tom.baker', to: 'elena.petrova', part: 'assignee', reason: 'tom.baker moved to another team', ref: 'org-change-7' });
    expect((await handle.describe()).searchAttributes.AimsOwner).toEqual(['elena.petrova']);

    expect(await handover(handle, 'tom.baker', 'elena.petrova')).toMatchObject({ moved: false, parts: [] });
    expect(await people.records.list({ subject: handle.workflowId, kind: 'handover' })).toHaveLength(1);
    expect(await updateRejection(handover(handle, 'elena.petrova', 'nobody.here'))).toMatch(/to: unknown person "nobody.here"/);
    await handle.executeUpdate(completeTaskUpdate, { args: [{ by: 'elena.petrova', data: evidence }] });
    await handle.result();
    await recordHistory('human-task-handover', handle.workflowId);
  });

  it('a task asked of a role goes to the role’s new holder, whoever the handover names', async () => {
    const handle = await start({ assignee: { role: 'process-owner', of: 'data-management' } });
    await mailed(handle, sofia, 'task.assigned');
    const undo = sofiaLeaves();
    try {
      const ack = await handover(handle, 'sofia.lind', 'tom.baker');
      expect(ack.parts).toEqual([{ part: 'assignee', to: 'marco.rossi', note: 'the task is asked of process-owner: its holder takes it' }]);
      await mailed(handle, marco, 'task.assigned');
      expect((await handle.query(taskStatusQuery)).assignee.id).toBe('marco.rossi');
      await handle.executeUpdate(cancelUpdate, { args: [{ by: 'system', reason: 'test done' }] });
    } finally {
      undo();
    }
  });

  it('hands over the delegate and the escalation manager recorded at assignment', async () => {
    const handle = await start({});
    await mailed(handle, sofia, 'task.assigned');
    await handle.executeUpdate(delegateTaskUpdate, { args: [{ by: 'sofia.lind', to: 'liam.walsh' }] });
    expect((await handover(handle, 'liam.walsh', 'aisha.khan')).parts).toEqual([{ part: 'delegate', to: 'aisha.khan' }]);
    await mailed(handle, 'aisha.khan@northwind.example', 'task.assigned');
    // sofia.lind's manager, marco.rossi, hands his part to david.chen: the reassignment is now his to make.
    expect((await handle.query(taskStatusQuery)).escalationManager).toBe('marco.rossi');
    expect((await handover(handle, 'marco.rossi', 'david.chen')).parts).toEqual([{ part: 'escalation-manager', to: 'david.chen' }]);
    expect((await handle.query(taskStatusQuery)).escalationManager).toBe('david.chen');
    await mailed(handle, 'david.chen@northwind.example', 'work.handed-over');
    expect(
      await updateRejection(handle.executeUpdate(reassignTaskUpdate, { args: [{ by: 'marco.rossi', to: 'tom.baker', reason: 'x' }] })),
    ).toMatch(/only the AIMS manager or the assignee's manager/);
    await handle.executeUpdate(reassignTaskUpdate, { args: [{ by: 'david.chen', to: 'tom.baker', reason: 'Tom takes it' }] });
    const s = await handle.query(taskStatusQuery);
    expect(s.assignee.id).toBe('tom.baker');
    expect(s.history.filter((e) => e.type === 'handover').map((e) => e.data?.part)).toEqual(['delegate', 'escalation-manager']);
    await handle.executeUpdate(cancelUpdate, { args: [{ by: 'system', reason: 'test done' }] });
  });
});
