/**
 * API entry point: configuration, logger, organization, records store, then the API.
 * SIGINT/SIGTERM close the API (in-flight requests finish) and then the store; a second
 * signal, or a shutdown that takes too long, exits at once.
 */
import { configOrExit } from '../config.js';
import { createLogger } from '../logger.js';
import { loadOrganizationOrExit } from '../organization/load.js';
import { openRecordsStore } from '../records/store.js';
import { runUntilSignal } from '../shutdown.js';
import { startApi } from './run.js';

const config = configOrExit();
const logger = createLogger(config.LOG_LEVEL, 'api');

runUntilSignal(logger, 'API', async (onStop) => {
  const organization = await loadOrganizationOrExit(config.ORG_FILE);
  const records = await openRecordsStore({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, logger });
  onStop('records store', () => records.close());
  const api = await startApi({ config, logger, organization: () => organization, records });
  onStop('API', () => api.close());
});
