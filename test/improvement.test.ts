/**
 * Improvement items (ISO/IEC 42001 10.1): the reader over a real in-memory ledger (open until a
 * later record turns an item into an action or dismisses it; a period gives the items as they
 * were at its end), and the admin API against the real stack: list, turn into a task or a
 * corrective action that outlives the request, dismiss with a reason, every refusal naming why.
 */
import { headersOf } from './helpers/keys.js';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApiInstance } from '../src/api/app.js';
import { ncStatusQuery } from '../src/corrective-action/contract.js';
import { openImprovementItems } from '../src/improvement/items.js';
import { createManagementReviewActivities } from '../activities/management-review.js';
import { renderPackHtml } from '../src/management-review/pack.js';
import { improvementItemsText } from '../workflows/management-review/texts.js';
import {
  IMPROVEMENT_ACTIONED,
  IMPROVEMENT_DISMISSED,
  IMPROVEMENT_RAISED,
  improvementId,
  type ImprovementRaisedContent,
} from '../src/improvement/schema.js';
import { IN_MEMORY, openRecordsStore, type RecordsStore } from '../src/records/index.js';
import { taskStatusQuery } from '../src/task/contract.js';
import { buildStackApp, TEST_ADMIN_HEADERS } from './helpers/browser.js';
import { isNotification } from './helpers/smtp.js';
import { eventually, startTestStack, type TestStack } from './helpers/temporal.js';

/** The record an internal audit writes for an observation or opportunity (as workflows/internal-audit does). */
function raised(key: string, findingId: string, occurredAt: string, type: 'observation' | 'opportunity' = 'observation') {
  const auditId = findingId.replace(/-F\d+$/, '');
  const workflowId = `internal-audit/${key}/${auditId}`;
  const id = improvementId(workflowId, findingId);
  const content: ImprovementRaisedContent = {
    improvementId: id,
    source: 'internal-audit',
    type,
    statement: `Statement of ${findingId}`,
    evidence: `Evidence of ${findingId}`,
    clauses: ['8.2', 'A.7.4'],
    finding: { findingId, type, refs: ['8.2', 'A.7.4'], statement: `Statement of ${findingId}`, evidence: `Evidence of ${findingId}` },
    audit: { year: 2027, auditId, workflowId, programmeWorkflowId: `internal-audit-programme/${key}`, title: 'Data management', leadAuditor: 'aisha.khan', auditee: 'sofia.lind' },
    raisedBy: 'aisha.khan',
    raisedAt: occurredAt,
  };
  return { id, record: { id: `${workflowId}/run/improvement-${findingId}`, kind: IMPROVEMENT_RAISED, subject: `improvement/${id}`, clauses: ['10.1', '9.2', '8.2', 'A.7.4'], actor: 'aisha.khan', occurredAt, content } };
}

const closing = (id: string, kind: string, occurredAt: string, content: Record<string, unknown>) => ({
  id: `improvement/${id}/closed`,
  kind,
  subject: `improvement/${id}`,
  clauses: ['10.1'],
  actor: 'priya.raman',
  occurredAt,
  content: { improvementId: id, by: 'priya.raman', ...content },
});

