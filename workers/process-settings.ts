/**
 * How an aimsflow worker process is run, wherever it is started: `npm start` (scripts/start.ts),
 * the benchmarks, and with the same values the Docker image (Dockerfile) and docker-compose.yml
 * (test/compose.test.ts holds them together). Both keep a busy worker's memory down without
 * slowing it measurably (bench/open-work-memory.bench.ts):
 *
 * - `MALLOC_ARENA_MAX=2`: two glibc malloc arenas instead of eight per core. The worker's native
 *   threads (the Temporal core's, the workflow thread) otherwise each keep an arena of freed
 *   memory: after a burst of 1,000 tasks a worker settled about 60 MB higher.
 * - `--max-semi-space-size=4`: V8's young generation capped at 4 MB per semi-space (16 MB by
 *   default), in the main thread and the workflow thread: a burst of 1,000 tasks peaked about
 *   60 MB lower, for about 2% more CPU.
 */
export const WORKER_PROCESS_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/** Node options of a worker process (also allowed in NODE_OPTIONS). */
export const WORKER_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=4'];
