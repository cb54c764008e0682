/**
 * The API's `/metrics` (src/api/plugins/metrics.ts) on the real app: request latency by route
 * template (never the raw URL; unknown routes as one label), link refusals by reason from the
 * real pages, ledger appends made by an admin route, mails sent and failed by the fresh-link
 * page over a real SMTP server; one registry per app; open, or behind METRICS_TOKEN; not in the
 * OpenAPI document nor in the info request log.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { csrfToken } from '../src/api/csrf.js';
import { IMPROVEMENT_DISMISSED, IMPROVEMENT_RAISED, improvementId, type ImprovementRaisedContent } from '../src/improvement/schema.js';
import { createLinkSigner, type LinkSigner } from '../src/links/signer.js';
import { createNotificationSender } from '../src/mail/sender.js';
import { createMailTransport, type MailTransport } from '../src/mail/transport.js';
import type { Organization } from '../src/organization/schema.js';
import { IN_MEMORY, openRecordsStore } from '../src/records/store.js';
import type { RecordsStore } from '../src/records/types.js';
import { buildTestApp, captureLogs, TEST_LINK_SECRET, type TestApp } from './helpers/api.js';
import { metricSum, parsePrometheus, samplesOf } from './helpers/prometheus.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.js';
import { exampleOrganization } from './helpers/temporal.js';

const BASE = 'http://localhost:3000';
const MAIL_FROM = 'aimsflow <aimsflow@northwind.example>';
const HOUR = 3_600_000;

/** An observation raised by an internal audit, as the ledger holds it. */
function raisedObservation(findingId: string) {
  const workflowId = `internal-audit/2027/${findingId.replace(/-F\d+$/, '')}`;
  const id = improvementId(workflowId, findingId);
  const content: ImprovementRaisedContent = {
    improvementId: id,
    source: 'internal-audit',
    type: 'observation',
    statement: `Statement of ${findingId}`,
    evidence: `Evidence of ${findingId}`,
    clauses: ['8.2'],
    finding: { findingId, type: 'observation', refs: ['8.2'], statement: `Statement of ${findingId}`, evidence: `Evidence of ${findingId}` },
    audit: { year: 2027, auditId: 'A-01', workflowId, programmeWorkflowId: 'internal-audit-programme/2027', title: 'Data management', leadAuditor: 'aisha.khan', auditee: 'sofia.lind' },
    raisedBy: 'aisha.khan',
    raisedAt: '2027-03-01T10:00:00.000Z',
  };
  return { id, record: { id: `${workflowId}/run/improvement-${findingId}`, kind: IMPROVEMENT_RAISED, subject: `improvement/${id}`, clauses: ['10.1', '9.2', '8.2'], actor: 'aisha.khan', occurredAt: '2027-03-01T10:00:00.000Z', content } };
}

