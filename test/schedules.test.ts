/**
 * Yearly schedules against the real stack: the Temporal dev server's scheduler, a real worker
 * running the launcher and the cycles it starts, and the real API (inject) and CLI (over HTTP).
 * Past years are reached with the scheduler's backfill, so the cycles' ids cannot collide
 * with other test files.
 */
import { ScheduleNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiInstance } from '../src/api/app.js';
import { runCli } from '../src/cli/index.js';
import type { ScheduledCycleResult } from '../src/schedules/schema.js';
import { cycleScheduleId, type CycleScheduleView } from '../src/schedules/manage.js';
import { buildStackApp, TEST_ADMIN_HEADERS } from './helpers/browser.js';
import { eventually, startInputOf, startTestStack, type TestStack } from './helpers/temporal.js';

let stack: TestStack;
let app: ApiInstance;
let apiUrl: string;
const startedCycles: string[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  app = await buildStackApp(stack);
  apiUrl = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  for (const kind of ['internal-audit-programme', 'management-review'] as const) {
    await stack?.client.schedule.getHandle(cycleScheduleId(kind, stack.taskQueue)).delete().catch(() => undefined);
  }
  for (const id of startedCycles) {
    await stack?.client.workflow.getHandle(id).terminate('test finished').catch(() => undefined);
  }
  await app?.close();
  await stack?.stop();
});

const put = (kind: string, body: unknown) =>
  app.inject({ method: 'PUT', url: `/admin/schedules/${kind}`, headers: TEST_ADMIN_HEADERS, payload: body as object });
const get = (url: string) => app.inject({ method: 'GET', url, headers: TEST_ADMIN_HEADERS });
const post = (url: string, body: object = {}) => app.inject({ method: 'POST', url, headers: TEST_ADMIN_HEADERS, payload: body });

/** Runs the schedule as if it had fired on `day` (a past date) and returns the launcher's result. */
async function backfill(kind: string, day: string): Promise<ScheduledCycleResult> {
  const handle = stack.client.schedule.getHandle(cycleScheduleId(kind as never, stack.taskQueue));
  await handle.backfill({ start: new Date(`${day}T00:00:00Z`), end: new Date(`${day}T23:59:59Z`) });
  const launcher = await eventually(
    () => handle.describe(),
    (d) => d.info.recentActions.some((a) => a.scheduledAt.toISOString().startsWith(day)),
  );
  const run = launcher.info.recentActions.filter((a) => a.scheduledAt.toISOString().startsWith(day)).at(-1);
  expect(run).toBeDefined();
  return stack.client.workflow.getHandle(run!.action.workflow.workflowId).result() as Promise<ScheduledCycleResult>;
}


