/**
 * Worker entry point: runs aimsflow's workflows and activities on the configured task queue.
 * Stateless; run as many as needed. SIGINT/SIGTERM drain in-flight work, then exit; a second
 * signal exits at once. The SDK runtime is installed first (JSON logs through pino, metrics on
 * WORKER_METRICS_ADDRESS; see workers/runtime.ts).
 */
import { configOrExit } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { runUntilSignal } from '../src/shutdown.js';
import { startWorkerParts } from './run.js';
import { installWorkerRuntime } from './runtime.js';

const config = configOrExit();
const logger = createLogger(config.LOG_LEVEL, 'worker');
installWorkerRuntime(config, logger);

runUntilSignal(logger, 'worker', async (onStop, whenEnded) => {
  await startWorkerParts({ config, logger }, onStop, whenEnded);
});
