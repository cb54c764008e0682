/**
 * The worker process (workers/main.ts, as `npm run worker` runs it) against a Temporal dev
 * server this test starts with a state file, and a real SMTP server:
 *
 * - its metrics endpoint (WORKER_METRICS_ADDRESS) serves the SDK's `temporal_*` metrics and
 *   the activities' counters: a mail the SMTP server refused and then took on a retried
 *   attempt (failed, retried, sent), and the ledger append of a completed task;
 * - the server is stopped until the SDK core has logged its retries, then started again on the
 *   same port and state file, and the worker carries on (a task started afterwards gets its mail);
 * - every line the worker printed, on stdout and stderr, parses as JSON, none carries a colour
 *   code, and forwarded core warnings are among them (so the check can fail).
 */
import { TEST_API_KEYS } from './helpers/keys.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, type Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWhenReady } from '../scripts/lib/temporal-admin.js';
import { findTemporalCli } from '../scripts/temporal-cli.js';
import { freePorts, waitFor } from '../scripts/lib/wait.js';
import { completeTaskUpdate } from '../src/task/contract.js';
import { startHumanTask } from '../src/task/start.js';
import { searchAttributeRegistrations } from '../src/temporal/search-attributes.js';
import { metricSum } from './helpers/prometheus.js';
import { isNotification, startSmtpServer, type TestSmtpServer } from './helpers/smtp.js';
import { inMs } from './helpers/temporal.js';
import { TEST_LINK_SECRET } from './helpers/api.js';
import { aimsDataConverter, payloadKeysFromEnv } from '../src/temporal/codec.js';

const repoRoot = path.resolve(import.meta.dirname, '..');
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const HOST = '127.0.0.1';
const TASK_QUEUE = `telemetry-${process.pid}`;
/** pino's number for `warn`. */
const WARN = 40;

interface Printed {
  stream: 'stdout' | 'stderr';
  line: string;
}

/** A child process whose output is kept line by line. */
function launch(command: string, args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; lines: Printed[]; exited: Promise<number | null> } {
  const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Printed[] = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    let partial = '';
    child[stream].setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) lines.push({ stream, line });
    });
    child[stream].on('end', () => {
      if (partial) lines.push({ stream, line: partial });
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, lines, exited };
}

const parsed = (p: Printed): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(p.line);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

const isCoreWarning = (entry: Record<string, unknown> | undefined) => entry?.sdkComponent === 'core' && entry.level === WARN;