describe('yearly schedules through the admin API', () => {
  it('creates a schedule once: the same settings again change nothing, new settings update it', async () => {
    const created = await put('internal-audit-programme', { month: 1, day: 5, hour: 8 });
    expect(created.statusCode, created.body).toBe(201);
    const first = created.json<CycleScheduleView>();
    expect(first.scheduleId).toBe(cycleScheduleId('internal-audit-programme', stack.taskQueue));
    expect(first.settings).toMatchObject({ month: 1, day: 5, hour: 8, minute: 0, timezone: 'Europe/London', paused: false });
    expect(first.nextRuns.length).toBeGreaterThan(0);
    expect(new Date(first.nextRuns[0]!).getUTCMonth()).toBe(0);

    const again = await put('internal-audit-programme', { month: 1, day: 5, hour: 8 });
    expect(again.statusCode).toBe(200);
    expect(again.json<CycleScheduleView>().settings).toEqual(first.settings);
    expect(again.json<CycleScheduleView>().nextRuns).toEqual(first.nextRuns);

    const moved = await put('internal-audit-programme', { month: 2, day: 1, hour: 9, timezone: 'UTC', yearOffset: 1 });
    expect(moved.statusCode).toBe(200);
    const view = moved.json<CycleScheduleView>();
    expect(view.settings).toMatchObject({ month: 2, day: 1, hour: 9, timezone: 'UTC', yearOffset: 1 });
    expect(view.nextRuns[0]).toMatch(/-02-01T09:00:00/);

    const listed = await get('/admin/schedules');
    expect(listed.json<{ items: CycleScheduleView[] }>().items.map((s) => s.kind)).toContain('internal-audit-programme');
  });

  it('refuses impossible settings, naming the field', async () => {
    const bad = await put('internal-audit-programme', { month: 2, day: 30 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ issues: { path: string; message: string }[] }>().issues).toEqual([{ path: 'day', message: 'month 2 has no day 30' }]);
    const leap = await put('management-review', { month: 2, day: 29 });
    expect(leap.statusCode).toBe(400);
    expect(leap.body).toContain('leap years');
    const wrongKind = await put('management-review', { month: 3, day: 1, yearOffset: 1 });
    expect(wrongKind.statusCode).toBe(400);
    expect(wrongKind.json<{ issues: { path: string }[] }>().issues[0]?.path).toBe('yearOffset');
    const unknown = await put('policy-review', { month: 3, day: 1 });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.body).toContain('kind');
    expect((await get('/admin/schedules/management-review')).statusCode).toBe(404);
  });

  it('refuses a time zone or a meeting delay it cannot use, naming the field, and takes a zone in any spelling', async () => {
    // The fuzzer's request: `timezone: "0"` and an empty `meetingAfter` made Temporal and `ms` throw.
    const fuzzed = await put('management-review', { day: 1, hour: 8, meetingAfter: '', minute: 0, month: 1, note: '', paused: false, timezone: '0', yearOffset: 0 });
    expect(fuzzed.statusCode, fuzzed.body).toBe(400);
    expect(fuzzed.json<{ issues: { path: string; message: string }[] }>().issues).toEqual(
      expect.arrayContaining([
        { path: 'timezone', message: 'must be an IANA time zone such as "Europe/Berlin" or "UTC"' },
        { path: 'meetingAfter', message: 'must be a duration such as "7d", "12h", "30m" or "10s"' },
      ]),
    );
    for (const timezone of ['+01:00', 'Mars/Olympus', 'EUROPE BERLIN']) {
      const bad = await put('management-review', { month: 3, day: 1, timezone });
      expect(bad.statusCode, timezone).toBe(400);
      expect(bad.json<{ issues: { path: string }[] }>().issues.map((i) => i.path)).toEqual(['timezone']);
    }
    expect((await put('management-review', { month: 3, day: 1, meetingAfter: '   ' })).statusCode).toBe(400);
    expect((await get('/admin/schedules/management-review')).statusCode).toBe(404);

    // Temporal knows a zone only by its exact tz name: a lower-case one is sent in ICU's spelling.
    const created = await put('management-review', { month: 3, day: 1, timezone: 'europe/berlin' });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json<CycleScheduleView>().settings.timezone).toBe('europe/berlin');
    const described = await stack.client.schedule.getHandle(cycleScheduleId('management-review', stack.taskQueue)).describe();
    expect(described.spec.timezone).toBe('Europe/Berlin');
    expect((await app.inject({ method: 'DELETE', url: '/admin/schedules/management-review', headers: TEST_ADMIN_HEADERS })).statusCode).toBe(204);
  });

  it('answers puts, reads and deletes racing each other without a server error', { timeout: 60_000 }, async () => {
    const del = () => app.inject({ method: 'DELETE', url: '/admin/schedules/management-review', headers: TEST_ADMIN_HEADERS });
    const statuses: number[] = [];
    for (let round = 0; round < 12; round++) {
      const answers = await Promise.all([
        put('management-review', { month: 4, day: 1 + (round % 28) }),
        del(),
        put('management-review', { month: 5, day: 1 }),
        get('/admin/schedules/management-review'),
        post('/admin/schedules/management-review/pause'),
        del(),
      ]);
      statuses.push(...answers.map((a) => a.statusCode));
    }
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses).toContain(201);
    expect(statuses).toContain(204);
    await del();
    expect((await get('/admin/schedules/management-review')).statusCode).toBe(404);
  });

  it('pauses and resumes with a note, idempotently', async () => {
    const paused = await post('/admin/schedules/internal-audit-programme/pause', { note: 'programme being redesigned' });
    expect(paused.statusCode, paused.body).toBe(200);
    expect(paused.json<CycleScheduleView>()).toMatchObject({ paused: true, note: 'programme being redesigned' });
    const again = await post('/admin/schedules/internal-audit-programme/pause', { note: 'programme being redesigned' });
    expect(again.json<CycleScheduleView>().paused).toBe(true);
    const resumed = await post('/admin/schedules/internal-audit-programme/resume');
    expect(resumed.json<CycleScheduleView>().paused).toBe(false);
    expect((await post('/admin/schedules/management-review/pause')).statusCode).toBe(404);
  });

  it("starts the year's audit programme when it fires, and never starts a year twice", { timeout: 60_000 }, async () => {
    expect((await put('internal-audit-programme', { month: 1, day: 5, hour: 8, timezone: 'UTC' })).statusCode).toBe(200);
    const result = await backfill('internal-audit-programme', '2009-01-05');
    expect(result).toEqual({
      kind: 'internal-audit-programme',
      scheduledAt: '2009-01-05T08:00:00.000Z',
      workflowId: 'internal-audit-programme/2009',
      started: true,
    });
    startedCycles.push(result.workflowId);
    const programme = stack.client.workflow.getHandle(result.workflowId);
    const described = await programme.describe();
    expect(described.type).toBe('internalAuditProgramme');
    expect(described.taskQueue).toBe(stack.taskQueue);
    expect(await startInputOf(stack.client, programme)).toEqual({ year: 2009, requestedBy: 'system', trigger: 'schedule' });

    const rerun = await backfill('internal-audit-programme', '2009-01-05');
    expect(rerun).toMatchObject({ workflowId: 'internal-audit-programme/2009', started: false });
    // The programme started by the first run is the only one.
    expect((await programme.describe()).runId).toBe(described.runId);
  });

  it('starts a management review with its meeting date after the firing time', { timeout: 60_000 }, async () => {
    expect((await put('management-review', { month: 3, day: 1, hour: 7, timezone: 'UTC', meetingAfter: '45d' })).statusCode).toBe(201);
    const result = await backfill('management-review', '2011-03-01');
    expect(result).toMatchObject({ kind: 'management-review', workflowId: 'management-review/2011', started: true });
    startedCycles.push(result.workflowId);
    const review = stack.client.workflow.getHandle(result.workflowId);
    expect((await review.describe()).type).toBe('managementReview');
    expect(await startInputOf(stack.client, review)).toEqual({ reviewId: '2011', meetingDate: '2011-04-15', requestedBy: 'system', trigger: 'schedule' });
  });

  it("runs now on request: the launcher starts this year's programme", { timeout: 60_000 }, async () => {
    // (management-review/<this year> belongs to the management review's own schedule test.)
    const handle = stack.client.schedule.getHandle(cycleScheduleId('internal-audit-programme', stack.taskQueue));
    const before = (await handle.describe()).info.numActionsTaken;
    const ran = await post('/admin/schedules/internal-audit-programme/run');
    expect(ran.statusCode, ran.body).toBe(202);
    const after = await eventually(() => handle.describe(), (d) => d.info.numActionsTaken > before);
    const launcherId = after.info.recentActions.at(-1)!.action.workflow.workflowId;
    const result = (await stack.client.workflow.getHandle(launcherId).result()) as ScheduledCycleResult;
    const year = new Date().getUTCFullYear();
    expect(result).toMatchObject({ workflowId: `internal-audit-programme/${year}`, started: true });
    startedCycles.push(result.workflowId);
    expect(await startInputOf(stack.client, stack.client.workflow.getHandle(result.workflowId))).toEqual({ year, requestedBy: 'system', trigger: 'schedule' });
    expect((await post('/admin/schedules/no-such-cycle/run')).statusCode).toBe(400);
  });
});

