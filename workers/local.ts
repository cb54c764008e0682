/**
 * The worker and the API in one process, sharing one records store. `npm start` uses it when
 * no DATABASE_URL is set: the embedded PGlite database serves a single process. With
 * PostgreSQL, the worker and the API run as separate processes (workers/main.ts,
 * src/api/server.ts) and scale independently.
 */
import { startApi } from '../src/api/run.js';
import { configOrExit } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { runUntilSignal } from '../src/shutdown.js';
import { startWorkerParts } from './run.js';
import { installWorkerRuntime } from './runtime.js';

const config = configOrExit();
const logger = createLogger(config.LOG_LEVEL, 'aimsflow');
const workerLogger = logger.child({ name: 'worker' });
installWorkerRuntime(config, workerLogger);

runUntilSignal(logger, 'worker and API', async (onStop, whenEnded) => {
  const shared = await startWorkerParts({ config, logger }, onStop, whenEnded, workerLogger);
  const api = await startApi({ ...shared, logger: logger.child({ name: 'api' }) });
  onStop('API', () => api.close());
});
