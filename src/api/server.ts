/**
 * API entry point: configuration, logger, records store, the organization in force, then the API.
 * SIGINT/SIGTERM close the API (in-flight requests finish) and then the store; a second
 * signal, or a shutdown that takes too long, exits at once.
 */
import { configOrExit } from '../config.js';
import { createLogger } from '../logger.js';
import { organizationInForce } from '../organization/in-force.js';
import { openRecordsStore } from '../records/store.js';
import { runUntilSignal } from '../shutdown.js';
import { startApi } from './run.js';

const config = configOrExit();
const logger = createLogger(config.LOG_LEVEL, 'api');

runUntilSignal(logger, 'API', async (onStop) => {
  const records = await openRecordsStore({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, logger });
  onStop('records store', () => records.close());
  const { holder } = await organizationInForce(config.ORG_FILE, records, logger);
  onStop('organization', async () => holder.stop());
  const api = await startApi({ config, logger, organization: holder.get, records });
  onStop('API', () => api.close());
});
