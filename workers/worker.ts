/**
 * Builds the aimsflow worker: workflows bundled from workflows/, activities from their factory.
 * Used by the worker entry point and by tests (with their own connection and task queue).
 */
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkflowBundle, type WorkflowBundleOption } from '@temporalio/worker';
import type { DataConverter, Duration, LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { WORKER_CACHE_MEMORY_MB_DEFAULT } from '../src/config.js';
import { failureConverterPath } from '../src/temporal/codec.js';
import type { Logger } from '../src/logger.js';
import type { Activities } from '../activities/index.js';

const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
/** Path of the workflow entry module (TypeScript in development, compiled JavaScript in dist/). */
export const workflowsPath = fileURLToPath(new URL(`../workflows/index${ext}`, import.meta.url));

/** Workflow interceptors bundled with every workflow (the failure alert). */
export const workflowInterceptorModules = [fileURLToPath(new URL(`../workflows/lib/interceptors${ext}`, import.meta.url))];

/**
 * Modules the SDK evaluates once per worker, before any workflow, into the module cache every
 * workflow shares (zod and the workflow-safe modules under src/; see workflows/lib/shared-modules.ts).
 */
export const preloadModules = [fileURLToPath(new URL(`../workflows/lib/shared-modules${ext}`, import.meta.url))];

/**
 * How every bundle of the workflows is built (workers, tests, the replayer): the shared modules
 * preloaded; the project's ESM sources, which import `./x.js`, found as `./x.ts`; and an inline
 * source map without the sources. The SDK needs an inline map and keeps it parsed in every
 * worker, to map workflow stack traces back to files and lines; the sources themselves (more
 * than half of the bundle) only serve its `showStackTraceSources` option, which stays off.
 */
export const bundlerOptions = {
  preloadModules,
  webpackConfigHook: (config: Parameters<NonNullable<NonNullable<Parameters<typeof bundleWorkflowCode>[0]['webpackConfigHook']>>>[0]) => {
    config.resolve = {
      ...config.resolve,
      extensionAlias: { '.js': ['.ts', '.js'] },
    };
    config.devtool = 'inline-nosources-source-map';
    return config;
  },
};

/**
 * Bundles the workflow code (once per worker process, or once per test run). The bundler's
 * progress report goes to debug; its warnings and errors stay visible.
 */
export function bundleWorkflows(logger?: Logger): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath, workflowInterceptorModules, failureConverterPath, ...bundlerOptions, logger: bundlerLogger(logger) });
}

function bundlerLogger(logger?: Logger): TemporalLogger {
  const warn = (message: string, meta?: LogMetadata) => (logger ? logger.warn({ ...meta }, message) : console.warn(message, meta ?? ''));
  const error = (message: string, meta?: LogMetadata) => (logger ? logger.error({ ...meta }, message) : console.error(message, meta ?? ''));
  const debug = (message: string, meta?: LogMetadata) => logger?.debug({ ...meta }, message);
  return {
    log: (level, message, meta) => (level === 'ERROR' ? error : level === 'WARN' ? warn : debug)(message, meta),
    trace: debug,
    debug,
    info: debug,
    warn,
    error,
  };
}

/** Adapts pino to the Temporal SDK logger interface. */
export function temporalLogger(logger: Logger): TemporalLogger {
  const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
    TRACE: 'trace',
    DEBUG: 'debug',
    INFO: 'info',
    WARN: 'warn',
    ERROR: 'error',
  };
  const write = (level: LogLevel, message: string, meta?: LogMetadata) => logger[levels[level]]({ ...(meta ?? {}) }, message);
  return {
    log: write,
    trace: (m, meta) => write('TRACE', m, meta),
    debug: (m, meta) => write('DEBUG', m, meta),
    info: (m, meta) => write('INFO', m, meta),
    warn: (m, meta) => write('WARN', m, meta),
    error: (m, meta) => write('ERROR', m, meta),
  };
}

/**
 * How long a workflow task waits on this worker's sticky queue before Temporal hands it to any
 * worker on the shared queue (the SDK's default is 10 s). A worker that died holds its cached
 * workflows' next tasks (an update from a page, a timer, a signal) only this long before a live
 * worker replays them; a live worker picks up its sticky tasks in milliseconds, so a few
 * seconds rarely costs an extra replay.
 */
export const STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT: Duration = '3s';

/**
 * What one cached workflow costs the worker process (MB of RSS), measured by
 * bench/open-work-memory.bench.ts: about 0.5 MB once memory settles, with zod and the schemas
 * shared (workflows/lib/shared-modules.ts); it was about 5 MB when each workflow evaluated them.
 */
export const CACHED_WORKFLOW_MB = 0.5;

/** The workflow cache bound a memory budget (MB) buys, at least 10. */
export function cachedWorkflowsFor(budgetMb: number): number {
  return Math.max(10, Math.floor(budgetMb / CACHED_WORKFLOW_MB));
}

export interface AimsWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  /** The project's data converter (payload encryption, encoded failures): `aimsDataConverter(config)`. */
  dataConverter: DataConverter;
  /** The workflow cache bound; default: what `cacheMemoryMb` buys. */
  maxCachedWorkflows?: number | undefined;
  /** Memory (MB) the workflow cache may take; default WORKER_CACHE_MEMORY_MB's. */
  cacheMemoryMb?: number | undefined;
  /** A prebuilt bundle (its code, or the path of its file); bundled from workflows/ when absent. */
  workflowBundle?: WorkflowBundleOption;
  /** Receives the bundler's warnings and errors. */
  logger?: Logger;
  shutdownGraceTime?: Duration;
}

export async function createAimsWorker(options: AimsWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    dataConverter: options.dataConverter,
    workflowBundle: options.workflowBundle ?? (await bundleWorkflows(options.logger)),
    maxCachedWorkflows: options.maxCachedWorkflows ?? cachedWorkflowsFor(options.cacheMemoryMb ?? WORKER_CACHE_MEMORY_MB_DEFAULT),
    shutdownGraceTime: options.shutdownGraceTime ?? '20s',
    stickyQueueScheduleToStartTimeout: STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT,
  });
}