describe('the admin CLI for schedules', () => {
  const cli = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, {
      env: { AIMSFLOW_API_URL: apiUrl, AIMSFLOW_ADMIN_KEY: 'test-admin-key-0123456789abcdef' },
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('sets, shows, pauses and deletes a schedule', { timeout: 30_000 }, async () => {
    const set = await cli('schedules', 'set', 'management-review', '--month', '10', '--day', '1', '--meeting-after', '30d');
    expect(set.err).toBe('');
    expect(set.code).toBe(0);
    expect(set.out).toContain('management-review: every year on 01/10 at 08:00');

    const listed = await cli('--json', 'schedules', 'list');
    const items = JSON.parse(listed.out) as CycleScheduleView[];
    expect(items.find((s) => s.kind === 'management-review')?.settings).toMatchObject({ month: 10, day: 1, meetingAfter: '30d' });

    const paused = await cli('schedules', 'pause', 'management-review', '--note', 'reorganisation');
    expect(paused.out).toContain('(paused: reorganisation)');

    const unconfirmed = await cli('schedules', 'delete', 'management-review');
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.err).toContain('add --yes');
    expect((await cli('schedules', 'delete', 'management-review', '--yes')).code).toBe(0);
    const gone = await cli('schedules', 'get', 'management-review');
    expect(gone.code).toBe(1);
    expect(gone.err).toMatch(/404 No yearly management-review schedule/);
  });

  it('explains bad arguments and a missing API key', async () => {
    const badDay = await cli('schedules', 'set', 'internal-audit-programme', '--month', '2', '--day', '30');
    expect(badDay.code).toBe(1);
    expect(badDay.err).toContain('day: month 2 has no day 30');
    const badKind = await cli('schedules', 'get', 'audits');
    expect(badKind.code).toBe(2);
    expect(badKind.err).toContain('must be one of internal-audit-programme, management-review');
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['schedules', 'list'], { env: { AIMSFLOW_API_URL: apiUrl }, out: (l) => out.push(l), err: (l) => err.push(l) });
    expect(code).toBe(1);
    expect(err.join('\n')).toContain('AIMSFLOW_ADMIN_KEY: is required');
  });
});

it('a deleted schedule is gone from Temporal', async () => {
  await expect(stack.client.schedule.getHandle(cycleScheduleId('management-review', stack.taskQueue)).describe()).rejects.toBeInstanceOf(
    ScheduleNotFoundError,
  );
});
