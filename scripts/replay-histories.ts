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
import { aimsDataConverter, KEY_ID_METADATA, payloadKeysFromEnv } from '../src/temporal/codec.js';

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

/** The key ids the encrypted payloads of a history (JSON as the CLI writes it: bytes in base64) name. */
function keyIdsIn(value: unknown, found = new Set<string>()): Set<string> {
  if (!value || typeof value !== 'object') return found;
  const metadata = (value as { metadata?: Record<string, unknown> }).metadata;
  const id = metadata && typeof metadata === 'object' ? metadata[KEY_ID_METADATA] : undefined;
  if (typeof id === 'string') found.add(Buffer.from(id, 'base64').toString('utf8'));
  for (const child of Object.values(value)) keyIdsIn(child, found);
  return found;
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
  // A history encrypted under a key the replayer lacks cannot replay; say which key, up front.
  const keys = payloadKeysFromEnv();
  const known = new Set(keys.PAYLOAD_KEYS.map((k) => k.id));
  const readable = histories.filter(({ file, history }) => {
    const missing = [...keyIdsIn(history)].filter((id) => !known.has(id));
    if (missing.length === 0) return true;
    failed += 1;
    console.log(`FAIL ${file}: payloads encrypted under key ${missing.map((id) => `"${id}"`).join(', ')}, which is not in PAYLOAD_KEYS`);
    return false;
  });
  const quiet = { ...bundlerOptions, logger: new DefaultLogger('WARN') };
  const inputs = readable.map(({ workflowId, history }) => ({ workflowId, history }));
  const interceptors = { workflowModules: workflowInterceptorModules };
  const dataConverter = aimsDataConverter(keys);
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
