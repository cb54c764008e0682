/**
 * Open-work memory: the resident memory (RSS) of an aimsflow worker process while thousands of
 * human tasks are open, each with its reminder and escalation timers armed months ahead: the
 * state of a small organization's year. Its own Temporal dev server (in memory), PostgreSQL
 * cluster (the records store) and SMTP sink. The worker runs as in production: compiled
 * JavaScript (`node dist/workers/main.js`, built as `npm run build` builds it) from a prebuilt
 * workflow bundle, with its default settings and the process settings of the Docker image
 * (workers/process-settings.ts); RSS is read from /proc. Beside it runs an idle
 * twin (same build, a task queue that gets no tasks): the bare baseline, read at the same
 * instants.
 *
 * Figures: RSS with 1,000 and with 10,000 open tasks (goal < 300 MB), the peak RSS, bytes per
 * cached workflow, the workflow bundle's size; then the single local process of `npm start`
 * (worker, API and PGlite in one process, `tsx workers/local.ts`) with 1,000 open tasks (goal
 * < 500 MB) beside its own idle twin.
 *
 *   npm run bench -- open-work-memory
 *   BENCH_TASKS=2000 npm run bench -- open-work-memory     a quicker run (1,000 then 2,000)
 *   BENCH_LOCAL_TASKS=0 ...                                 without the single-process shape
 *   WORKER_CACHE_MEMORY_MB=256 ...                          the worker with another cache budget
 *
 * Tasks start directly through the Temporal client (startHumanTask: the admin API's own
 * starter without HTTP). A stage's tasks count as open once every assignment mail reached the
 * SMTP sink and a sample of them (the last started and some spread over the rest) is idle in
 * Temporal (no workflow task, no activity pending) with its reminder timer armed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import pg from 'pg';
import { startPostgresCluster } from '../scripts/lib/postgres-cluster.js';
import { waitForPollers } from '../scripts/lib/topology.js';
import { freePort, waitFor, waitForHttp } from '../scripts/lib/wait.js';
import { startHumanTask } from '../src/task/start.js';
import { WORKER_NODE_OPTIONS, WORKER_PROCESS_ENV } from '../workers/process-settings.js';
import { BENCH_SECRETS_ENV } from './lib/aimsflow.js';
import { startDevServer } from './lib/dev-server.js';
import { benchFigures } from './lib/results.js';
import { startSmtpSink } from './lib/smtp-sink.js';

const repoRoot = path.resolve(import.meta.dirname, '..');
const MB = 1024 * 1024;

function count(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(n) || (n !== 0 && n < min)) {
    console.error(`${name} must be a whole number of at least ${min} (or 0 where allowed), got ${raw}`);
    process.exit(2);
  }
  return n;
}

const largeTasks = count('BENCH_TASKS', 10_000, 100);
const smallTasks = Math.min(1_000, largeTasks);
const localTasks = count('BENCH_LOCAL_TASKS', Math.min(1_000, largeTasks), 100);
/** Starts in flight at once through the client. */
const START_CONCURRENCY = 32;
/** Far enough ahead that no reminder fires during the bench. */
const DUE_IN_MS = 120 * 24 * 3600_000;

/** VmRSS and VmHWM (peak) of a process, in bytes, from /proc. */
async function memoryOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number(m[1]) * 1024;
  };
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/**
 * The RSS of each process once the first has settled after its work. V8 keeps the heap it grew
 * under load until its memory reducer acts, some 30 to 90 seconds after the work stops, and then
 * gives it back in a step or two. Samples every 5 s, taken at the same instants for all: once
 * the first process has shrunk below 85% of its highest reading and held for 30 s (at least 45 s
 * after the work), or after 180 s, each process's figure is the median of its last three
 * samples. `reduced` says whether the step down was seen; without it the figures err high.
 */
async function settledRss(pids: readonly number[]): Promise<{ rss: number[]; reduced: boolean }> {
  const samples: number[][] = pids.map(() => []);
  const started = Date.now();
  for (;;) {
    const now = await Promise.all(pids.map((pid) => memoryOf(pid)));
    now.forEach((m, k) => samples[k]!.push(m.rss));
    const first = samples[0]!;
    const last = first.slice(-7);
    const reduced = first.at(-1)! < 0.85 * Math.max(...first);
    const steady = last.length === 7 && Math.max(...last) <= Math.min(...last) * 1.02;
    const elapsed = Date.now() - started;
    if ((elapsed >= 45_000 && reduced && steady) || elapsed >= 180_000) {
      return { rss: samples.map((s) => s.slice(-3).sort((a, b) => a - b)[1]!), reduced };
    }
    await sleep(5_000);
  }
}

