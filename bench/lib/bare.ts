/**
 * The bare baseline beside aimsflow: the no-op worker (bench/lib/noop-worker.ts) as a process
 * of its own on a task queue of its own, against the same dev server, and the bare workflows
 * started straight through the Temporal client.
 */
import path from 'node:path';
import type { Connection } from '@temporalio/client';
import { waitFor } from '../../scripts/lib/wait.js';
import { repoRoot } from './aimsflow.js';
import { spawnLogged, type Spawned } from './process.js';

export const BARE_TASK_QUEUE = 'bench-noop';

/** `temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW`. */
const TASK_QUEUE_TYPE_WORKFLOW = 1;

export interface BareWorker {
  taskQueue: string;
  process: Spawned;
  stop(): Promise<void>;
}

export async function startBareWorker(options: { temporalAddress: string; namespace: string; connection: Connection; logDir: string }): Promise<BareWorker> {
  const child = spawnLogged('bare worker', process.execPath, ['--import', 'tsx', 'bench/lib/noop-worker.ts'], {
    cwd: repoRoot,
    logFile: path.join(options.logDir, 'bare-worker.log'),
    env: {
      ...process.env,
      NODE_ENV: 'production',
      TEMPORAL_ADDRESS: options.temporalAddress,
      TEMPORAL_NAMESPACE: options.namespace,
      TEMPORAL_TASK_QUEUE: BARE_TASK_QUEUE,
    },
  });
  try {
    await waitForPolling(options.connection, options.namespace, BARE_TASK_QUEUE, child.exitSignal);
  } catch (err) {
    await child.stop();
    throw child.explain(err);
  }
  return { taskQueue: BARE_TASK_QUEUE, process: child, stop: () => child.stop() };
}

/** Waits until a worker polls `taskQueue` for workflow tasks. */
export async function waitForPolling(connection: Connection, namespace: string, taskQueue: string, signal?: AbortSignal): Promise<void> {
  await waitFor(
    `a worker polling ${taskQueue}`,
    async () => {
      const { pollers } = await connection.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue },
        taskQueueType: TASK_QUEUE_TYPE_WORKFLOW,
      });
      return pollers.length > 0 ? true : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 250, ...(signal ? { signal } : {}) },
  );
}
