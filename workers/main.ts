/**
 * Worker entry point: runs aimsflow's workflows and activities on the configured task queue.
 * Stateless; run as many as needed. SIGINT/SIGTERM drain in-flight work, then exit; a second
 * signal exits at once.
 */
import { configOrExit } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { runUntilSignal } from '../src/shutdown.js';
import { startWorkerParts } from './run.js';

const config = configOrExit();
const logger = createLogger(config.LOG_LEVEL, 'worker');

runUntilSignal(logger, 'worker', async (onStop, whenEnded) => {
  await startWorkerParts({ config, logger }, onStop, whenEnded);
});
