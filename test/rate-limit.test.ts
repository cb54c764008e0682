/**
 * Rate limits that never lock out people holding a working link (src/api/plugins/rate-limit.ts):
 * failed link checks count per client address, requests with a valid link per person the link
 * names, never all requests per address; `TRUST_PROXY` decides what the client address is.
 *
 * Where a valid link has to open a real page, against the real stack (the dev server, a worker,
 * the SMTP server whose mails carry the links); elsewhere the real API with inject, the client
 * address given as `remoteAddress` (and as X-Forwarded-For behind a proxy).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiInstance } from '../src/api/app.js';
import { PUBLIC_RATE_LIMIT } from '../src/api/plugins/rate-limit.js';
import { createLinkSigner, type LinkSigner } from '../src/links/signer.js';
import { IN_MEMORY, openRecordsStore } from '../src/records/store.js';
import type { RecordsStore } from '../src/records/types.js';
import type { HumanTaskInput } from '../src/task/schema.js';
import { startHumanTask } from '../src/task/start.js';
import { buildTestApp, TEST_LINK_SECRET, type TestApp } from './helpers/api.js';
import { buildStackApp, linkIn } from './helpers/browser.js';
import { metricSum } from './helpers/prometheus.js';
import { isNotification, notificationId } from './helpers/smtp.js';
import { inMs, startTestStack, type TestStack } from './helpers/temporal.js';

const HOUR = 3_600_000;
const DEFAULT_FAILURES_PER_ADDRESS = 30;

/** Path and query of an absolute link, for inject. */
const local = (link: string) => {
  const url = new URL(link);
  return `${url.pathname}${url.search}`;
};
const tokenOf = (link: string) => new URL(link).searchParams.get('token') ?? '';

/**
 * A token altered the way an attacker would: the payload names someone else (and differs per
 * `n`), the header and signature are kept, so the signature no longer matches.
 */
function tampered(token: string, n: number): string {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'hannah.okafor', jti: `forged-${n}` })).toString('base64url');
  return `${header}.${forged}.${signature}`;
}

const rateLimited = async (app: ApiInstance, reason: string) => {
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  return metricSum(res.body, 'aimsflow_rate_limited_total', { reason });
};

