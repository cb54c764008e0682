/**
 * The production topology without containers: a Temporal server (built from the Go module
 * proxy) on a throwaway PostgreSQL with SQL visibility, its schema set up by Temporal's SQL
 * tool, the namespace and the project's search attributes registered, and aimsflow as separate
 * worker and API processes whose records live in the same PostgreSQL. The server's settings
 * (config/temporal/postgresql.yaml) and the set-up scripts (scripts/temporal/*.sh) are the
 * same files docker-compose.yml uses, so the two cannot drift.
 *
 * Every part can be killed with SIGKILL and started again, for the fault suite
 * (test/faults.test.ts); `npx tsx scripts/topology.ts` runs it by hand.
 */
import { hashKey } from '../../src/auth/api-keys.js';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import pg from 'pg';
import { searchAttributeRegistrations } from '../../src/temporal/search-attributes.js';
import { findGo, findOnPath, findTemporalCli, goBinDirectories, runGoInstall } from '../temporal-cli.js';
import { startPostgresCluster, type PostgresCluster } from './postgres-cluster.js';
import { freePort, isPortFree, waitFor, waitForHttp, waitForPort } from './wait.js';
import { newPayloadKeyEntry } from '../../src/temporal/codec.js';

const run = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The Temporal server release the topology runs (and docker-compose.yml pins). */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
export const TEMPORAL_SERVER_MODULE = `go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION}`;
export const TEMPORAL_SQL_TOOL_MODULE = `go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`;

/** The server's configuration (directory and environment) and set-up scripts docker-compose.yml mounts too. */
export const TEMPORAL_CONFIG = { dir: 'config/temporal', env: 'postgresql' } as const;
export const TEMPORAL_SETUP_SCRIPTS = {
  schema: 'scripts/temporal/setup-schema.sh',
  namespace: 'scripts/temporal/setup-namespace.sh',
} as const;

const DB_USER = 'temporal';
const DB_PASSWORD = 'temporal-topology';
const NAMESPACE = 'default';
/** `temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW`. */
const TASK_QUEUE_TYPE_WORKFLOW = 1;

/** The API key of the topology's APIs (the example organization's AIMS manager, priya.raman). */
export const TOPOLOGY_ADMIN_KEY = 'topology-admin-key-0123456789abcdef';

/** The topology's payload keys (its processes run with NODE_ENV=production, which requires them). */
export const TOPOLOGY_PAYLOAD_KEYS = newPayloadKeyEntry('topology-1');

export interface TopologyTools {
  server: string;
  sqlTool: string;
  schemaDir: string;
  cli: string;
}

/** The binaries the topology needs, or the reason they are missing. */
export function findTopologyTools(env: NodeJS.ProcessEnv = process.env): TopologyTools | { missing: string } {
  const inGoBin = (name: string) => goBinDirectories(env).map((d) => path.join(d, name)).find((f) => existsSync(f));
  const server = env.TEMPORAL_SERVER ?? findOnPath('temporal-server', env) ?? inGoBin('server');
  const sqlTool = env.TEMPORAL_SQL_TOOL ?? findOnPath('temporal-sql-tool', env) ?? inGoBin('sql');
  const cli = findTemporalCli(env);
  let schemaDir = env.TEMPORAL_SCHEMA_DIR;
  const go = findGo(env);
  if (!schemaDir && go) {
    try {
      const cache = execFileSync(go, ['env', 'GOMODCACHE'], { encoding: 'utf8', timeout: 20_000 }).trim();
      schemaDir = path.join(cache, `go.temporal.io/server@${TEMPORAL_SERVER_VERSION}`, 'schema', 'postgresql', 'v12');
    } catch {
      schemaDir = undefined;
    }
  }
  if (!server) return { missing: `the Temporal server (go install ${TEMPORAL_SERVER_MODULE}, or TEMPORAL_SERVER)` };
  if (!sqlTool) return { missing: `the Temporal SQL tool (go install ${TEMPORAL_SQL_TOOL_MODULE}, or TEMPORAL_SQL_TOOL)` };
  if (!cli) return { missing: 'the Temporal CLI (see scripts/temporal-cli.ts)' };
  if (!schemaDir || !existsSync(schemaDir)) return { missing: `the Temporal ${TEMPORAL_SERVER_VERSION} schema files (in the Go module cache, or TEMPORAL_SCHEMA_DIR)` };
  return { server, sqlTool, schemaDir, cli };
}

/**
 * Builds the Temporal server and its SQL tool with Go when they are missing (about three minutes
 * on two cores, once). Without Go the topology stays unavailable and its tests are skipped.
 */
