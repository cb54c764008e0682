/**
 * Who may call the admin API, and who is recorded: against the real stack (the Temporal dev
 * server, a real worker, the records store and the API driven with inject).
 *
 * - every admin route (each `src/<process>/routes.ts` family): 401 without credentials, 403 naming the
 *   permission and the principal for a principal whose roles lack it, never a 5xx;
 * - a body naming another actor cannot change the recorded actor: the ledger shows the key's
 *   principal;
 * - the external auditor reads status, the ledger, verify and export, but starts and decides nothing.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiInstance } from '../src/api/app.js';
import { createAdminAuth } from '../src/api/plugins/admin-auth.js';
import { keyRing } from '../src/auth/api-keys.js';
import { permits, principalRoles, type Permission } from '../src/auth/permissions.js';
import type { Principal } from '../src/auth/principal.js';
import { taskStatusQuery } from '../src/task/contract.js';
import { buildStackApp } from './helpers/browser.js';
import { headersOf, TEST_SERVICES } from './helpers/keys.js';
import { createTestNamespace, eventually, startTestStack, type TestStack } from './helpers/temporal.js';

let stack: TestStack;
let app: ApiInstance;

beforeAll(async () => {
  // Its own namespace: it reads items with fixed workflow ids (the organization file's objectives),
  // which other test files leave running on their stopped workers, where a query is never answered.
  stack = await startTestStack({ randomNcNumbers: true, namespace: await createTestNamespace('access') });
  app = await buildStackApp(stack);
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await stack?.stop();
});

/** Path parameters that pass validation, so a refusal is about who asks, not what. */
const PARAMS: Record<string, string> = {
  year: '2031',
  auditId: 'A-01',
  ncId: 'NC-2031-001',
  systemId: 'credit-scoring',
  assessmentRef: '2031-1',
  riskId: 'R-001',
  scope: 'credit-scoring',
  format: 'csv',
  certificateId: 'CERT-2031-1',
  reviewId: '2031',
  kind: 'management-review',
  ref: 'abcdefgh',
  id: 'sofia.lind',
  objectiveId: 'credit-scoring-accuracy',
  version: '1',
  reviewRef: '2031',
};

function concrete(url: string): string {
  return url.replace(/:(\w+)/g, (_m, name: string) => {
    if (name === 'id' && url.startsWith('/admin/work')) return 'task%2Fadhoc%2F2031%2Fnone';
    if (name === 'id' && url.startsWith('/admin/improvements')) return 'IMP-2031-001';
    const value = PARAMS[name];
    if (!value) throw new Error(`no test value for :${name} in ${url}`);
    return value;
  });
}

/** Candidates for "a principal without the permission", from no role to nearly every read. */
const CANDIDATES = ['audit-reader', 'operations', 'sofia.lind', 'aisha.khan', 'hannah.okafor', 'ines.moreau'];

function rolesOf(candidate: string) {
  const ring = keyRing(stack.config.API_KEYS);
  const principal = ring.principal(headersOf(candidate).authorization.slice('Bearer '.length))!;
  return { principal, roles: principalRoles(principal, { organization: stack.organization, serviceRoles: ring.serviceRoles }) };
}

function routes(): Array<{ method: string; url: string; permission: Permission }> {
  return [...app.adminPermissions].map(([route, permission]) => {
    const [method = '', url = ''] = route.split(' ');
    return { method, url, permission };
  });
}