/** The sum of a Prometheus gauge or counter over its label sets, or undefined when absent. */
async function metric(url: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text();
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+([0-9.eE+-]+)$`).exec(line);
    if (m) sum = (sum ?? 0) + Number(m[1]);
  }
  return sum;
}

interface AimsProcess {
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** An aimsflow entry point (node arguments) as a process of its own, its output in `logFile`. */
function spawnAims(args: string[], cwd: string, env: Record<string, string>, logFile: string): AimsProcess {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, args, {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production', FORCE_COLOR: '0', ...env },
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid ?? -1,
    child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Runs node with `args` in `cwd` to completion, or throws naming `what`. */
async function runNode(what: string, args: string[], cwd: string): Promise<void> {
  const child = spawn(process.execPath, args, { cwd, stdio: 'inherit' });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${what} failed (exit ${code})`);
}

/** Runs `fn` over `items` with at most `concurrency` in flight. */
async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** Starts tasks `from` to `to - 1` (ids `bench-task/<prefix>/<n>`), due months ahead. */
async function startTasks(client: Client, taskQueue: string, prefix: string, from: number, to: number): Promise<string[]> {
  const ids = Array.from({ length: to - from }, (_, k) => `bench-task/${prefix}/${from + k}`);
  const dueAt = new Date(Date.now() + DUE_IN_MS).toISOString();
  await pool(ids, START_CONCURRENCY, async (workflowId) => {
    await startHumanTask(
      client,
      taskQueue,
      {
        title: `Review the data retention evidence ${workflowId.split('/').pop()}`,
        instructions: 'Check that the training data retention rules were applied this quarter and link the evidence.',
        clauses: ['A.7.2'],
        assignee: { person: 'sofia.lind' },
        dueAt,
        requestedBy: 'priya.raman',
      },
      { workflowId },
    );
  });
  return ids;
}

/**
 * Waits until every task mailed its assignment, then until a sample of them (the last started,
 * where a backlog would linger, and some spread over the rest) is idle in Temporal (no workflow
 * task, no activity pending) with its reminder timer armed.
 */
