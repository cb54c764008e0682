/**
 * How `npm test` finds schemathesis: SCHEMATHESIS first (a file that must run and be 4.x), and
 * the reason it gives when there is none, which the fuzz test's skip repeats.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findParts, findSchemathesis, partsReport } from '../scripts/lib/parts.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'aimsflow-parts-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fakeSt(name: string, version: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `#!/bin/sh\necho "st, version ${version}"\n`);
  await chmod(file, 0o755);
  return file;
}

describe('schemathesis as a part of the test run', () => {
  it('is the SCHEMATHESIS file when it runs and is 4.x, with its version', async () => {
    const st = await fakeSt('st-4', '4.32.5');
    expect(findSchemathesis({ PATH: '', HOME: dir, SCHEMATHESIS: st })).toEqual({ st, version: '4.32.5' });
    const report = partsReport(findParts({ ...process.env, SCHEMATHESIS: st }));
    expect(report).toContain(`found    schemathesis (API fuzzer): ${st} (4.32.5)`);
  });

  it('is missing, saying why and how to get it, when SCHEMATHESIS names nothing usable', async () => {
    expect(findSchemathesis({ PATH: '', SCHEMATHESIS: path.join(dir, 'nope') })).toEqual({ missing: `SCHEMATHESIS=${path.join(dir, 'nope')} is not an executable file` });
    const old = await fakeSt('st-3', '3.39.0');
    const found = findSchemathesis({ PATH: '', SCHEMATHESIS: old });
    expect('missing' in found && found.missing).toContain('is schemathesis 3.39.0; the fuzz test needs 4.x');
    expect('missing' in found && found.missing).toContain("pip install 'schemathesis==4.*'");
    const report = partsReport(findParts({ ...process.env, SCHEMATHESIS: old }));
    expect(report).toMatch(/missing {2}schemathesis \(API fuzzer\): the OpenAPI fuzz test is skipped: .* is schemathesis 3\.39\.0/);
  });
});
