/**
 * The Temporal SDK runtime of a worker process, installed once by the process entry point
 * before any connection is made:
 *
 * - every log line of the SDK, of its native core (connection retries, poll errors) and of
 *   workflow and activity loggers goes through the process's pino logger, so the process prints
 *   JSON only, also while the Temporal server is away;
 * - the SDK's own Prometheus exporter serves the worker's metrics at
 *   `http://<WORKER_METRICS_ADDRESS>/metrics`: the SDK's `temporal_*` metrics and the counters
 *   the activities add through their context's metric meter (activities/metrics.ts).
 *
 * Counters end in `_total` and durations are in seconds, as Prometheus names them.
 */
import { Runtime, type RuntimeOptions } from '@temporalio/worker';
import type { LogLevel } from '@temporalio/common';
import type { Config } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import { temporalLogger } from './worker.js';

/** The SDK core's log level for each LOG_LEVEL: the core logs what pino would print. */
const CORE_LEVELS: Record<Config['LOG_LEVEL'], LogLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
  silent: 'ERROR',
};

/** The level for the core's third-party libraries (gRPC, HTTP): warnings at most, they are chatty. */
const OTHER_LEVELS: Record<Config['LOG_LEVEL'], LogLevel> = { ...CORE_LEVELS, info: 'WARN', debug: 'WARN', trace: 'DEBUG' };

export interface WorkerRuntime {
  /** Where the worker's metrics are served (`host:port`), or undefined when off. */
  metricsAddress: string | undefined;
}

let installed: WorkerRuntime | undefined;

function runtimeOptions(config: Pick<Config, 'LOG_LEVEL'>, logger: Logger, metricsAddress: string | undefined): RuntimeOptions {
  return {
    logger: temporalLogger(logger),
    // The process's own shutdown (src/shutdown.ts) stops the worker in order.
    shutdownSignals: [],
    telemetryOptions: {
      logging: { forward: {}, filter: { core: CORE_LEVELS[config.LOG_LEVEL], other: OTHER_LEVELS[config.LOG_LEVEL] } },
      ...(metricsAddress
        ? { metrics: { prometheus: { bindAddress: metricsAddress, countersTotalSuffix: true, useSecondsForDurations: true } } }
        : {}),
    },
  };
}

/**
 * Installs the SDK runtime for this process (once; later calls return the first result). When
 * the metrics address cannot be bound (e.g. another worker on this host has it), the worker
 * runs without metrics and warns, naming WORKER_METRICS_ADDRESS: a port clash must not stop
 * the work (Prometheus shows the target down).
 */
export function installWorkerRuntime(config: Pick<Config, 'LOG_LEVEL' | 'WORKER_METRICS_ADDRESS'>, logger: Logger): WorkerRuntime {
  if (installed) return installed;
  const address = config.WORKER_METRICS_ADDRESS;
  try {
    Runtime.install(runtimeOptions(config, logger, address));
    installed = { metricsAddress: address };
    if (address) logger.info({ metrics: `http://${address}/metrics` }, 'worker metrics served');
  } catch (err) {
    if (!address) throw err;
    Runtime.install(runtimeOptions(config, logger, undefined));
    installed = { metricsAddress: undefined };
    logger.warn(
      { err, WORKER_METRICS_ADDRESS: address },
      `worker metrics are off: ${address} could not be bound; set WORKER_METRICS_ADDRESS to a free host:port (or empty to turn them off)`,
    );
  }
  return installed;
}
