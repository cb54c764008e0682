/**
 * Worker entry point: runs aimsflow's workflows and activities on the configured task queue.
 * Stateless; run as many as needed. SIGINT/SIGTERM drain in-flight work, then exit; a second
 * signal exits at once.
 */
import { configOrExit } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { loadOrganizationOrExit } from '../src/organization.js';
import { openRecordsStore } from '../src/records/store.js';
import { startWorker } from './run.js';

const config = configOrExit();
const logger = createLogger(config.LOG_LEVEL, 'worker');

async function main(): Promise<void> {
  const organization = await loadOrganizationOrExit(config.ORG_FILE);
  const records = await openRecordsStore({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, logger });
  let running;
  try {
    running = await startWorker({ config, logger, organization: () => organization, records });
  } catch (err) {
    await records.close();
    throw err;
  }
  const worker = running;
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
  try {
    await worker.done;
  } finally {
    await records.close();
  }
}

main().catch((err: unknown) => {
  logger.fatal({ err }, 'worker failed');
  process.exit(1);
});
