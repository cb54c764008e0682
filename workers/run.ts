/**
 * Starts the aimsflow worker inside a process that already has its configuration, logger,
 * organization and records store (the worker entry point, or the single local process that
 * also serves the API when the records store is the embedded one).
 */
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import type { Config } from '../src/config.js';
import type { Organization } from '../src/organization/schema.js';
import { createLinkSigner } from '../src/links/signer.js';
import type { Logger } from '../src/logger.js';
import { createMailTransport } from '../src/mail/transport.js';
import { createTemporalClient } from '../src/temporal/client.js';
import type { RecordsStore } from '../src/records/types.js';
import { createAimsWorker, installRuntimeLogger } from './worker.js';
import { syncAiSystems } from '../src/ai-system/start.js';

export interface RunningWorker {
  worker: Worker;
  /** Resolves once the worker has stopped and its connections are closed. */
  done: Promise<void>;
  /** Stops polling, lets in-flight tasks finish, then resolves `done`. */
  shutdown(): void;
}

export async function startWorker(deps: {
  config: Config;
  logger: Logger;
  organization: () => Organization;
  records: RecordsStore;
}): Promise<RunningWorker> {
  const { config, logger } = deps;
  installRuntimeLogger(logger);
  const transport = createMailTransport({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, logger });
  const links = createLinkSigner({ secret: config.LINK_SECRET, ttlHours: config.LINK_TTL_HOURS, baseUrl: config.PUBLIC_BASE_URL });
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const temporal = await createTemporalClient(config);
  let worker: Worker;
  try {
    worker = await createAimsWorker({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
      logger,
      activities: createActivities({
        organization: deps.organization,
        records: deps.records,
        transport,
        links,
        mailFrom: config.MAIL_FROM,
        logger,
        temporal: { client: temporal.client, taskQueue: config.TEMPORAL_TASK_QUEUE },
      }),
    });
  } catch (err) {
    transport.close();
    await temporal.connection.close();
    await connection.close();
    throw err;
  }
  logger.info(
    { taskQueue: config.TEMPORAL_TASK_QUEUE, namespace: config.TEMPORAL_NAMESPACE, address: config.TEMPORAL_ADDRESS },
    'worker started',
  );
  // Every AI system of the inventory has its long-lived workflow; ensuring one that runs changes nothing.
  void syncAiSystems(temporal.client, config.TEMPORAL_TASK_QUEUE, deps.organization()).then(
    (r) => (r.failed.length ? logger.warn(r, 'some AI systems could not be ensured; retry with POST /admin/ai-systems/sync') : logger.info(r, 'AI systems ensured')),
    (err: unknown) => logger.warn({ err }, 'AI systems not ensured; retry with POST /admin/ai-systems/sync'),
  );
  const done = worker.run().finally(async () => {
    transport.close();
    await temporal.connection.close();
    await connection.close();
    logger.info('worker stopped');
  });
  return {
    worker,
    done,
    shutdown: () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
    },
  };
}
