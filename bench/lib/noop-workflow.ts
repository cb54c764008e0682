/**
 * The bare baseline: workflows that do as little as a workflow can, bundled on their own
 * (nothing of aimsflow's bundle) and run by their own worker (bench/lib/noop-worker.ts).
 * Deterministic code only.
 *
 * - `benchNoop`: returns at once (one workflow task).
 * - `benchTimer(atMs)`: sleeps until the instant `atMs`, then runs one tiny activity and
 *   returns the wall-clock time at which that activity ran.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';

export interface BenchActivities {
  /** Returns the time it ran (ms since the epoch). */
  benchTouch(): Promise<number>;
}

const { benchTouch } = proxyActivities<BenchActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds' },
});

export async function benchNoop(): Promise<void> {
  // Nothing: the cost of a workflow as such.
}

export async function benchTimer(atMs: number): Promise<number> {
  const delay = atMs - Date.now();
  if (delay > 0) await sleep(delay);
  return benchTouch();
}
