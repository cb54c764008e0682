/**
 * Closed-loop load: `concurrency` clients, each starting its next operation as soon as its last
 * one answered, until `total` operations are done. The same loop drives aimsflow and its bare
 * baseline, so their figures are measured the same way. Open-loop (fixed-rate) HTTP load uses
 * autocannon instead (bench/link-decision.bench.ts).
 */
import { performance } from 'node:perf_hooks';
import { percentile } from './results.js';

export interface LoadResult {
  done: number;
  elapsedMs: number;
  /** Operations per second over the whole run. */
  rate: number;
  latenciesMs: number[];
  p50: number;
  p99: number;
  /** Wall-clock times (ms since the epoch) of the first operation's start and the last one's end. */
  startedAt: number;
  endedAt: number;
}

/** Runs `operation(i)` for i in [0, total) on `concurrency` clients; the first error stops the run and is thrown. */
export async function closedLoop(concurrency: number, total: number, operation: (i: number) => Promise<unknown>): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let next = 0;
  let failed: Error | undefined;
  const startedAt = Date.now();
  const t0 = performance.now();
  const client = async () => {
    while (failed === undefined) {
      const i = next++;
      if (i >= total) return;
      const t = performance.now();
      try {
        await operation(i);
      } catch (err) {
        failed ??= err instanceof Error ? err : new Error(String(err));
        return;
      }
      latenciesMs.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, client));
  if (failed !== undefined) throw failed;
  const elapsedMs = performance.now() - t0;
  return {
    done: latenciesMs.length,
    elapsedMs,
    rate: (latenciesMs.length / elapsedMs) * 1000,
    latenciesMs,
    p50: percentile(latenciesMs, 50),
    p99: percentile(latenciesMs, 99),
    startedAt,
    endedAt: startedAt + elapsedMs,
  };
}

/** Several runs of the same side as one: operations over summed time, latencies pooled. */
export function pooled(runs: readonly LoadResult[]): Pick<LoadResult, 'done' | 'elapsedMs' | 'rate' | 'latenciesMs' | 'p50' | 'p99'> {
  const latenciesMs = runs.flatMap((r) => r.latenciesMs);
  const done = runs.reduce((n, r) => n + r.done, 0);
  const elapsedMs = runs.reduce((n, r) => n + r.elapsedMs, 0);
  return { done, elapsedMs, rate: (done / elapsedMs) * 1000, latenciesMs, p50: percentile(latenciesMs, 50), p99: percentile(latenciesMs, 99) };
}

/** A whole number from the environment variable `name` (at least `min`), else `fallback`; exits 2 on a bad value. */
export function envInt(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    console.error(`${name} must be a whole number of at least ${min} (got ${JSON.stringify(raw)})`);
    process.exit(2);
  }
  return value;
}