export async function ensureTopologyTools(log: (msg: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const found = findTopologyTools(env);
  if (!('missing' in found)) return;
  const go = findGo(env);
  if (!go) return;
  const goEnv = { ...env, PATH: [path.dirname(go), env.PATH ?? ''].filter(Boolean).join(path.delimiter) };
  for (const module of [TEMPORAL_SERVER_MODULE, TEMPORAL_SQL_TOOL_MODULE]) {
    log(`Building ${module} with Go for the production-topology tests (once; a few minutes)…`);
    await runGoInstall(go, goEnv, module);
  }
}

/** One process of the topology that can be killed and started again. */
export interface Part {
  readonly name: string;
  /** The process id while it runs. */
  pid(): number | undefined;
  running(): boolean;
  /** SIGKILL, then waits until the process has exited. */
  kill(): Promise<void>;
  /** Starts it (again) and waits until it serves. */
  start(): Promise<void>;
}

export interface Topology {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  /** The records store of the aimsflow processes. */
  databaseUrl: string;
  postgres: PostgresCluster;
  temporal: Part;
  /** Each serves its Prometheus metrics at `metricsUrl`. */
  workers: Array<Part & { metricsUrl: string }>;
  apis: Array<Part & { url: string }>;
  /** Environment the aimsflow processes run with. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface TopologyOptions {
  smtpUrl: string;
  workers?: number;
  apis?: number;
  /** Extra environment for the aimsflow processes. */
  env?: Record<string, string>;
  /** Receives every output line of every part, prefixed with its name. */
  log?: (line: string) => void;
}

/** Process groups still running: killed when this process exits, however it exits. */
const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

class ProcessPart implements Part {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    private readonly spawnIt: () => ChildProcess,
    private readonly ready: () => Promise<unknown>,
    private readonly log: (line: string) => void,
  ) {}

  pid(): number | undefined {
    return this.running() ? this.child?.pid : undefined;
  }

  running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running()) return;
    const child = this.spawnIt();
    this.child = child;
    const pid = child.pid;
    if (pid) liveGroups.add(pid);
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        if (pid) liveGroups.delete(pid);
        resolve();
      }),
    );
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) if (line) this.log(`${this.name} | ${line}`);
      });
    }
    await this.ready();
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running()) return;
    try {
      process.kill(-(child.pid ?? 0), 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
    await this.exited;
  }
}

