/**
 * Writes the workflow bundle to a file, so workers start from it (WORKFLOW_BUNDLE) instead of
 * bundling at every start: a restarted worker polls again in seconds. `npm run build` writes
 * dist/workflow-bundle.js beside the compiled code it was built from.
 *
 *   npx tsx scripts/bundle-workflows.ts <out-file>
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflows } from '../workers/worker.js';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: tsx scripts/bundle-workflows.ts <out-file>\n');
  process.exit(2);
}
const { code } = await bundleWorkflows();
await mkdir(path.dirname(path.resolve(out)), { recursive: true });
await writeFile(out, code);
process.stdout.write(`workflow bundle written to ${out} (${Math.round(code.length / 1024)} KiB)\n`);
