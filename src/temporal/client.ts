/**
 * Temporal client factory used by the API, the CLI and scripts.
 */
import { Client, Connection } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common';
import type { Config } from '../config.js';
import { aimsDataConverter } from './codec.js';

/**
 * gRPC channel settings that bring the client back within about two seconds of the Temporal
 * frontend's return. grpc-js backs off between reconnect attempts from 1 s up to 120 s (x1.6
 * each time) and re-resolves a host name at most every 30 s, so after an outage of a minute a
 * client kept asking (as `/readyz` does) found the server again only 20-30 s after it answered
 * a fresh client. Capped at 2 s, a reconnect attempt (and a fresh look-up of the name) follows
 * the server's return within 2 s, at the cost of one refused connect every 2 s while it is down.
 */
export const TEMPORAL_CHANNEL_ARGS = {
  'grpc.initial_reconnect_backoff_ms': 500,
  'grpc.max_reconnect_backoff_ms': 2000,
  'grpc.dns_min_time_between_resolutions_ms': 2000,
} as const;

export interface TemporalHandle {
  client: Client;
  connection: Connection;
}

/**
 * A client whose connection is made on first use, so the API starts (and reports not-ready on
 * /readyz) while Temporal is still coming up, instead of exiting.
 */
export async function createTemporalClient(
  config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE' | 'PAYLOAD_KEYS'>,
): Promise<TemporalHandle> {
  const connection = Connection.lazy({
    address: config.TEMPORAL_ADDRESS,
    connectTimeout: '10s',
    channelArgs: TEMPORAL_CHANNEL_ARGS,
  });
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: aimsDataConverter(config) });
  return Promise.resolve({ client, connection });
}

/** Resolves when the Temporal frontend answers within the deadline; rejects otherwise. */
export async function checkTemporal(connection: Connection, timeoutMs = 2000): Promise<void> {
  await connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.getSystemInfo({}));
}

/** `temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW`. */
const TASK_QUEUE_TYPE_WORKFLOW = 1;

/**
 * How recently a worker must have polled to count as alive. An idle worker's polls are long
 * polls of about a minute, so a live worker is always seen within this; a worker that died
 * stops counting this long after its last poll.
 */
export const WORKER_SEEN_WITHIN_MS = 90_000;

/**
 * Resolves when at least one worker has polled `taskQueue` for workflow tasks within
 * `WORKER_SEEN_WITHIN_MS` (Temporal's describe-task-queue); rejects saying so otherwise.
 */
export async function checkWorkers(
  connection: Connection,
  namespace: string,
  taskQueue: string,
  timeoutMs = 2000,
  now: () => number = Date.now,
): Promise<void> {
  const { pollers } = await connection.withDeadline(Date.now() + timeoutMs, () =>
    connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue }, taskQueueType: TASK_QUEUE_TYPE_WORKFLOW }),
  );
  const seen = pollers.map((p) => optionalTsToMs(p.lastAccessTime)).filter((t): t is number => t !== undefined);
  const live = seen.filter((t) => now() - t <= WORKER_SEEN_WITHIN_MS);
  if (live.length > 0) return;
  const last = seen.length > 0 ? `; the last poll was ${Math.round((now() - Math.max(...seen)) / 1000)} s ago` : '';
  throw new Error(`no worker has polled task queue "${taskQueue}" in the last ${WORKER_SEEN_WITHIN_MS / 1000} s${last}`);
}
