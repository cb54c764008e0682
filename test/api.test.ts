import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { hashKey } from '../src/auth/api-keys.js';
import { HttpError, INTERNAL_ERROR_MESSAGE } from '../src/api/errors.js';
import { redactUrl } from '../src/api/logging.js';
import { publicRateLimit, PUBLIC_RATE_LIMIT } from '../src/api/plugins/rate-limit.js';
import { verifyAuditPack } from '../src/records/export.js';
import { IN_MEMORY, openRecordsStore } from '../src/records/store.js';
import type { NewRecord, RecordsStore } from '../src/records/types.js';
import { buildTestApp, captureLogs, TEST_ADMIN_KEY, type TestApp } from './helpers/api.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Shaped like a signed link token; long enough to exceed Fastify's default parameter limit. */
const fakeJwt = (marker: string) =>
  `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ marker, pad: 'x'.repeat(200) })).toString('base64url')}.c2lnbmF0dXJl${marker}`;

function record(n: number, overrides: Partial<NewRecord> = {}): NewRecord {
  return {
    id: `rec-${n}`,
    kind: 'task.completed',
    subject: `corrective-action/NC-2027-00${n}`,
    clauses: ['10.2'],
    actor: 'alice',
    occurredAt: `2027-01-0${n}T09:00:00Z`,
    content: { step: n },
    ...overrides,
  };
}

/** Opening an embedded PGlite takes seconds on a busy machine. */
const STORE_TIMEOUT_MS = 60_000;

