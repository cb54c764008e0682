/**
 * Benchmark figures: each bench prints a table and appends one JSON line per figure to
 * bench/results/<bench>.jsonl (ignored by git), so runs can be compared over time.
 *
 *   const figures = benchFigures('task-start');
 *   figures.add({ name: 'starts per second', value: 48.2, unit: '/s', baseline: 97.1, goal: '>= 0.7' });
 *   await figures.write();
 */
import { appendFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const RESULTS_DIR = path.resolve(import.meta.dirname, '..', 'results');

export interface Figure {
  /** What was measured, e.g. "tasks started per second". */
  name: string;
  value: number;
  unit: string;
  /** The bare baseline measured in the same run; the ratio is value / baseline. */
  baseline?: number;
  /** The goal this figure is held to, as text: ">= 0.7", "< 50 ms", "< 300 MB". */
  goal?: string;
  /** Whether the goal is met (absent when there is no goal). */
  met?: boolean;
  /** Anything the reader needs to read the figure (sizes, concurrency, samples). */
  detail?: Record<string, unknown>;
}

/** The machine the figures came from, written with every figure. */
export function machine(): { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string } {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()}-${os.arch()}`,
  };
}

export function ratioOf(f: Figure): number | undefined {
  return f.baseline !== undefined && f.baseline !== 0 ? f.value / f.baseline : undefined;
}

function fmt(n: number): string {
  if (!Number.isFinite(n) || Number.isInteger(n)) return String(n);
  const abs = Math.abs(n);
  return abs >= 100 ? n.toFixed(0) : abs >= 10 ? n.toFixed(1) : n.toFixed(abs >= 1 ? 2 : 3);
}

export function benchFigures(bench: string) {
  const figures: Figure[] = [];
  return {
    add(figure: Figure): Figure {
      figures.push(figure);
      return figure;
    },
    all(): readonly Figure[] {
      return figures;
    },
    /** The table, as printed by print(). */
    table(): string {
      const rows = figures.map((f) => {
        const ratio = ratioOf(f);
        return [
          f.name,
          `${fmt(f.value)} ${f.unit}`.trim(),
          f.baseline === undefined ? '' : `${fmt(f.baseline)} ${f.unit}`.trim(),
          ratio === undefined ? '' : ratio.toFixed(3),
          f.goal === undefined ? '' : `${f.goal} ${f.met ? 'met' : 'NOT met'}`,
        ];
      });
      const head = ['figure', 'value', 'baseline', 'ratio', 'goal'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
      const load = os.loadavg().map((l) => l.toFixed(1)).join(', ');
      const from = process.env.BENCH_AIMSFLOW_ROOT ? `, aimsflow from ${process.env.BENCH_AIMSFLOW_ROOT}` : '';
      return [`${bench}  (load average ${load} on ${os.cpus().length} cores${from})`, line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
    },
    print(): void {
      console.log(`\n${this.table()}\n`);
    },
    /** Prints the table and appends the figures to bench/results/<bench>.jsonl. */
    async write(): Promise<void> {
      this.print();
      await mkdir(RESULTS_DIR, { recursive: true });
      const at = new Date().toISOString();
      const host = machine();
      // The machine may be shared: how busy it was when the figures were taken (1, 5, 15 minutes).
      const loadAverage = os.loadavg().map((l) => Math.round(l * 100) / 100);
      // Figures of aimsflow run from another checkout (BENCH_AIMSFLOW_ROOT) say so.
      const from = process.env.BENCH_AIMSFLOW_ROOT ? { aimsflowRoot: process.env.BENCH_AIMSFLOW_ROOT } : {};
      const lines = figures.map((f) => JSON.stringify({ bench, at, ...f, ratio: ratioOf(f), machine: host, loadAverage, ...from }));
      await appendFile(path.join(RESULTS_DIR, `${bench}.jsonl`), lines.map((l) => `${l}\n`).join(''));
    },
  };
}

/** The p-th percentile (0-100) of `values` (nearest rank); NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
