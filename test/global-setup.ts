/**
 * Vitest global setup, run once per test run:
 * - one Temporal dev server (the Temporal CLI, found or built by scripts/temporal-cli.ts) on an
 *   ephemeral port with the project's custom search attributes registered; test files read it
 *   with `inject('temporalAddress')` / `inject('temporalNamespace')`;
 * - the workflow bundle, built once and shared through `inject('workflowBundlePath')` (left out
 *   when bundling fails, so the files that need it report the bundler error themselves).
 * Everything is stopped when the run ends.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TestProject } from 'vitest/node';
import { ensureTemporalCli } from '../scripts/temporal-cli.js';
import { searchAttributes } from '../src/temporal/search-attributes.js';

export const TEST_NAMESPACE = 'default';

const resultsDir = path.resolve(import.meta.dirname, '..', '.test-results');

async function buildWorkflowBundle(): Promise<string | undefined> {
  try {
    const { bundleWorkflows } = await import('../workers/worker.js');
    const { code } = await bundleWorkflows();
    await mkdir(resultsDir, { recursive: true });
    const file = path.join(resultsDir, 'workflow-bundle.js');
    await writeFile(file, code);
    return file;
  } catch (err) {
    process.stderr.write(
      `global setup: building the workflow bundle failed; test files will bundle on their own:\n` +
        `${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return undefined;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cli = await ensureTemporalCli((msg) => process.stderr.write(`${msg}\n`));
  const [env, bundlePath] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: cli },
        namespace: TEST_NAMESPACE,
        searchAttributes: Object.values(searchAttributes),
        log: { format: 'pretty', level: 'error' },
      },
    }),
    buildWorkflowBundle(),
  ]);
  project.provide('temporalAddress', env.address);
  project.provide('temporalNamespace', TEST_NAMESPACE);
  if (bundlePath) project.provide('workflowBundlePath', bundlePath);
  return async () => {
    await env.teardown();
  };
}
