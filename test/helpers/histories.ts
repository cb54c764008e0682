/**
 * Recording workflow histories for the replay test (test/replay.test.ts). Only when
 * RECORD_HISTORIES is set. Each file holds `{ workflowId, history }`, the history in the JSON form
 * the Temporal CLI writes and the replayer reads.
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inject } from 'vitest';
import { findTemporalCli } from '../../scripts/temporal-cli.js';

export const historiesDir = path.resolve(import.meta.dirname, '../histories');
export const recordingHistories = Boolean(process.env.RECORD_HISTORIES);

/** Writes the history of `workflowId` to test/histories/<name>-<date>.json when recording. */
export async function recordHistory(name: string, workflowId: string): Promise<void> {
  if (!recordingHistories) return;
  const cli = findTemporalCli();
  if (!cli) throw new Error('no Temporal CLI to export histories with');
  const shown = spawnSync(
    cli,
    ['workflow', 'show', '--workflow-id', workflowId, '--address', inject('temporalAddress'), '--output', 'json'],
    { encoding: 'utf8', timeout: 30_000 },
  );
  if (shown.status !== 0) throw new Error(`temporal workflow show failed: ${shown.stderr}`);
  // The workflow id is kept beside the history: child ids derive from it, so replay needs it.
  const recorded = { workflowId, history: JSON.parse(shown.stdout) as unknown };
  await writeFile(path.join(historiesDir, `${name}-${new Date().toISOString().slice(0, 10)}.json`), `${JSON.stringify(recorded, null, 1)}\n`);
}

/**
 * PAYLOAD_KEYS of the histories recorded with encryption on (`*-encrypted-*.json`): a fixed test
 * key, so the replay test decodes them with the keys it configures.
 */
export const HISTORY_PAYLOAD_KEYS = 'history-1:aGlzdG9yeS10ZXN0LWtleS0wMTIzNDU2Nzg5YWJjZGU=';