/** Starts the whole topology; stop() tears it down. */
export async function startTopology(options: TopologyOptions): Promise<Topology> {
  const tools = findTopologyTools();
  if ('missing' in tools) throw new Error(`the production topology needs ${tools.missing}`);
  // The last lines of every part, kept to say why the topology did not come up.
  const recent: string[] = [];
  const log = (line: string) => {
    recent.push(line);
    if (recent.length > 40) recent.shift();
    options.log?.(line);
  };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'aimsflow-topology-'));
  const cleanup: Array<() => Promise<void>> = [async () => rm(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  };
  try {
    // PostgreSQL: Temporal's two databases and the records store.
    const postgres = await startPostgresCluster();
    cleanup.push(() => postgres.destroy());
    const admin = new pg.Client({ connectionString: postgres.adminUrl });
    await admin.connect();
    await admin.query(`CREATE ROLE ${DB_USER} LOGIN PASSWORD '${DB_PASSWORD}' CREATEDB`);
    await admin.query(`CREATE DATABASE aimsflow OWNER ${DB_USER}`);
    await admin.end();
    const dbEnv = { POSTGRES_HOST: '127.0.0.1', POSTGRES_PORT: String(postgres.port), POSTGRES_USER: DB_USER, POSTGRES_PASSWORD: DB_PASSWORD };
    await run('sh', [path.join(repoRoot, TEMPORAL_SETUP_SCRIPTS.schema)], {
      env: { ...process.env, ...dbEnv, SQL_PASSWORD: DB_PASSWORD, SQL_TOOL: tools.sqlTool, SCHEMA_DIR: tools.schemaDir },
      timeout: 180_000,
    });

    // The Temporal server; its ports count from a free base (frontend, history +1, matching +2, worker +6).
    const base = await freeBasePort();
    const temporalAddress = `127.0.0.1:${base}`;
    const metricsPort = await freePort();
    const temporal = new ProcessPart(
      'temporal',
      () =>
        spawn(tools.server, ['--root', repoRoot, '--config', TEMPORAL_CONFIG.dir, '--env', TEMPORAL_CONFIG.env, '--allow-no-auth', 'start'], {
          cwd: repoRoot,
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            ...process.env,
            ...dbEnv,
            TEMPORAL_PORT_BASE: String(base),
            TEMPORAL_METRICS_PORT: String(metricsPort),
            TEMPORAL_LOG_LEVEL: 'error',
          },
        }),
      () => waitForPort('127.0.0.1', base, { timeoutMs: 90_000 }),
      log,
    );
    cleanup.push(() => temporal.kill());
    await temporal.start();
    await run('sh', [path.join(repoRoot, TEMPORAL_SETUP_SCRIPTS.namespace)], {
      env: {
        ...process.env,
        TEMPORAL_CLI: tools.cli,
        TEMPORAL_ADDRESS: temporalAddress,
        // A busy two-core machine can take minutes to bring a fresh cluster's ring together.
        HEALTH_WAIT_SECONDS: '240',
        NAMESPACE,
        AIMS_SEARCH_ATTRIBUTES: searchAttributeRegistrations()
          .map((r) => `${r.name}=${r.type}`)
          .join(' '),
      },
      timeout: 180_000,
    });

    // aimsflow: workers and APIs as separate processes, records on PostgreSQL.
    const taskQueue = `topology-${process.pid}`;
    const databaseUrl = `postgres://${DB_USER}:${DB_PASSWORD}@127.0.0.1:${postgres.port}/aimsflow`;
    const orgFile = path.join(dir, 'organization.yaml');
    await copyFile(path.join(repoRoot, 'config/organization.example.yaml'), orgFile);
    // Workers start from one prebuilt bundle, as in production: a killed worker polls again in seconds.
    const workflowBundle = path.join(dir, 'workflow-bundle.js');
    await run(process.execPath, ['--import', 'tsx', 'scripts/bundle-workflows.ts', workflowBundle], { cwd: repoRoot, timeout: 300_000 });
    const apiPorts = await Promise.all(Array.from({ length: options.apis ?? 2 }, () => freePort()));
    const env: Record<string, string> = {
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: NAMESPACE,
      TEMPORAL_TASK_QUEUE: taskQueue,
      SMTP_URL: options.smtpUrl,
      PUBLIC_BASE_URL: `http://127.0.0.1:${apiPorts[0]}`,
      LINK_SECRET: 'topology-link-secret-0123456789abcdefghij',
      // The example organization's AIMS manager holds the topology's key.
      API_KEYS: JSON.stringify([{ name: 'topology-aims-manager', sha256: hashKey(TOPOLOGY_ADMIN_KEY), person: 'priya.raman' }]),
      PAYLOAD_KEYS: TOPOLOGY_PAYLOAD_KEYS,
      DATABASE_URL: databaseUrl,
      DATA_DIR: dir,
      ORG_FILE: orgFile,
      WORKFLOW_BUNDLE: workflowBundle,
      LOG_LEVEL: 'info',
      ...options.env,
    };
    const node = (entry: string, extra: Record<string, string> = {}) => () =>
      spawn(process.execPath, ['--import', 'tsx', entry], {
        cwd: repoRoot,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NODE_ENV: 'production', FORCE_COLOR: '0', ...env, ...extra },
      });
    const workerCount = options.workers ?? 2;
    const metricsPorts = await Promise.all(Array.from({ length: workerCount }, () => freePort()));
    const workers = metricsPorts.map((metricsPort, i) => {
      const part = new ProcessPart(
        `worker-${i + 1}`,
        node('workers/main.ts', { WORKER_METRICS_ADDRESS: `127.0.0.1:${metricsPort}` }),
        async () => undefined,
        log,
      );
      return Object.assign(part, { metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` });
    });
    const apis = apiPorts.map((port, i) => {
      const url = `http://127.0.0.1:${port}`;
      const part = new ProcessPart(
        `api-${i + 1}`,
        node('src/api/server.ts', { API_HOST: '127.0.0.1', API_PORT: String(port) }),
        () => waitForHttp(`${url}/healthz`, { timeoutMs: 60_000 }),
        log,
      );
      return Object.assign(part, { url });
    });
    for (const part of [...workers, ...apis]) cleanup.push(() => part.kill());
    await Promise.all([...workers, ...apis].map((p) => p.start()));
    await waitFor('the aimsflow APIs to be ready', async () => ((await Promise.all(apis.map((a) => apiReady(a.url)))).every(Boolean) ? true : undefined), {
      timeoutMs: 90_000,
      intervalMs: 500,
    });
    await waitForPollers(temporalAddress, taskQueue, workers.length);
    return { temporalAddress, namespace: NAMESPACE, taskQueue, databaseUrl, postgres, temporal, workers, apis, env, stop };
  } catch (err) {
    await stop();
    if (err instanceof Error && recent.length) err.message += `\nlast output of the parts:\n${recent.join('\n')}`;
    throw err;
  }
}

/** Waits until `count` workers poll `taskQueue` for workflow tasks. */
export async function waitForPollers(address: string, taskQueue: string, count: number, timeoutMs = 90_000): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await waitFor(
      `${count} worker(s) polling ${taskQueue}`,
      async () => {
        const { pollers } = await connection.workflowService.describeTaskQueue({
          namespace: NAMESPACE,
          taskQueue: { name: taskQueue },
          taskQueueType: TASK_QUEUE_TYPE_WORKFLOW,
        });
        return pollers.length >= count ? true : undefined;
      },
      { timeoutMs, intervalMs: 500 },
    );
  } finally {
    await connection.close();
  }
}

async function apiReady(url: string): Promise<boolean> {
  const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
  return res.ok;
}

/** A port P such that P, P+1, P+2, P+6, P+10 and P-300.. are likely free: picked high and checked. */
async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below 32768: Temporal keeps its membership port in a PostgreSQL smallint (39003 failed the
    // server with "value is out of range for type smallint").
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const ports = [base, base + 1, base + 2, base + 6, base + 10, base - 300, base - 299, base - 298, base - 294];
    if ((await Promise.all(ports.map((p) => isPortFree(p)))).every(Boolean)) return base;
  }
  throw new Error('no free port range for the Temporal server');
}
