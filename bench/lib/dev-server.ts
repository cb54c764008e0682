/**
 * A Temporal dev server of the bench's own: the Temporal CLI (`temporal server start-dev`,
 * found as the tests find it) on a free port, headless, with its state in a temporary SQLite
 * file and the project's search attributes registered. Every bench measures aimsflow and its
 * bare baseline against the same one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, type Connection } from '@temporalio/client';
import { connectWhenReady, ensureSearchAttributes } from '../../scripts/lib/temporal-admin.js';
import { freePort } from '../../scripts/lib/wait.js';
import { ensureTemporalCli } from '../../scripts/temporal-cli.js';
import { searchAttributeRegistrations } from '../../src/temporal/search-attributes.js';
import { spawnLogged, type Spawned } from './process.js';
import { aimsDataConverter, payloadKeysFromEnv } from '../../src/temporal/codec.js';
import { BENCH_PAYLOAD_KEYS } from './aimsflow.js';

export const BENCH_NAMESPACE = 'default';

export interface DevServer {
  address: string;
  namespace: string;
  /** A connection and client of the bench process (for the baseline's starts and for reading histories). */
  connection: Connection;
  client: Client;
  /** A client without the payload codec, for the bare baseline's workflows (their worker has none). */
  bareClient: Client;
  process: Spawned;
  stop(): Promise<void>;
}

/** Starts the dev server, its output in `logDir`/temporal.log. */
export async function startDevServer(logDir: string): Promise<DevServer> {
  const cli = await ensureTemporalCli((msg) => console.error(msg));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'aimsflow-bench-temporal-'));
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const server = spawnLogged(
    'temporal',
    cli,
    [
      'server',
      'start-dev',
      '--headless',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--db-filename',
      path.join(dir, 'temporal.db'),
      '--log-level',
      'error',
      ...searchAttributeRegistrations().flatMap(({ name, type }) => ['--search-attribute', `${name}=${type}`]),
    ],
    { logFile: path.join(logDir, 'temporal.log') },
  );
  try {
    const connection = await connectWhenReady(address, BENCH_NAMESPACE, { timeoutMs: 90_000, signal: server.exitSignal });
    await ensureSearchAttributes(connection, BENCH_NAMESPACE);
    // Decodes aimsflow's encrypted payloads; the bare baseline's plain ones pass through.
    const client = new Client({ connection, namespace: BENCH_NAMESPACE, dataConverter: aimsDataConverter(payloadKeysFromEnv({ PAYLOAD_KEYS: BENCH_PAYLOAD_KEYS })) });
    return {
      address,
      namespace: BENCH_NAMESPACE,
      connection,
      client,
      bareClient: new Client({ connection, namespace: BENCH_NAMESPACE }),
      process: server,
      async stop() {
        await connection.close().catch(() => undefined);
        await server.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
    throw server.explain(err);
  }
}
