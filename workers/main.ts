/**
 * Worker entry point: runs aimsflow's workflows and activities on the configured task queue.
 * Stateless; run as many as needed. SIGINT/SIGTERM drain in-flight work, then exit; a second
 * signal exits at once.
 */
import { configOrExit } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { loadOrganizationOrExit } from '../src/organization/load.js';
import { runUntilSignal } from '../src/shutdown.js';
import { openRecordsStore } from '../src/records/store.js';
import { startWorker } from './run.js';

const config = configOrExit();
const logger = createLogger(config.LOG_LEVEL, 'worker');

runUntilSignal(logger, 'worker', async (onStop, whenEnded) => {
  const organization = await loadOrganizationOrExit(config.ORG_FILE);
  const records = await openRecordsStore({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, logger });
  onStop('records store', () => records.close());
  const worker = await startWorker({ config, logger, organization: () => organization, records });
  onStop('worker', async () => {
    worker.shutdown();
    await worker.done;
  });
  whenEnded('worker', worker.done);
});