describe('API', () => {
  let store: RecordsStore;
  let t: TestApp;
  /** Another app on the shared store, for tests that need different options. */
  const otherApp = (options: Parameters<typeof buildTestApp>[0] = {}) => buildTestApp({ records: store, ...options });

  beforeAll(async () => {
    store = await openRecordsStore({ dataDir: IN_MEMORY });
    t = await buildTestApp({ records: store });
    t.app.get('/test/boom', () => {
      throw new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2');
    });
    t.app.get('/test/conflict', () => {
      throw new HttpError(409, 'This task was already completed.');
    });
    t.app.post(
      '/test/form',
      { schema: { body: z.object({ evidence: z.object({ url: z.url('must be a URL') }), note: z.string().max(5) }) } },
      () => ({ ok: true }),
    );
    t.app.get('/t/:token', { config: publicRateLimit() }, (request) => ({
      length: (request.params as { token: string }).token.length,
    }));
    await t.app.ready();
  }, STORE_TIMEOUT_MS);

  afterAll(async () => {
    await t?.close();
    await store?.close();
  });

  describe('probes', () => {
    it('/healthz answers ok with a generated request id', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/healthz' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ok' });
      expect(res.headers['x-request-id']).toMatch(UUID);
    });

    it('/readyz is ready when Temporal and the records store answer', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ready', checks: { temporal: 'ok', records: 'ok' } });
    });

    it('/readyz is 503 naming the failed check and why', async () => {
      const failing = await otherApp({
        readiness: {
          temporal: () => Promise.reject(new Error('14 UNAVAILABLE: connect\n  ECONNREFUSED 127.0.0.1:7233')),
        },
      });
      try {
        const res = await failing.app.inject({ method: 'GET', url: '/readyz' });
        expect(res.statusCode).toBe(503);
        expect(res.json()).toEqual({
          status: 'unavailable',
          checks: { temporal: '14 UNAVAILABLE: connect ECONNREFUSED 127.0.0.1:7233', records: 'ok' },
          message: 'temporal: 14 UNAVAILABLE: connect ECONNREFUSED 127.0.0.1:7233',
        });
      } finally {
        await failing.close();
      }
    });

    it('/readyz times out a check that hangs', async () => {
      const hanging = await otherApp({
        readinessTimeoutMs: 50,
        readiness: { temporal: () => new Promise<void>(() => undefined) },
      });
      try {
        const res = await hanging.app.inject({ method: 'GET', url: '/readyz' });
        expect(res.statusCode).toBe(503);
        expect(res.json()).toMatchObject({ checks: { temporal: 'timed out after 50 ms', records: 'ok' } });
      } finally {
        await hanging.close();
      }
    });

    it('/readyz reports a records store that no longer answers', async () => {
      const ownStore = await openRecordsStore({ dataDir: IN_MEMORY });
      const app = await buildTestApp({ records: ownStore });
      try {
        await ownStore.close();
        const res = await app.app.inject({ method: 'GET', url: '/readyz' });
        expect(res.statusCode).toBe(503);
        const body = res.json<{ checks: Record<string, string>; message: string }>();
        expect(body.checks.temporal).toBe('ok');
        expect(body.checks.records).toMatch(/closed/);
        expect(body.message).toMatch(/^records: /);
      } finally {
        await app.close();
      }
    }, STORE_TIMEOUT_MS);
  });

  describe('request ids', () => {
    it('echoes a sane incoming x-request-id in the header and error bodies', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/nope', headers: { 'x-request-id': 'edge-7f3a.42' } });
      expect(res.headers['x-request-id']).toBe('edge-7f3a.42');
      expect(res.json()).toMatchObject({ requestId: 'edge-7f3a.42' });
    });

    it('replaces an unsafe incoming x-request-id with a UUID', async () => {
      for (const bad of ['has spaces', '<script>', 'x'.repeat(200)]) {
        const res = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': bad } });
        expect(res.headers['x-request-id']).toMatch(UUID);
      }
    });
  });

  describe('errors', () => {
    it('404 is JSON for API clients', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/admin/nothing-here' });
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json()).toEqual({
        error: 'Not Found',
        message: 'No route for GET /admin/nothing-here',
        requestId: res.headers['x-request-id'],
      });
    });

    it('404 is a small HTML page for browsers, without the token from the URL', async () => {
      const token = fakeJwt('page404');
      const res = await t.app.inject({
        method: 'GET',
        url: `/a/${token}`,
        headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' },
      });
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toContain('<h1>404 Not Found</h1>');
      expect(res.body).toContain(String(res.headers['x-request-id']));
      expect(res.body).toContain('/a/[redacted]');
      expect(res.body).not.toContain(token);
    });

    it('5xx hides internals, keeps the request id, and logs the real error', async () => {
      const logs = captureLogs();
      const app = await otherApp({ logger: logs.logger });
      app.app.get('/test/boom', () => {
        throw new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2');
      });
      try {
        const res = await app.app.inject({ method: 'GET', url: '/test/boom' });
        expect(res.statusCode).toBe(500);
        const requestId = String(res.headers['x-request-id']);
        expect(res.json()).toEqual({ error: 'Internal Server Error', message: INTERNAL_ERROR_MESSAGE, requestId });
        expect(res.body).not.toMatch(/hunter2|ECONNREFUSED|stack/);
        const logged = logs.entries().find((e) => e.msg === 'request failed');
        expect(logged).toMatchObject({ level: 50, reqId: requestId });
        expect((logged?.err as { message: string }).message).toContain('ECONNREFUSED');
      } finally {
        await app.close();
      }
    });

    it('the shared app also hides internals of a thrown error', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/test/boom' });
      expect(res.statusCode).toBe(500);
      expect(res.body).not.toContain('hunter2');
    });

    it('4xx errors thrown with a status keep their message', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/test/conflict' });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toEqual({
        error: 'Conflict',
        message: 'This task was already completed.',
        requestId: res.headers['x-request-id'],
      });
    });

    it('400 names every failing body field by its dotted path', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/test/form',
        payload: { evidence: { url: 'not a url' }, note: 'far too long' },
      });
      expect(res.statusCode).toBe(400);
      const body = res.json<{ error: string; message: string; issues: Array<{ path: string; message: string }> }>();
      expect(body.error).toBe('Bad Request');
      const mentionsTheMaximum: unknown = expect.stringMatching(/5/);
      expect(body.issues).toEqual([
        { path: 'evidence.url', message: 'must be a URL' },
        { path: 'note', message: mentionsTheMaximum },
      ]);
      expect(body.message).toMatch(/^Invalid body: evidence\.url: must be a URL; note: /);
    });

    it('malformed JSON is a 400, not a crash', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/test/form',
        headers: { 'content-type': 'application/json' },
        payload: '{"evidence":',
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: 'Bad Request', requestId: res.headers['x-request-id'] });
    });

    it('a malformed URL gets a 400 that does not echo the URL', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/t/%E0%A4%Asecret' });
      expect(res.statusCode).toBe(400);
      expect(res.headers['x-request-id']).toMatch(UUID);
      expect(res.json()).toMatchObject({ error: 'Bad Request', message: 'The request URL is malformed.' });
      expect(res.body).not.toContain('secret');
    });

    it('link tokens longer than Fastify’s default parameter limit reach the route', async () => {
      const token = fakeJwt('long');
      expect(token.length).toBeGreaterThan(100);
      const res = await t.app.inject({ method: 'GET', url: `/t/${token}`, remoteAddress: '10.9.9.9' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ length: token.length });
    });
  });

  describe('admin API keys', () => {
    it('401 with a Bearer challenge when the key is missing', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/admin/records' });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm=/);
      expect(res.json()).toMatchObject({ error: 'Unauthorized', requestId: res.headers['x-request-id'] });
    });

    it('401 with invalid_token when the key is wrong or the scheme is not Bearer', async () => {
      for (const authorization of [`Bearer ${TEST_ADMIN_KEY}x`, `Bearer ${TEST_ADMIN_KEY.slice(0, -1)}`, `Basic ${TEST_ADMIN_KEY}`]) {
        const res = await t.app.inject({ method: 'GET', url: '/admin/records/verify', headers: { authorization } });
        expect(res.statusCode).toBe(401);
        expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
        expect(res.body).not.toContain(TEST_ADMIN_KEY);
      }
    });

    it("logs the request's principal and the key's name, never the key", async () => {
      const logs = captureLogs();
      const app = await otherApp({ logger: logs.logger });
      try {
        const res = await app.app.inject({ method: 'GET', url: '/admin/records', headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
        expect(res.statusCode).toBe(200);
        const completed = logs.entries().find((e) => e.reqId === res.headers['x-request-id'] && e.msg === 'request completed');
        expect(completed).toMatchObject({ principal: 'priya.raman', key: 'test-priya.raman', via: 'api-key' });
        expect(logs.text()).not.toContain(TEST_ADMIN_KEY);
      } finally {
        await app.close();
      }
    });

    it('accepts any configured key, with the scheme in any case', async () => {
      const second = 'second-admin-key-abcdefghijklmnop';
      const keys = [
        { name: 'priya', sha256: hashKey(TEST_ADMIN_KEY), person: 'priya.raman' },
        { name: 'reader', sha256: hashKey(second), service: 'reader', roles: ['external-auditor'] },
      ];
      const app = await otherApp({ env: { API_KEYS: JSON.stringify(keys) } });
      try {
        for (const authorization of [`Bearer ${second}`, `bearer ${TEST_ADMIN_KEY}`]) {
          const res = await app.app.inject({ method: 'GET', url: '/admin/records', headers: { authorization } });
          expect(res.statusCode).toBe(200);
          expect(res.headers['cache-control']).toBe('no-store');
        }
      } finally {
        await app.close();
      }
    });
  });

  describe('records routes', () => {
    beforeAll(async () => {
      await t.records.append(record(1));
      await t.records.append(record(2, { kind: 'approval.decided', clauses: ['9.3'] }));
      await t.records.append(record(3, { subject: 'management-review/2027' }));
    });

    it('lists records in chain order', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/admin/records', headers: t.adminHeaders });
      expect(res.statusCode).toBe(200);
      const body = res.json<{ records: Array<{ seq: number; id: string; hash: string }>; nextAfterSeq: number | null }>();
      expect(body.records.map((r) => [r.seq, r.id])).toEqual([
        [1, 'rec-1'],
        [2, 'rec-2'],
        [3, 'rec-3'],
      ]);
      expect(body.records[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(body.nextAfterSeq).toBeNull();
    });

    it('filters by subject prefix, kind, clause and time', async () => {
      const ids = async (query: string) => {
        const res = await t.app.inject({ method: 'GET', url: `/admin/records?${query}`, headers: t.adminHeaders });
        expect(res.statusCode).toBe(200);
        return res.json<{ records: Array<{ id: string }> }>().records.map((r) => r.id);
      };
      expect(await ids('subjectPrefix=corrective-action%2F')).toEqual(['rec-1', 'rec-2']);
      expect(await ids('subject=management-review%2F2027')).toEqual(['rec-3']);
      expect(await ids('kind=approval.decided')).toEqual(['rec-2']);
      expect(await ids('clause=10.2')).toEqual(['rec-1', 'rec-3']);
      expect(await ids('from=2027-01-02T00:00:00Z&to=2027-01-02T23:59:59Z')).toEqual(['rec-2']);
    });

    it('pages with limit and afterSeq', async () => {
      const first = await t.app.inject({ method: 'GET', url: '/admin/records?limit=2', headers: t.adminHeaders });
      const page1 = first.json<{ records: Array<{ id: string }>; nextAfterSeq: number | null }>();
      expect(page1.records.map((r) => r.id)).toEqual(['rec-1', 'rec-2']);
      expect(page1.nextAfterSeq).toBe(2);
      const second = await t.app.inject({
        method: 'GET',
        url: `/admin/records?limit=2&afterSeq=${page1.nextAfterSeq}`,
        headers: t.adminHeaders,
      });
      const page2 = second.json<{ records: Array<{ id: string }>; nextAfterSeq: number | null }>();
      expect(page2.records.map((r) => r.id)).toEqual(['rec-3']);
      expect(page2.nextAfterSeq).toBeNull();
    });

    it('400 names each bad filter field', async () => {
      const res = await t.app.inject({
        method: 'GET',
        url: '/admin/records?limit=abc&from=notadate&afterSeq=-1',
        headers: t.adminHeaders,
      });
      expect(res.statusCode).toBe(400);
      const body = res.json<{ message: string; requestId: string; issues: Array<{ path: string; message: string }> }>();
      expect(body.requestId).toBe(res.headers['x-request-id']);
      expect(body.issues.map((i) => i.path).sort()).toEqual(['afterSeq', 'from', 'limit']);
      expect(body.issues.find((i) => i.path === 'limit')?.message).toBe('must be a whole number');
      expect(body.issues.find((i) => i.path === 'from')?.message).toMatch(/ISO-8601/);
      expect(body.message).toMatch(/^Invalid querystring: /);
    });

    it('400 for out-of-range limits, reversed time ranges, bad clauses and unknown parameters', async () => {
      const cases: Array<[string, string, RegExp]> = [
        ['limit=5000', 'limit', /at most 1000/],
        ['limit=0', 'limit', /at least 1/],
        ['from=2027-02-01T00:00:00Z&to=2027-01-01T00:00:00Z', 'to', /before from/],
        ['clause=chapter-ten', 'clause', /clause/],
        ['subjet=corrective-action', 'subjet', /not a recognized field/],
        ['limit=1&limit=2', 'limit', /once/],
      ];
      for (const [query, path, message] of cases) {
        const res = await t.app.inject({ method: 'GET', url: `/admin/records?${query}`, headers: t.adminHeaders });
        expect(res.statusCode, query).toBe(400);
        const issues = res.json<{ issues: Array<{ path: string; message: string }> }>().issues;
        const expected: unknown = expect.stringMatching(message);
        expect(issues, query).toContainEqual({ path, message: expected });
      }
    });

    it('verifies the chain', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/admin/records/verify', headers: t.adminHeaders });
      expect(res.statusCode).toBe(200);
      const body = res.json<{ ok: boolean; records: number; head: string }>();
      expect(body).toMatchObject({ ok: true, records: 3 });
      const last = (await t.records.list({ afterSeq: 2 }))[0];
      expect(body.head).toBe(last?.hash);
    });

    it('exports the audit pack as an NDJSON download that verifies offline', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/admin/records/export', headers: t.adminHeaders });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
      expect(res.headers['content-disposition']).toMatch(/^attachment; filename="aimsflow-records-.*\.ndjson"$/);
      const lines = res.body.trimEnd().split('\n');
      const parsed = lines.map((line) => JSON.parse(line) as { type: string; id?: string; verification?: unknown; records?: number });
      expect(parsed[0]).toMatchObject({ type: 'audit-pack', verification: { ok: true, records: 3 } });
      expect(parsed.filter((l) => l.type === 'record').map((l) => l.id)).toEqual(['rec-1', 'rec-2', 'rec-3']);
      expect(parsed.at(-1)).toEqual({ type: 'end', records: 3 });
      expect(await verifyAuditPack(lines)).toMatchObject({ ok: true, records: 3 });
    });

    it('exports with a filter, and rejects a bad one before streaming', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/admin/records/export?kind=approval.decided', headers: t.adminHeaders });
      const parsed = res.body.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; id?: string });
      expect(parsed.filter((l) => l.type === 'record').map((l) => l.id)).toEqual(['rec-2']);

      const bad = await t.app.inject({ method: 'GET', url: '/admin/records/export?to=yesterday', headers: t.adminHeaders });
      expect(bad.statusCode).toBe(400);
      expect(bad.json<{ issues: Array<{ path: string }> }>().issues.map((i) => i.path)).toEqual(['to']);
    });
  });

  describe('OpenAPI and docs', () => {
    it('/openapi.json lists the admin routes behind the bearer and the session cookie schemes', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
      expect(res.statusCode).toBe(200);
      const doc = res.json<{
        openapi: string;
        paths: Record<string, Record<string, { security?: unknown; parameters?: Array<{ name: string; in: string }> }>>;
        components: { securitySchemes: Record<string, unknown> };
      }>();
      expect(doc.openapi).toMatch(/^3\./);
      expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(doc.components.securitySchemes.sessionCookie).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'aimsflow_session' });
      const either = [{ bearerAuth: [] }, { sessionCookie: [] }];
      for (const path of ['/admin/records', '/admin/records/verify', '/admin/records/export']) {
        expect(doc.paths[path]?.get?.security, path).toEqual(either);
      }
      const adminPaths = Object.keys(doc.paths).filter((p) => p.startsWith('/admin'));
      expect(adminPaths.length).toBeGreaterThan(30);
      for (const path of adminPaths) {
        for (const operation of Object.values(doc.paths[path] ?? {}) as Array<{ security?: unknown; responses?: Record<string, unknown> }>) {
          expect(operation.security, path).toEqual(either);
          expect(Object.keys(operation.responses ?? {}), path).toEqual(expect.arrayContaining(['401', '403']));
        }
      }
      const params = doc.paths['/admin/records']?.get?.parameters?.map((p) => `${p.in}:${p.name}`);
      expect(params).toEqual(
        expect.arrayContaining(['query:subject', 'query:subjectPrefix', 'query:kind', 'query:clause', 'query:from', 'query:to', 'query:afterSeq', 'query:limit']),
      );
      expect(doc.paths['/healthz']?.get).toBeDefined();
      expect(doc.paths['/readyz']?.get).toBeDefined();
      expect(Object.keys(doc.paths).some((p) => p.startsWith('/docs'))).toBe(false);
    });

    it('/docs serves the UI under its own content security policy', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/docs' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toContain('swagger-ui');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-eval');
      const bundle = await t.app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
      expect(bundle.statusCode).toBe(200);
      const spec = await t.app.inject({ method: 'GET', url: '/docs/json' });
      expect(spec.json<{ paths: Record<string, unknown> }>().paths).toHaveProperty('/admin/records');
    });
  });

  describe('security headers and rate limits', () => {
    it('sends the page policy and hardening headers', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/healthz' });
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("script-src-attr 'none'");
      expect(csp).toContain("style-src 'self' 'unsafe-inline'");
      expect(csp).toContain("form-action 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('upgrade-insecure-requests');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['strict-transport-security']).toBeUndefined();
    });

    it('adds HSTS and upgrade-insecure-requests when served over https', async () => {
      const app = await otherApp({ env: { PUBLIC_BASE_URL: 'https://aims.example.com' } });
      try {
        const res = await app.app.inject({ method: 'GET', url: '/healthz' });
        expect(String(res.headers['content-security-policy'])).toContain('upgrade-insecure-requests');
        expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      } finally {
        await app.close();
      }
    });

    it(`publicRateLimit allows ${PUBLIC_RATE_LIMIT.max} requests a minute per IP, then 429`, async () => {
      const max = Number(PUBLIC_RATE_LIMIT.max);
      const get = (remoteAddress: string) => t.app.inject({ method: 'GET', url: `/t/${fakeJwt('rl')}`, remoteAddress });
      for (let i = 0; i < max; i++) {
        const res = await get('10.1.1.1');
        expect(res.statusCode).toBe(200);
      }
      const limited = await get('10.1.1.1');
      expect(limited.statusCode).toBe(429);
      expect(limited.headers['retry-after']).toBeDefined();
      expect(limited.json()).toMatchObject({ error: 'Too Many Requests', requestId: limited.headers['x-request-id'] });
      expect((await get('10.1.1.2')).statusCode).toBe(200);
      // Routes without the config are not limited.
      for (let i = 0; i < max + 1; i++) {
        expect((await t.app.inject({ method: 'GET', url: '/healthz', remoteAddress: '10.1.1.1' })).statusCode).toBe(200);
      }
    });
  });

  describe('log redaction', () => {
    it('redactUrl masks link tokens in paths and credential query parameters', () => {
      expect(redactUrl('/t/abc.def.ghi/submit?x=1')).toBe('/t/[redacted]/submit?x=1');
      expect(redactUrl('/me/abc?token=s3cret&Access_Token=zz&page=2')).toBe('/me/[redacted]?token=[redacted]&Access_Token=[redacted]&page=2');
      expect(redactUrl('/renew/abc')).toBe('/renew/[redacted]');
      expect(redactUrl(`/other/${fakeJwt('x')}`)).toBe('/other/[redacted]');
      expect(redactUrl('/admin/records?kind=task.completed')).toBe('/admin/records?kind=task.completed');
    });

    it('never logs link tokens, token query parameters or the Authorization header', async () => {
      const logs = captureLogs('trace');
      const app = await otherApp({ logger: logs.logger });
      const tokens = ['t', 'a', 'me', 'renew'].map((prefix) => [prefix, fakeJwt(`log-${prefix}`)] as const);
      const querySecret = 'query-secret-value-42';
      try {
        for (const [prefix, token] of tokens) {
          await app.app.inject({ method: 'GET', url: `/${prefix}/${token}?token=${querySecret}&lang=en` });
        }
        await app.app.inject({ method: 'GET', url: '/admin/records?limit=abc', headers: app.adminHeaders });
        await app.app.inject({ method: 'GET', url: '/admin/records', headers: { authorization: 'Bearer wrong-key-that-is-long-enough' } });
        const text = logs.text();
        for (const [, token] of tokens) {
          expect(text).not.toContain(token);
          expect(text).not.toContain(token.split('.')[1]);
        }
        expect(text).not.toContain(querySecret);
        expect(text).not.toContain(TEST_ADMIN_KEY);
        expect(text).not.toContain('wrong-key-that-is-long-enough');
        expect(text.toLowerCase()).not.toContain('authorization');
        const urls = logs
          .entries()
          .filter((e) => e.msg === 'incoming request')
          .map((e) => (e.req as { url: string }).url);
        expect(urls).toEqual([
          '/t/[redacted]?token=[redacted]&lang=en',
          '/a/[redacted]?token=[redacted]&lang=en',
          '/me/[redacted]?token=[redacted]&lang=en',
          '/renew/[redacted]?token=[redacted]&lang=en',
          '/admin/records?limit=abc',
          '/admin/records',
        ]);
      } finally {
        await app.close();
      }
    });
  });
});
