/**
 * A real aimsflow worker in a process of its own (test/helpers/worker-child.ts), for tests that
 * kill it the way a crash does (SIGKILL: no shutdown, its sticky queue left behind). It uses
 * the run's workflow bundle and waits until the worker polls its task queue.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { inject } from 'vitest';
import { waitFor } from '../../scripts/lib/wait.js';
import type { Config } from '../../src/config.js';
import { checkWorkers } from '../../src/temporal/client.js';
import { exampleOrgFile } from './temporal.js';

export interface WorkerProcess {
  pid: number;
  /** SIGKILL, then waits for the process to be gone. */
  kill(): Promise<void>;
}

const child = path.resolve(import.meta.dirname, 'worker-child.ts');

export async function startWorkerProcess(
  config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE' | 'TEMPORAL_TASK_QUEUE' | 'SMTP_URL' | 'MAIL_FROM' | 'LINK_SECRET' | 'PUBLIC_BASE_URL'>,
  { timeoutMs = 120_000 } = {},
): Promise<WorkerProcess> {
  const bundlePath = inject('workflowBundlePath');
  const proc = spawn(process.execPath, ['--import', 'tsx', child], {
    env: {
      PATH: process.env.PATH,
      TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS,
      TEMPORAL_NAMESPACE: config.TEMPORAL_NAMESPACE,
      TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
      SMTP_URL: config.SMTP_URL,
      MAIL_FROM: config.MAIL_FROM,
      LINK_SECRET: config.LINK_SECRET,
      PUBLIC_BASE_URL: config.PUBLIC_BASE_URL,
      ORG_FILE: exampleOrgFile,
      ...(bundlePath ? { WORKFLOW_BUNDLE_PATH: bundlePath } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  proc.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const gone = new AbortController();
  void exited.then(() => gone.abort(new Error(`the worker process exited:\n${output.slice(-4000)}`)));
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  try {
    await waitFor(
      'the worker process to poll its task queue',
      async () => {
        if (!output.includes('worker running')) return undefined;
        await checkWorkers(connection, config.TEMPORAL_NAMESPACE, config.TEMPORAL_TASK_QUEUE);
        return true;
      },
      { timeoutMs, intervalMs: 250, signal: gone.signal },
    );
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  } finally {
    await connection.close();
  }
  return {
    pid: proc.pid ?? -1,
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}
