/**
 * Process lifecycle for entry points: start parts in order, and on SIGINT/SIGTERM stop them in
 * reverse order; a second signal, a failed start or a stop that takes too long exits at once.
 */
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { Organization } from './organization/schema.js';
import type { RecordsStore } from './records/types.js';

/** What every service part (the worker, the API) is started with. */
export interface ServiceDeps {
  config: Config;
  logger: Logger;
  organization: () => Organization;
  records: RecordsStore;
}

/** How long a graceful stop may take before the process exits anyway. */
export const SHUTDOWN_TIMEOUT_MS = 15_000;

type Stop = () => Promise<void>;

/**
 * Runs `start`, which registers a stop function for each part it starts (in start order).
 * Resolves when a signal has stopped everything. Parts may also end on their own: pass their
 * completion to `whenEnded` and the process stops the rest and exits.
 */
export function runUntilSignal(
  logger: Logger,
  name: string,
  start: (onStop: (part: string, stop: Stop) => void, whenEnded: (part: string, ended: Promise<unknown>) => void) => Promise<void>,
): void {
  const stops: [string, Stop][] = [];
  let stopping = false;

  const stopAll = async (reason: string, exitCode: number) => {
    if (stopping) {
      logger.warn({ reason }, 'second shutdown request; exiting now');
      process.exit(1);
    }
    stopping = true;
    process.exitCode = exitCode;
    logger.info({ reason }, 'shutting down');
    setTimeout(() => {
      logger.error(`shutdown did not finish within ${SHUTDOWN_TIMEOUT_MS} ms; exiting`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    for (const [part, stop] of stops.reverse()) {
      try {
        await stop();
        logger.info(`${part} stopped`);
      } catch (err) {
        logger.error({ err }, `stopping the ${part} failed`);
        process.exitCode = 1;
      }
    }
    logger.info(`${name} stopped`);
    // Everything is closed; leave no lingering handle (e.g. a native runtime) keeping the process up.
    process.exit();
  };

  process.on('SIGINT', () => void stopAll('SIGINT', 0));
  process.on('SIGTERM', () => void stopAll('SIGTERM', 0));
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled promise rejection');
    void stopAll('unhandledRejection', 1);
  });

  const onStop = (part: string, stop: Stop) => {
    stops.push([part, stop]);
  };
  // A part that finishes starting after a stop request was handled is stopped right away.
  const onStopWhileStarting = (part: string, stop: Stop) => {
    if (!stopping) return onStop(part, stop);
    stop().catch((err: unknown) => logger.error({ err }, `stopping the ${part} failed`));
  };
  const whenEnded = (part: string, ended: Promise<unknown>) => {
    ended.then(
      () => {
        if (!stopping) void stopAll(`${part} ended`, 1);
      },
      (err: unknown) => {
        logger.fatal({ err }, `${part} failed`);
        if (!stopping) void stopAll(`${part} failed`, 1);
      },
    );
  };
  start(onStopWhileStarting, whenEnded).then(
    () => {
      if (stopping) return;
      logger.info(`${name} running`);
    },
    (err: unknown) => {
      logger.fatal({ err }, `${name} failed to start`);
      void stopAll('start-up failure', 1);
    },
  );
}
