/**
 * The admin API of objectives, the AI policy and competence against the real stack (dev server,
 * worker, ledger, the real API): registering an objective (validated, recorded, its workflow
 * started), the register, one objective with its series, a change and retirement; bad input
 * refused with a 4xx naming the field, never a 5xx; and who may do what.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiInstance } from '../src/api/app.js';
import { buildStackApp, TEST_ADMIN_HEADERS } from './helpers/browser.js';
import { runCli } from '../src/cli/index.js';
import { syncObjectives } from '../src/objectives/start.js';
import { headersOf, TEST_ADMIN_KEY } from './helpers/keys.js';
import { createTestNamespace, eventually, startTestStack, type TestStack } from './helpers/temporal.js';

let stack: TestStack;
let app: ApiInstance;
let env: Record<string, string>;
beforeAll(async () => {
  // Its own namespace: the organization file's objectives have fixed workflow ids, which other test files start too.
  stack = await startTestStack({ namespace: await createTestNamespace('objectives-api') });
  app = await buildStackApp(stack);
  env = { AIMSFLOW_API_URL: await app.listen({ host: '127.0.0.1', port: 0 }), AIMSFLOW_ADMIN_KEY: TEST_ADMIN_KEY };
});

async function cli(argv: string[], stdin?: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { env, out: (l) => out.push(l), err: (l) => err.push(l), ...(stdin !== undefined ? { stdin: () => Promise.resolve(stdin) } : {}) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
afterAll(async () => {
  await app?.close();
  await stack?.stop();
});

const post = (url: string, payload: object, headers: object = TEST_ADMIN_HEADERS) => app.inject({ method: 'POST', url, headers: { ...headers }, payload });
const patch = (url: string, payload: object) => app.inject({ method: 'PATCH', url, headers: TEST_ADMIN_HEADERS, payload });
const get = (url: string, headers: object = TEST_ADMIN_HEADERS) => app.inject({ method: 'GET', url, headers: { ...headers } });

const definition = (id: string) => ({
  id,
  statement: 'Answer customer concerns about AI decisions within five working days.',
  owner: 'tom.baker',
  serves: 'Commitment 3: we listen to people affected by our AI systems',
  metric: { name: 'Concerns answered on time', unit: '%', direction: 'higher-is-better', target: 90, atRisk: 80 },
  every: '30d',
  measurement: { method: 'Share of concerns closed within 5 working days, from the concern log.' },
});

describe('objectives API', () => {
  it('registers an objective, lists it, shows its series, changes and retires it', async () => {
    const id = `concerns-${randomBytes(3).toString('hex')}`;
    const created = await post('/admin/objectives', { definition: definition(id), policy: { firstIn: '1s', every: '1h', dueIn: '1h', tasks: { reminderOffsets: [], escalation: [] } } });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual({ objectiveId: id, workflowId: `objective/${id}` });
    expect((await post('/admin/objectives', { definition: definition(id) })).statusCode).toBe(409);

    await eventually(() => stack.client.workflow.getHandle(`objective/${id}/measurement-1`).describe().catch(() => undefined), (d) => d !== undefined, { timeoutMs: 30_000 });
    const items = await eventually(async () => (await get('/admin/objectives')).json<{ items: Array<{ objectiveId: string; state: string; owner?: string }> }>().items, (list) => list.some((i) => i.objectiveId === id));
    expect(items.find((i) => i.objectiveId === id)).toMatchObject({ owner: 'tom.baker' });
    const detail = await get(`/admin/objectives/${id}`);
    expect(detail.statusCode).toBe(200);
    expect(detail.json()).toMatchObject({ objectiveId: id, status: { definition: { id }, series: [], current: { n: 1 } } });
    expect((await get(`/admin/objectives/${id}/series`)).json()).toEqual({ objectiveId: id, items: [] });

    // A change with the threshold on the wrong side is refused, naming the field; one that contradicts the rest of the definition too; a good one is recorded.
    const bad = await patch(`/admin/objectives/${id}`, { reason: 'tighten', changes: { metric: { ...definition(id).metric, atRisk: 95 } } });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('changes.metric.atRisk');
    const unknownOwner = await patch(`/admin/objectives/${id}`, { reason: 'new owner', changes: { owner: 'nobody.here' } });
    expect(unknownOwner.statusCode).toBe(400);
    expect(unknownOwner.body).toContain('changes.owner: unknown person');
    const good = await patch(`/admin/objectives/${id}`, { reason: 'tighten', changes: { metric: { ...definition(id).metric, target: 95 } } });
    expect(good.statusCode).toBe(200);
    expect((await stack.records.list({ kind: 'objective.changed', subject: `objective/${id}` }))[0]!.actor).toBe('priya.raman');

    expect((await post(`/admin/objectives/${id}/retire`, { reason: 'merged into another objective' })).statusCode).toBe(200);
    await eventually(async () => (await get(`/admin/objectives/${id}`)).json<{ status: { state: string } }>().status.state, (s) => s === 'retired');
  });

  it('refuses bad input with a 4xx naming the field, never a 5xx', async () => {
    const id = `bad-${randomBytes(3).toString('hex')}`;
    const cases: Array<[string, object, string]> = [
      ['unknown owner', { definition: { ...definition(id), owner: 'nobody.here' } }, 'definition.owner'],
      ['threshold past the target', { definition: { ...definition(id), metric: { ...definition(id).metric, atRisk: 99 } } }, 'definition.metric.atRisk'],
      ['a target that is not a number', { definition: { ...definition(id), metric: { ...definition(id).metric, target: 'high' } } }, 'definition.metric.target'],
      ['a bad id', { definition: { ...definition(id), id: 'Has Spaces' } }, 'definition.id'],
      ['a bad interval', { definition: { ...definition(id), every: 'sometimes' } }, 'definition.every'],
      ['an unknown field', { definition: definition(id), colour: 'red' }, 'colour'],
    ];
    for (const [what, body, field] of cases) {
      const res = await post('/admin/objectives', body);
      expect(res.statusCode, what).toBe(400);
      expect(res.body, what).toContain(field);
    }
    expect((await get('/admin/objectives/NOT_AN_ID')).statusCode).toBe(400);
    expect((await get('/admin/objectives/no-such-objective')).statusCode).toBe(404);
    expect((await get('/admin/objectives/no-such-objective/series')).statusCode).toBe(404);
    const noReason = await post('/admin/objectives/no-such-objective/retire', {});
    expect(noReason.statusCode).toBe(400);
    expect(noReason.body).toContain('reason');

    expect((await post('/admin/policy/reviews', { reviewRef: 'Bad Ref' })).body).toContain('reviewRef');
    expect((await post('/admin/policy/reviews', { reviewRef: 'Bad Ref' })).statusCode).toBe(400);
    const version = await get('/admin/policy/versions/zero');
    expect(version.statusCode).toBe(400);
    expect(version.body).toContain('version');
    expect((await get('/admin/policy/versions/7')).statusCode).toBe(404);
    expect((await get('/admin/policy/versions/7/acknowledgements')).statusCode).toBe(404);
    const diff = await get('/admin/policy/versions/2/diff?from=-1');
    expect(diff.statusCode).toBe(400);
    expect(diff.body).toContain('from');
    expect((await get('/admin/policy/reviews/no-such-review')).statusCode).toBe(404);
  });

  it('lets readers read and only the AIMS manager change; lists versions and competence', async () => {
    expect((await get('/admin/objectives', headersOf('ines.moreau'))).statusCode).toBe(200);
    const refused = await post('/admin/objectives', { definition: definition(`x-${randomBytes(3).toString('hex')}`) }, headersOf('ines.moreau'));
    expect(refused.statusCode).toBe(403);
    expect(refused.body).toContain('objective.manage');
    expect((await post('/admin/policy/reviews', { reviewRef: 'r1' }, headersOf('tom.baker'))).statusCode).toBe(403);
    expect((await get('/admin/policy/versions')).json()).toEqual({ items: [] });
    const competence = await get('/admin/competence');
    expect(competence.statusCode).toBe(200);
    expect(competence.json()).toEqual({ gaps: [], renewals: [] });
  });

  it('drives objectives, the policy and competence from the CLI', async () => {
    const id = `cli-${randomBytes(3).toString('hex')}`;
    const registered = await cli(['objectives', 'register', '--file', '-'], JSON.stringify({ definition: definition(id) }));
    expect(registered).toMatchObject({ code: 0, out: `${id} registered (objective/${id})` });
    const refused = await cli(['objectives', 'register', '--file', '-'], JSON.stringify({ definition: { ...definition(`${id}-2`), owner: 'nobody.here' } }));
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('definition.owner');
    expect((await eventually(() => cli(['objectives', 'list']), (r) => r.out.includes(id))).code).toBe(0);
    expect((await cli(['objectives', 'show', id])).out).toContain(`${id}: Answer customer concerns`);
    expect((await cli(['objectives', 'series', id])).out).toBe('no measurements');
    expect((await cli(['objectives', 'retire', id, '--reason', 'test over'])).code).toBe(0);
    expect((await cli(['policy', 'versions'])).out).toBe('no approved version');
    const noVersion = await cli(['policy', 'diff', '3']);
    expect(noVersion.code).toBe(1);
    expect(noVersion.err).toContain('No approved version 3 of the AI policy.');
    expect((await cli(['competence'])).out).toBe('gaps: none\nto renew: none');
  });

  it("ensures the organization file's objectives once, and a running one follows a change of the file, recorded", async () => {
    const ids = stack.organization.objectives.map((o) => o.id);
    const first = await post('/admin/objectives/sync', {});
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toEqual({ started: ids, running: [], updated: [], failed: [] });
    expect((await cli(['objectives', 'sync'])).out).toBe(`started: none\nalready running: ${ids.join(', ')}`);
    const [accuracy] = stack.organization.objectives;
    const edited = { ...stack.organization, objectives: [{ ...accuracy!, metric: { ...accuracy!.metric, target: 96 } }] };
    expect(await syncObjectives(stack.client, stack.taskQueue, edited)).toEqual({ started: [], running: [accuracy!.id], updated: [accuracy!.id], failed: [] });
    const changed = await stack.records.list({ kind: 'objective.changed', subject: `objective/${accuracy!.id}` });
    expect(changed[0]).toMatchObject({ actor: 'system', content: { reason: 'changed in the organization file', changes: { metric: { target: 96 } }, after: { every: '30d', metric: { target: 96 } } } });
    expect(Object.keys((changed[0]!.content as { changes: object }).changes)).toEqual(['metric']);
    expect(await syncObjectives(stack.client, stack.taskQueue, edited)).toMatchObject({ updated: [] });
    for (const id of ids) await stack.client.workflow.getHandle(`objective/${id}`).terminate('test finished').catch(() => undefined);
  });
});