describe('worker process: JSON logs through a server outage, and its metrics', () => {
  const cli = findTemporalCli();
  let dir: string;
  let temporalPort: number;
  let metricsUrl: string;
  let server: ReturnType<typeof launch> | undefined;
  let worker: ReturnType<typeof launch> | undefined;
  let smtp: TestSmtpServer;
  let connection: Connection | undefined;
  let client: Client;

  const startServer = async () => {
    server = launch(
      cli!,
      [
        'server',
        'start-dev',
        '--db-filename',
        path.join(dir, 'temporal.db'),
        '--ip',
        HOST,
        '--port',
        String(temporalPort),
        '--headless',
        '--log-level',
        'error',
        ...searchAttributeRegistrations().flatMap(({ name, type }) => ['--search-attribute', `${name}=${type}`]),
      ],
      process.env,
    );
    return connectWhenReady(`${HOST}:${temporalPort}`, 'default', { timeoutMs: 90_000 });
  };

  const stopServer = async () => {
    const running = server;
    server = undefined;
    if (!running || running.child.exitCode !== null) return;
    running.child.kill('SIGTERM');
    await running.exited;
  };

  const scrape = async () => {
    const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(200);
    return res.text();
  };

  /** Scrapes until `metric` (summed over samples with `labels`) reaches `atLeast`. */
  const metricReaches = (metric: string, labels: Record<string, string>, atLeast: number, timeoutMs = 60_000) =>
    waitFor(`${metric}${JSON.stringify(labels)} >= ${atLeast}`, async () => ((await scrape().then((t) => metricSum(t, metric, labels))) >= atLeast ? true : undefined), {
      timeoutMs,
      intervalMs: 500,
    });

  const workerOutput = () => worker?.lines.map((p) => `${p.stream}: ${p.line}`).join('\n') ?? '';

  const startTask = (person: string, title: string) =>
    startHumanTask(client, TASK_QUEUE, {
      title,
      instructions: 'Write down what was done.',
      assignee: { person },
      dueAt: inMs(24 * 3_600_000),
      form: 'text',
      policy: { reminderOffsets: [], escalation: [] },
    });

  beforeAll(async () => {
    if (!cli) throw new Error('the Temporal CLI is required (npm test builds it with Go)');
    dir = await mkdtemp(path.join(os.tmpdir(), 'aimsflow-worker-telemetry-'));
    const [tp, mp] = await freePorts(2);
    temporalPort = tp!;
    metricsUrl = `http://${HOST}:${mp}/metrics`;
    smtp = await startSmtpServer();
    connection = await startServer();
    client = new Client({ connection, namespace: 'default', dataConverter: aimsDataConverter(payloadKeysFromEnv({})) });
    worker = launch(process.execPath, ['--import', tsxLoader, path.join(repoRoot, 'workers/main.ts')], {
      ...process.env,
      TEMPORAL_ADDRESS: `${HOST}:${temporalPort}`,
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      SMTP_URL: smtp.url,
      MAIL_FROM: 'aimsflow <aimsflow@northwind.example>',
      LINK_SECRET: TEST_LINK_SECRET,
      API_KEYS: TEST_API_KEYS,
      DATA_DIR: path.join(dir, 'data'),
      DATABASE_URL: '',
      LOG_LEVEL: 'info',
      WORKER_METRICS_ADDRESS: `${HOST}:${mp}`,
    });
    const exitedEarly = new AbortController();
    void worker.exited.then((code) => exitedEarly.abort(new Error(`the worker exited (code ${code})\n${workerOutput()}`)));
    await waitFor('the worker to poll and serve its metrics', async () => ((await scrape().then((t) => metricSum(t, 'temporal_num_pollers', { task_queue: TASK_QUEUE }))) > 0 ? true : undefined), {
      timeoutMs: 150_000,
      intervalMs: 1_000,
      signal: exitedEarly.signal,
    });
  });

  afterAll(async () => {
    if (worker && worker.child.exitCode === null) {
      worker.child.kill('SIGKILL');
      await worker.exited;
    }
    await connection?.close().catch(() => undefined);
    await stopServer();
    await smtp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves the SDK metrics and counts a mail refused, retried and sent, and a ledger append', { timeout: 180_000 }, async () => {
    const first = await scrape();
    expect(metricSum(first, 'temporal_worker_start_total', { task_queue: TASK_QUEUE })).toBe(1);
    expect(metricSum(first, 'temporal_num_pollers', { task_queue: TASK_QUEUE })).toBeGreaterThan(0);

    const elena = 'elena.petrova@northwind.example';
    smtp.rejectRecipients((address) => address === elena);
    const handle = await startTask('elena.petrova', 'Confirm the retention schedule');
    await metricReaches('aimsflow_mails_failed_total', { kind: 'task.assigned', retryable: 'true' }, 1);
    smtp.rejectRecipients();
    await smtp.waitFor((m) => isNotification(m, handle.workflowId, 'task.assigned', elena), 60_000);
    await metricReaches('aimsflow_mails_retried_total', { kind: 'task.assigned', activityType: 'notify' }, 1);
    await metricReaches('aimsflow_mails_sent_total', { kind: 'task.assigned', taskQueue: TASK_QUEUE }, 1);

    await handle.executeUpdate(completeTaskUpdate, { args: [{ by: 'elena.petrova', data: { text: 'Confirmed with the data owners.' } }] });
    await handle.result();
    await metricReaches('aimsflow_ledger_appends_total', { kind: 'task.completed', activityType: 'appendRecord' }, 1);
  });

  it('prints JSON only, core warnings included, while the server is away and after it is back', { timeout: 240_000 }, async () => {
    const before = worker!.lines.length;
    await connection?.close();
    connection = undefined;
    await stopServer();
    await waitFor(
      'the SDK core to log its retries',
      async () => (worker!.lines.slice(before).map(parsed).filter(isCoreWarning).length >= 3 ? true : undefined),
      { timeoutMs: 90_000, intervalMs: 500 },
    );

    connection = await startServer();
    client = new Client({ connection, namespace: 'default', dataConverter: aimsDataConverter(payloadKeysFromEnv({})) });
    const aisha = 'aisha.khan@northwind.example';
    const handle = await startTask('aisha.khan', 'Review the audit checklist');
    await smtp.waitFor((m) => isNotification(m, handle.workflowId, 'task.assigned', aisha), 90_000);
    const after = await scrape();
    expect(metricSum(after, 'temporal_long_request_failure_total', { task_queue: TASK_QUEUE })).toBeGreaterThan(0);

    worker!.child.kill('SIGTERM');
    expect(await worker!.exited).toBe(0);

    const lines = worker!.lines.filter((p) => p.line.trim() !== '');
    const notJson = lines.filter((p) => parsed(p) === undefined);
    expect(notJson, workerOutput()).toEqual([]);
    expect(lines.filter((p) => p.line.includes('\u001b'))).toEqual([]);
    const coreWarnings = lines.slice(before).map(parsed).filter(isCoreWarning);
    expect(coreWarnings.length).toBeGreaterThanOrEqual(3);
    expect(coreWarnings[0]).toMatchObject({ name: 'worker', target: expect.stringMatching(/^temporalio_/) as unknown });
    expect(String(coreWarnings[0]?.msg)).toMatch(/retried/);
    expect(lines.map(parsed).some((e) => e?.msg === 'worker stopped')).toBe(true);
  });
});

describe('worker runtime with its metrics address taken', () => {
  it('runs without metrics and says so in one JSON line naming WORKER_METRICS_ADDRESS', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, HOST, resolve));
    const address = `${HOST}:${(taken.address() as AddressInfo).port}`;
    try {
      const probe = [
        "const { installWorkerRuntime } = await import('./workers/runtime.ts');",
        "const { createLogger } = await import('./src/logger.ts');",
        "const { Runtime } = await import('@temporalio/worker');",
        "const logger = createLogger('info', 'worker');",
        `const runtime = installWorkerRuntime({ LOG_LEVEL: 'info', WORKER_METRICS_ADDRESS: '${address}' }, logger);`,
        "logger.info({ runtime: Runtime.instance() !== undefined, metricsAddress: runtime.metricsAddress ?? null }, 'probe');",
        'process.exit(0);',
      ].join(' ');
      const run = launch(process.execPath, ['--import', tsxLoader, '--input-type=module', '-e', probe], process.env);
      expect(await run.exited).toBe(0);
      const entries = run.lines.map(parsed);
      expect(entries.every(Boolean), run.lines.map((p) => p.line).join('\n')).toBe(true);
      expect(entries.find((e) => e?.level === WARN)).toMatchObject({ WORKER_METRICS_ADDRESS: address, msg: expect.stringContaining('worker metrics are off') as unknown });
      expect(entries.find((e) => e?.msg === 'probe')).toMatchObject({ runtime: true, metricsAddress: null });
    } finally {
      taken.close();
    }
  });
});
