/**
 * The console home's "needs attention" for the AIMS manager and top management: overdue work by
 * process, work due by the end of the month, approvals waiting (whose, since when) and the next
 * external audit's readiness from the certification cycle's report; hidden from other roles; a
 * Temporal that does not answer gives a 503 page, not a 500. In Chromium: no serious or critical
 * axe-core finding, and the screenshots of the home page.
 */
import { createServer, type Server } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optionalPart } from '../scripts/lib/parts.js';
import { permits } from '../src/auth/permissions.js';
import { startCertificationCycle } from '../src/certification/start.js';
import type { CertificationStatus } from '../src/certification/schema.js';
import { certificationStatusQuery } from '../src/certification/contract.js';
import { endOfMonth, readinessOf, sortAttention, type AttentionItem } from '../src/console/attention.js';
import { buildTestApp, headersOf } from './helpers/api.js';
import { TEST_ADMIN_HEADERS } from './helpers/browser.js';
import { axeViolations, consoleFetch, screenshots, signInJar, signInPage, startConsole, type ConsoleContext } from './helpers/console.js';
import { eventually } from './helpers/temporal.js';

const chromium = optionalPart('Chromium');
if (!chromium.here) console.warn(`console home: browser checks skipped: ${chromium.skipReason}`);

const DAY = 86_400_000;
const quiet = { reminderOffsets: [], escalation: [] };

describe('attention, the parts', () => {
  it('is for the AIMS manager and top management only', () => {
    expect(permits(['aims-manager'], 'console.attention')).toBe(true);
    expect(permits(['top-management'], 'console.attention')).toBe(true);
    for (const role of ['internal-auditor', 'ai-governance', 'process-owner', 'system-owner', 'external-auditor', 'operations-admin'] as const) {
      expect(permits([role], 'console.attention'), role).toBe(false);
    }
  });

  it('groups overdue work by process, most first, and keeps what is due in the rest of the month', () => {
    const now = Date.parse('2027-03-10T12:00:00Z');
    const end = endOfMonth(new Date(now), 'UTC').getTime();
    expect(new Date(end).toISOString()).toBe('2027-04-01T00:00:00.000Z');
    expect(endOfMonth(new Date('2027-12-31T23:30:00Z'), 'Europe/Berlin').toISOString()).toBe('2028-01-31T23:00:00.000Z');
    const item = (workflowId: string, process: string, dueAt: string | undefined, overdue: boolean): AttentionItem => ({ workflowId, type: 'humanTask', title: workflowId, process, state: overdue ? 'overdue' : 'open', owner: undefined, assignees: [], dueAt, overdue, startedAt: '2027-01-01T00:00:00Z' });
    const { overdue, dueThisMonth } = sortAttention(
      [
        item('a', 'internal-audit', '2027-03-01T00:00:00Z', true),
        item('b', 'corrective-action', '2027-03-05T00:00:00Z', true),
        item('c', 'corrective-action', '2027-02-01T00:00:00Z', true),
        item('d', 'objective', '2027-03-20T00:00:00Z', false),
        item('e', 'objective', '2027-04-02T00:00:00Z', false),
        item('f', 'objective', '2027-03-11T00:00:00Z', false),
        { ...item('g', 'management-review', '2027-03-12T00:00:00Z', false), type: 'approval' },
      ],
      now,
      end,
    );
    expect(overdue.map((g) => [g.process, g.items.map((i) => i.workflowId)])).toEqual([
      ['corrective-action', ['c', 'b']],
      ['internal-audit', ['a']],
    ]);
    expect(dueThisMonth.map((i) => i.workflowId)).toEqual(['f', 'd']);
  });

  it("takes the latest readiness report of the cycle's next audit, or says none has run yet", () => {
    const base = { certificateId: 'CERT-1', workflowId: 'certification/iso42001/CERT-1', state: 'valid', plan: { surveillance1: '2027-05-10' }, current: 'surveillance1' } as unknown as CertificationStatus;
    const report = (ready: boolean, at: string) => ({
      audit: 'surveillance1' as const,
      check: '30d',
      at,
      period: { from: '2026-05-10', to: '2027-05-10' },
      internalAudit: { available: true as const, complete: ready, audits: [], missing: ready ? [] : ['9.3'] },
      managementReview: { available: true as const, complete: true, reviews: [{ reviewId: '2027', workflowId: 'management-review/2027', approvedAt: '2027-02-01' }] },
      openMajors: { available: true as const, items: [] },
      ready,
    });
    const withReports = { ...base, audits: [{ audit: 'surveillance1', planned: '2027-05-10', readiness: [report(false, '2027-03-11T00:00:00Z'), report(true, '2027-04-10T00:00:00Z')] }] } as unknown as CertificationStatus;
    expect(readinessOf(withReports, ['60d', '30d'])).toMatchObject({ kind: 'cycle', audit: { key: 'surveillance1', name: 'first surveillance audit', planned: '2027-05-10' }, report: { kind: 'report', ready: true, at: '2027-04-10T00:00:00Z' } });
    const none = { ...base, audits: [{ audit: 'surveillance1', planned: '2027-05-10', readiness: [] }] } as unknown as CertificationStatus;
    expect(readinessOf(none, ['60d', '30d'])).toMatchObject({ report: { kind: 'not-yet', checks: ['60d', '30d'] } });
    expect(readinessOf({ ...none, current: 'decision' }, [])).toMatchObject({ report: { kind: 'no-audit', state: 'awaiting the certification decision' } });
  });
});

