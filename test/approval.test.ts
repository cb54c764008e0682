import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import type { ApprovalInput, ApprovalResult } from '../src/approval/schema.js';
import { approvalStatusQuery, decideUpdate, reviseUpdate } from '../src/approval/contract.js';
import { cancelUpdate, handoverUpdate } from '../src/common/messages.js';
import type { Organization } from '../src/organization/schema.js';
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

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const v1 = sha('management review minutes v1');
const v2 = sha('management review minutes v2');

function startApproval(overrides: Partial<ApprovalInput> = {}) {
  const input: ApprovalInput = {
    kind: 'management-review',
    title: 'Management review 2027 results',
    summary: 'Decisions: extend monitoring to fraud model; new AI objective for support assistant.',
    contentUrl: 'https://aims.northwind.example/reviews/2027',
    contentHash: v1,
    approvers: [{ role: 'top-management' }],
    rule: { type: 'all' },
    preparer: 'priya.raman',
    process: 'management-review',
    clauses: ['9.3.3'],
    dueAt: inMs(60 * 60_000),
    policy: { reminderOffsets: [], escalation: [] },
    ...overrides,
  };
  return stack.start<[ApprovalInput], ApprovalResult>('approval', [input]);
}
type Handle = Awaited<ReturnType<typeof startApproval>>;


const decide = (handle: Handle, by: string, decision: 'approve' | 'reject', contentHash = v1, comment?: string) =>
  handle.executeUpdate(decideUpdate, { args: [{ by, decision, contentHash, ...(comment ? { comment } : {}) }] });

function approvalMail(handle: Handle, email: string) {
  return stack.smtp.waitFor((m) => isNotification(m, handle.workflowId, 'approval.requested', email), 20_000);
}