describe('link pages on the real stack', () => {
  let stack: TestStack;
  let app: ApiInstance;
  /** The same API with a per-person budget of 5 requests a minute. */
  let strict: ApiInstance;

  beforeAll(async () => {
    stack = await startTestStack();
    app = await buildStackApp(stack);
    strict = await buildStackApp(stack, { config: { LINK_LIMIT_PER_PERSON: 5 } });
    await Promise.all([app.ready(), strict.ready()]);
  });
  afterAll(async () => {
    await app?.close();
    await strict?.close();
    await stack?.stop();
  });

  function taskInput(person: string, title: string): HumanTaskInput {
    return {
      title,
      instructions: 'Describe what was checked.',
      clauses: ['9.1'],
      process: 'adhoc',
      assignee: { person },
      dueAt: inMs(3 * 24 * HOUR),
      form: 'text',
      policy: { reminderOffsets: [], escalation: [] },
    };
  }

  /** Starts a task for `person` and returns the link its assignment mail carries. */
  async function taskLink(person: string, title: string): Promise<{ workflowId: string; link: string }> {
    const handle = await startHumanTask(stack.client, stack.taskQueue, taskInput(person, title), { organization: stack.organization });
    const mail = await stack.smtp.waitFor((m) => isNotification(m, handle.workflowId, 'task.assigned', `${person}@northwind.example`), 20_000);
    return { workflowId: handle.workflowId, link: linkIn(mail, '/t') };
  }

  it('1,000 tampered links from one address: 429 after its failure budget, while a valid link from that address still opens and completes its task', async () => {
    const flooder = '203.0.113.7';
    const { workflowId, link } = await taskLink('priya.raman', 'Check the drift monitor thresholds');
    const token = tokenOf(link);
    const statuses: number[] = [];
    for (let n = 0; n < 1000; n++) {
      const res = await app.inject({ method: 'GET', url: `/t?token=${tampered(token, n)}`, remoteAddress: flooder });
      statuses.push(res.statusCode);
    }
    expect(statuses.slice(0, DEFAULT_FAILURES_PER_ADDRESS).every((s) => s === 400)).toBe(true);
    expect(statuses.slice(DEFAULT_FAILURES_PER_ADDRESS).every((s) => s === 429)).toBe(true);

    // A valid link from the same address: the page, and the answer it sends.
    const page = await app.inject({ method: 'GET', url: local(link), remoteAddress: flooder, headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<h1>Check the drift monitor thresholds</h1>');
    const csrf = /name="csrf" value="([0-9a-f]{64})"/.exec(page.body)?.[1] ?? '';
    const done = await app.inject({
      method: 'POST',
      url: local(link),
      remoteAddress: flooder,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', origin: stack.config.PUBLIC_BASE_URL },
      payload: new URLSearchParams({ csrf, text: 'Thresholds checked against last quarter.' }).toString(),
    });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.body).toContain('<h1>Thank you</h1>');
    expect(await stack.client.workflow.getHandle(workflowId).result()).toMatchObject({ status: 'completed', completedBy: 'priya.raman' });

    // A further tampered link still gets 429: as JSON for API callers, as a page for browsers.
    const json = await app.inject({ method: 'GET', url: `/t?token=${tampered(token, 1000)}`, remoteAddress: flooder });
    expect(json.statusCode).toBe(429);
    expect(Number(json.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(json.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(json.json()).toMatchObject({ error: 'Too Many Requests', requestId: json.headers['x-request-id'] });
    expect(json.json<{ message: string }>().message).toMatch(/^Too many links that do not work came from your network/);
    const html = await app.inject({ method: 'GET', url: `/t?token=${tampered(token, 1001)}`, remoteAddress: flooder, headers: { accept: 'text/html' } });
    expect(html.statusCode).toBe(429);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.headers['retry-after']).toBeDefined();
    expect(html.body).toContain('<h1>429 Too Many Requests</h1>');
    // So do a missing link and a malformed one, on every link route: they prove nobody.
    expect((await app.inject({ method: 'GET', url: '/t', remoteAddress: flooder })).statusCode).toBe(429);
    expect((await app.inject({ method: 'GET', url: '/me?token=not-a-token', remoteAddress: flooder })).statusCode).toBe(429);
    expect((await app.inject({ method: 'GET', url: `/a?token=${tampered(token, 1002)}`, remoteAddress: flooder })).statusCode).toBe(429);

    // Another address has its own budget: its tampered link is explained (400), not refused.
    const other = await app.inject({ method: 'GET', url: `/t?token=${tampered(token, 1003)}`, remoteAddress: '198.51.100.20', headers: { accept: 'text/html' } });
    expect(other.statusCode).toBe(400);
    expect(other.body).toContain('This link does not work');

    expect(await rateLimited(app, 'failed-token')).toBe(1000 - DEFAULT_FAILURES_PER_ADDRESS + 5);
    expect(await rateLimited(app, 'subject')).toBe(0);
  });

  it('an expired link counts as a failed check on the page, but is what /renew takes, so a flooded address still gets a fresh link', async () => {
    const flooder = '203.0.113.8';
    const { workflowId, link } = await taskLink('liam.walsh', 'Review the supplier questionnaire');
    const expired = await stack.links.sign({ wf: workflowId, action: 'task.view', person: 'liam.walsh' }, { ttlHours: 1, now: new Date(Date.now() - 2 * HOUR) });
    const expiredPage = await app.inject({ method: 'GET', url: `/t?token=${expired}`, remoteAddress: flooder, headers: { accept: 'text/html' } });
    expect(expiredPage.statusCode).toBe(410);
    const csrf = /name="csrf" value="([0-9a-f]{64})"/.exec(expiredPage.body)?.[1] ?? '';
    for (let n = 1; n < DEFAULT_FAILURES_PER_ADDRESS; n++) {
      expect((await app.inject({ method: 'GET', url: `/t?token=${tampered(tokenOf(link), n)}`, remoteAddress: flooder })).statusCode).toBe(400);
    }
    expect((await app.inject({ method: 'GET', url: `/t?token=${expired}`, remoteAddress: flooder })).statusCode).toBe(429);

    const renewed = await app.inject({
      method: 'POST',
      url: '/renew',
      remoteAddress: flooder,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', origin: stack.config.PUBLIC_BASE_URL },
      payload: new URLSearchParams({ token: expired, csrf }).toString(),
    });
    expect(renewed.statusCode, renewed.body).toBe(200);
    expect(renewed.body).toContain('Check your e-mail');
    const { jti } = await stack.links.verify(expired).catch((err: { claims: { jti: string } }) => err.claims);
    await stack.smtp.waitFor((m) => notificationId(m) === `link-renewal/${jti}`, 10_000);
    // A forged token on /renew is a failed check like any other.
    const forged = await app.inject({
      method: 'POST',
      url: '/renew',
      remoteAddress: flooder,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ token: tampered(expired, 1) }).toString(),
    });
    expect(forged.statusCode).toBe(429);
  });

  it("a person over their own budget gets 429 on their links, from any address, while another person's valid link from the same address opens", async () => {
    const shared = '192.0.2.50';
    const priya = await taskLink('priya.raman', 'Confirm the model card is current');
    const sofia = await taskLink('sofia.lind', 'Attach the retraining log');
    const open = (link: string, remoteAddress: string) =>
      strict.inject({ method: 'GET', url: local(link), remoteAddress, headers: { accept: 'text/html' } });

    for (let n = 0; n < 5; n++) expect((await open(priya.link, shared)).statusCode).toBe(200);
    const over = await open(priya.link, shared);
    expect(over.statusCode).toBe(429);
    expect(over.headers['retry-after']).toBeDefined();
    expect(over.body).toContain("This person&#39;s links were opened too often");
    // Per person, not per address: another address does not help Priya's links...
    expect((await open(priya.link, '198.51.100.77')).statusCode).toBe(429);
    // ...and Priya's budget does not touch Sofia's link from the same address.
    const other = await open(sofia.link, shared);
    expect(other.statusCode).toBe(200);
    expect(other.body).toContain('<h1>Attach the retraining log</h1>');

    expect(await rateLimited(strict, 'subject')).toBe(2);
    expect(await rateLimited(strict, 'failed-token')).toBe(0);
  });
});

describe('link limits without Temporal', () => {
  let links: LinkSigner;
  /** One records store for every app here (opening PGlite takes seconds). */
  let records: RecordsStore;
  const apps: TestApp[] = [];
  const build = async (env: Record<string, string>, extra: Parameters<typeof buildTestApp>[0] = {}) => {
    const t = await buildTestApp({ env, links, records, ...extra });
    apps.push(t);
    return t.app;
  };
  let valid: string;

  beforeAll(async () => {
    records = await openRecordsStore({ dataDir: IN_MEMORY });
    links = createLinkSigner({ secret: TEST_LINK_SECRET, ttlHours: 1, baseUrl: 'http://localhost:3000' });
    valid = await links.sign({ wf: 'task/adhoc/rate', action: 'task.view', person: 'tom.baker' });
  });
  afterAll(async () => {
    for (const t of apps) await t.close();
    await records?.close();
  });

  /** Status codes of `count` tampered /t requests from `remoteAddress` (optionally through a proxy). */
  const failures = async (app: ApiInstance, count: number, remoteAddress: string, forwardedFor?: string) => {
    const statuses: number[] = [];
    for (let n = 0; n < count; n++) {
      const headers = forwardedFor ? { 'x-forwarded-for': forwardedFor } : {};
      statuses.push((await app.inject({ method: 'GET', url: `/t?token=${tampered(valid, n)}`, remoteAddress, headers })).statusCode);
    }
    return statuses;
  };

  it('with TRUST_PROXY=1, two clients behind the proxy have separate failure budgets; with it off they share the proxy’s', async () => {
    const proxied = await build({ TRUST_PROXY: '1', LINK_FAILURE_LIMIT_PER_ADDRESS: '3' });
    expect(await failures(proxied, 4, '127.0.0.1', '198.51.100.1')).toEqual([400, 400, 400, 429]);
    expect(await failures(proxied, 4, '127.0.0.1', '198.51.100.2')).toEqual([400, 400, 400, 429]);
    // The client's own address goes first in the header; the proxy appends the one it saw.
    expect(await failures(proxied, 1, '127.0.0.1', '10.9.9.9, 198.51.100.1')).toEqual([429]);

    const direct = await build({ LINK_FAILURE_LIMIT_PER_ADDRESS: '3' });
    expect(await failures(direct, 2, '127.0.0.1', '198.51.100.1')).toEqual([400, 400]);
    expect(await failures(direct, 2, '127.0.0.1', '198.51.100.2')).toEqual([400, 429]);
  });

  it('believes a hop count only from a proxy on a private or loopback address; a list of proxy addresses works like it', async () => {
    const proxied = await build({ TRUST_PROXY: '1', LINK_FAILURE_LIMIT_PER_ADDRESS: '2' });
    // A client reaching the API directly from a public address cannot choose its address.
    expect(await failures(proxied, 2, '203.0.113.99', '198.51.100.31')).toEqual([400, 400]);
    expect(await failures(proxied, 1, '203.0.113.99', '198.51.100.32')).toEqual([429]);
    // A proxy on a private network (IPv4-mapped here, as a dual-stack socket reports it) is believed.
    expect(await failures(proxied, 3, '::ffff:10.0.0.5', '198.51.100.33')).toEqual([400, 400, 429]);
    expect(await failures(proxied, 1, '::ffff:10.0.0.5', '198.51.100.34')).toEqual([400]);

    const listed = await build({ TRUST_PROXY: '10.0.0.0/8, ::1', LINK_FAILURE_LIMIT_PER_ADDRESS: '2' });
    expect(await failures(listed, 3, '10.1.2.3', '198.51.100.41')).toEqual([400, 400, 429]);
    expect(await failures(listed, 1, '::1', '198.51.100.42')).toEqual([400]);
    expect(await failures(listed, 2, '192.168.1.1', '198.51.100.43')).toEqual([400, 400]);
    expect(await failures(listed, 1, '192.168.1.1', '198.51.100.44')).toEqual([429]);
  });

  it('verifies each link once per request, shared by the limit and the page', async () => {
    let verified = 0;
    const counting: LinkSigner = { ...links, verify: (token, expect) => ((verified += 1), links.verify(token, expect)) };
    const app = await build({}, { links: counting });
    const approval = await links.sign({ wf: 'approval/rate', action: 'approval.decide', person: 'tom.baker' });
    for (const [url, status] of [
      [`/t?token=${valid}`, 503], // valid; no Temporal here, so "try again later"
      [`/t?token=${tampered(valid, 1)}`, 400],
      [`/t?token=${approval}`, 400], // for another page
      ['/me?token=nonsense', 400],
    ] as const) {
      verified = 0;
      const res = await app.inject({ method: 'GET', url, remoteAddress: '192.0.2.60' });
      expect(res.statusCode, url).toBe(status);
      expect(verified, url).toBe(1);
    }
  });

  it('counts a valid link opened on the wrong page against its person, not as a failed check of the address', async () => {
    const app = await build({ LINK_FAILURE_LIMIT_PER_ADDRESS: '1' });
    const approval = await links.sign({ wf: 'approval/rate', action: 'approval.decide', person: 'tom.baker' });
    expect(await failures(app, 2, '192.0.2.61')).toEqual([400, 429]);
    const res = await app.inject({ method: 'GET', url: `/t?token=${approval}`, remoteAddress: '192.0.2.61', headers: { accept: 'text/html' } });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('This link belongs to another page');
  });

  it(`keeps the concern form (no link) per address: ${PUBLIC_RATE_LIMIT.max} a minute per route, counted as reason="address"`, async () => {
    const app = await build({});
    const form = (remoteAddress: string) => app.inject({ method: 'GET', url: '/concern', remoteAddress, headers: { accept: 'text/html' } });
    for (let n = 0; n < PUBLIC_RATE_LIMIT.max; n++) expect((await form('192.0.2.70')).statusCode).toBe(200);
    const limited = await form('192.0.2.70');
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect(limited.headers['content-type']).toMatch(/^text\/html/);
    expect((await form('192.0.2.71')).statusCode).toBe(200);
    expect(await rateLimited(app, 'address')).toBe(1);
  });
});
