/**
 * aimsflow as `npm start` runs it without DATABASE_URL: one process (workers/local.ts) hosting
 * the worker with the real activities, the API listening on a port, and the embedded records
 * store (PGlite on disk), started from a workflow bundle written once per bench. Its mail goes
 * to the bench's SMTP server, its links point at its own API. It inherits the bench's
 * environment for everything the bench does not set, so e.g. `WORKER_MAX_CACHED_WORKFLOWS=2000
 * npm run bench -- link-decision` measures with a larger workflow cache.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, waitFor } from '../../scripts/lib/wait.js';
import { DEFAULT_TASK_QUEUE } from '../../src/temporal/search-attributes.js';
import { spawnLogged, type Spawned } from './process.js';
import { newPayloadKeyEntry } from '../../src/temporal/codec.js';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const EXAMPLE_ORG_FILE = path.join(repoRoot, 'config', 'organization.example.yaml');

/**
 * The checkout aimsflow runs from: this one, or BENCH_AIMSFLOW_ROOT (another checkout of the
 * project, e.g. an earlier commit in a git worktree), to compare two versions with the same bench.
 */
export const aimsflowRoot = process.env.BENCH_AIMSFLOW_ROOT ? path.resolve(process.env.BENCH_AIMSFLOW_ROOT) : repoRoot;

export const BENCH_ADMIN_KEY = 'bench-admin-key-0123456789abcdef';
export const BENCH_LINK_SECRET = 'bench-link-secret-0123456789abcdef0123456789';
/** The payload keys of the bench's aimsflow (it runs with NODE_ENV=production, which requires them); the bench's client has them too. */
export const BENCH_PAYLOAD_KEYS = newPayloadKeyEntry('bench-1');

/**
 * The secrets of a bench's aimsflow process: its link secret, its payload keys, and one API key,
 * the AIMS manager's (`BENCH_ADMIN_KEY`, by its SHA-256 as API_KEYS lists keys), who starts the
 * bench's tasks.
 */
export const BENCH_SECRETS_ENV: Readonly<Record<string, string>> = {
  LINK_SECRET: BENCH_LINK_SECRET,
  PAYLOAD_KEYS: BENCH_PAYLOAD_KEYS,
  API_KEYS: JSON.stringify([{ name: 'bench', sha256: createHash('sha256').update(BENCH_ADMIN_KEY).digest('hex'), person: 'priya.raman' }]),
};

export interface AimsflowProcess {
  apiUrl: string;
  taskQueue: string;
  /** Headers of an admin API request (the key and JSON). */
  adminHeaders: Record<string, string>;
  process: Spawned;
  /** The resident set size of the process now, in bytes. */
  rssBytes(): number;
  stop(): Promise<void>;
}

/** Writes the aimsflow workflow bundle to `file` (as `npm start` does once per start). */
export async function bundleAimsflowWorkflows(file: string): Promise<void> {
  await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/bundle-workflows.ts', file], { cwd: aimsflowRoot, timeout: 300_000 });
}

export interface AimsflowOptions {
  temporalAddress: string;
  namespace: string;
  smtpUrl: string;
  /** The workflow bundle (bundleAimsflowWorkflows). */
  workflowBundle: string;
  /** DATA_DIR: the PGlite records store. */
  dataDir: string;
  logDir: string;
  orgFile?: string;
  /** More environment (e.g. LOG_LEVEL). */
  env?: Record<string, string>;
  /** Node options of the process, e.g. `--cpu-prof` to profile it. */
  nodeArgs?: string[];
}

export async function startAimsflow(options: AimsflowOptions): Promise<AimsflowProcess> {
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const taskQueue = DEFAULT_TASK_QUEUE;
  const child = spawnLogged('aimsflow', process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', 'workers/local.ts'], {
    cwd: aimsflowRoot,
    logFile: path.join(options.logDir, 'aimsflow.log'),
    env: {
      ...process.env,
      NODE_ENV: 'production',
      FORCE_COLOR: '0',
      TEMPORAL_ADDRESS: options.temporalAddress,
      TEMPORAL_NAMESPACE: options.namespace,
      TEMPORAL_TASK_QUEUE: taskQueue,
      SMTP_URL: options.smtpUrl,
      MAIL_FROM: 'aimsflow <aimsflow@northwind.example>',
      PUBLIC_BASE_URL: apiUrl,
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      ...BENCH_SECRETS_ENV,
      // The embedded records store, as npm start has it without a database (workers/local.ts).
      DATABASE_URL: '',
      DATA_DIR: options.dataDir,
      ORG_FILE: options.orgFile ?? EXAMPLE_ORG_FILE,
      WORKFLOW_BUNDLE: options.workflowBundle,
      WORKER_METRICS_ADDRESS: '',
      LOG_LEVEL: 'info',
      ...options.env,
    },
  });
  try {
    // Ready: Temporal, the records store, a worker polling and the SMTP server all answer.
    await waitFor(
      `aimsflow at ${apiUrl} to be ready`,
      async (signal) => {
        const res = await fetch(`${apiUrl}/readyz`, { signal });
        const body = (await res.json()) as { status?: string; checks?: Record<string, string> };
        if (body.status !== 'ready') throw new Error(`readyz: ${JSON.stringify(body.checks ?? body)}`);
        return true;
      },
      { timeoutMs: 180_000, intervalMs: 500, signal: child.exitSignal },
    );
  } catch (err) {
    await child.stop();
    throw child.explain(err);
  }
  return {
    apiUrl,
    taskQueue,
    adminHeaders: { authorization: `Bearer ${BENCH_ADMIN_KEY}`, 'content-type': 'application/json' },
    process: child,
    rssBytes: () => rssOf(child.pid),
    stop: () => child.stop(),
  };
}

/** The resident set size of process `pid`, in bytes (Linux: /proc/<pid>/status). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) * 1024;
}
