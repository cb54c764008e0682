/**
 * The management review admin API and CLI against the real stack: the Temporal dev server, a
 * real worker, the real SMTP server, the real API listening on a port for the CLI.
 */
import { keyOf } from './helpers/keys.js';
import { randomInt } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiInstance } from '../src/api/app.js';
import { runCli } from '../src/cli/index.js';
import type { ManagementReviewStatus } from '../src/management-review/schema.js';
import { approvalStatusQuery, decideUpdate } from '../src/approval/contract.js';
import { buildStackApp, TEST_ADMIN_HEADERS } from './helpers/browser.js';
import { eventually, startTestStack, type TestStack } from './helpers/temporal.js';

let stack: TestStack;
let app: ApiInstance;
let apiUrl: string;

beforeAll(async () => {
  stack = await startTestStack({ randomNcNumbers: true });
  app = await buildStackApp(stack);
  apiUrl = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app?.close();
  await stack?.stop();
});

const quiet = { reminderOffsets: [], escalation: [] };
const day = (offsetDays = 0) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
const reviewId = () => `2027-api${randomInt(100_000, 999_999)}`;

const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, headers: TEST_ADMIN_HEADERS, payload: payload as object });
const get = (url: string) => app.inject({ method: 'GET', url, headers: TEST_ADMIN_HEADERS });

async function cli(...argv: string[]) {
  return cliAs('priya.raman', ...argv);
}

