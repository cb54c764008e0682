/**
 * The internal audit admin API and CLI against the real stack (the Temporal dev server, a real
 * worker, the ledger, the real API over HTTP for the CLI): starting a programme with and without
 * its plan, field errors naming the rule, submitting the plan, mid-year changes, the year-end
 * report and the audit results summary.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiInstance } from '../src/api/app.js';
import { runCli } from '../src/cli/index.js';
import { INTERNAL_AUDIT_PROGRAMME_REPORT, type ProgrammeReportContent } from '../src/internal-audit/schema.js';
import { approvalStatusQuery, decideUpdate } from '../src/approval/contract.js';
import { buildStackApp, linkIn, TEST_ADMIN_HEADERS } from './helpers/browser.js';
import { headersOf } from './helpers/keys.js';
import { isNotification } from './helpers/smtp.js';
import { startHumanTask } from '../src/task/start.js';
import { eventually, startTestStack, type TestStack } from './helpers/temporal.js';

// Years far from now, so the programme ids (`internal-audit-programme/<year>`) are this file's own.
const year = randomInt(2040, 2070);
const cliYear = year + 30;

let stack: TestStack;
let app: ApiInstance;
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  stack = await startTestStack();
  app = await buildStackApp(stack);
  env = { AIMSFLOW_API_URL: await app.listen({ host: '127.0.0.1', port: 0 }), AIMSFLOW_ADMIN_KEY: 'test-admin-key-0123456789abcdef' };
  dir = await mkdtemp(path.join(os.tmpdir(), 'aimsflow-audit-'));
});
afterAll(async () => {
  for (const y of [year, cliYear]) await stack?.client.workflow.getHandle(`internal-audit-programme/${y}`).terminate('test finished').catch(() => undefined);
  await app?.close();
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const send = (method: 'POST' | 'PUT', url: string, payload: object, headers: object = TEST_ADMIN_HEADERS) => app.inject({ method, url, headers: { ...headers }, payload });
const get = (url: string) => app.inject({ method: 'GET', url, headers: TEST_ADMIN_HEADERS });

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { env, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const audit = (y: number, overrides: Record<string, unknown> = {}) => ({
  auditId: 'A-01',
  title: 'Data management for AI systems',
  scope: { clauses: ['8.2', '8.4'], controls: ['A.7.2', 'A.7.4'], processes: ['data-management'] },
  window: { start: `${y}-03-01`, end: `${y}-03-05` },
  leadAuditor: 'aisha.khan',
  auditee: 'sofia.lind',
  ...overrides,
});

interface Issue {
  path: string;
  message: string;
}

describe('internal audit admin API', () => {
  it('refuses a bad programme with every field named, starts one without a plan, takes the plan, changes and reports the year', async () => {
    const refused = await send('POST', '/admin/internal-audit-programmes', {
      year,
      audits: [audit(year, { leadAuditor: 'sofia.lind' }), audit(year, { auditId: 'A-02', window: { start: `${year}-12-30`, end: `${year + 1}-01-02` } })],
    });
    expect(refused.statusCode, refused.body).toBe(400);
    const issues = refused.json<{ issues: Issue[] }>().issues;
    expect(issues).toContainEqual({ path: 'audits.0.leadAuditor', message: 'sofia.lind cannot audit themselves (they are the auditee) [impartiality: auditor is the auditee]' });
    expect(issues).toContainEqual({ path: 'audits.0.leadAuditor', message: 'sofia.lind owns the process "data-management" in the audit scope [impartiality: auditor owns a process in scope]' });
    expect(issues).toContainEqual({ path: 'audits.1.window.end', message: `must be within ${year} [window inside the year]` });
    const badShape = await send('POST', '/admin/internal-audit-programmes', { year: 1999, audits: [{ ...audit(year), auditId: 'three' }] });
    expect(badShape.statusCode).toBe(400);
    expect(badShape.body).toContain('year');
    expect(badShape.body).toContain('must be an audit id such as A-03');
    // Nothing was started by the refused requests.
    expect((await get(`/admin/internal-audit-programmes/${year}`)).statusCode).toBe(404);

    const started = await send('POST', '/admin/internal-audit-programmes', { year, requestedBy: 'priya.raman', policy: { tasks: { reminderOffsets: [], escalation: [] } } });
    expect(started.statusCode, started.body).toBe(201);
    expect(started.json()).toMatchObject({ year, workflowId: `internal-audit-programme/${year}`, warnings: [] });
    expect((await send('POST', '/admin/internal-audit-programmes', { year })).statusCode).toBe(409);
    await eventually(
      async () => (await get(`/admin/internal-audit-programmes/${year}`)).json<{ status: { state: string; planTask?: unknown } }>(),
      (d) => d.status.state === 'planning' && d.status.planTask !== undefined,
    );

    const badPlan = await send('PUT', `/admin/internal-audit-programmes/${year}/plan`, { audits: [audit(year, { leadAuditor: 'priya.raman', scope: { clauses: ['10.2'] } })] });
    expect(badPlan.statusCode, badPlan.body).toBe(400);
    expect(badPlan.json<{ issues: Issue[] }>().issues[0]!.message).toContain('[impartiality: auditor performs the audited AIMS process]');
    const plan = await send('PUT', `/admin/internal-audit-programmes/${year}/plan`, { audits: [audit(year), audit(year, { auditId: 'A-02', title: 'AI policy', scope: { clauses: ['5.2'], controls: ['A.2.2'] }, auditee: 'priya.raman', window: { start: `${year}-05-10`, end: `${year}-05-11` } })], by: 'liam.walsh' }, headersOf('liam.walsh'));
    expect(plan.statusCode, plan.body).toBe(200);
    const ack = plan.json<{ ok: boolean; warnings: string[] }>();
    expect(ack.warnings[0]).toContain(`not covered within the 3-year audit cycle (${year - 2}-${year})`);
    expect(ack.warnings[0]).toContain('9.3');
    expect(ack.warnings[0]).not.toMatch(/[:,] 8\.4(,|$)/);

    const approval = stack.client.workflow.getHandle(`internal-audit-programme/${year}/plan-approval-1`);
    const pending = await eventually(() => approval.query(approvalStatusQuery).catch(() => undefined), (s) => s?.state === 'pending' && s.approvers.length > 0);
    await approval.executeUpdate(decideUpdate, { args: [{ by: 'priya.raman', decision: 'approve', contentHash: pending!.contentHash }] });
    await eventually(async () => (await get(`/admin/internal-audit-programmes/${year}`)).json<{ status: { state: string } }>(), (d) => d.status.state === 'running');

    // Mid-year changes.
    const moved = await send('POST', `/admin/internal-audit-programmes/${year}/audits/A-01/reschedule`, { window: { start: `${year}-04-01`, end: `${year}-04-03` }, reason: 'Auditee on leave' });
    expect(moved.statusCode, moved.body).toBe(200);
    const outside = await send('POST', `/admin/internal-audit-programmes/${year}/audits/A-01/reschedule`, { window: { start: `${year + 1}-04-01`, end: `${year + 1}-04-03` }, reason: 'Later' });
    expect(outside.statusCode).toBe(409);
    expect(outside.json<{ message: string }>().message).toBe(`Not rescheduled: window: must be within ${year}.`);
    const partial = await send('POST', `/admin/internal-audit-programmes/${year}/audits/A-02/auditor`, { leadAuditor: 'priya.raman', reason: 'Aisha is away' });
    expect(partial.statusCode, partial.body).toBe(400);
    expect(partial.json<{ issues: Issue[] }>().issues).toContainEqual({ path: 'leadAuditor', message: 'priya.raman cannot audit themselves (they are the auditee) [impartiality: auditor is the auditee]' });
    expect((await send('POST', `/admin/internal-audit-programmes/${year}/audits/A-02/auditor`, { leadAuditor: 'liam.walsh', reason: 'Aisha is away' })).statusCode).toBe(200);
    expect((await send('POST', `/admin/internal-audit-programmes/${year}/audits/A-09/cancel`, { reason: 'No such audit' })).json<{ message: string }>().message).toContain(
      `no audit A-09 in the ${year} programme`,
    );
    expect((await send('POST', `/admin/internal-audit-programmes/${year}/audits/A-02/cancel`, { reason: 'Policy audited by the certification body' })).statusCode).toBe(200);
    const added = await send('POST', `/admin/internal-audit-programmes/${year}/audits`, {
      audit: audit(year, { auditId: 'A-03', title: 'Risk management', scope: { clauses: ['6.1'] }, auditee: 'david.chen', window: { start: `${year}-09-01`, end: `${year}-09-02` } }),
      reason: 'Follow-up of an incident',
    });
    expect(added.statusCode, added.body).toBe(200);

    const detail = (await get(`/admin/internal-audit-programmes/${year}`)).json<{ status: { audits: Array<{ auditId: string; state: string; leadAuditor: string; window: { start: string } }> } }>();
    expect(detail.status.audits.map((a) => [a.auditId, a.state, a.leadAuditor, a.window.start])).toEqual([
      ['A-01', 'planned', 'aisha.khan', `${year}-04-01`],
      ['A-02', 'cancelled', 'liam.walsh', `${year}-05-10`],
      ['A-03', 'planned', 'aisha.khan', `${year}-09-01`],
    ]);

    // The CLI shows the same programme.
    const shown = await cli('audit', 'show', String(year));
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toContain(`Internal audit programme ${year}: running`);
    expect(shown.out).toMatch(/A-02\s+cancelled/);
    const listed = await eventually(() => cli('audit', 'list'), (r) => r.out.includes(`A-02 cancelled`) && r.out.includes(`${year}  running`));
    expect(listed.out).toContain(`A-01 planned, A-02 cancelled, A-03 planned  (internal-audit-programme/${year})`);
    const late = await cli('audit', 'plan', String(year), '--file', await planFile(year));
    expect(late.code).toBe(1);
    expect(late.err).toContain('a plan can be submitted only while it waits for one');

    const closed = await send('POST', `/admin/internal-audit-programmes/${year}/close-year`, { reason: 'Report before the external audit', by: 'priya.raman' });
    expect(closed.statusCode, closed.body).toBe(200);
    const [report] = await eventually(() => stack.records.list({ kind: INTERNAL_AUDIT_PROGRAMME_REPORT, subject: `internal-audit-programme/${year}` }), (r) => r.length === 1);
    const content = report!.content as ProgrammeReportContent;
    // had not started: cancelled at the year end, before the (final) report.
    expect(content.counts).toEqual({ planned: 2, reported: 0, cancelled: 3, notReported: 0, unplanned: 1 });
    expect(content.status).toBe('final');
    expect(content.findingsByType).toEqual({ majorNc: 0, minorNc: 0, observation: 0, opportunity: 0 });
    // Nothing was reported: the cycle's coverage is empty.
    expect(content.coverage.covered).toEqual([]);

    const summary = await get(`/admin/internal-audits/summary?from=${new Date(Date.now() - 60_000).toISOString()}`);
    expect(summary.statusCode, summary.body).toBe(200);
    expect(summary.json()).toMatchObject({ available: true, auditsReported: 0, programmes: [{ year, workflowId: `internal-audit-programme/${year}`, status: 'final' }] });
    expect((await get('/admin/internal-audits/summary?from=2030-01-01&to=2029-01-01')).statusCode).toBe(400);
  });

  it('starts a programme with its plan from the CLI and reports its coverage warnings', async () => {
    const started = await cli('audit', 'start', String(cliYear), '--file', await planFile(cliYear));
    expect(started.code, started.err).toBe(0);
    expect(started.out).toContain(`started internal-audit-programme/${cliYear}`);
    expect(started.out).toMatch(/warning: not covered within the 3-year audit cycle .*4\.1/);
    const again = await cli('audit', 'start', String(cliYear));
    expect(again.code).toBe(1);
    expect(again.err).toContain('has already been started');
    const bad = await cli('audit', 'reschedule', String(cliYear), 'A-01', '--start', `${cliYear}-02-30`, '--end', `${cliYear}-03-01`, '--reason', 'x');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('must be a date (YYYY-MM-DD) or an ISO-8601 date-time');
    const summary = await cli('audit', 'summary', '--from', '2020-01-01');
    expect(summary.code, summary.err).toBe(0);
    expect(summary.out).toMatch(/^\d+ audit\(s\) reported/);
  });
});

describe('audit findings form on the task page', () => {
  it('shows finding rows, keeps values with errors beside the fields, and completes with the findings as data', async () => {
    const { handle } = await startHumanTask(
      stack.client,
      stack.taskQueue,
      {
        title: 'A-01: Record the findings',
        instructions: 'Record each finding with its grade, the clauses or controls, the statement and the evidence.',
        clauses: ['9.2'],
        process: 'internal-audit',
        assignee: { person: 'aisha.khan' },
        dueAt: new Date(Date.now() + 86_400_000).toISOString(),
        form: 'audit-findings',
        policy: { reminderOffsets: [], escalation: [] },
      },
      { organization: stack.organization },
    ).then((h) => ({ handle: h }));
    const mail = await stack.smtp.waitFor((m) => isNotification(m, handle.workflowId, 'task.assigned', 'aisha.khan@northwind.example'), 20_000);
    const link = new URL(linkIn(mail, '/t'));
    const url = `${link.pathname}${link.search}`;
    const page = await app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Finding 1: grade');
    expect(page.body).toContain('Major nonconformity');
    expect(page.body).toContain('Opportunity for improvement');
    expect(page.body).toMatch(/name="findings\.1\.statement"/);
    const csrf = /name="csrf" value="([0-9a-f]{64})"/.exec(page.body)?.[1] ?? '';
    const post = (fields: Array<[string, string]>) =>
      app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', origin: 'http://127.0.0.1:3999' },
        payload: new URLSearchParams([['csrf', csrf], ...fields]).toString(),
      });

    const bad = await post([
      ['findings.0.type', 'major-nc'],
      ['findings.0.refs', 'A.9.2, clause nine'],
      ['findings.0.statement', 'Replies are sent without review.'],
      ['findings.0.evidence', ''],
    ]);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('Finding 1: the evidence is required');
    expect(bad.body).toContain('Finding 1: the clauses or controls must be a clause (e.g. 9.2) or an Annex A control (e.g. A.5.4)');
    expect(bad.body).toContain('Replies are sent without review.</textarea>');
    expect(bad.body).toMatch(/name="findings\.0\.refs" value="A\.9\.2, clause nine"/);
    const nothing = await post([]);
    expect(nothing.statusCode).toBe(400);
    expect(nothing.body).toContain('The note is required when there are no findings');

    const done = await post([
      ['findings.0.type', 'major-nc'],
      ['findings.0.refs', 'A.9.2, 8.1'],
      ['findings.0.statement', 'Replies are sent without review.'],
      ['findings.0.evidence', '4 of 20 sampled replies had no reviewer.'],
      ['findings.0.owner', 'tom.baker'],
      ['findings.1.type', 'observation'],
      ['findings.1.refs', 'A.9.4'],
      ['findings.1.statement', 'Two wikis.'],
      ['findings.1.evidence', 'Wiki spaces.'],
    ]);
    expect(done.statusCode, done.body).toBe(200);
    expect(await handle.result()).toMatchObject({
      status: 'completed',
      data: {
        findings: [
          { type: 'major-nc', refs: ['A.9.2', '8.1'], statement: 'Replies are sent without review.', evidence: '4 of 20 sampled replies had no reviewer.', owner: 'tom.baker' },
          { type: 'observation', refs: ['A.9.4'], statement: 'Two wikis.', evidence: 'Wiki spaces.' },
        ],
      },
    });
  });
});

async function planFile(y: number): Promise<string> {
  const file = path.join(dir, `plan-${y}.yaml`);
  await writeFile(
    file,
    [
      'audits:',
      '  - auditId: A-01',
      '    title: Data management for AI systems',
      '    scope: { clauses: ["8.2"], controls: ["A.7.4"], processes: [data-management] }',
      `    window: { start: "${y}-03-01", end: "${y}-03-05" }`,
      '    leadAuditor: aisha.khan',
      '    auditee: sofia.lind',
      '',
    ].join('\n'),
  );
  return file;
}
