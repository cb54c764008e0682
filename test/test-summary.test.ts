/**
 * `npm test`'s closing line counts every failure. A temporary copy of the project gets three
 * test files of its own (one that passes, one whose setup hook throws, one that cannot be
 * imported) and runs `scripts/test.ts` there, exactly as `npm test` does: the two broken files
 * count as failures in the closing line and the run fails.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarize } from '../scripts/test.js';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '..');

const FILES: Record<string, string> = {
  'test/passes.test.ts': `
import { expect, it } from 'vitest';
it('adds', () => expect(1 + 1).toBe(2));
`,
  'test/setup-fails.test.ts': `
import { beforeAll, expect, it } from 'vitest';
beforeAll(() => { throw new Error('the setup of this file is broken on purpose'); });
it('never runs', () => expect(true).toBe(true));
it('never runs either', () => expect(true).toBe(true));
`,
  'test/import-fails.test.ts': `
import { expect, it } from 'vitest';
import { missing } from './no-such-module.js';
it('never runs', () => expect(missing).toBeDefined());
`,
};

describe('the closing line of npm test', () => {
  let copy: string;

  beforeAll(async () => {
    copy = await mkdtemp(path.join(os.tmpdir(), 'aimsflow-summary-'));
    const { stdout } = await run('git', ['ls-files', '-z'], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
    const tracked = stdout.split('\0').filter((file) => file && !/^test\/[^/]+\.test\.ts$/.test(file) && !file.startsWith('test/histories/'));
    for (const file of tracked) {
      await mkdir(path.join(copy, path.dirname(file)), { recursive: true });
      await cp(path.join(repoRoot, file), path.join(copy, file));
    }
    await symlink(path.join(repoRoot, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
    for (const [file, text] of Object.entries(FILES)) await writeFile(path.join(copy, file), text);
  });

  afterAll(async () => {
    if (copy) await rm(copy, { recursive: true, force: true });
  });

  it('counts a file whose setup failed, and one that failed to import, as failures', async () => {
    const result = await run(process.execPath, ['--import', 'tsx', 'scripts/test.ts'], {
      cwd: copy,
      env: { ...process.env, FORCE_COLOR: '0' },
      timeout: 240_000,
      maxBuffer: 32 * 1024 * 1024,
    }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (err: { code?: number; stdout?: string }) => ({ code: err.code ?? 1, stdout: err.stdout ?? '' }),
    );
    const lines = result.stdout.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^1 passed, 2 failed(, \d+ skipped)?$/);
    expect(result.stdout).toContain('failed before running any test: test/setup-fails.test.ts');
    expect(result.stdout).toContain('failed before running any test: test/import-fails.test.ts');
    expect(result.code).not.toBe(0);
  });

  it('reads the same counts from a report of the same shape', () => {
    const summary = summarize({
      numPassedTests: 3,
      numFailedTests: 1,
      numPendingTests: 2,
      numTodoTests: 0,
      testResults: [
        { name: path.join(repoRoot, 'test/a.test.ts'), status: 'passed', assertionResults: [{ status: 'passed' }] },
        { name: path.join(repoRoot, 'test/b.test.ts'), status: 'failed', assertionResults: [{ status: 'failed' }] },
        { name: path.join(repoRoot, 'test/c.test.ts'), status: 'failed', assertionResults: [{ status: 'skipped' }] },
      ],
    });
    expect(summary).toEqual({ passed: 3, failed: 2, skipped: 2, brokenFiles: ['test/c.test.ts'] });
  });
});
