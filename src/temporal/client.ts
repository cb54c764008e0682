/**
 * Temporal client factory used by the API, the CLI and scripts.
 */
import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config.js';

export interface TemporalHandle {
  client: Client;
  connection: Connection;
}

/**
 * A client whose connection is made on first use, so the API starts (and reports not-ready on
 * /readyz) while Temporal is still coming up, instead of exiting.
 */
export async function createTemporalClient(
  config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'>,
): Promise<TemporalHandle> {
  const connection = Connection.lazy({
    address: config.TEMPORAL_ADDRESS,
    connectTimeout: '10s',
  });
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  return Promise.resolve({ client, connection });
}

/** Resolves when the Temporal frontend answers within the deadline; rejects otherwise. */
export async function checkTemporal(connection: Connection, timeoutMs = 2000): Promise<void> {
  await connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.getSystemInfo({}));
}
