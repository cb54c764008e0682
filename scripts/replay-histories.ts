/**
 * Replays recorded workflow histories (`{ workflowId, history }`, the history as written by
 * `temporal workflow show --output json`; a bare history is replayed under its file name)
 * against the current workflow code, to catch non-deterministic changes before they reach
 * running workflows. Usage: `npx tsx scripts/replay-histories.ts [dir-or-files...]`
 * (default test/histories). Prints one line per history and exits 1 if any fails. Encrypted
 * histories are decoded with `PAYLOAD_KEYS` (unset: the development key); plain ones pass through.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { bundlerOptions, workflowInterceptorModules, workflowsPath } from '../workers/worker.js';
import { aimsDataConverter, payloadKeysFromEnv } from '../src/temporal/codec.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function historyFiles(args: string[]): Promise<string[]> {
  const targets = args.length > 0 ? args : [path.join(root, 'test/histories')];
  const files: string[] = [];
  for (const target of targets) {
    if ((await stat(target)).isDirectory()) {
      files.push(...(await readdir(target)).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(target, f)));
    } else {
      files.push(target);
    }
  }
  return files;
}

async function main(): Promise<number> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const files = await historyFiles(process.argv.slice(2));
  if (files.length === 0) {
    console.error('no histories to replay');
    return 1;
  }
  const histories = await Promise.all(
    files.map(async (file) => {
      const recorded = JSON.parse(await readFile(file, 'utf8')) as { workflowId?: unknown; history?: unknown; events?: unknown };
      const workflowId = typeof recorded.workflowId === 'string' ? recorded.workflowId : path.relative(root, file);
      return { file: path.relative(root, file), workflowId, history: recorded.history ?? recorded };
    }),
  );
  const fileOf = new Map(histories.map((h) => [h.workflowId, h.file]));
  let failed = 0;
  const quiet = { ...bundlerOptions, logger: new DefaultLogger('WARN') };
  const inputs = histories.map(({ workflowId, history }) => ({ workflowId, history }));
  const interceptors = { workflowModules: workflowInterceptorModules };
  const dataConverter = aimsDataConverter(payloadKeysFromEnv());
  for await (const result of Worker.runReplayHistories({ workflowsPath, bundlerOptions: quiet, interceptors, dataConverter }, inputs)) {
    if (result.error) {
      failed += 1;
      console.log(`FAIL ${fileOf.get(result.workflowId) ?? result.workflowId}: ${result.error.message}`);
    } else {
      console.log(`ok   ${fileOf.get(result.workflowId) ?? result.workflowId}`);
    }
  }
  console.log(`${histories.length - failed} replayed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
