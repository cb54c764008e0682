/**
 * A Temporal dev server of the bench's own (the Temporal CLI's `server start-dev`, in memory,
 * headless, the project's search attributes registered) on a free port, so a bench never
 * shares a server with `npm start` or the tests.
 */
import { spawn } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { findTemporalCli } from '../../scripts/temporal-cli.js';
import { freePort, waitFor } from '../../scripts/lib/wait.js';
import { searchAttributeRegistrations } from '../../src/temporal/search-attributes.js';

export interface DevServer {
  /** `127.0.0.1:<port>` */
  address: string;
  namespace: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startDevServer({ timeoutMs = 120_000 } = {}): Promise<DevServer> {
  const cli = findTemporalCli();
  if (!cli) throw new Error('no Temporal CLI: build one with `npx tsx scripts/temporal-cli.ts` (or set TEMPORAL_CLI)');
  const port = await freePort();
  const child = spawn(
    cli,
    [
      'server',
      'start-dev',
      '--headless',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--log-level',
      'error',
      ...searchAttributeRegistrations().flatMap(({ name, type }) => ['--search-attribute', `${name}=${type}`]),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const gone = new AbortController();
  void exited.then(() => gone.abort(new Error(`the Temporal dev server exited: ${stderr}`)));
  const address = `127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitFor(
      'the Temporal dev server to answer',
      async () => {
        const connection = await Connection.connect({ address, connectTimeout: 1_000 });
        try {
          await connection.workflowService.describeNamespace({ namespace: 'default' });
          return true;
        } finally {
          await connection.close();
        }
      },
      { timeoutMs, intervalMs: 250, signal: gone.signal },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { address, namespace: 'default', pid: child.pid ?? -1, stop };
}
