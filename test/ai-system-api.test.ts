/**
 * The AI systems admin API and CLI against the real stack (the Temporal dev server, a real
 * worker, the ledger, the real API): syncing the organization file's inventory, registering a
 * system through the API (validated, recorded, its workflow started), announcing a change,
 * updating and retiring it, listing systems with their status, one assessment's content and
 * history, and the CLI over HTTP.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiInstance } from '../src/api/app.js';
import { runCli } from '../src/cli/index.js';
import type { Organization } from '../src/organization/schema.js';
import type { impactAssessment } from '../workflows/ai-system/impact-assessment.js';
import { buildStackApp, TEST_ADMIN_HEADERS } from './helpers/browser.js';
import { headersOf, keyOf } from './helpers/keys.js';
import { eventually, exampleOrganization, startTestStack, type TestStack } from './helpers/temporal.js';

const suffix = randomBytes(3).toString('hex');
const fileSystems = [`hr-screening-${suffix}`, `chat-${suffix}`, `old-ocr-${suffix}`] as const;
const year = new Date().getUTCFullYear();

let stack: TestStack;
let app: ApiInstance;
let env: Record<string, string>;

beforeAll(async () => {
  const example = await exampleOrganization();
  const organization: Organization = {
    ...example,
    aiSystems: [
      { id: fileSystems[0], name: 'CV screening assistant', owner: 'tom.baker', purpose: 'Shortlists job applications.', impactTier: 'high', lifecycle: 'deployed' },
      { id: fileSystems[1], name: 'Website chat assistant', owner: 'sofia.lind', purpose: 'Answers product questions.', impactTier: 'low', lifecycle: 'deployed' },
      { id: fileSystems[2], name: 'Legacy OCR', owner: 'sofia.lind', purpose: 'Reads scanned forms.', impactTier: 'low', lifecycle: 'retired' },
    ],
  };
  stack = await startTestStack({ organization });
  app = await buildStackApp(stack);
  env = { AIMSFLOW_API_URL: await app.listen({ host: '127.0.0.1', port: 0 }), AIMSFLOW_ADMIN_KEY: 'test-admin-key-0123456789abcdef' };
});
afterAll(async () => {
  for (const id of [...fileSystems, ...registered]) {
    await stack?.client.workflow.getHandle(`ai-system/${id}`).terminate('test finished').catch(() => undefined);
  }
  await app?.close();
  await stack?.stop();
});

const registered: string[] = [];
const post = (url: string, payload: object, headers: object = TEST_ADMIN_HEADERS) => app.inject({ method: 'POST', url, headers: { ...headers }, payload });
const patch = (url: string, payload: object) => app.inject({ method: 'PATCH', url, headers: TEST_ADMIN_HEADERS, payload });
const get = (url: string) => app.inject({ method: 'GET', url, headers: TEST_ADMIN_HEADERS });

interface ListItem {
  systemId: string;
  state: string;
  owner?: string;
  impactTier?: string;
  source?: string;
  currentAssessment?: string;
}
const list = async (query = '') => (await get(`/admin/ai-systems${query}`)).json<{ items: ListItem[] }>().items;

async function cli(...argv: string[]) {
  return cliAs(undefined, ...argv);
}

/** The CLI with the key of `person` (default the AIMS manager's). */
async function cliAs(person: string | undefined, ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { env: person ? { ...env, AIMSFLOW_ADMIN_KEY: keyOf(person) } : env, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('AI systems admin API', () => {
  it("ensures the organization file's inventory once, skips a retired system, and lists the systems with their status", async () => {
    const first = await post('/admin/ai-systems/sync', {});
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toEqual({ started: [fileSystems[0], fileSystems[1]], running: [], updated: [], retired: [], failed: [] });
    const again = await post('/admin/ai-systems/sync', {});
    expect(again.json()).toEqual({ started: [], running: [fileSystems[0], fileSystems[1]], updated: [], retired: [], failed: [] });
    const retiredOne = await stack.client.workflow.getHandle(`ai-system/${fileSystems[2]}`).describe().catch(() => undefined);
    expect(retiredOne).toBeUndefined();

    // Never assessed: the first assessment starts at once.
    const items = await eventually(
      () => list(),
      (all) => fileSystems.slice(0, 2).every((id) => all.find((i) => i.systemId === id)?.state === 'in-progress'),
    );
    expect(items.find((i) => i.systemId === fileSystems[0])).toMatchObject({
      owner: 'tom.baker',
      impactTier: 'high',
      source: 'organization-file',
      currentAssessment: `${year}-1`,
    });
    const inProgress = await list('?state=in-progress&owner=tom.baker');
    expect(inProgress.map((i) => i.systemId)).toContain(fileSystems[0]);
    expect(inProgress.map((i) => i.systemId)).not.toContain(fileSystems[1]);
    // The scoping task went to the owner named in the file.
    const scoping = await eventually(
      () => get(`/admin/ai-systems/${fileSystems[0]}/assessments/${year}-1`).then((r) => r.json<{ status?: { state: string; currentStep?: { key: string } } }>()),
      (d) => d.status?.currentStep?.key === 'scoping',
    );
    expect(scoping.status?.state).toBe('scoping');

    // An edit of the file reaches the running workflow at the next sync; retired in the file, it is retired.
    const chat = stack.organization.aiSystems[1]!;
    chat.impactTier = 'medium';
    const edited = await post('/admin/ai-systems/sync', {});
    expect(edited.json()).toMatchObject({ running: [fileSystems[0], fileSystems[1]], updated: [fileSystems[1]] });
    expect((await get(`/admin/ai-systems/${fileSystems[1]}`)).json()).toMatchObject({ status: { system: { impactTier: 'medium' } } });
    chat.lifecycle = 'retired';
    const retiring = await post('/admin/ai-systems/sync', {});
    expect(retiring.json()).toMatchObject({ running: [fileSystems[0]], retired: [fileSystems[1]] });
    await stack.client.workflow.getHandle(`ai-system/${fileSystems[1]}`).result();
    const cancelled = await stack.client.workflow.getHandle<typeof impactAssessment>(`impact-assessment/${fileSystems[1]}/${year}-1`).result();
    expect(cancelled).toMatchObject({ status: 'cancelled' });
  });

  it('registers a new system through the API (validated, recorded) and its workflow starts; changes, updates and retirement go through it', async () => {
    const bad = await post('/admin/ai-systems', { id: 'Bad Id', name: 'x', owner: 'zoe', purpose: 'p', impactTier: 'extreme' });
    expect(bad.statusCode).toBe(400);
    const paths = bad.json<{ issues: { path: string }[] }>().issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['id', 'impactTier']));
    const unknownOwner = await post('/admin/ai-systems', { id: `x-${suffix}`, name: 'X', owner: 'zoe', purpose: 'p', impactTier: 'low' });
    expect(unknownOwner.statusCode).toBe(400);
    expect(unknownOwner.json<{ issues: unknown[] }>().issues).toEqual([{ path: 'owner', message: 'unknown person "zoe" (not in people)' }]);
    const inFile = await post('/admin/ai-systems', { id: fileSystems[1], name: 'X', owner: 'sofia.lind', purpose: 'p', impactTier: 'low' });
    expect(inFile.statusCode).toBe(409);

    const id = `pricing-${suffix}`;
    registered.push(id);
    const body = {
      id,
      name: 'Dynamic loan pricing',
      owner: 'marco.rossi',
      purpose: 'Suggests loan interest rates within the approved bands.',
      impactTier: 'high',
      by: 'priya.raman',
      policy: { firstAssessmentIn: '1h', changeDebounce: '1s', assessment: { tasks: { reminderOffsets: [], escalation: [] } } },
    };
    const created = await post('/admin/ai-systems', body);
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ systemId: id, workflowId: `ai-system/${id}`, created: true });
    expect((await post('/admin/ai-systems', body)).statusCode).toBe(409);

    const [record] = await eventually(() => stack.records.list({ subject: `ai-system/${id}`, kind: 'ai-system.registered' }), (r) => r.length === 1);
    expect(record).toMatchObject({ actor: 'priya.raman', content: { source: 'api', system: { id, owner: 'marco.rossi', impactTier: 'high' } } });
    const listed = await eventually(() => list('?state=due'), (all) => all.some((i) => i.systemId === id));
    expect(listed.find((i) => i.systemId === id)).toMatchObject({ source: 'api', owner: 'marco.rossi' });

    // Updating the registration: validated, recorded, shown.
    const badOwner = await patch(`/admin/ai-systems/${id}`, { changes: { owner: 'zoe' } });
    expect(badOwner.statusCode).toBe(400);
    expect((await patch(`/admin/ai-systems/${id}`, { changes: {} })).statusCode).toBe(400);
    const updated = await patch(`/admin/ai-systems/${id}`, { changes: { impactTier: 'critical' }, by: 'priya.raman', reason: 'Now prices all products' });
    expect(updated.statusCode, updated.body).toBe(200);
    const detail = await get(`/admin/ai-systems/${id}`);
    expect(detail.json()).toMatchObject({ executionStatus: 'RUNNING', status: { state: 'due', system: { impactTier: 'critical' } } });
    const [update] = await stack.records.list({ subject: `ai-system/${id}`, kind: 'ai-system.updated' });
    expect(update?.content).toMatchObject({ before: { impactTier: 'high' }, after: { impactTier: 'critical' } });

    // A significant change: validated, then the reassessment starts after the debounce window.
    const badChange = await post(`/admin/ai-systems/${id}/changes`, { type: 'colour', why: 'x' });
    expect(badChange.statusCode).toBe(400);
    expect(badChange.json<{ issues: { path: string }[] }>().issues.map((i) => i.path)).toEqual(['type', 'why']);
    // Announced as whoever is authenticated: naming someone else is refused.
    expect((await post(`/admin/ai-systems/${id}/changes`, { type: 'model', why: 'New gradient-boosted model', by: 'zoe' })).statusCode).toBe(403);
    const change = await post(`/admin/ai-systems/${id}/changes`, { type: 'model', why: 'New gradient-boosted model', by: 'elena.petrova' }, headersOf('elena.petrova'));
    expect(change.statusCode, change.body).toBe(200);
    expect(change.json()).toMatchObject({ systemId: id, disposition: 'pending' });
    const assessment = await eventually(
      () => get(`/admin/ai-systems/${id}/assessments/${year}-1`).then((r) => (r.statusCode === 200 ? r.json<{ status?: { state: string; trigger: string; changes: unknown[]; system: { impactTier: string } }; records: { kind: string; verified: boolean }[] }>() : undefined)),
      (d) => d?.status?.state === 'scoping' && d.records.length > 0,
    );
    expect(assessment?.status).toMatchObject({ trigger: 'change', system: { impactTier: 'critical' } });
    expect(assessment?.status?.changes).toHaveLength(1);
    expect(assessment?.records.map((r) => r.kind)).toContain('impact-assessment.started');
    // The page marks each ledger record; nothing was tampered with, so the chain vouches for all.
    expect(assessment?.records.map((r) => r.verified)).toEqual(assessment?.records.map(() => true));
    expect((await get(`/admin/ai-systems/${id}/assessments/${year}-9`)).statusCode).toBe(404);
    expect((await get(`/admin/ai-systems/nope-${suffix}`)).statusCode).toBe(404);

    // Retiring ends the workflow after the final record.
    const retired = await post(`/admin/ai-systems/${id}/retire`, { reason: 'Pricing moved to the new platform', by: 'priya.raman' });
    expect(retired.statusCode, retired.body).toBe(200);
    await stack.client.workflow.getHandle(`ai-system/${id}`).result();
    expect((await get(`/admin/ai-systems/${id}`)).json()).toMatchObject({ executionStatus: 'COMPLETED', status: { state: 'retired' } });
    expect((await post(`/admin/ai-systems/${id}/changes`, { type: 'model', why: 'Too late' })).statusCode).toBe(409);
    const gone = await eventually(() => list('?state=retired'), (all) => all.some((i) => i.systemId === id));
    expect(gone.find((i) => i.systemId === id)?.state).toBe('retired');
    const finalKinds = (await stack.records.list({ subject: `ai-system/${id}` })).map((r) => r.kind);
    expect(finalKinds.at(-1)).toBe('ai-system.retired');
    // The list of its assessments comes from the ledger, also once the workflow has ended.
    const assessments = await get(`/admin/ai-systems/${id}/assessments`);
    expect(assessments.statusCode, assessments.body).toBe(200);
    expect(assessments.json()).toMatchObject({ items: [{ assessmentRef: `${year}-1`, workflowId: `impact-assessment/${id}/${year}-1`, trigger: 'change', changes: 1, outcome: 'cancelled' }] });
    expect((await get(`/admin/ai-systems/nope-${suffix}/assessments`)).statusCode).toBe(404);
  });

  it('drives the same routes from the CLI', async () => {
    const id = `kyc-${suffix}`;
    registered.push(id);
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = await mkdtemp(path.join(tmpdir(), 'aimsflow-ai-'));
    try {
      const file = path.join(dir, 'system.yaml');
      await writeFile(file, `id: ${id}\nname: KYC document check\nowner: sofia.lind\npurpose: Checks identity documents.\nimpactTier: medium\npolicy: { firstAssessmentIn: 1h }\n`);
      const reg = await cli('ai-systems', 'register', '--file', file, '--by', 'priya.raman');
      expect(reg, reg.err).toMatchObject({ code: 0 });
      expect(reg.out).toBe(`${id} registered (ai-system/${id})`);
      const shown = await eventually(() => cli('ai-systems', 'show', id), (r) => r.code === 0 && r.out.includes('registered'));
      expect(shown.out).toContain(`${id}: KYC document check (due; medium tier; owner sofia.lind)`);
      const listed = await eventually(() => cli('ai-systems', 'list', '--owner', 'sofia.lind'), (r) => r.out.includes(id));
      expect(listed.out).toMatch(new RegExp(`${id}\\s+due\\s+medium`));
      const changed = await cliAs('sofia.lind', 'ai-systems', 'change', id, '--type', 'jurisdiction', '--why', 'Now used in Ireland', '--by', 'sofia.lind');
      expect(changed.code, changed.err).toBe(0);
      expect(changed.out).toMatch(/^Change recorded; the reassessment starts at /);
      const refused = await cli('ai-systems', 'change', id, '--type', 'weather', '--why', 'Sunny');
      expect(refused.code).toBe(1);
      expect(refused.err).toContain('type: must be one of model, data-source, intended-use, deployment-context, jurisdiction');
      const assessments = await eventually(() => cli('ai-systems', 'assessments', id), (r) => r.code === 0);
      expect(assessments.out).toBe(`No assessments of ${id} yet.`);
      const retired = await cli('ai-systems', 'retire', id, '--reason', 'Test over');
      expect(retired.code, retired.err).toBe(0);
      const unknown = await cli('ai-systems', 'show', `nope-${suffix}`);
      expect(unknown.code).toBe(1);
      expect(unknown.err).toContain(`GET /admin/ai-systems/nope-${suffix}: 404 No AI system nope-${suffix}.`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