describe('approval', () => {
  it('rule all: approved once every approver approves; the link in the mail names the approver', async () => {
    const handle = await startApproval();
    const mail = await approvalMail(handle, 'hannah.okafor@northwind.example');
    const link = /http:\/\/127\.0\.0\.1:3999\/a\?token=[\w.-]+/.exec(mail.text ?? '')?.[0];
    const claims = await stack.links.verify(new URL(link!).searchParams.get('token'), { action: 'approval.decide' });
    expect(claims.person).toBe('hannah.okafor');

    await decide(handle, 'hannah.okafor', 'approve');
    expect((await handle.query(approvalStatusQuery)).state).toBe('pending');
    await decide(handle, 'david.chen', 'approve', v1, 'Agreed');
    const result = await handle.result();
    expect(result.status).toBe('approved');
    expect(result.decisions.map((d) => [d.by, d.decision, d.contentHash])).toEqual([
      ['hannah.okafor', 'approve', v1],
      ['david.chen', 'approve', v1],
    ]);
    const [record] = await stack.records.list({ subject: handle.workflowId, kind: 'approval.approved' });
    expect((record?.content as { contentHash: string }).contentHash).toBe(v1);
  });

  it('rule all: one rejection (with its required comment) rejects', async () => {
    const handle = await startApproval();
    expect(await updateRejection(decide(handle, 'hannah.okafor', 'reject'))).toMatch(/comment: a comment is required to reject/);
    await decide(handle, 'hannah.okafor', 'reject', v1, 'Objectives lack owners');
    const result = await handle.result();
    expect(result.status).toBe('rejected');
    expect(result.decisions[0]?.comment).toBe('Objectives lack owners');
  });

  it('rule any: the first approval decides', async () => {
    const handle = await startApproval({ rule: { type: 'any' } });
    await decide(handle, 'david.chen', 'approve');
    expect((await handle.result()).status).toBe('approved');
  });

  it('rule n of m: 2 of 3 approve despite one rejection; two rejections reject', async () => {
    const approvers = [{ person: 'hannah.okafor' }, { person: 'david.chen' }, { person: 'elena.petrova' }];
    const a = await startApproval({ approvers, rule: { type: 'n-of-m', n: 2 } });
    await decide(a, 'elena.petrova', 'reject', v1, 'DPIA missing');
    expect((await a.query(approvalStatusQuery)).state).toBe('pending');
    await decide(a, 'hannah.okafor', 'approve');
    await decide(a, 'david.chen', 'approve');
    expect((await a.result()).status).toBe('approved');

    const b = await startApproval({ approvers, rule: { type: 'n-of-m', n: 2 } });
    await decide(b, 'elena.petrova', 'reject', v1, 'no');
    await decide(b, 'david.chen', 'reject', v1, 'no');
    expect((await b.result()).status).toBe('rejected');
  });

  it('separation of duties: the preparer is not an approver and cannot decide', async () => {
    const handle = await startApproval({ preparer: 'david.chen', rule: { type: 'all' } });
    const s = await eventually(() => handle.query(approvalStatusQuery), (st) => st.approvers.length > 0);
    expect(s.approvers.map((a) => a.id)).toEqual(['hannah.okafor']);
    expect(await updateRejection(decide(handle, 'david.chen', 'approve'))).toMatch(/separation of duties/);
    expect(await updateRejection(decide(handle, 'tom.baker', 'approve'))).toMatch(/not one of the approvers/);
    await decide(handle, 'hannah.okafor', 'approve');
    expect((await handle.result()).status).toBe('approved');
  });

  it('fails clearly when only the preparer could approve', async () => {
    const handle = await startApproval({ preparer: 'hannah.okafor', approvers: [{ person: 'hannah.okafor' }] });
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.message).toMatch(/approvers: needs at least 1 approver\(s\) other than the preparer/);
  });

  it('a double decision is refused; a content change voids earlier decisions and asks again', async () => {
    const handle = await startApproval();
    await decide(handle, 'hannah.okafor', 'approve');
    expect(await updateRejection(decide(handle, 'hannah.okafor', 'approve'))).toMatch(/already decided/);

    await handle.executeUpdate(reviseUpdate, { args: [{ by: 'priya.raman', contentHash: v2, note: 'Minutes corrected' }] });
    const s = await handle.query(approvalStatusQuery);
    expect(s.version).toBe(2);
    expect(s.pending.sort()).toEqual(['david.chen', 'hannah.okafor']);
    expect(s.decisions[0]?.voided).toBe(true);
    // Asked again: a second request mail to each approver.
    await eventually(
      async () =>
        stack.smtp.messages.filter((m) => isNotification(m, handle.workflowId, 'approval.requested')).length,
      (n) => n === 4,
    );
    // A decision on what was shown before the change is refused.
    expect(await updateRejection(decide(handle, 'david.chen', 'approve', v1))).toMatch(/content changed since you opened it/);
    await decide(handle, 'hannah.okafor', 'approve', v2);
    await decide(handle, 'david.chen', 'approve', v2);
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'approved', contentHash: v2, version: 2 });
    expect(result.decisions.filter((d) => !d.voided).every((d) => d.contentHash === v2)).toBe(true);
    expect(result.decisions.filter((d) => d.voided)).toHaveLength(1);
  });

  it('escalates an overdue decision to the undecided approver’s manager and reminds the approver', async () => {
    const handle = await startApproval({
      approvers: [{ person: 'sofia.lind' }],
      dueAt: inMs(1000),
      expireAfter: '1m',
      policy: { reminderOffsets: [], escalation: [{ after: '1s', to: 'manager' }] },
    });
    const escalated = await stack.smtp.waitFor(
      (m) => isNotification(m, handle.workflowId, 'approval.escalated', 'marco.rossi@northwind.example'),
      20_000,
    );
    expect(escalated.text).toContain('Sofia Lind');
    await stack.smtp.waitFor((m) => isNotification(m, handle.workflowId, 'approval.reminder', 'sofia.lind@northwind.example'), 20_000);
    const s = await handle.query(approvalStatusQuery);
    expect(s.state).toBe('overdue');
    expect(s.history.find((e) => e.type === 'escalated')?.detail).toContain('Marco Rossi');
    await decide(handle, 'sofia.lind', 'approve');
    expect((await handle.result()).status).toBe('approved');
  });

  it('expires when nobody decides', async () => {
    const handle = await startApproval({ dueAt: inMs(1000), expireAfter: '1s' });
    const result = await handle.result();
    expect(result.status).toBe('expired');
    const [record] = await stack.records.list({ subject: handle.workflowId, kind: 'approval.expired' });
    expect(record).toBeDefined();
  });
});