describe('openImprovementItems', () => {
  let store: RecordsStore;
  beforeEach(async () => {
    store = await openRecordsStore({ dataDir: IN_MEMORY });
  });
  afterEach(async () => {
    await store.close();
  });

  it('lists the items still open, oldest first; with a period, those raised in it that were open at its end', async () => {
    const a = raised('2027', 'A-01-F1', '2027-03-01T10:00:00.000Z');
    const b = raised('2027', 'A-01-F2', '2027-03-02T10:00:00.000Z', 'opportunity');
    const c = raised('2027', 'A-02-F1', '2027-05-01T10:00:00.000Z');
    for (const r of [a, b, c]) await store.append(r.record);
    await store.append(closing(b.id, IMPROVEMENT_ACTIONED, '2027-06-01T10:00:00.000Z', { action: { type: 'task', workflowId: `improvement/${b.id}/action` }, note: null }));
    await store.append(closing(c.id, IMPROVEMENT_DISMISSED, '2027-09-01T10:00:00.000Z', { reason: 'Covered by the new data policy' }));

    const open = await openImprovementItems(store);
    expect(open.map((i) => [i.improvementId, i.type, i.sourceRef, i.clauses, i.audit?.auditId])).toEqual([['IMP-2027-A-01-F1', 'observation', 'A-01-F1', ['8.2', 'A.7.4'], 'A-01']]);
    // As at 1 August: A-01-F2 was actioned in June, A-02-F1 not yet dismissed.
    expect((await openImprovementItems(store, { to: '2027-08-01T00:00:00.000Z' })).map((i) => i.improvementId)).toEqual(['IMP-2027-A-01-F1', 'IMP-2027-A-02-F1']);
    expect((await openImprovementItems(store, { from: '2027-03-02T00:00:00.000Z', to: '2027-08-01T00:00:00.000Z' })).map((i) => i.improvementId)).toEqual(['IMP-2027-A-02-F1']);
    expect(await openImprovementItems(store, { to: '2027-03-01T00:00:00.000Z' })).toEqual([]);
  });
});

