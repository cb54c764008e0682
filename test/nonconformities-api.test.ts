/**
 * The admin API for nonconformities against the real stack: the Temporal dev server, a real
 * worker with real activities, the real SMTP server and the real API (driven with inject).
 */
import { headersOf } from './helpers/keys.js';
import { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiInstance } from '../src/api/app.js';
import { summarizeNonconformities, summaryPeriod, type NonconformitySummary } from '../src/corrective-action/summary.js';
import type { NcStatus } from '../src/corrective-action/schema.js';
import { openRecordsStore } from '../src/records/store.js';
import { ncStatusQuery } from '../src/corrective-action/contract.js';
import { approvalStatusQuery, decideUpdate } from '../src/approval/contract.js';
import { completeTaskUpdate, taskStatusQuery } from '../src/task/contract.js';
import { buildStackApp, TEST_ADMIN_HEADERS } from './helpers/browser.js';
import { isNotification } from './helpers/smtp.js';
import { eventually, startTestStack, type TestStack } from './helpers/temporal.js';
import { aimsDataConverter } from '../src/temporal/codec.js';

let stack: TestStack;
let app: ApiInstance;

beforeAll(async () => {
  stack = await startTestStack({ randomNcNumbers: true });
  app = await buildStackApp(stack);
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await stack?.stop();
});

const quiet = { reminderOffsets: [], escalation: [] };

function ncBody(overrides: Record<string, unknown> = {}) {
  return {
    title: 'Fraud model retrained without the approved data sheet',
    description: 'The March retraining used a data extract that had no approved data sheet (A.7.5).',
    severity: 'minor',
    source: 'admin',
    clauses: ['A.7.5'],
    aiSystem: 'fraud-detection',
    owner: 'sofia.lind',
    raisedBy: 'priya.raman',
    policy: { stepDue: '1h', tasks: quiet },
    ...overrides,
  };
}

