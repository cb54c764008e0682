/**
 * The worker and the API in one process, sharing one records store. `npm start` uses it when
 * no DATABASE_URL is set: the embedded PGlite database serves a single process. With
 * PostgreSQL, the worker and the API run as separate processes (workers/main.ts,
 * src/api/server.ts) and scale independently.
 */
import { startApi } from '../src/api/run.js';
import { configOrExit } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { loadOrganizationOrExit } from '../src/organization/load.js';
import { runUntilSignal } from '../src/shutdown.js';
import { openRecordsStore } from '../src/records/store.js';
import { startWorker } from './run.js';

const config = configOrExit();
const logger = createLogger(config.LOG_LEVEL, 'aimsflow');

runUntilSignal(logger, 'worker and API', async (onStop, whenEnded) => {
  const organization = await loadOrganizationOrExit(config.ORG_FILE);
  const records = await openRecordsStore({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, logger });
  onStop('records store', () => records.close());
  const worker = await startWorker({ config, logger: logger.child({ name: 'worker' }), organization: () => organization, records });
  onStop('worker', async () => {
    worker.shutdown();
    await worker.done;
  });
  whenEnded('worker', worker.done);
  const api = await startApi({ config, logger: logger.child({ name: 'api' }), organization: () => organization, records });
  onStop('API', () => api.close());
});