describe('console home, needs attention', () => {
  let ctx: ConsoleContext;
  const started: string[] = [];

  beforeAll(async () => {
    ctx = await startConsole();
    const now = Date.now();
    const monthEnd = endOfMonth(new Date(now), 'UTC').getTime();
    const task = async (title: string, process: string, assignee: string, dueAt: number) => {
      const res = await ctx.app.inject({
        method: 'POST',
        url: '/admin/tasks',
        headers: TEST_ADMIN_HEADERS,
        payload: { title, instructions: 'See the console.', clauses: ['10.2'], process, assignee: { person: assignee }, dueAt: new Date(dueAt).toISOString(), form: 'evidence', policy: quiet },
      });
      expect(res.statusCode, res.body).toBe(201);
      started.push(res.json<{ workflowId: string }>().workflowId);
    };
    await task('Send the root cause of NC-2026-007', 'corrective-action', 'tom.baker', now - 2 * DAY);
    await task('Update the model card of the chatbot', 'ai-system-lifecycle', 'marco.rossi', now - DAY);
    await task('Collect the Q4 complaint figures', 'objective', 'tom.baker', now + (monthEnd - now) / 2);
    const approval = await ctx.app.inject({
      method: 'POST',
      url: '/admin/approvals',
      headers: TEST_ADMIN_HEADERS,
      payload: {
        kind: 'management-review',
        title: 'Minutes of management review 2026',
        summary: 'Decisions and actions of the 2026 review.',
        contentHash: 'a'.repeat(64),
        approvers: [{ person: 'hannah.okafor' }, { person: 'david.chen' }],
        preparer: 'priya.raman',
        process: 'management-review',
        dueAt: new Date(now + 5 * DAY).toISOString(),
        policy: quiet,
      },
    });
    expect(approval.statusCode, approval.body).toBe(201);
    started.push(approval.json<{ workflowId: string }>().workflowId);
    // A certificate's cycle whose first surveillance is in 40 days, with one readiness check due now.
    const cert = `CERT-H${Math.floor(Math.random() * 1e6)}`;
    const { handle } = await startCertificationCycle(
      ctx.stack.client,
      ctx.stack.taskQueue,
      {
        certificateId: cert,
        plan: { surveillance1: new Date(now + 40 * DAY).toISOString(), surveillance2: new Date(now + 300 * DAY).toISOString().slice(0, 10), recertification: new Date(now + 700 * DAY).toISOString().slice(0, 10) },
        certificate: { decisionDate: new Date(now - 60 * DAY).toISOString().slice(0, 10), expiresOn: new Date(now + 1000 * DAY).toISOString().slice(0, 10) },
        policy: { reminderOffsets: [], readinessChecks: [`${40 * 86_400 - 10}s`], auditWindow: '30d' },
        startedBy: 'priya.raman',
      },
      { organization: ctx.stack.organization },
    );
    started.push(handle.workflowId);
    await eventually(() => handle.query(certificationStatusQuery), (s) => (s.audits[0]?.readiness.length ?? 0) > 0, { timeoutMs: 60_000 });
  });
  afterAll(async () => {
    if (ctx) {
      // The cycle's readiness check started a management review; end everything this file started.
      for await (const info of ctx.stack.client.workflow.list({ query: `ExecutionStatus = 'Running' AND TaskQueue = '${ctx.stack.taskQueue}'` })) {
        await ctx.stack.client.workflow.getHandle(info.workflowId).terminate('test finished').catch(() => undefined);
      }
    }
    await ctx?.close();
  });

  it('shows top management what is overdue by process, due this month, the approvals waiting and the next audit’s readiness', async () => {
    const jar = await signInJar(ctx, 'hannah.okafor');
    const html = await eventually(
      async () => (await consoleFetch(ctx, jar, '/console')).text(),
      (body) => body.includes('Update the model card of the chatbot') && body.includes('Collect the Q4 complaint figures') && body.includes('Minutes of management review 2026'),
      { timeoutMs: 30_000 },
    );
    const text = html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(html).toContain('<h2 id="attention">Needs attention</h2>');
    // Overdue, by process: each process with its count, each item with who holds it.
    expect(text).toMatch(/Corrective actions 1 overdue Send the root cause of NC-2026-007 due .* · Tom Baker/);
    expect(text).toMatch(/ai-system-lifecycle 1 overdue Update the model card of the chatbot due .* · Marco Rossi/);
    // Due this month.
    expect(text).toMatch(/Collect the Q4 complaint figures Objectives Tom Baker/);
    // The approval waiting: for whom, asked by whom, since when.
    expect(text).toMatch(/Minutes of management review 2026 Hannah Okafor, David Chen Priya Raman \w{3} \d{1,2} \w{3} \d{4}, \d{2}:\d{2} UTC/);
    // The readiness report of the cycle's next audit.
    expect(text).toMatch(/CERT-H\d+ : first surveillance audit, planned for/);
    expect(text).toContain('Not ready as the readiness check');
    expect(text).toContain('Management review covering the period:');
    // Each item links to its workflow in the Temporal UI.
    expect(html).toMatch(/href="http:\/\/localhost:8233\/namespaces\/default\/workflows\/task%2Fadhoc%2F/);
  });

  it('does not show it to other roles, and GET changes nothing', async () => {
    const jar = await signInJar(ctx, 'tom.baker');
    const html = await (await consoleFetch(ctx, jar, '/console')).text();
    expect(html).toContain('<h1>Home</h1>');
    expect(html).not.toContain('Needs attention');
    const ext = await (await consoleFetch(ctx, await signInJar(ctx, 'ines.moreau'), '/console')).text();
    expect(ext).not.toContain('Needs attention');
    const head = await ctx.stack.records.head();
    await consoleFetch(ctx, await signInJar(ctx, 'priya.raman'), '/console');
    expect((await ctx.stack.records.head()).seq).toBe(head.seq);
  });

  it.skipIf(!chromium.here)('has no serious or critical accessibility finding, and gives the screenshots of the home page', async () => {
    for (const viewport of ['desktop', 'phone'] as const) {
      const page = await signInPage(ctx, 'hannah.okafor', viewport);
      await page.getByRole('heading', { name: 'Approvals waiting' }).waitFor();
      expect(await page.getByRole('heading', { level: 1 }).allTextContents()).toEqual(['Home']);
      expect(await axeViolations(page)).toEqual([]);
      // At phone width the tables scroll inside their region; the page itself does not.
      expect(await page.evaluate(() => {
        const w = globalThis as unknown as { document: { documentElement: { scrollWidth: number } }; innerWidth: number };
        return w.document.documentElement.scrollWidth <= w.innerWidth;
      })).toBe(true);
      if (viewport === 'desktop') await screenshots(page, 'home');
      await page.context().close();
    }
  });
});

describe('console home, Temporal not answering', () => {
  let silent: Server;
  let port = 0;
  beforeAll(async () => {
    // Accepts connections and never answers: a Temporal frontend that hangs.
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    port = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    silent.close();
  });

  it('answers 503 with Retry-After and a page that says so, within the list deadline', async () => {
    const connection = Connection.lazy({ address: `127.0.0.1:${port}`, connectTimeout: 60_000 });
    const test = await buildTestApp({ temporal: new Client({ connection }), env: { CONSOLE_LIST_TIMEOUT_MS: '500' } });
    try {
      const res = await test.app.inject({ method: 'GET', url: '/console', headers: { ...headersOf('hannah.okafor'), accept: 'text/html' } });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('30');
      expect(res.body).toContain('Please try again in a minute');
      expect(res.body).toContain('Temporal did not list');
      const calendar = await test.app.inject({ method: 'GET', url: '/console/calendar', headers: { ...headersOf('hannah.okafor'), accept: 'text/html' } });
      expect(calendar.statusCode).toBe(503);
    } finally {
      await test.close();
      await connection.close().catch(() => undefined);
    }
  });
});