const raise = (body: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/admin/nonconformities', headers: { ...TEST_ADMIN_HEADERS, ...headers }, payload: body as object });

const getJson = (url: string) => app.inject({ method: 'GET', url, headers: TEST_ADMIN_HEADERS });

interface Raised {
  ncId: string;
  workflowId: string;
  created: boolean;
}

async function raised(overrides: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Raised> {
  const res = await raise(ncBody(overrides), headers);
  expect(res.statusCode, res.body).toBe(201);
  return res.json<Raised>();
}

interface ListItem {
  ncId: string;
  title: string;
  severity: string;
  source: string;
  state: string;
  owner: string;
  targetAt: string;
  overdue: boolean;
}

async function list(query: string): Promise<ListItem[]> {
  const res = await getJson(`/admin/nonconformities?${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ items: ListItem[] }>().items;
}

describe('admin nonconformity API', () => {
  it('raises an NC: a readable id, its corrective action started, the containment task mailed to the owner', async () => {
    const nc = await raised();
    expect(nc.ncId).toMatch(/^NC-\d{4}-\d{6}$/);
    expect(nc.workflowId).toBe(`corrective-action/${nc.ncId}`);
    expect(nc.created).toBe(true);

    const mail = await stack.smtp.waitFor(
      (m) => isNotification(m, `${nc.workflowId}/containment`, 'task.assigned', 'sofia.lind@northwind.example'),
      20_000,
    );
    expect(mail.subject).toContain(nc.ncId);
    expect(mail.text).toContain('Contain');
    const task = await stack.client.workflow.getHandle(`${nc.workflowId}/containment`).query(taskStatusQuery);
    expect(task.assignee.id).toBe('sofia.lind');
    const [record] = await stack.records.list({ subject: nc.workflowId, kind: 'nonconformity.raised' });
    expect(record?.actor).toBe('priya.raman');
  });

  it('gives the same NC for the same Idempotency-Key and a new one without', async () => {
    const key = `retry-${Date.now()}`;
    const first = await raised({ title: 'Retried raise' }, { 'idempotency-key': key });
    const again = await raise(ncBody({ title: 'Retried raise' }), { 'idempotency-key': key });
    expect(again.statusCode).toBe(200);
    expect(again.json<Raised>()).toMatchObject({ ncId: first.ncId, created: false });
    const other = await raised({ title: 'Retried raise' });
    expect(other.ncId).not.toBe(first.ncId);
  });

  it('refuses bad input naming each field, and an unknown owner or AI system, without allocating an id', async () => {
    const bad = await raise({ ...ncBody({ severity: 'huge', owner: 'Not A Person', title: 'x' }), colour: 'red' });
    expect(bad.statusCode).toBe(400);
    const paths = bad.json<{ issues: Array<{ path: string }> }>().issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['severity', 'owner', 'title', 'colour']));

    const unknown = await raise(ncBody({ owner: 'zoe.nobody', aiSystem: 'mind-reader' }));
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json<{ issues: unknown[] }>().issues).toEqual(
      expect.arrayContaining([
        { path: 'owner', message: 'unknown person "zoe.nobody"' },
        { path: 'aiSystem', message: 'unknown AI system "mind-reader" (not in the inventory)' },
      ]),
    );

    const missing = await raise({ title: 'Only a title' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json<{ issues: Array<{ path: string }> }>().issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['description', 'severity', 'source', 'owner']),
    );

    const badQuery = await getJson('/admin/nonconformities?state=sleeping&overdue=maybe');
    expect(badQuery.statusCode).toBe(400);
    expect(badQuery.json<{ issues: Array<{ path: string }> }>().issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['state', 'overdue']),
    );
    expect((await getJson('/admin/nonconformities/NC-27-1')).statusCode).toBe(400);
  });

  it('answers 401 without an API key', async () => {
    const res = await app.inject({ method: 'POST', url: '/admin/nonconformities', payload: ncBody() });
    expect(res.statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/admin/nonconformities' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/admin/nonconformities/summary' })).statusCode).toBe(401);
  });

  it('lists NCs filtered by severity, source, owner, state and overdue', async () => {
    const major = await raised({ severity: 'major', source: 'incident', owner: 'tom.baker', title: 'Support assistant leaked a ticket' });
    const late = await raised({ title: 'Past its target', policy: { stepDue: '1h', overallTarget: '1s', tasks: quiet } });
    await eventually(
      () => stack.client.workflow.getHandle(late.workflowId).query(ncStatusQuery),
      (s) => s.overdue,
    );

    const majors = await eventually(() => list('severity=major'), (items) => items.some((i) => i.ncId === major.ncId));
    expect(majors.every((i) => i.severity === 'major')).toBe(true);
    expect(majors.find((i) => i.ncId === major.ncId)).toMatchObject({
      title: 'Support assistant leaked a ticket',
      source: 'incident',
      owner: 'tom.baker',
      state: 'containment',
      overdue: false,
    });

    expect((await list('source=incident')).map((i) => i.ncId)).toEqual([major.ncId]);
    expect((await list('owner=tom.baker')).map((i) => i.ncId)).toEqual([major.ncId]);
    expect((await list('owner=sofia.lind')).map((i) => i.ncId)).not.toContain(major.ncId);

    const overdue = await eventually(() => list('overdue=true'), (items) => items.some((i) => i.ncId === late.ncId));
    expect(overdue.map((i) => i.ncId)).toEqual([late.ncId]);
    // Overdue, yet still in its step: the state filter finds it there.
    expect(overdue[0]).toMatchObject({ state: 'containment', overdue: true });
    expect((await list('state=containment&severity=minor')).map((i) => i.ncId)).toContain(late.ncId);
    expect((await list('overdue=false')).map((i) => i.ncId)).not.toContain(late.ncId);
    expect(await list('state=closed')).toEqual([]);
  });

  it('gets one NC with its whole timeline; 404 for an unknown one', async () => {
    const nc = await raised({ title: 'Timeline check' });
    const res = await eventually(
      () => getJson(`/admin/nonconformities/${nc.ncId}`),
      (r) => r.statusCode === 200 && r.json<{ status: NcStatus }>().status.currentStep?.key === 'containment',
    );
    const body = res.json<{ ncId: string; executionStatus: string; status: NcStatus }>();
    expect(body).toMatchObject({ ncId: nc.ncId, executionStatus: 'RUNNING' });
    expect(body.status).toMatchObject({ title: 'Timeline check', state: 'containment', notEffectiveCount: 0, cycle: 1 });
    expect(body.status.timeline.map((e) => e.type)).toEqual(['raised', 'step-started']);

    const unknown = await getJson('/admin/nonconformities/NC-1999-999');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json<{ message: string }>().message).toBe('No nonconformity NC-1999-999.');
  });

  it('posts an update, refuses one from an outsider with the workflow reason, and cancels with a reason in the ledger', async () => {
    const nc = await raised({ title: 'Update and cancel' });
    await eventually(
      () => stack.client.workflow.getHandle(nc.workflowId).query(ncStatusQuery),
      (s) => s.currentStep !== undefined,
    );
    // Each request with the key of the person it names in `by` (the actor is whoever is authenticated).
    const post = (path: string, payload: { by?: string; [field: string]: unknown }) =>
      app.inject({ method: 'POST', url: `/admin/nonconformities/${nc.ncId}/${path}`, headers: payload.by ? headersOf(payload.by) : TEST_ADMIN_HEADERS, payload });

    const ok = await post('comments', { by: 'sofia.lind', text: 'Data sheet requested from the data team.' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ ncId: nc.ncId, ok: true, message: 'Update posted.' });

    const outsider = await post('comments', { by: 'tom.baker', text: 'Me too' });
    expect(outsider.statusCode).toBe(409);
    expect(outsider.json<{ message: string }>().message).toBe(
      'Not posted: only the owner or the AIMS manager can post an update on this nonconformity.',
    );
    expect((await post('comments', { text: '' })).json<{ issues: Array<{ path: string }> }>().issues[0]?.path).toBe('text');

    const noReason = await post('cancel', { by: 'priya.raman' });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json<{ issues: Array<{ path: string }> }>().issues.map((i) => i.path)).toEqual(['reason']);
    // The owner may comment but not cancel: refused by the policy before the workflow is asked.
    const notAllowed = await post('cancel', { by: 'sofia.lind', reason: 'Not mine' });
    expect(notAllowed.statusCode).toBe(403);
    expect(notAllowed.json<{ message: string }>().message).toContain('(permission corrective-action.cancel)');

    const cancelled = await post('cancel', { by: 'priya.raman', reason: 'Raised twice; tracked under the audit finding.' });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    await stack.client.workflow.getHandle(nc.workflowId).result();

    const detail = (await getJson(`/admin/nonconformities/${nc.ncId}`)).json<{ executionStatus: string; status: NcStatus }>();
    expect(detail.executionStatus).toBe('COMPLETED');
    expect(detail.status.state).toBe('cancelled');
    expect(detail.status.timeline.map((e) => e.type)).toEqual(['raised', 'step-started', 'commented', 'cancelled']);
    const [record] = await stack.records.list({ subject: nc.workflowId, kind: 'nonconformity.cancelled' });
    expect(record).toMatchObject({ actor: 'priya.raman', content: { reason: 'Raised twice; tracked under the audit finding.' } });
    const [comment] = await stack.records.list({ subject: nc.workflowId, kind: 'nonconformity.comment' });
    expect(comment).toMatchObject({ actor: 'sofia.lind', content: { text: 'Data sheet requested from the data team.' } });

    const again = await post('cancel', { by: 'priya.raman', reason: 'Again' });
    expect(again.statusCode).toBe(409);
    expect(again.json<{ message: string }>().message).toBe(`Not cancelled: ${nc.ncId} is already closed (completed).`);
    const cancelledList = await eventually(() => list('state=cancelled'), (items) => items.some((i) => i.ncId === nc.ncId));
    expect(cancelledList.map((i) => i.ncId)).toEqual([nc.ncId]);
  });

  it('cancels an NC the certification body raised, even a minor one, only once top management approves', async () => {
    const nc = await raised({ title: 'Stage 2 finding: competence records incomplete', source: 'certification-audit', sourceRef: 'S2-F4' });
    const handle = stack.client.workflow.getHandle(nc.workflowId);
    await eventually(() => handle.query(ncStatusQuery), (s) => s.currentStep !== undefined);
    const post = (payload: object) => app.inject({ method: 'POST', url: `/admin/nonconformities/${nc.ncId}/cancel`, headers: TEST_ADMIN_HEADERS, payload });

    const asked = await post({ by: 'priya.raman', reason: 'The body withdrew the finding at the closing meeting.' });
    expect(asked.statusCode, asked.body).toBe(200);
    expect(asked.json<{ message: string }>().message).toMatch(/needs top management's approval/);
    const pending = (await getJson(`/admin/nonconformities/${nc.ncId}`)).json<{ executionStatus: string; status: NcStatus }>();
    expect(pending.executionStatus).toBe('RUNNING');
    expect(pending.status).toMatchObject({ state: 'containment', cancelRequest: { by: 'priya.raman' } });
    const twice = await post({ by: 'priya.raman', reason: 'Again' });
    expect(twice.statusCode).toBe(409);
    expect(twice.json<{ message: string }>().message).toMatch(/^Not cancelled: a cancellation asked by priya\.raman on .* is waiting for top management's decision\.$/);

    const approval = stack.client.workflow.getHandle(`${nc.workflowId}/cancel-approval-1`);
    const s = await eventually(() => approval.query(approvalStatusQuery).catch(() => undefined), (st) => st?.state === 'pending' && st.approvers.length > 0);
    await approval.executeUpdate(decideUpdate, { args: [{ by: 'hannah.okafor', decision: 'approve', contentHash: s!.contentHash }] });
    await handle.result();

    const detail = (await getJson(`/admin/nonconformities/${nc.ncId}`)).json<{ status: NcStatus }>();
    expect(detail.status.state).toBe('cancelled');
    expect(detail.status.cancellation).toMatchObject({ by: 'priya.raman', approvedBy: 'hannah.okafor' });
    const kinds = (await stack.records.list({ subject: nc.workflowId })).map((r) => r.kind);
    expect(kinds).toEqual(['nonconformity.raised', 'nonconformity.cancellation-requested', 'nonconformity.cancellation-decided', 'nonconformity.cancelled']);
  });
});

/** Waits for a step's child task of `workflowId` to be open, then completes it as `by`. */
async function complete(workflowId: string, key: string, by: string, data: Record<string, unknown>) {
  const task = stack.client.workflow.getHandle(`${workflowId}/${key}`);
  await eventually(() => task.query(taskStatusQuery).catch(() => undefined), (s) => s?.state === 'open' && s.assignee.id !== '');
  await task.executeUpdate(completeTaskUpdate, { args: [{ by, data }] });
}

async function approve(workflowId: string, key: string) {
  const approval = stack.client.workflow.getHandle(`${workflowId}/${key}`);
  const s = await eventually(() => approval.query(approvalStatusQuery).catch(() => undefined), (st) => st?.state === 'pending' && st.approvers.length > 0);
  await approval.executeUpdate(decideUpdate, { args: [{ by: 'priya.raman', decision: 'approve', contentHash: s!.contentHash }] });
}

/** Drives an NC raised `daysAgo` days ago through to closure; `notEffectiveFirst` adds one not-effective cycle. */
async function closeNc(daysAgo: number, notEffectiveFirst: boolean): Promise<Raised> {
  const nc = await raised({
    title: `Closed after ${daysAgo} days`,
    raisedAt: new Date(Date.now() - daysAgo * 86_400_000).toISOString(),
    policy: { stepDue: '1h', effectivenessWait: '1s', overallTarget: '30d', tasks: quiet },
  });
  const id = nc.workflowId;
  const evidence = { summary: 'Done.', links: ['https://wiki.northwind.example/nc/evidence'] };
  await complete(id, 'containment', 'sofia.lind', evidence);
  const cycles = notEffectiveFirst ? [1, 2] : [1];
  for (const cycle of cycles) {
    await complete(id, `root-cause-${cycle}`, 'sofia.lind', {
      method: '5-whys',
      analysis: 'Why 1: no data sheet check. Why 2: the pipeline does not ask for one.',
      rootCause: 'The training pipeline does not require an approved data sheet',
      similarElsewhere: 'no',
      similarDetail: 'The other pipelines were checked.',
    });
    await complete(id, `action-plan-${cycle}-1`, 'sofia.lind', {
      actions: [{ owner: 'tom.baker', dueDate: '2030-01-31', description: 'Make the pipeline refuse data without an approved sheet' }],
    });
    await approve(id, `plan-approval-${cycle}-1`);
    await complete(id, `action-${cycle}-1`, 'tom.baker', evidence);
    const effective = !(notEffectiveFirst && cycle === 1);
    await complete(id, `effectiveness-${cycle}`, 'sofia.lind', { answer: effective ? 'yes' : 'no', justification: 'Checked the last runs.' });
  }
  await complete(id, `system-change-${cycles.length}`, 'sofia.lind', { answer: 'no', justification: 'No change needed.' });
  await stack.client.workflow.getHandle(id).result();
  return nc;
}

describe('summary for management review', () => {
  it('counts NCs by state and severity, overdue, closures with the average days to close and the effectiveness results of the period', async () => {
    const from = new Date().toISOString();
    const summary = async (query: string) => {
      const res = await getJson(`/admin/nonconformities/summary?${query}`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json<NonconformitySummary>();
    };
    const before = await summary(`from=${encodeURIComponent(from)}`);
    if (!before.visibility.available) throw new Error(before.visibility.reason);

    const [first, second] = await Promise.all([closeNc(3, true), closeNc(1, false)]);
    const to = new Date(Date.now() + 60_000).toISOString();
    const after = await eventually(
      () => summary(`from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`),
      (s) => s.visibility.available && (s.visibility.byState.closed ?? 0) === (before.visibility.available ? (before.visibility.byState.closed ?? 0) : 0) + 2,
    );
    expect(after.period).toEqual({ from, to });
    if (!after.visibility.available || !after.ledger.available) throw new Error('a source is unavailable');
    expect(after.visibility.total).toBe(before.visibility.total + 2);
    expect(after.visibility.bySeverity.minor).toBe((before.visibility.bySeverity.minor ?? 0) + 2);
    expect(after.visibility.open).toBe(before.visibility.open);
    expect(after.visibility.overdue).toBe(before.visibility.overdue);
    expect(after.visibility.overdue).toBeGreaterThanOrEqual(1);
    expect(after.visibility.raisedInPeriod).toBe(2);

    expect(after.ledger.closedInPeriod).toBe(2);
    expect(after.ledger.averageDaysToClose).toBeCloseTo(2, 1);
    expect(after.ledger.effectiveness).toEqual({ effective: 2, notEffective: 1 });
    const closedIds = (await stack.records.list({ kind: 'nonconformity.closed' })).map((r) => r.subject);
    expect(closedIds).toEqual(expect.arrayContaining([first.workflowId, second.workflowId]));

    // A period before all of this has no closures, and says so with zeros (the ledger answered).
    const earlier = await summary('from=2020-01-01&to=2020-12-31');
    expect(earlier.ledger).toEqual({ available: true, closedInPeriod: 0, averageDaysToClose: null, effectiveness: { effective: 0, notEffective: 0 } });

    const backwards = await getJson('/admin/nonconformities/summary?from=2027-02-01&to=2027-01-01');
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json<{ issues: unknown[] }>().issues).toEqual([{ path: 'from', message: 'must be before to' }]);
    expect((await getJson('/admin/nonconformities/summary?from=soon')).statusCode).toBe(400);
  });

  it('reports a source that cannot be read as unavailable with the reason, never as zero', async () => {
    const closedStore = await openRecordsStore({ dataDir: 'memory://' });
    await closedStore.close();
    const lost = new Client({ connection: stack.connection, namespace: 'no-such-namespace', dataConverter: aimsDataConverter(stack.config) });
    const period = summaryPeriod({ from: '2027-01-01', to: '2027-12-31' });
    expect(period).toEqual({ from: '2027-01-01T00:00:00.000Z', to: '2028-01-01T00:00:00.000Z' });

    const result = await summarizeNonconformities({ client: lost, taskQueue: stack.taskQueue, records: closedStore }, period);
    if (result.visibility.available || result.ledger.available) throw new Error('expected both sources to be unavailable');
    expect(result.visibility.reason).toMatch(/^Temporal visibility: .*no-such-namespace/);
    expect(result.ledger.reason).toMatch(/^evidence ledger: .*closed/i);
    expect(result.visibility).not.toHaveProperty('total');

    // One source down leaves the other reported.
    const half = await summarizeNonconformities({ client: stack.client, taskQueue: stack.taskQueue, records: closedStore }, period);
    expect(half.visibility.available).toBe(true);
    expect(half.ledger.available).toBe(false);
  });
});