describe('improvement admin API', () => {
  let stack: TestStack;
  let app: ApiInstance;
  const started: string[] = [];
  beforeAll(async () => {
    stack = await startTestStack({ randomNcNumbers: true });
    app = await buildStackApp(stack);
  });
  afterAll(async () => {
    for (const id of started) await stack?.client.workflow.getHandle(id).terminate('test finished').catch(() => undefined);
    await app?.close();
    await stack?.stop();
  });

  const get = (url: string) => app.inject({ method: 'GET', url, headers: TEST_ADMIN_HEADERS });

  it('management review input (e) gathers the items still open into the sources, the input task and the printable pack', async () => {
    const store = await openRecordsStore({ dataDir: IN_MEMORY });
    try {
      const a = raised('2027', 'A-03-F1', '2027-03-01T10:00:00.000Z');
      const b = raised('2027', 'A-03-F2', '2027-03-02T10:00:00.000Z', 'opportunity');
      for (const r of [a, b]) await store.append(r.record);
      await store.append(closing(b.id, IMPROVEMENT_DISMISSED, '2027-03-05T10:00:00.000Z', { reason: 'Out of scope' }));
      const activities = createManagementReviewActivities({
        organization: () => stack.organization,
        records: store,
        temporal: { client: stack.client, taskQueue: stack.taskQueue },
        sendNotification: () => Promise.reject(new Error('not used')),
        links: stack.links,
      });
      const sources = await activities.collectManagementReviewSources({
        workflowId: 'management-review/2027-e',
        meetingDate: '2027-04-01',
        period: { from: '2026-04-01', to: '2027-04-01' },
      });
      expect(sources.improvements).toEqual({
        available: true,
        items: [{ improvementId: a.id, type: 'observation', statement: 'Statement of A-03-F1', clauses: ['8.2', 'A.7.4'], sourceRef: 'A-03-F1', raisedAt: '2027-03-01T10:00:00.000Z' }],
      });
      const [text] = improvementItemsText(sources);
      expect(text).toContain(`- ${a.id} (observation, 8.2, A.7.4, from A-03-F1): Statement of A-03-F1`);
      expect(text).not.toContain(b.id);
      const pack = { reviewId: '2027-e', workflowId: 'management-review/2027-e', organizationName: 'Northwind', meetingDate: '2027-04-01', meetingStart: '2027-04-01T10:00:00.000Z', meetingEnd: '2027-04-01T12:00:00.000Z', builtAt: '2027-04-01T10:00:00.000Z', inputs: [{ key: 'e' as const, title: 'Opportunities for continual improvement', owner: 'priya.raman', taskWorkflowId: 'management-review/2027-e/input-e', dueAt: '2027-03-20T10:00:00.000Z', state: 'missing' as const }], automatic: sources, contentHash: 'b'.repeat(64) };
      const html = renderPackHtml(pack);
      expect(html).toContain('Improvement items still open (10.1)');
      expect(html).toContain(`<td><code>${a.id}</code></td><td>observation</td><td>8.2, A.7.4</td><td>A-03-F1</td>`);
      // A pack built before improvement items existed has no such section.
      expect(renderPackHtml({ ...pack, automatic: { ...sources, improvements: undefined } })).not.toContain('Improvement items still open');
    } finally {
      await store.close();
    }
  });

  const post = (url: string, payload: object) => app.inject({ method: 'POST', url, headers: TEST_ADMIN_HEADERS, payload });

  it('lists open items, turns them into a task or a corrective action, dismisses them with a reason, and refuses what cannot be', async () => {
    const key = `t${randomUUID().slice(0, 8)}`;
    const now = Date.now();
    const [first, second, third] = ['A-01-F1', 'A-01-F2', 'A-01-F3'].map((f, i) => raised(key, f, new Date(now - (3 - i) * 60_000).toISOString()));
    for (const r of [first!, second!, third!]) await stack.records.append(r.record);
    const ids = [first!.id, second!.id, third!.id];
    const listed = async (query = '') => (await get(`/admin/improvements${query}`)).json<{ items: Array<{ improvementId: string; state: string }> }>().items.filter((i) => ids.includes(i.improvementId));

    expect((await listed()).map((i) => [i.improvementId, i.state])).toEqual(ids.map((id) => [id, 'open']));
    expect((await get(`/admin/improvements/${first!.id}`)).json()).toMatchObject({ improvementId: first!.id, state: 'open', sourceRef: 'A-01-F1', audit: { auditId: 'A-01' } });
    expect((await get('/admin/improvements/IMP-nothing-A-09-F1')).statusCode).toBe(404);
    expect((await get('/admin/improvements/not-an-id')).statusCode).toBe(400);

    // Refused: a due date that has passed, a person other than the AIMS manager, an unknown item.
    const past = await post(`/admin/improvements/${first!.id}/action`, { as: 'task', assignee: 'sofia.lind', dueAt: new Date(now - 86_400_000).toISOString(), by: 'priya.raman' });
    expect(past.statusCode, past.body).toBe(400);
    const issues = past.json<{ issues: Array<{ path: string; message: string }> }>().issues;
    expect(issues.map((i) => i.path)).toEqual(['dueAt']);
    expect(issues[0]!.message).toMatch(/is not in the future \(now .*\) \[due date in the future\]$/);
    const dueAt = new Date(now + 7 * 86_400_000).toISOString();
    const notTheManager = await post(`/admin/improvements/${first!.id}/action`, { as: 'task', assignee: 'sofia.lind', dueAt, by: 'marco.rossi' });
    expect(notTheManager.statusCode).toBe(403);
    expect(notTheManager.json<{ message: string }>().message).toContain('by names "marco.rossi"');
    const asMarco = await app.inject({ method: 'POST', url: `/admin/improvements/${first!.id}/action`, headers: headersOf('marco.rossi'), payload: { as: 'task', assignee: 'sofia.lind', dueAt } });
    expect(asMarco.statusCode).toBe(403);
    expect(asMarco.json<{ message: string }>().message).toContain('(permission improvement.triage)');
    expect((await post('/admin/improvements/IMP-nothing-A-09-F1/action', { as: 'task', assignee: 'sofia.lind', dueAt })).statusCode).toBe(404);
    const unknownPerson = await post(`/admin/improvements/${first!.id}/action`, { as: 'task', assignee: 'nobody', dueAt });
    expect(unknownPerson.statusCode).toBe(400);
    expect(unknownPerson.body).toContain('unknown person');

    // A task that outlives the request.
    const asTask = await post(`/admin/improvements/${first!.id}/action`, { as: 'task', assignee: 'sofia.lind', dueAt, by: 'priya.raman', note: 'One wiki page for all risk owners.' });
    expect(asTask.statusCode, asTask.body).toBe(201);
    const taskId = `improvement/${first!.id}/action`;
    started.push(taskId);
    expect(asTask.json()).toMatchObject({ improvementId: first!.id, state: 'actioned', action: { type: 'task', workflowId: taskId, assignee: 'sofia.lind', dueAt } });
    const task = await eventually(() => stack.client.workflow.getHandle(taskId).query(taskStatusQuery).catch(() => undefined), (t) => t?.state === 'open' && t.assignee.id === 'sofia.lind');
    expect(task!.process).toBe('improvement');
    expect(task!.clauses).toEqual(['10.1', '8.2', 'A.7.4']);
    expect(task!.instructions).toContain('Statement of A-01-F1');
    expect(task!.requestedBy).toBe('priya.raman');
    await stack.smtp.waitFor((m) => isNotification(m, taskId, 'task.assigned', 'sofia.lind@northwind.example'));
    const again = await post(`/admin/improvements/${first!.id}/dismiss`, { reason: 'Changed my mind' });
    expect(again.statusCode).toBe(409);
    expect(again.json<{ message: string }>().message).toContain(`${first!.id} is already closed: turned into an action (task ${taskId}) by priya.raman`);

    // Dismissed with a reason (a reason is required).
    expect((await post(`/admin/improvements/${second!.id}/dismiss`, {})).statusCode).toBe(400);
    const dismissed = await post(`/admin/improvements/${second!.id}/dismiss`, { reason: 'Already addressed by the new data policy', by: 'priya.raman' });
    expect(dismissed.statusCode, dismissed.body).toBe(200);
    expect((await post(`/admin/improvements/${second!.id}/action`, { as: 'task', assignee: 'sofia.lind', dueAt })).statusCode).toBe(409);

    // A nonconformity after all: a corrective action owned by the auditee.
    expect((await post(`/admin/improvements/${third!.id}/action`, { as: 'corrective-action', severity: 'minor' })).statusCode).toBe(400);
    const asNc = await post(`/admin/improvements/${third!.id}/action`, { as: 'corrective-action', severity: 'minor', reason: 'The requirement of A.7.4 is not met', by: 'priya.raman' });
    expect(asNc.statusCode, asNc.body).toBe(201);
    const { action } = asNc.json<{ action: { type: string; ncId: string; workflowId: string; owner: string } }>();
    started.push(action.workflowId);
    expect(action).toMatchObject({ type: 'corrective-action', owner: 'sofia.lind', workflowId: `corrective-action/${action.ncId}` });
    const nc = await stack.client.workflow.getHandle(action.workflowId).query(ncStatusQuery);
    expect(nc).toMatchObject({ source: 'internal-audit', sourceRef: 'A-01-F3', severity: 'minor', owner: 'sofia.lind' });

    // None is open any more; the ledger says how each was closed.
    expect(await listed()).toEqual([]);
    expect((await listed('?state=closed')).map((i) => [i.improvementId, i.state])).toEqual([
      [first!.id, 'actioned'],
      [second!.id, 'dismissed'],
      [third!.id, 'actioned'],
    ]);
    expect((await openImprovementItems(stack.records)).filter((i) => ids.includes(i.improvementId))).toEqual([]);
    const [dismissal] = await stack.records.list({ kind: IMPROVEMENT_DISMISSED, subject: `improvement/${second!.id}` });
    expect(dismissal).toMatchObject({ actor: 'priya.raman', clauses: ['10.1', '8.2', 'A.7.4'], content: { improvementId: second!.id, reason: 'Already addressed by the new data policy' } });
    const [actioned] = await stack.records.list({ kind: IMPROVEMENT_ACTIONED, subject: `improvement/${first!.id}` });
    expect(actioned!.content).toMatchObject({ action: { type: 'task', workflowId: taskId }, note: 'One wiki page for all risk owners.' });
  });
});
