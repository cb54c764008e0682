/**
 * `npm test`: makes sure the Temporal CLI exists (building it with Go if needed), runs
 * `vitest run` with any extra arguments, and prints `N passed, N failed` (plus `, N skipped`)
 * from the JSON report as the last line. Exits non-zero when vitest failed or no test ran.
 */
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { findParts, partsReport } from './lib/parts.js';
import { ensureTopologyTools } from './lib/topology.js';
import { ensureTemporalCli } from './temporal-cli.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPORT_FILE = path.join(repoRoot, '.test-results', 'vitest.json');

/** Upper bound for the whole vitest run; CI allows 90 minutes for everything. */
const RUN_TIMEOUT_MS = Number(process.env.TEST_RUN_TIMEOUT_MINUTES ?? 75) * 60_000;

const reportSchema = z.object({
  numPassedTests: z.number().int(),
  numFailedTests: z.number().int(),
  numPendingTests: z.number().int(),
  numTodoTests: z.number().int(),
  testResults: z.array(
    z.object({
      name: z.string(),
      status: z.string(),
      message: z.string().optional(),
      assertionResults: z.array(z.object({ status: z.string() }).loose()),
    }),
  ),
});

export interface TestSummary {
  passed: number;
  failed: number;
  skipped: number;
  /** Test files that failed without a failing test (import or syntax errors, failing setup hooks). */
  brokenFiles: string[];
}

/**
 * Counts from a vitest JSON report. A file that failed without a failing test (an import or
 * syntax error, a failing setup hook: its tests show as skipped or are missing) counts as one
 * failure, so a broken file can never pass unnoticed.
 */
export function summarize(report: unknown): TestSummary {
  const r = reportSchema.parse(report);
  const brokenFiles = r.testResults
    .filter((file) => file.status === 'failed' && !file.assertionResults.some((a) => a.status === 'failed'))
    .map((file) => path.relative(repoRoot, file.name));
  return {
    passed: r.numPassedTests,
    failed: r.numFailedTests + brokenFiles.length,
    skipped: r.numPendingTests + r.numTodoTests,
    brokenFiles,
  };
}

export function summaryLine({ passed, failed, skipped }: TestSummary): string {
  return `${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
}

function runVitest(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const require = createRequire(import.meta.url);
  const vitestBin = path.join(path.dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [vitestBin, 'run', ...args], {
      cwd: repoRoot,
      env,
      stdio: 'inherit',
      timeout: RUN_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      if (signal) process.stderr.write(`vitest was stopped by ${signal}\n`);
      resolve(code ?? 1);
    });
  });
}

async function main(): Promise<number> {
  const log = (msg: string) => process.stderr.write(`${msg}\n`);
  const cli = await ensureTemporalCli(log);
  await ensureTopologyTools(log).catch((err: unknown) => log(`the production topology could not be built: ${err instanceof Error ? err.message : String(err)}`));
  process.stdout.write(`${partsReport(findParts({ ...process.env, TEMPORAL_CLI: cli }))}\n\n`);
  await rm(REPORT_FILE, { force: true });
  const vitestCode = await runVitest(process.argv.slice(2), { ...process.env, TEMPORAL_CLI: cli });

  let summary: TestSummary;
  try {
    summary = summarize(JSON.parse(await readFile(REPORT_FILE, 'utf8')));
  } catch (err) {
    process.stderr.write(
      `No usable test report at ${path.relative(repoRoot, REPORT_FILE)} ` +
        `(${err instanceof Error ? err.message : String(err)}); vitest exited with code ${vitestCode}.\n`,
    );
    process.stdout.write(`${summaryLine({ passed: 0, failed: 0, skipped: 0, brokenFiles: [] })}\n`);
    return vitestCode === 0 ? 1 : vitestCode;
  }
  for (const file of summary.brokenFiles) process.stdout.write(`failed before running any test: ${file}\n`);
  const ran = summary.passed + summary.failed;
  if (ran === 0) process.stdout.write('No test ran.\n');
  process.stdout.write(`${summaryLine(summary)}\n`);
  if (vitestCode !== 0) return vitestCode;
  return summary.failed > 0 || ran === 0 ? 1 : 0;
}

const invokedDirectly =
  process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);

if (invokedDirectly) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.stdout.write('0 passed, 0 failed\n');
      process.exitCode = 1;
    },
  );
}
