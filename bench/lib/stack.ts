/**
 * What every Temporal bench starts: its own dev server, the SMTP server, aimsflow as one
 * process (worker with the real activities, API on a port, PGlite) and the bare no-op worker
 * as another, all against that dev server. Output of the processes goes to
 * bench/results/logs/<bench>/ (kept after the run).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RESULTS_DIR } from './results.js';
import { bundleAimsflowWorkflows, startAimsflow, type AimsflowProcess } from './aimsflow.js';
import { startBareWorker, type BareWorker } from './bare.js';
import { startDevServer, type DevServer } from './dev-server.js';
import { startMailLog, type MailLog } from './mail.js';

export interface BenchStack {
  logDir: string;
  temporal: DevServer;
  mail: MailLog;
  aimsflow: AimsflowProcess;
  bare: BareWorker;
  stop(): Promise<void>;
}

export interface BenchStackOptions {
  /** The organization file of aimsflow (default: the example). */
  orgFile?: string;
  /** More environment for the aimsflow process. */
  env?: Record<string, string>;
  /** Node options of the aimsflow process (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
}

/** Prints a progress line (stderr, so the figures stay apart). */
export function say(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

export async function startBenchStack(bench: string, options: BenchStackOptions = {}): Promise<BenchStack> {
  const logDir = path.join(RESULTS_DIR, 'logs', bench);
  await rm(logDir, { recursive: true, force: true });
  await mkdir(logDir, { recursive: true });
  const workDir = await mkdtemp(path.join(os.tmpdir(), `aimsflow-bench-${bench}-`));
  const cleanup: Array<() => Promise<unknown>> = [() => rm(workDir, { recursive: true, force: true })];
  const stop = async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  };
  try {
    say('starting the Temporal dev server and bundling the workflows');
    const workflowBundle = path.join(workDir, 'workflow-bundle.js');
    const [temporal, mail] = await Promise.all([startDevServer(logDir), startMailLog(), bundleAimsflowWorkflows(workflowBundle)]);
    cleanup.push(() => temporal.stop(), () => mail.stop());
    say(`dev server on ${temporal.address}; starting aimsflow and the bare worker`);
    const [aimsflow, bare] = await Promise.all([
      startAimsflow({
        temporalAddress: temporal.address,
        namespace: temporal.namespace,
        smtpUrl: mail.url,
        workflowBundle,
        dataDir: path.join(workDir, 'data'),
        logDir,
        ...(options.orgFile ? { orgFile: options.orgFile } : {}),
        ...(options.env ? { env: options.env } : {}),
        ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
      }),
      startBareWorker({ temporalAddress: temporal.address, namespace: temporal.namespace, connection: temporal.connection, logDir }),
    ]);
    cleanup.push(() => aimsflow.stop(), () => bare.stop());
    // The worker ensures the inventory's AI systems when it starts, and their first assessments
    // mail their owners: let that settle before measuring.
    await quietMail(mail, 3_000, 60_000);
    say(`aimsflow API on ${aimsflow.apiUrl} (pid ${aimsflow.process.pid}); logs in ${path.relative(process.cwd(), logDir)}`);
    return { logDir, temporal, mail, aimsflow, bare, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Waits until no mail has arrived for `quietMs` (at most `timeoutMs`). */
export async function quietMail(mail: MailLog, quietMs: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = -1;
  while (Date.now() < deadline) {
    if (mail.arrivals.length === seen) return;
    seen = mail.arrivals.length;
    await sleep(quietMs);
  }
}

/**
 * Runs a bench on its stack: starts it, runs `body`, stops it. A failure is printed before the
 * stack goes down (so calls still in flight cannot hide it) and ends the process with exit code 1.
 */
export async function runBench(bench: string, options: BenchStackOptions, body: (stack: BenchStack) => Promise<void>): Promise<void> {
  let stack: BenchStack | undefined;
  let failed = false;
  try {
    stack = await startBenchStack(bench, options);
    await body(stack);
  } catch (err) {
    failed = true;
    console.error(`${bench} failed:`, err);
  }
  process.on('uncaughtException', (err) => console.error(`${bench}: after the run:`, err.message));
  await stack?.stop();
  process.exit(failed ? 1 : 0);
}
