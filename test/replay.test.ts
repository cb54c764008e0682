/**
 * Determinism guard: histories recorded from earlier versions of the workflows (test/histories)
 * must replay against the current workflow code. A change that breaks replay for running
 * workflows needs `patched()`; record new histories with `RECORD_HISTORIES=1 npx vitest run
 * test/replay.test.ts test/corrective-action.test.ts` once a release is out, and keep the old
 * ones. Histories recorded with encryption on (`*-encrypted-*`, by test/payload-codec.test.ts)
 * are decoded with the keys the replayer is configured with (PAYLOAD_KEYS).
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { ApprovalInput, ApprovalResult } from '../src/approval/schema.js';
import type { HumanTaskInput, HumanTaskResult } from '../src/task/schema.js';
import { decideUpdate, reviseUpdate } from '../src/approval/contract.js';
import { completeTaskUpdate, delegateTaskUpdate, extendDueUpdate } from '../src/task/contract.js';
import { HISTORY_PAYLOAD_KEYS, historiesDir as dir, recordHistory, recordingHistories } from './helpers/histories.js';
import { eventually, inMs, startTestStack } from './helpers/temporal.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const replayer = path.resolve(import.meta.dirname, '../scripts/replay-histories.ts');

/** Runs the replayer in its own process (the replayer's protobuf types must not be loaded twice). */
function replay(targets: string[], payloadKeys: string | undefined) {
  const env = { ...process.env };
  delete env.PAYLOAD_KEYS;
  return spawnSync(process.execPath, ['--import', 'tsx', replayer, ...targets], {
    encoding: 'utf8',
    timeout: 120_000,
    env: payloadKeys ? { ...env, PAYLOAD_KEYS: payloadKeys } : env,
  });
}

describe('replay of recorded histories', () => {
  it('replays every recorded history against the current workflow code', async () => {
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
    expect(files.length).toBeGreaterThanOrEqual(2);
    expect(files.filter((f) => f.includes('-encrypted-')).length).toBeGreaterThanOrEqual(1);
    // The keys of the encrypted histories after a current key of their own: rotation, as configured in production.
    const run = replay([dir], `current-2:${randomBytes(32).toString('base64')},${HISTORY_PAYLOAD_KEYS}`);
    expect(run.stdout.trim().split('\n').slice(0, -1)).toEqual(files.map((f) => `ok   test/histories/${f}`));
    expect(run.stdout).toContain(`${files.length} replayed, 0 failed`);
    expect(run.status).toBe(0);
  });

  it('cannot replay an encrypted history without its key, and says which key is missing', async () => {
    const encrypted = (await readdir(dir)).filter((f) => f.includes('-encrypted-')).sort();
    const run = replay([path.join(dir, encrypted[0]!)], undefined);
    expect(run.stdout).toContain(`FAIL test/histories/${encrypted[0]}`);
    expect(run.stdout).toContain('encrypted under key "history-1", which is not in PAYLOAD_KEYS');
    expect(run.status).toBe(1);
  });

  it.runIf(recordingHistories)('records fresh histories of a full task and approval', async () => {
    const stack = await startTestStack();
    try {
      const task = await stack.start<[HumanTaskInput], HumanTaskResult>('humanTask', [
        {
          title: 'Record the quarterly drift review',
          instructions: 'Attach the review minutes.',
          clauses: ['9.1', 'A.6.2.6'],
          process: 'ai-system-lifecycle',
          assignee: { role: 'system-owner', of: 'credit-scoring' },
          dueAt: inMs(3000),
          form: 'evidence',
          policy: { reminderOffsets: ['2s'], escalation: [{ after: '500ms', to: 'manager' }] },
        },
      ]);
      await eventually(() => task.describe(), (d) => d.searchAttributes.AimsState?.[0] === 'overdue');
      await task.executeUpdate(extendDueUpdate, { args: [{ by: 'priya.raman', dueAt: inMs(60_000), reason: 'late data' }] });
      await task.executeUpdate(delegateTaskUpdate, { args: [{ by: 'marco.rossi', to: 'sofia.lind' }] });
      await task.executeUpdate(completeTaskUpdate, {
        args: [{ by: 'sofia.lind', data: { summary: 'Reviewed', links: ['https://wiki.northwind.example/drift'] } }],
      });
      await task.result();

      const approval = await stack.start<[ApprovalInput], ApprovalResult>('approval', [
        {
          kind: 'impact-assessment',
          title: 'Credit scoring impact assessment 2027',
          summary: 'High impact on applicants; mitigations in place.',
          contentHash: sha('v1'),
          approvers: [{ role: 'top-management' }],
          rule: { type: 'all' },
          preparer: 'priya.raman',
          dueAt: inMs(60_000),
        },
      ]);
      await approval.executeUpdate(decideUpdate, { args: [{ by: 'hannah.okafor', decision: 'approve', contentHash: sha('v1') }] });
      await approval.executeUpdate(reviseUpdate, { args: [{ by: 'priya.raman', contentHash: sha('v2') }] });
      for (const by of ['hannah.okafor', 'david.chen']) {
        await approval.executeUpdate(decideUpdate, { args: [{ by, decision: 'approve', contentHash: sha('v2') }] });
      }
      await approval.result();

      await recordHistory('human-task', task.workflowId);
      await recordHistory('approval', approval.workflowId);
    } finally {
      await stack.stop();
    }
  });
});
