/**
 * The API after a Temporal server restart: a dev server of this file's own, on its own port and
 * state file, killed (SIGKILL) for a minute while /readyz keeps asking as a load balancer would,
 * then started again on the same port and file. /readyz is ready again within seconds of the
 * server answering a fresh client (before the client's reconnect backoff was capped, it took
 * 20-30 s after an outage of a minute).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTemporalCli } from '../scripts/temporal-cli.js';
import { freePort, waitFor } from '../scripts/lib/wait.js';
import { checkTemporal, createTemporalClient, type TemporalHandle } from '../src/temporal/client.js';
import { buildTestApp, type TestApp } from './helpers/api.js';
import { payloadKeysFromEnv } from '../src/temporal/codec.js';

/** Long enough for grpc-js's default backoff (1 s x1.6 per attempt) to space attempts 25 s apart. */
const OUTAGE_MS = 60_000;
/** How soon after the server answers a fresh client the API must be ready again. */
const BACK_WITHIN_MS = 10_000;

let dir: string;
let port: number;
let server: ChildProcess | undefined;
let temporal: TemporalHandle;
let api: TestApp;

function startServer(): ChildProcess {
  const cli = findTemporalCli();
  if (!cli) throw new Error('no Temporal CLI (the global setup builds one)');
  const child = spawn(
    cli,
    ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port), '--db-filename', path.join(dir, 'temporal.db'), '--log-level', 'error'],
    { stdio: 'ignore' },
  );
  child.on('error', () => undefined);
  return child;
}

async function killServer(): Promise<void> {
  const child = server;
  server = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

/** Until a new client connects and the server answers it. */
async function serverAnswers(timeoutMs: number): Promise<void> {
  await waitFor(
    'the Temporal server to answer a fresh client',
    async () => {
      const fresh = await Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: 1_000 });
      try {
        await checkTemporal(fresh, 1_000);
        return true;
      } finally {
        await fresh.close();
      }
    },
    { timeoutMs, intervalMs: 200 },
  );
}

const readyz = async () => (await api.app.inject({ method: 'GET', url: '/readyz' })).json<{ status: string; checks: Record<string, string> }>();

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'aimsflow-reconnect-'));
  port = await freePort();
  server = startServer();
  await serverAnswers(60_000);
  // As the API builds it: a lazy connection to a host name (localhost resolves through DNS).
  temporal = await createTemporalClient({ TEMPORAL_ADDRESS: `localhost:${port}`, TEMPORAL_NAMESPACE: 'default', ...payloadKeysFromEnv({}) });
  api = await buildTestApp({ readiness: { temporal: () => checkTemporal(temporal.connection) } });
}, 90_000);

afterAll(async () => {
  await killServer();
  await api?.close();
  await temporal?.connection.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the API after a Temporal server restart', () => {
  it(
    'is ready again within seconds of the server answering, after a minute down while probed every second',
    async () => {
      expect((await readyz()).status).toBe('ready');

      await killServer();
      const downUntil = Date.now() + OUTAGE_MS;
      let probes = 0;
      while (Date.now() < downUntil) {
        const body = await readyz();
        expect(body.status).toBe('unavailable');
        expect(body.checks.temporal).not.toBe('ok');
        probes += 1;
        await sleep(1_000);
      }
      expect(probes).toBeGreaterThan(10);

      server = startServer();
      await serverAnswers(60_000);
      const back = await waitFor('/readyz to be ready again', async () => ((await readyz()).status === 'ready' ? true : undefined), {
        timeoutMs: BACK_WITHIN_MS,
        intervalMs: 250,
      });
      expect(back).toBe(true);
    },
    OUTAGE_MS + 180_000,
  );
});
