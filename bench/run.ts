/**
 * Runs the benchmarks: every bench/*.bench.ts in turn, or those named.
 *
 *   npm run bench                    all of them
 *   npm run bench -- ledger memory   those whose file name starts with a given name
 *
 * Each bench runs in its own process (so one's memory does not count against another) and
 * prints its table; figures are appended to bench/results/<bench>.jsonl.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const dir = import.meta.dirname;
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort();
const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const chosen = names.length ? all.filter((f) => names.some((n) => f.startsWith(n))) : all;
const unknown = names.filter((n) => !all.some((f) => f.startsWith(n)));
if (unknown.length) {
  console.error(`no benchmark named ${unknown.join(', ')}; there are: ${all.map((f) => f.replace('.bench.ts', '')).join(', ')}`);
  process.exit(2);
}
const failed: string[] = [];
for (const file of chosen) {
  console.log(`\n=== ${file.replace('.bench.ts', '')} ===`);
  const started = Date.now();
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', path.join(dir, file)], { stdio: 'inherit', env: process.env });
  const seconds = Math.round((Date.now() - started) / 1000);
  if (run.status !== 0) failed.push(file);
  console.log(`=== ${file.replace('.bench.ts', '')}: ${run.status === 0 ? 'done' : `FAILED (exit ${run.status ?? run.signal})`} in ${seconds} s ===`);
}
if (failed.length) {
  console.error(`\n${failed.length} benchmark(s) failed: ${failed.join(', ')}`);
  process.exit(1);
}
