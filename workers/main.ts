/**
 * Worker entry point: runs aimsflow's workflows and activities on the configured task queue.
 * Stateless; run as many as needed. SIGINT/SIGTERM drain in-flight work, then exit.
 */
import { NativeConnection } from '@temporalio/worker';
import { configOrExit } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { loadOrganization, OrganizationFileError } from '../src/organization.js';
import { openRecordsStore } from '../src/records/store.js';
import { createMailTransport } from '../src/mail/transport.js';
import { createLinkSigner } from '../src/links.js';
import { createActivities } from '../activities/index.js';
import { createAimsWorker, installRuntimeLogger } from './worker.js';

const config = configOrExit();
const logger = createLogger(config.LOG_LEVEL, 'worker');

async function main(): Promise<void> {
  let organization;
  try {
    organization = await loadOrganization(config.ORG_FILE);
  } catch (err) {
    if (err instanceof OrganizationFileError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  installRuntimeLogger(logger);

  const records = await openRecordsStore({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, logger });
  const transport = createMailTransport({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, logger });
  const links = createLinkSigner({ secret: config.LINK_SECRET, ttlHours: config.LINK_TTL_HOURS, baseUrl: config.PUBLIC_BASE_URL });
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });

  const org = organization;
  const worker = await createAimsWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    activities: createActivities({
      organization: () => org,
      records,
      transport,
      links,
      mailFrom: config.MAIL_FROM,
      logger,
    }),
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight tasks');
    worker.shutdown();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  logger.info(
    { taskQueue: config.TEMPORAL_TASK_QUEUE, namespace: config.TEMPORAL_NAMESPACE, address: config.TEMPORAL_ADDRESS },
    'worker started',
  );
  try {
    await worker.run();
  } finally {
    transport.close();
    await records.close();
    await connection.close();
    logger.info('worker stopped');
  }
}

main().catch((err: unknown) => {
  logger.fatal({ err }, 'worker failed');
  process.exit(1);
});