describe('every admin route', () => {
  it('covers every route family', () => {
    const families = new Set(routes().map((r) => r.url.split('/')[2]));
    for (const family of ['records', 'tasks', 'work', 'nonconformities', 'concerns', 'people', 'organization', 'schedules', 'ai-systems', 'certifications', 'management-reviews', 'internal-audit-programmes', 'internal-audits', 'improvements']) {
      expect(families, family).toContain(family);
    }
  });

  it('answers 401 with a Bearer challenge without credentials, and 403 naming the permission and the principal without it', async () => {
    const seen: string[] = [];
    for (const { method, url, permission } of routes()) {
      const target = concrete(url);
      const payload = method === 'GET' || method === 'DELETE' ? undefined : {};
      const anonymous = await app.inject({ method: method as 'GET', url: target, ...(payload ? { payload } : {}) });
      expect(anonymous.statusCode, `${method} ${url}: ${anonymous.body}`).toBe(401);
      expect(anonymous.headers['www-authenticate'], `${method} ${url}`).toMatch(/^Bearer realm=/);

      const lacking = CANDIDATES.map((c) => ({ candidate: c, ...rolesOf(c) })).find(({ roles }) => !permits(roles, permission));
      if (!lacking) continue;
      const refused = await app.inject({ method: method as 'GET', url: target, headers: headersOf(lacking.candidate), ...(payload ? { payload } : {}) });
      expect(refused.statusCode, `${method} ${url} as ${lacking.candidate}: ${refused.body}`).toBe(403);
      const { message } = refused.json<{ message: string }>();
      expect(message).toContain(`(permission ${permission})`);
      expect(message).toContain(`${lacking.principal.kind} ${lacking.principal.id}`);
      seen.push(`${method} ${url}`);
    }
    // Every route but the reads everyone holds is refused to someone.
    expect(seen.length).toBeGreaterThan(30);
  });

  it('answers a principal with the permission without a 5xx (empty or made-up requests)', async () => {
    for (const { method, url } of routes()) {
      if (method !== 'GET') continue;
      let res = await app.inject({ method: 'GET', url: concrete(url), headers: headersOf('priya.raman') });
      // A Temporal too busy to answer in time (the whole suite shares one dev server) is a 503 with
      // Retry-After, which a client asks again; anything else at 5xx is a failure.
      for (let retry = 0; retry < 2 && res.statusCode === 503 && res.headers['retry-after'] !== undefined; retry++) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        res = await app.inject({ method: 'GET', url: concrete(url), headers: headersOf('priya.raman') });
      }
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(500);
      expect([401, 403], `${method} ${url}`).not.toContain(res.statusCode);
    }
  });
});

describe('the recorded actor is the principal', () => {
  const ncBody = (extra: Record<string, unknown> = {}) => ({
    title: 'Fraud model retrained without the approved data sheet',
    description: 'The March retraining used a data extract that had no approved data sheet (A.7.5).',
    severity: 'minor',
    source: 'admin',
    clauses: ['A.7.5'],
    aiSystem: 'fraud-detection',
    owner: 'sofia.lind',
    policy: { stepDue: '1h', tasks: { reminderOffsets: [], escalation: [] } },
    ...extra,
  });

  it('refuses a body naming another actor, or system, with 403 naming the field and the principal', async () => {
    for (const named of ['tom.baker', 'system', 'hannah.okafor']) {
      const res = await app.inject({ method: 'POST', url: '/admin/nonconformities', headers: headersOf('priya.raman'), payload: ncBody({ raisedBy: named }) });
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json<{ message: string }>().message).toContain(`raisedBy names "${named}", but the request is authenticated as person priya.raman (key test-priya.raman)`);
    }
    const task = await app.inject({
      method: 'POST',
      url: '/admin/tasks',
      headers: headersOf('priya.raman'),
      payload: { title: 'Evidence', instructions: 'Link the monitoring dashboard.', clauses: ['9.1'], process: 'ai-system-lifecycle', assignee: { person: 'sofia.lind' }, dueAt: new Date(Date.now() + 86_400_000).toISOString(), form: 'evidence', requestedBy: 'hannah.okafor' },
    });
    expect(task.statusCode, task.body).toBe(403);
  });

  it("records the key's principal in the ledger, whoever holds the key", async () => {
    for (const person of ['priya.raman', 'sofia.lind']) {
      const res = await app.inject({ method: 'POST', url: '/admin/nonconformities', headers: headersOf(person), payload: ncBody({ raisedBy: person }) });
      expect(res.statusCode, res.body).toBe(201);
      const { workflowId } = res.json<{ workflowId: string }>();
      const raised = await eventually(
        () => stack.records.list({ subject: workflowId, kind: 'nonconformity.raised', limit: 1 }),
        (records) => records.length === 1,
      );
      expect(raised[0]!.actor).toBe(person);
    }
  });

  it('starts a task as the principal (requestedBy), leaving the field out', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/admin/tasks',
      headers: headersOf('priya.raman'),
      payload: { title: 'Evidence', instructions: 'Link the monitoring dashboard.', clauses: ['9.1'], process: 'ai-system-lifecycle', assignee: { person: 'sofia.lind' }, dueAt: new Date(Date.now() + 86_400_000).toISOString(), form: 'evidence', policy: { reminderOffsets: [], escalation: [] } },
    });
    expect(res.statusCode, res.body).toBe(201);
    const { workflowId } = res.json<{ workflowId: string }>();
    const status = await eventually(() => stack.client.workflow.getHandle(workflowId).query(taskStatusQuery).catch(() => undefined), (s) => s !== undefined);
    expect(status!.requestedBy).toBe('priya.raman');
  });
});