describe('API /metrics', () => {
  let smtp: TestSmtpServer;
  let transport: MailTransport;
  let organization: Organization;
  let links: LinkSigner;
  let records: RecordsStore;
  let t: TestApp;
  const extraApps: TestApp[] = [];

  const scrape = async (app: TestApp = t, headers: Record<string, string> = {}) => {
    const res = await app.app.inject({ method: 'GET', url: '/metrics', headers });
    expect(res.statusCode, res.body).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    smtp = await startSmtpServer();
    organization = await exampleOrganization();
    links = createLinkSigner({ secret: TEST_LINK_SECRET, ttlHours: 1, baseUrl: BASE });
    const logger = pino({ level: 'silent' });
    transport = createMailTransport({ smtpUrl: smtp.url, from: MAIL_FROM, logger });
    records = await openRecordsStore({ dataDir: IN_MEMORY });
    const sender = createNotificationSender({ transport, notifications: records.notifications, from: MAIL_FROM, logger });
    t = await buildTestApp({ records, organization: () => organization, links, sendNotification: (input) => sender.sendNotification(input) });
  });

  afterEach(() => smtp.rejectRecipients());

  afterAll(async () => {
    for (const app of extraApps) await app.close();
    await t?.close();
    await records?.close();
    transport?.close();
    await smtp?.stop();
  });

  it('times requests by method, route template and status code; unknown routes share one label', async () => {
    const observation = raisedObservation('A-01-F1');
    await t.records.append(observation.record);
    for (let i = 0; i < 2; i++) expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const item = await t.app.inject({ method: 'GET', url: `/admin/improvements/${observation.id}`, headers: t.adminHeaders });
    expect(item.statusCode, item.body).toBe(200);
    for (const url of ['/no/such/page', '/another/unknown?x=1']) expect((await t.app.inject({ method: 'GET', url })).statusCode).toBe(404);

    const text = await scrape();
    const count = (labels: Record<string, string>) => metricSum(text, 'aimsflow_http_request_duration_seconds_count', labels);
    expect(count({ method: 'GET', route: '/healthz', status_code: '200' })).toBe(2);
    expect(count({ method: 'GET', route: '/admin/improvements/:id', status_code: '200' })).toBe(1);
    expect(count({ method: 'GET', route: 'unmatched', status_code: '404' })).toBe(2);
    // Buckets are cumulative: the +Inf bucket holds every request of the series.
    expect(metricSum(text, 'aimsflow_http_request_duration_seconds_bucket', { route: '/healthz', le: '+Inf' })).toBe(2);
    expect(samplesOf(text, 'aimsflow_http_request_duration_seconds_sum', { route: '/healthz' })[0]?.value).toBeGreaterThan(0);
    // Never a raw URL.
    const routes = new Set(samplesOf(text, 'aimsflow_http_request_duration_seconds_count').map((s) => s.labels.route));
    expect([...routes].filter((r) => r?.includes(observation.id) || r?.startsWith('/no/') || r?.startsWith('/another/'))).toEqual([]);
    // The process's default metrics are there too.
    expect(metricSum(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(samplesOf(text, 'nodejs_heap_size_used_bytes')).toHaveLength(1);
  });

  it('counts link refusals by reason', async () => {
    const now = Date.now();
    const expired = await links.sign({ wf: 'task/adhoc/x', action: 'task.view', person: 'sofia.lind' }, { now: new Date(now - 2 * HOUR), ttlHours: 1 });
    const forApproval = await links.sign({ wf: 'approval/x', action: 'approval.decide', person: 'sofia.lind' });
    const page = (path: string, token: string) => t.app.inject({ method: 'GET', url: `${path}?token=${encodeURIComponent(token)}` });

    expect((await page('/t', 'forged.token.value')).statusCode).toBe(400);
    expect((await page('/me', 'not-a-token')).statusCode).toBe(400);
    expect((await page('/t', expired)).statusCode).toBe(410);
    expect((await page('/t', forApproval)).statusCode).toBe(400);
    // POST /renew with a link that has not expired is not a refusal; a forged one is.
    const renew = (token: string) =>
      t.app.inject({ method: 'POST', url: '/renew', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ token, csrf: csrfToken(TEST_LINK_SECRET, token) }).toString() });
    expect((await renew(forApproval)).statusCode).toBe(200);
    expect((await renew('forged')).statusCode).toBe(400);

    const text = await scrape();
    const refusals = (reason: string) => metricSum(text, 'aimsflow_link_refusals_total', { reason });
    expect(refusals('invalid')).toBe(3);
    expect(refusals('expired')).toBe(1);
    expect(refusals('wrong-action')).toBe(1);
    expect(refusals('wrong-person')).toBe(0);
  });

  it('counts ledger appends made by the API, by record kind, and not those made elsewhere', async () => {
    const observation = raisedObservation('A-01-F2');
    await t.records.append(observation.record); // straight into the store: not the API's
    const dismiss = () =>
      t.app.inject({ method: 'POST', url: `/admin/improvements/${observation.id}/dismiss`, headers: t.adminHeaders, payload: { reason: 'Covered by the new data policy', by: 'priya.raman' } });
    expect((await dismiss()).statusCode).toBe(200);
    expect((await dismiss()).statusCode).toBe(409); // refused before any append

    const text = await scrape();
    expect(metricSum(text, 'aimsflow_ledger_appends_total', { kind: IMPROVEMENT_DISMISSED })).toBe(1);
    expect(metricSum(text, 'aimsflow_ledger_appends_total', { kind: IMPROVEMENT_RAISED })).toBe(0);
    expect(metricSum(text, 'aimsflow_ledger_append_failures_total')).toBe(0);
  });

  it('counts the mails the API sends (a fresh link), and those that fail', async () => {
    const expiredFor = (person: string) =>
      links.sign({ wf: 'tasks', action: 'tasks.mine', person }, { now: new Date(Date.now() - 2 * HOUR), ttlHours: 1 });
    const renew = (token: string) =>
      t.app.inject({ method: 'POST', url: '/renew', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ token, csrf: csrfToken(TEST_LINK_SECRET, token) }).toString() });

    const sent = await renew(await expiredFor('liam.walsh'));
    expect(sent.statusCode, sent.body).toBe(200);
    await smtp.waitFor((m) => m.to !== undefined && JSON.stringify(m.to).includes('liam.walsh@northwind.example'), 10_000);

    smtp.rejectRecipients((address) => address === 'tom.baker@northwind.example');
    expect((await renew(await expiredFor('tom.baker'))).statusCode).toBe(503);

    const text = await scrape();
    expect(metricSum(text, 'aimsflow_mails_sent_total', { kind: 'link.renewed' })).toBe(1);
    expect(metricSum(text, 'aimsflow_mails_failed_total', { kind: 'link.renewed' })).toBe(1);
  });

  it('keeps one registry per app: a second app starts from zero', async () => {
    const other = await buildTestApp();
    extraApps.push(other);
    expect((await other.app.inject({ method: 'GET', url: '/t?token=forged' })).statusCode).toBe(400);
    const text = await scrape(other);
    expect(metricSum(text, 'aimsflow_link_refusals_total', { reason: 'invalid' })).toBe(1);
    expect(metricSum(text, 'aimsflow_http_request_duration_seconds_count', { route: '/healthz' })).toBe(0);
    expect(metricSum(await scrape(), 'aimsflow_link_refusals_total', { reason: 'invalid' })).toBeGreaterThan(1);
    // Both serve the process's default metrics.
    expect(samplesOf(text, 'nodejs_heap_size_used_bytes')).toHaveLength(1);
  });

  it('asks for METRICS_TOKEN when it is set', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const guarded = await buildTestApp({ env: { METRICS_TOKEN: token } });
    extraApps.push(guarded);
    const missing = await guarded.app.inject({ method: 'GET', url: '/metrics' });
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="aimsflow metrics"');
    expect(missing.json<{ message: string }>().message).toContain('METRICS_TOKEN');
    const wrong = await guarded.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer metrics-token-0123456789abcdeX' } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['www-authenticate']).toContain('error="invalid_token"');
    // The admin key is not the metrics token.
    expect((await guarded.app.inject({ method: 'GET', url: '/metrics', headers: guarded.adminHeaders })).statusCode).toBe(401);
    const text = await scrape(guarded, { authorization: `Bearer ${token}` });
    expect(parsePrometheus(text).length).toBeGreaterThan(0);
  });

  it('stays out of the OpenAPI document and out of the info request log', async () => {
    const logs = captureLogs('info');
    const logged = await buildTestApp({ logger: logs.logger });
    extraApps.push(logged);
    const doc = await logged.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(Object.keys(doc.json<{ paths: Record<string, unknown> }>().paths)).not.toContain('/metrics');

    const res = await logged.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect((await logged.app.inject({ method: 'GET', url: '/no/such/page' })).statusCode).toBe(404);
    const urls = logs.entries().map((e) => (e.req as { url?: string } | undefined)?.url).filter(Boolean);
    expect(urls).toContain('/no/such/page'); // requests are logged at info...
    expect(urls).not.toContain('/metrics'); // ...but not the scrapes
  });
});
