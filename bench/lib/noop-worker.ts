/**
 * The bare baseline's worker, run as a process of its own beside the aimsflow process (as a
 * bench runs both): the no-op workflows of bench/lib/noop-workflow.ts, bundled on their own, and
 * one tiny activity. The worker options that matter for speed are aimsflow's (the workflow cache
 * bound and the sticky queue timeout). The bench waits until it polls its task queue.
 *
 *   TEMPORAL_ADDRESS=127.0.0.1:7233 TEMPORAL_TASK_QUEUE=bench-noop node --import tsx bench/lib/noop-worker.ts
 */
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { bundlerOptions, STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT } from '../../workers/worker.js';
import type { BenchActivities } from './noop-workflow.js';

const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const address = process.env.TEMPORAL_ADDRESS;
const taskQueue = process.env.TEMPORAL_TASK_QUEUE;
if (!address || !taskQueue) {
  console.error('TEMPORAL_ADDRESS and TEMPORAL_TASK_QUEUE are required');
  process.exit(2);
}

Runtime.install({ logger: new DefaultLogger('WARN') });
const activities: BenchActivities = {
  async benchTouch() {
    return Date.now();
  },
};
const connection = await NativeConnection.connect({ address });
const worker = await Worker.create({
  connection,
  namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
  taskQueue,
  activities,
  workflowBundle: await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL(`./noop-workflow${ext}`, import.meta.url)),
    ...bundlerOptions,
    logger: new DefaultLogger('WARN'),
  }),
  maxCachedWorkflows: Number(process.env.WORKER_MAX_CACHED_WORKFLOWS ?? 500),
  stickyQueueScheduleToStartTimeout: STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT,
});
await worker.run();
await connection.close();
