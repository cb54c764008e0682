/**
 * The certification admin API and CLI against the real stack: the Temporal dev server, a real
 * worker, the ledger and SMTP, the real API listening on a port for the CLI.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiInstance } from '../src/api/app.js';
import { runCli } from '../src/cli/index.js';
import { cancelUpdate } from '../src/common/messages.js';
import { ncStatusQuery } from '../src/corrective-action/contract.js';
import { buildStackApp, TEST_ADMIN_HEADERS } from './helpers/browser.js';
import { eventually, startTestStack, type TestStack } from './helpers/temporal.js';

let stack: TestStack;
let app: ApiInstance;
let env: Record<string, string>;
const ncs: string[] = [];

beforeAll(async () => {
  stack = await startTestStack({ randomNcNumbers: true });
  app = await buildStackApp(stack);
  env = { AIMSFLOW_API_URL: await app.listen({ host: '127.0.0.1', port: 0 }), AIMSFLOW_ADMIN_KEY: 'test-admin-key-0123456789abcdef' };
});
afterAll(async () => {
  for (const id of ncs) {
    await stack.client.workflow.getHandle(id).executeUpdate(cancelUpdate, { args: [{ by: 'system', reason: 'test finished' }] }).catch(() => undefined);
  }
  await app?.close();
  await stack?.stop();
});

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const certId = () => `CERT-A${randomBytes(4).toString('hex').toUpperCase()}`;

function existing(certificateId: string) {
  const now = Date.now();
  return {
    certificateId,
    certificate: { decisionDate: iso(now - DAY), expiresOn: iso(now + 1000 * DAY) },
    plan: { surveillance1: iso(now + 100 * DAY), surveillance2: iso(now + 500 * DAY), recertification: iso(now + 960 * DAY) },
    policy: { reminderOffsets: [], readinessChecks: [], correctiveAction: { stepDue: '1h', tasks: { reminderOffsets: [], escalation: [] } } },
  };
}

const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, headers: TEST_ADMIN_HEADERS, payload: payload as object });
const get = (url: string) => app.inject({ method: 'GET', url, headers: TEST_ADMIN_HEADERS });

async function cli(argv: string[], stdin?: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { env, out: (l) => out.push(l), err: (l) => err.push(l), ...(stdin !== undefined ? { stdin: () => Promise.resolve(stdin) } : {}) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('certification admin API', () => {
  it('refuses impossible dates naming the field and the rule, and bad input naming the field', async () => {
    const now = Date.now();
    const res = await post('/admin/certifications', {
      certificateId: certId(),
      plan: { stage1: iso(now + 10 * DAY), stage2: iso(now + 40 * DAY), surveillance1: iso(now + 30 * DAY), surveillance2: iso(now + 400 * DAY), recertification: iso(now + 700 * DAY) },
    });
    expect(res.statusCode, res.body).toBe(400);
    const body = res.json<{ issues: Array<{ path: string; message: string }> }>();
    const s1 = body.issues.find((i) => i.path === 'plan.surveillance1');
    expect(s1?.message).toContain('(rule surveillance-after-decision)');
    expect(body.issues.every((i) => i.path.startsWith('plan.'))).toBe(true);

    const shape = await post('/admin/certifications', { certificateId: 'lower case', plan: { surveillance1: 'next spring' } });
    expect(shape.statusCode).toBe(400);
    expect(shape.body).toContain('certificateId');
    expect(shape.body).toContain('plan.surveillance1');

    expect((await get('/admin/certifications/CERT-NOPE-0001')).statusCode).toBe(404);
  });

  it('starts a cycle, records an outcome with findings, refuses a wrong decision, moves dates and ends it', async () => {
    const certificateId = certId();
    const started = await post('/admin/certifications', existing(certificateId));
    expect(started.statusCode, started.body).toBe(201);
    // The recertification 40 days before the expiry keeps the rules but is risky: accepted with a warning.
    expect(started.json()).toMatchObject({
      certificateId,
      workflowId: `certification/iso42001/${certificateId}`,
      warnings: [{ path: 'plan.recertification', rule: 'recertification-lead-time' }],
    });
    expect((await post('/admin/certifications', existing(certificateId))).statusCode).toBe(409);

    const listed = await eventually(
      () => get('/admin/certifications?state=valid'),
      (r) => r.json<{ items: Array<{ certificateId: string }> }>().items.some((i) => i.certificateId === certificateId),
    );
    expect(listed.json<{ items: Array<{ certificateId: string }> }>().items.find((i) => i.certificateId === certificateId)).toMatchObject({
      workflowId: `certification/iso42001/${certificateId}`,
      state: 'valid',
      cycle: 1,
      executionStatus: 'RUNNING',
    });
    expect((await get('/admin/certifications?state=nonsense')).statusCode).toBe(400);
    const detail = await eventually(() => get(`/admin/certifications/${certificateId}`), (r) => r.json<{ status: { current?: string } }>().status?.current === 'surveillance1');
    expect(detail.json()).toMatchObject({ executionStatus: 'RUNNING', status: { state: 'valid', cycle: 1, standing: 'valid' } });

    const outcome = await post(`/admin/certifications/${certificateId}/outcomes`, {
      by: 'priya.raman',
      audit: 'surveillance1',
      completedOn: iso(Date.now() - 60_000),
      result: 'recommended',
      findings: [{ ref: 'NC-1', severity: 'minor', title: 'Supplier review overdue', description: 'A.10.3 review not done for one supplier.', clauses: ['A.10.3'], deadline: iso(Date.now() + 30 * DAY) }],
    });
    expect(outcome.statusCode, outcome.body).toBe(200);
    const ack = outcome.json<{ nonconformities: Array<{ ncId: string; workflowId: string }> }>();
    expect(ack.nonconformities).toHaveLength(1);
    ncs.push(ack.nonconformities[0]!.workflowId);
    const nc = await eventually(
      () => stack.client.workflow.getHandle(ack.nonconformities[0]!.workflowId).query(ncStatusQuery).catch(() => undefined),
      (s) => s !== undefined,
    );
    expect(nc).toMatchObject({ source: 'certification-audit', severity: 'minor', owner: 'priya.raman' });

    const wrong = await post(`/admin/certifications/${certificateId}/decisions`, { decision: 'reinstated', decidedOn: iso(Date.now()) });
    expect(wrong.statusCode).toBe(409);
    expect(wrong.json<{ message: string }>().message).toContain('only a suspended certificate can be reinstated');
    // The workflow's refusals of the decision rules come back as 409 with the reason; `acceptedPlans` is part of the body.
    const future = await post(`/admin/certifications/${certificateId}/decisions`, { decision: 'suspended', decidedOn: iso(Date.now() + 3 * DAY) });
    expect(future.statusCode, future.body).toBe(409);
    expect(future.json<{ message: string }>().message).toMatch(/decidedOn: \S+ is in the future/);
    const plans = await post(`/admin/certifications/${certificateId}/decisions`, { decision: 'suspended', decidedOn: iso(Date.now()), acceptedPlans: ['NC-2027-004'] });
    expect(plans.statusCode, plans.body).toBe(409);
    expect(plans.json<{ message: string }>().message).toContain('acceptedPlans: only given with a granted decision');

    const held = await post(`/admin/certifications/${certificateId}/dates`, { dates: { surveillance1: iso(Date.now() + 10 * DAY) }, reason: 'x' });
    expect(held.statusCode).toBe(409);
    expect(held.json<{ message: string }>().message).toContain('already held');

    const moved = await post(`/admin/certifications/${certificateId}/dates`, { dates: { surveillance2: iso(Date.now() + 900 * DAY) }, reason: 'body asked' });
    expect(moved.statusCode).toBe(409);
    expect(moved.json<{ message: string }>().message).toContain('second-surveillance-within-24-months');

    const end = await post(`/admin/certifications/${certificateId}/end`, { reason: 'test done' });
    expect(end.statusCode, end.body).toBe(200);
    await eventually(() => get(`/admin/certifications/${certificateId}`), (r) => r.json<{ executionStatus: string }>().executionStatus === 'COMPLETED');
    expect((await post(`/admin/certifications/${certificateId}/end`, { reason: 'again' })).statusCode).toBe(409);
  });
});

describe('certification CLI', () => {
  it('starts, shows, moves dates, records a decision and ends a cycle', async () => {
    const certificateId = certId();
    const input = existing(certificateId);
    const start = await cli(['certification', 'start', '-f', '-'], JSON.stringify(input));
    expect(start.code, start.err).toBe(0);
    expect(start.out).toContain(`${certificateId}: cycle started (certification/iso42001/${certificateId})`);
    expect(start.out).toContain('warning: plan.recertification');

    const shown = await eventually(() => cli(['certification', 'show', certificateId]), (r) => r.out.includes('next: surveillance1'));
    expect(shown.out).toContain(`${certificateId}: valid (cycle 1, running)`);

    const list = await eventually(() => cli(['certification', 'list']), (r) => r.out.includes(certificateId));
    expect(list.out).toMatch(new RegExp(`${certificateId}  valid  cycle 1`));

    const bad = await cli(['certification', 'move-dates', certificateId, '--surveillance1', iso(Date.now() + 400 * DAY), '--reason', 'later']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('first-surveillance-within-12-months');

    const moved = await cli(['certification', 'move-dates', certificateId, '--surveillance1', iso(Date.now() + 120 * DAY), '--reason', 'auditor holiday', '--by', 'priya.raman']);
    expect(moved.code, moved.err).toBe(0);
    expect(moved.out).toContain('Audit dates moved');

    const today = new Date().toISOString().slice(0, 10);
    const withPlans = await cli(['certification', 'decision', certificateId, '--decision', 'suspended', '--decided-on', today, '--accepted-plans', 'NC-2027-004,NC-2027-005']);
    expect(withPlans.code).toBe(1);
    expect(withPlans.err).toContain('acceptedPlans: only given with a granted decision');

    const suspended = await cli(['certification', 'decision', certificateId, '--decision', 'suspended', '--decided-on', today, '--reason', 'test']);
    expect(suspended.code, suspended.err).toBe(0);
    expect(suspended.out).toContain('State: suspended');

    const ended = await cli(['--json', 'certification', 'end', certificateId, '--reason', 'test done']);
    expect(ended.code, ended.err).toBe(0);
    expect(JSON.parse(ended.out)).toMatchObject({ certificateId, ok: true });
  });
});