/** The CLI with the key of `person`. */
async function cliAs(person: string, ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    env: { AIMSFLOW_API_URL: apiUrl, AIMSFLOW_ADMIN_KEY: keyOf(person) },
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const status = async (id: string) => {
  const res = await get(`/admin/management-reviews/${id}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ executionStatus: string; status: ManagementReviewStatus }>();
};

async function approve(approvalId: string, by: string) {
  const handle = stack.client.workflow.getHandle(approvalId);
  const s = await eventually(() => handle.query(approvalStatusQuery).catch(() => undefined), (a) => (a?.approvers.length ?? 0) > 0 && a?.state === 'pending');
  await handle.executeUpdate(decideUpdate, { args: [{ by, decision: 'approve', contentHash: s!.contentHash }] });
}

describe('management review API and CLI', () => {
  it('refuses bad starts naming each field', async () => {
    const bad = await post('/admin/management-reviews', { reviewId: '27', meetingDate: '2027-02-30' });
    expect(bad.statusCode).toBe(400);
    const text = bad.body;
    expect(text).toContain('reviewId');
    expect(text).toContain('meetingDate');

    const past = await post('/admin/management-reviews', { reviewId: reviewId(), meetingDate: '2020-01-15' });
    expect(past.statusCode).toBe(400);
    const issues = past.json<{ issues: { path: string; message: string }[] }>().issues;
    expect(issues.find((i) => i.path === 'meetingDate')?.message).toContain('or later');
    // Started as whoever is authenticated: a body naming someone else is refused before any check of it.
    const asSomeoneElse = await post('/admin/management-reviews', { reviewId: reviewId(), meetingDate: '2020-01-15', requestedBy: 'zoe.nobody' });
    expect(asSomeoneElse.statusCode).toBe(403);
    expect(asSomeoneElse.json<{ message: string }>().message).toContain('requestedBy names "zoe.nobody"');
    expect((await get('/admin/management-reviews/2027-nope')).statusCode).toBe(404);
  });

  it('starts a review, serves its pack, takes the minutes from the CLI and lists it with its decisions and actions', async () => {
    const id = reviewId();
    const started = await post('/admin/management-reviews', {
      reviewId: id,
      meetingDate: day(),
      requestedBy: 'priya.raman',
      policy: { inputsDue: '1h', meetingIn: '4s', tasks: quiet },
    });
    expect(started.statusCode, started.body).toBe(201);
    expect(started.json()).toMatchObject({ reviewId: id, workflowId: `management-review/${id}` });
    const again = await post('/admin/management-reviews', { reviewId: id, meetingDate: day() });
    expect(again.statusCode).toBe(409);

    // Before the meeting the pack is not there yet.
    const early = await get(`/admin/management-reviews/${id}/pack`);
    expect(early.statusCode).toBe(409);
    expect(early.body).toContain('not built yet');

    // The meeting comes with no input supplied: the pack marks all five missing.
    await eventually(() => status(id), (s) => s.status.state === 'awaiting-minutes', { timeoutMs: 30_000 });
    const pack = await get(`/admin/management-reviews/${id}/pack`);
    expect(pack.statusCode).toBe(200);
    expect(pack.headers['content-type']).toContain('text/html');
    expect(pack.body.match(/Missing: not supplied by the meeting/g)?.length).toBe(5);
    expect(pack.body).toContain('Requested from Priya Raman');

    // Minutes with a bad action are refused by field; the CLI sends good ones from a file.
    const bad = await post(`/admin/management-reviews/${id}/minutes`, {
      attendees: ['hannah.okafor'],
      actions: [{ title: 'Write the AI objectives report', owner: 'tom.baker', dueDate: '2030-13-01', input: 'd' }],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('actions.0.dueDate');
    // Every input is missing: minutes without a decision on each are refused by the workflow, naming the field.
    const undecided = await post(`/admin/management-reviews/${id}/minutes`, {
      attendees: ['hannah.okafor'],
      missingInputs: [{ input: 'a', decision: 'accepted', reason: 'This is the first review' }],
    });
    expect(undecided.statusCode).toBe(409);
    expect(undecided.body).toContain('missingInputs: input (b) is missing from the pack and has no decision');
    expect(undecided.body).not.toContain('input (a) is missing');
    const dir = await mkdtemp(path.join(tmpdir(), 'mr-'));
    const file = path.join(dir, 'minutes.yaml');
    await writeFile(
      file,
      [
        'attendees: [hannah.okafor, david.chen, priya.raman]',
        'improvementDecisions: ["Measure the AI objectives monthly"]',
        'changeDecisions: []',
        'actions:',
        '  - { title: Write the AI objectives report, owner: tom.baker, dueDate: "2030-06-30", input: d }',
        'missingInputs:',
        '  - { input: a, decision: accepted, reason: This is the first review }',
        '  - { input: b, decision: accepted, reason: Discussed from the risk register at the meeting }',
        '  - { input: c, decision: accepted, reason: Discussed from the complaints log at the meeting }',
        '  - { input: d, decision: action, action: 0 }',
        '  - { input: e, decision: action, action: { title: List the improvement opportunities, owner: priya.raman, dueDate: "2030-05-31" } }',
        'notes: No inputs were supplied; the meeting decided to collect them earlier next time.',
      ].join('\n'),
    );
    const recorded = await cli('review', 'minutes', id, '--file', file);
    expect(recorded.err).toBe('');
    expect(recorded.code).toBe(0);
    expect(recorded.out).toContain('Minutes version 1 recorded');

    const withApproval = await eventually(() => status(id), (s) => s.status.approval !== undefined);
    const minutes = withApproval.status.minutes!;
    expect(minutes.by).toBe('priya.raman');
    const packAfter = await get(`/admin/management-reviews/${id}/pack`);
    expect(packAfter.body).toContain('Write the AI objectives report');
    expect(packAfter.body).toContain(withApproval.status.approvalHash!);
    expect(packAfter.body).toContain('accepted as missing: This is the first review');
    expect(packAfter.body).toContain('action 1 supplies it: Write the AI objectives report (owner tom.baker, due 2030-06-30)');
    expect(packAfter.body).toContain('action 2 supplies it: List the improvement opportunities (owner priya.raman, due 2030-05-31)');

    await approve(withApproval.status.approval!.workflowId, 'hannah.okafor');
    await approve(withApproval.status.approval!.workflowId, 'david.chen');
    const done = await eventually(() => status(id), (s) => s.executionStatus === 'COMPLETED');
    expect(done.status.state).toBe('completed');

    const list = await get('/admin/management-reviews');
    expect(list.statusCode, list.body).toBe(200);
    const item = list.json<{ items: Array<{ reviewId: string; state: string; improvementDecisions?: string[]; actions: Array<{ title: string; state: string; stateSource: string }> }> }>().items.find((i) => i.reviewId === id);
    expect(item).toMatchObject({
      state: 'completed',
      improvementDecisions: ['Measure the AI objectives monthly'],
      actions: [
        { title: 'Write the AI objectives report', state: 'open', stateSource: 'live' },
        { title: 'List the improvement opportunities', state: 'open', stateSource: 'live' },
      ],
    });

    const listed = await cli('review', 'list');
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(`${id}  completed`);
    expect(listed.out).toContain('action 1: Write the AI objectives report (tom.baker): open');
  });

  it('starts, shows and cancels a review from the CLI', async () => {
    const id = reviewId();
    const started = await cli('review', 'start', id, '--meeting', day(40), '--by', 'priya.raman');
    expect(started.err).toBe('');
    expect(started.out).toContain(`management review ${id} started (management-review/${id})`);
    const s = await eventually(() => status(id), (st) => st.status.inputs.length === 5);
    expect(s.status).toMatchObject({ trigger: 'admin', requestedBy: 'priya.raman', state: 'collecting-inputs' });

    const shown = await cli('review', 'show', id);
    expect(shown.code).toBe(0);
    expect(shown.out).toContain(`management review ${id}: collecting-inputs`);
    expect(shown.out).toMatch(/\(d\) requested\s+marco\.rossi/);

    const refused = await cliAs('tom.baker', 'review', 'cancel', id, '--reason', 'wrong date', '--by', 'tom.baker');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/person tom\.baker \(key test-tom\.baker\) holds the roles [a-z, -]+, none of which may cancel a management review \(permission management-review\.cancel\)/);
    const cancelled = await cli('review', 'cancel', id, '--reason', 'wrong date', '--by', 'priya.raman');
    expect(cancelled.code).toBe(0);
    await eventually(() => status(id), (st) => st.status.state === 'cancelled');

    const bad = await cli('review', 'start', 'x', '--meeting', day(3));
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('reviewId');
  });
});