async function waitUntilOpen(client: Client, ids: readonly string[], mails: () => number, expectedMails: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const left = () => Math.max(1_000, deadline - Date.now());
  let lastReport = Date.now();
  await waitFor(
    `${expectedMails} assignment mails`,
    async () => {
      if (Date.now() - lastReport > 30_000) {
        lastReport = Date.now();
        console.log(`  ${mails()} of ${expectedMails} assignment mails so far`);
      }
      return mails() >= expectedMails ? true : undefined;
    },
    { timeoutMs: left(), intervalMs: 1_000 },
  );
  const step = Math.max(1, Math.floor(ids.length / 100));
  let busy = [...new Set([...ids.slice(-200), ...ids.filter((_, i) => i % step === 0)])];
  const sample = [...busy];
  await waitFor(
    `${sample.length} sampled tasks idle`,
    async () => {
      const still: string[] = [];
      await pool(busy, 16, async (id) => {
        const d = await client.workflow.getHandle(id).describe();
        if (d.status.name !== 'RUNNING') throw new Error(`${id} is ${d.status.name}, not running`);
        if (d.raw.pendingWorkflowTask || (d.raw.pendingActivities?.length ?? 0) > 0) still.push(id);
      });
      busy = still;
      return busy.length === 0 ? true : undefined;
    },
    { timeoutMs: left(), intervalMs: 1_000 },
  );
  for (const id of sample.filter((_, i) => i % Math.ceil(sample.length / 5) === 0)) {
    const history = await client.workflow.getHandle(id).fetchHistory();
    if (!history.events?.some((e) => e.timerStartedEventAttributes)) throw new Error(`${id} is idle without an armed timer`);
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'aimsflow-bench-memory-'));
  const logFile = path.join(dir, 'parts.log');
  const cleanup: Array<() => Promise<unknown>> = [() => rm(dir, { recursive: true, force: true })];
  const figures = benchFigures('open-work-memory');
  try {
    const sink = await startSmtpSink();
    cleanup.push(() => sink.stop());
    const server = await startDevServer(dir);
    cleanup.push(() => server.stop());
    const postgres = await startPostgresCluster();
    cleanup.push(() => postgres.destroy());
    const admin = new pg.Client({ connectionString: postgres.adminUrl });
    await admin.connect();
    await admin.query('CREATE DATABASE aimsflow');
    await admin.end();

    // The production worker: compiled JavaScript starting from a prebuilt bundle, as `npm run
    // build` makes them (here in a directory of the bench's own, beside the project's modules).
    const build = path.join(dir, 'build');
    await mkdir(build);
    await symlink(path.join(repoRoot, 'node_modules'), path.join(build, 'node_modules'), 'dir');
    await copyFile(path.join(repoRoot, 'package.json'), path.join(build, 'package.json'));
    const bundle = path.join(build, 'dist', 'workflow-bundle.js');
    await Promise.all([
      runNode('compiling', [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', path.join(build, 'dist')], repoRoot),
      runNode('bundling the workflows', ['--import', 'tsx', 'scripts/bundle-workflows.ts', bundle], repoRoot),
    ]);
    const bundleBytes = (await stat(bundle)).size;
    const orgFile = path.join(dir, 'organization.yaml');
    await copyFile(path.join(repoRoot, 'config/organization.example.yaml'), orgFile);

    const client = server.client;
    const baseEnv = (taskQueue: string): Record<string, string> => ({
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: server.namespace,
      TEMPORAL_TASK_QUEUE: taskQueue,
      SMTP_URL: sink.url,
      ...BENCH_SECRETS_ENV,
      ORG_FILE: orgFile,
      WORKFLOW_BUNDLE: bundle,
      LOG_LEVEL: 'warn',
      // As the Docker image and `npm start` run them.
      ...WORKER_PROCESS_ENV,
      // The worker's defaults, unless the bench is asked to try others.
      ...Object.fromEntries(['WORKER_MAX_CACHED_WORKFLOWS', 'WORKER_CACHE_MEMORY_MB'].flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : []))),
    });

    // 1. The worker alone, records on PostgreSQL, beside an idle twin: the same build and
    // settings on a task queue of its own that gets no tasks (the bare baseline, read at the same
    // instants).
    const workerQueue = `bench-memory-${process.pid}`;
    const startWorker = async (taskQueue: string, name: string) => {
      const metricsPort = await freePort();
      const proc = spawnAims(
        [...WORKER_NODE_OPTIONS, path.join(build, 'dist', 'workers', 'main.js')],
        build,
        {
          ...baseEnv(taskQueue),
          DATABASE_URL: `postgres://postgres@127.0.0.1:${postgres.port}/aimsflow`,
          DATA_DIR: path.join(dir, name),
          WORKER_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
        },
        logFile,
      );
      cleanup.push(() => proc.stop());
      return { ...proc, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
    };
    const worker = await startWorker(workerQueue, 'worker');
    const twin = await startWorker(`${workerQueue}-idle`, 'idle-worker');
    await Promise.all([waitForPollers(server.address, workerQueue, 1, 120_000), waitForPollers(server.address, `${workerQueue}-idle`, 1, 120_000)]);
    const cached = async () => (await metric(worker.metricsUrl, 'temporal_sticky_cache_size')) ?? Number.NaN;

    const started = Date.now();
    const stages: Array<{ tasks: number; rss: number; idle: number; cached: number; reduced: boolean }> = [];
    for (const [from, to] of largeTasks > smallTasks ? [[0, smallTasks], [smallTasks, largeTasks]] : [[0, smallTasks]]) {
      const mailsBefore = sink.received();
      const ids = await startTasks(client, workerQueue, 'w', from!, to!);
      await waitUntilOpen(client, ids, () => sink.received() - mailsBefore, to! - from!, 30 * 60_000);
      const settled = await settledRss([worker.pid, twin.pid]);
      const [rss, idle] = settled.rss;
      stages.push({ tasks: to!, rss: rss!, idle: idle!, cached: await cached(), reduced: settled.reduced });
      console.log(`worker alone: ${to} open tasks after ${Math.round((Date.now() - started) / 1000)} s: ${(rss! / MB).toFixed(0)} MB (idle twin ${(idle! / MB).toFixed(0)} MB), ${stages.at(-1)!.cached} workflows cached${settled.reduced ? '' : ', memory not yet given back'}`);
    }
    const { peak } = await memoryOf(worker.pid);
    const idlePeak = (await memoryOf(twin.pid)).peak;
    await Promise.all([worker.stop(), twin.stop()]);

    const detail = { store: 'PostgreSQL', entry: 'node dist/workers/main.js', baseline: 'an idle twin worker, same build, same instants' };
    const goal = 300;
    for (const stage of stages) {
      const isLast = stage === stages.at(-1);
      figures.add({
        name: `worker RSS, ${stage.tasks} open tasks`,
        value: stage.rss / MB,
        unit: 'MB',
        baseline: stage.idle / MB,
        ...(isLast ? { goal: `< ${goal} MB`, met: stage.rss / MB < goal } : {}),
        detail: { ...detail, cachedWorkflows: stage.cached, reducedAfterWork: stage.reduced },
      });
    }
    figures.add({ name: 'worker peak RSS (VmHWM)', value: peak / MB, unit: 'MB', baseline: idlePeak / MB, detail: { tasks: largeTasks } });
    const last = stages.at(-1)!;
    figures.add({
      name: 'bytes per cached workflow',
      value: last.cached > 0 ? (last.rss - last.idle) / last.cached : Number.NaN,
      unit: 'B',
      detail: {
        cachedWorkflows: last.cached,
        tasks: last.tasks,
        how: '(RSS with the tasks - RSS of the idle twin) / cached workflows: an upper bound, it counts all a worker that has worked holds more than one that has not',
      },
    });
    figures.add({ name: 'workflow bundle', value: bundleBytes / 1024, unit: 'KiB' });

    // 2. The single local process of `npm start` (worker, API and PGlite in one process, as it
    // runs them: TypeScript through tsx), beside its idle twin.
    if (localTasks > 0) {
      const localQueue = `bench-memory-local-${process.pid}`;
      const startLocal = async (taskQueue: string, name: string) => {
        const apiPort = await freePort();
        const proc = spawnAims(
          [...WORKER_NODE_OPTIONS, '--import', 'tsx', 'workers/local.ts'],
          repoRoot,
          {
            ...baseEnv(taskQueue),
            DATA_DIR: path.join(dir, name),
            API_HOST: '127.0.0.1',
            API_PORT: String(apiPort),
            PUBLIC_BASE_URL: `http://127.0.0.1:${apiPort}`,
            WORKER_METRICS_ADDRESS: '',
          },
          logFile,
        );
        cleanup.push(() => proc.stop());
        await waitForHttp(`http://127.0.0.1:${apiPort}/healthz`, { timeoutMs: 120_000 });
        await waitForPollers(server.address, taskQueue, 1, 120_000);
        return proc;
      };
      const [local, localTwin] = await Promise.all([startLocal(localQueue, 'local'), startLocal(`${localQueue}-idle`, 'local-idle')]);
      const mailsBefore = sink.received();
      const ids = await startTasks(client, localQueue, 'l', 0, localTasks);
      await waitUntilOpen(client, ids, () => sink.received() - mailsBefore, localTasks, 15 * 60_000);
      const settled = await settledRss([local.pid, localTwin.pid]);
      const [rss, idle] = settled.rss;
      const localPeak = (await memoryOf(local.pid)).peak;
      await Promise.all([local.stop(), localTwin.stop()]);
      console.log(`single process: ${localTasks} open tasks ${(rss! / MB).toFixed(0)} MB (idle twin ${(idle! / MB).toFixed(0)} MB)${settled.reduced ? '' : ', memory not yet given back'}`);
      figures.add({
        name: `single process (npm start) RSS, ${localTasks} open tasks`,
        value: rss! / MB,
        unit: 'MB',
        baseline: idle! / MB,
        goal: '< 500 MB',
        met: rss! / MB < 500,
        detail: {
          store: 'PGlite',
          entry: 'tsx workers/local.ts',
          baseline: 'an idle twin process, same instants',
          peakMB: Math.round(localPeak / MB),
          reducedAfterWork: settled.reduced,
        },
      });
    }
    await figures.write();
  } catch (err) {
    const tail = await readFile(logFile, 'utf8').catch(() => '');
    if (tail) console.error(`last output of the aimsflow processes:\n${tail.split('\n').slice(-40).join('\n')}`);
    throw err;
  } finally {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  }
}

await main();