describe('the external auditor', () => {
  it('reads status, the ledger, its verification and the audit pack, but starts and decides nothing', async () => {
    const ines = headersOf('ines.moreau');
    const raised = await app.inject({ method: 'POST', url: '/admin/nonconformities', headers: headersOf('priya.raman'), payload: { ...{ title: 'Model card out of date', description: 'The model card of the credit model lags two releases.', severity: 'minor', source: 'admin', clauses: ['A.6.2.7'], owner: 'sofia.lind' }, policy: { stepDue: '1h', tasks: { reminderOffsets: [], escalation: [] } } } });
    expect(raised.statusCode, raised.body).toBe(201);
    const { ncId } = raised.json<{ ncId: string }>();
    for (const url of ['/admin/records', '/admin/records/verify', '/admin/records/export', `/admin/nonconformities/${ncId}`, '/admin/nonconformities', '/admin/certifications', '/admin/internal-audit-programmes']) {
      const res = await app.inject({ method: 'GET', url, headers: ines });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
    }
    const writes: Array<[string, string, object]> = [
      ['POST', '/admin/nonconformities', { title: 'x' }],
      ['POST', `/admin/nonconformities/${ncId}/cancel`, { reason: 'duplicate' }],
      ['POST', '/admin/management-reviews', { reviewId: '2031', meetingDate: '2031-03-01' }],
      ['POST', '/admin/certifications/CERT-2031-1/decisions', {}],
      ['POST', '/admin/internal-audit-programmes', { year: 2031 }],
      ['PUT', '/admin/schedules/management-review', {}],
    ];
    for (const [method, url, payload] of writes) {
      const res = await app.inject({ method: method as 'POST', url, headers: ines, payload });
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(403);
      expect(res.json<{ message: string }>().message).toMatch(/^Forbidden: person ines\.moreau \(key test-ines\.moreau\) holds the roles external-auditor, none of which may .* \(permission [a-z-]+\.[a-z]+\)\.$/);
    }
  });
});

describe('the admin authentication hook', () => {
  const run = (hook: ReturnType<typeof createAdminAuth>, request: Partial<FastifyRequest>) =>
    new Promise<unknown>((resolve) => {
      const log = pino({ level: 'silent' });
      Object.assign(request, { headers: request.headers ?? {}, log });
      hook(request as FastifyRequest, {} as unknown as FastifyReply, (err?: unknown) => resolve(err));
    });

  it('lets a request already signed in through as that person, and sets the principal of a valid key', async () => {
    const ring = keyRing(stack.config.API_KEYS);
    const hook = createAdminAuth(ring);
    const signedIn: Principal = { kind: 'person', id: 'hannah.okafor', via: 'session' };
    const request = { principal: signedIn } as Partial<FastifyRequest>;
    expect(await run(hook, request)).toBeUndefined();
    expect(request.principal).toBe(signedIn);

    const withKey = { headers: headersOf('operations') } as Partial<FastifyRequest>;
    expect(await run(hook, withKey)).toBeUndefined();
    expect(withKey.principal).toEqual({ kind: 'service', id: 'operations', via: 'api-key', key: 'test-operations' });
    expect(Object.keys(TEST_SERVICES)).toContain('operations');

    expect(await run(hook, {})).toMatchObject({ statusCode: 401 });
  });
});