/** People change while approvals run (issue #21): a stack of its own whose organization the tests change. */
describe('approval when people change', () => {
  let people: TestStack;
  let org: Organization;
  beforeAll(async () => {
    org = structuredClone(await exampleOrganization());
    people = await startTestStack({ organization: org });
  });
  afterAll(async () => {
    await people?.stop();
  });

  const start = (overrides: Partial<ApprovalInput>) =>
    people.start<[ApprovalInput], ApprovalResult>('approval', [
      {
        kind: 'corrective-action-plan',
        title: 'NC-2027-004: action plan',
        summary: 'Retrain the drift detector; add a weekly check.',
        contentHash: v1,
        approvers: [{ person: 'tom.baker' }, { person: 'elena.petrova' }],
        rule: { type: 'all' },
        preparer: 'priya.raman',
        process: 'corrective-action',
        dueAt: inMs(60 * 60_000),
        policy: { reminderOffsets: [], escalation: [] },
        ...overrides,
      },
    ]);
  const asked = (handle: Handle, id: string) => people.smtp.waitFor((m) => isNotification(m, handle.workflowId, 'approval.requested', `${id}@northwind.example`), 20_000);
  const handover = (handle: Handle, from: string, to: string) =>
    handle.executeUpdate(handoverUpdate, { args: [{ by: 'system', from, to, reason: `${from} left the company`, ref: 'org-change-8' }] });
  const vote = (handle: Handle, by: string) => handle.executeUpdate(decideUpdate, { args: [{ by, decision: 'approve', contentHash: v1 }] });

  it('hands an undecided approver’s decision over; a decided one keeps theirs; twice moves nothing', async () => {
    const handle = await start({});
    await asked(handle, 'tom.baker');
    await vote(handle, 'elena.petrova');
    expect(await handover(handle, 'elena.petrova', 'liam.walsh')).toMatchObject({ moved: false });
    const ack = await handover(handle, 'tom.baker', 'aisha.khan');
    expect(ack).toMatchObject({ moved: true, parts: [{ part: 'approver', to: 'aisha.khan' }] });
    await asked(handle, 'aisha.khan');
    expect(await updateRejection(vote(handle, 'tom.baker'))).toMatch(/not one of the approvers/);
    expect(await handover(handle, 'tom.baker', 'aisha.khan')).toMatchObject({ moved: false, parts: [] });
    const [record] = await people.records.list({ subject: handle.workflowId, kind: 'handover' });
    expect(record?.content).toMatchObject({ from: 'tom.baker', to: 'aisha.khan', part: 'approver', reason: 'tom.baker left the company', ref: 'org-change-8' });
    expect((await handle.describe()).searchAttributes.AimsAssignees).toEqual(['aisha.khan']);
    await vote(handle, 'aisha.khan');
    const result = await handle.result();
    expect(result.status).toBe('approved');
    expect(result.decisions.map((d) => d.by)).toEqual(['elena.petrova', 'aisha.khan']);
    await recordHistory('approval-handover', handle.workflowId);
  });

  it('separation of duties: a handover to the preparer or to another approver goes to the first top manager who is neither', async () => {
    const handle = await start({});
    await asked(handle, 'tom.baker');
    const toPreparer = await handover(handle, 'tom.baker', 'priya.raman');
    expect(toPreparer.parts).toEqual([
      { part: 'approver', to: 'hannah.okafor', note: 'Priya Raman prepared the content (separation of duties): Hannah Okafor of top management decides instead' },
    ]);
    await asked(handle, 'hannah.okafor');
    const toApprover = await handover(handle, 'elena.petrova', 'hannah.okafor');
    expect(toApprover.parts).toEqual([
      { part: 'approver', to: 'david.chen', note: 'Hannah Okafor already approves it (separation of duties): David Chen of top management decides instead' },
    ]);
    await asked(handle, 'david.chen');
    expect((await handle.query(approvalStatusQuery)).approvers.map((a) => a.id)).toEqual(['hannah.okafor', 'david.chen']);
    expect(await updateRejection(vote(handle, 'priya.raman'))).toMatch(/separation of duties/);
    await handle.executeUpdate(cancelUpdate, { args: [{ by: 'system', reason: 'test done' }] });
  });

  it('hands the preparer’s part over: the outcome goes to the new preparer, whose own decision goes to top management', async () => {
    const handle = await start({ approvers: [{ person: 'tom.baker' }], rule: { type: 'any' } });
    await asked(handle, 'tom.baker');
    const ack = await handover(handle, 'priya.raman', 'tom.baker');
    expect(ack.parts).toEqual([
      { part: 'preparer', to: 'tom.baker' },
      { part: 'approver', to: 'hannah.okafor', note: 'Tom Baker prepared the content (separation of duties): Hannah Okafor of top management decides instead' },
    ]);
    await people.smtp.waitFor((m) => isNotification(m, handle.workflowId, 'work.handed-over', 'tom.baker@northwind.example'), 20_000);
    await vote(handle, 'hannah.okafor');
    expect((await handle.result()).status).toBe('approved');
    await people.smtp.waitFor((m) => isNotification(m, handle.workflowId, 'approval.decided', 'tom.baker@northwind.example'), 20_000);
  });

  it('an approver who left before or while it runs: a top manager decides in their place, and the timeline says why', async () => {
    const saved = org.people;
    org.people = saved.filter((p) => p.id !== 'tom.baker');
    try {
      const handle = await start({ dueAt: inMs(2000), policy: { reminderOffsets: ['1s'], escalation: [] } });
      await asked(handle, 'hannah.okafor');
      org.people = saved.filter((p) => p.id !== 'elena.petrova');
      await asked(handle, 'david.chen');
      const s = await handle.query(approvalStatusQuery);
      expect(s.approvers.map((a) => a.id)).toEqual(['hannah.okafor', 'david.chen']);
      expect(s.history.filter((e) => e.type === 'rerouted').map((e) => e.detail)).toEqual([
        'tom.baker is not in the organization: Hannah Okafor of top management decides instead',
        'elena.petrova is not in the organization: David Chen of top management decides instead',
      ]);
      await vote(handle, 'hannah.okafor');
      await vote(handle, 'david.chen');
      expect((await handle.result()).status).toBe('approved');
    } finally {
      org.people = saved;
    }
  });
});
