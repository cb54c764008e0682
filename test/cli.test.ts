/**
 * The admin CLI against the real API (listening on a port), the real worker and the Temporal
 * dev server: raising a nonconformity from a YAML file, idempotently; following it; checking
 * the ledger; and the errors a person sees for a bad file or a bad field.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiInstance } from '../src/api/app.js';
import { hashKey, keyRing } from '../src/auth/api-keys.js';
import { runCli } from '../src/cli/index.js';
import { parseConfig } from '../src/config.js';
import { keyOf } from './helpers/keys.js';
import { buildStackApp } from './helpers/browser.js';
import { eventually, startTestStack, type TestStack } from './helpers/temporal.js';

let stack: TestStack;
let app: ApiInstance;
let env: Record<string, string>;
let dir: string;
const raised: string[] = [];

beforeAll(async () => {
  stack = await startTestStack({ randomNcNumbers: true });
  app = await buildStackApp(stack);
  env = { AIMSFLOW_API_URL: await app.listen({ host: '127.0.0.1', port: 0 }), AIMSFLOW_ADMIN_KEY: 'test-admin-key-0123456789abcdef' };
  dir = await mkdtemp(path.join(tmpdir(), 'aimsflow-cli-'));
});
afterAll(async () => {
  for (const id of raised) await stack?.client.workflow.getHandle(`corrective-action/${id}`).terminate('test finished').catch(() => undefined);
  await app?.close();
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function cli(...argv: string[]) {
  return cliWith(env, argv);
}

async function cliWith(withEnv: Record<string, string>, argv: string[], stdin?: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { env: withEnv, out: (l) => out.push(l), err: (l) => err.push(l), ...(stdin === undefined ? {} : { stdin: () => Promise.resolve(stdin) }) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const ncYaml = `
title: Credit scoring model deployed without its validation report
description: Release 4.2 went live before the validation report (A.6.2.4) was approved.
severity: major
source: admin
clauses: [A.6.2.4]
aiSystem: credit-scoring
owner: sofia.lind
raisedBy: priya.raman
policy:
  stepDue: 1h
  tasks: { reminderOffsets: [], escalation: [] }
`;

describe('aimsflow nc', () => {
  it('raises an NC from a YAML file once per key, then shows and lists it', { timeout: 60_000 }, async () => {
    const file = path.join(dir, 'nc.yaml');
    await writeFile(file, ncYaml);
    const first = await cli('nc', 'raise', '--file', file, '--key', 'cli-test-1');
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    const ncId = /^(NC-\d{4}-\d{3,})/.exec(first.out)?.[1];
    expect(ncId, first.out).toBeDefined();
    raised.push(ncId!);
    expect(first.out).toContain(`raised (corrective-action/${ncId})`);

    const again = await cli('nc', 'raise', '--file', file, '--key', 'cli-test-1');
    expect(again.out).toBe(`${ncId} was already raised with this key (corrective-action/${ncId})`);

    const shown = await cli('nc', 'show', ncId!);
    expect(shown.code).toBe(0);
    expect(shown.out).toContain(`${ncId}: Credit scoring model deployed without its validation report (containment)`);
    expect(shown.out).toMatch(/raised\s+priya\.raman/);

    // Visibility is eventually consistent: the new NC shows within seconds.
    const listed = await eventually(
      () => cli('--json', 'nc', 'list', '--severity', 'major', '--owner', 'sofia.lind'),
      (r) => r.code === 0 && (JSON.parse(r.out) as { ncId: string }[]).some((i) => i.ncId === ncId),
    );
    expect((JSON.parse(listed.out) as { ncId: string; state: string }[]).find((i) => i.ncId === ncId)?.state).toBe('containment');
    // Until the NC has read its timing (its first activity), its published due date is the
    // moment it was raised, so a list in that instant may mark it OVERDUE; it settles within seconds.
    const line = new RegExp(`^${ncId}\\s+major\\s+containment\\s+sofia\\.lind\\s+Credit scoring`, 'm');
    const text = await eventually(
      () => cli('nc', 'list', '--state', 'containment', '--owner', 'sofia.lind'),
      (r) => line.test(r.out),
    );
    expect(text.out).toMatch(line);
  });

  it('names the bad field and the bad file', async () => {
    const bad = path.join(dir, 'bad.yaml');
    await writeFile(bad, ncYaml.replace('severity: major', 'severity: critical').replace('owner: sofia.lind', 'owner: nobody.here'));
    const refused = await cli('nc', 'raise', '--file', bad);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('POST /admin/nonconformities: 400');
    expect(refused.err).toMatch(/^ {2}severity: /m);

    const broken = path.join(dir, 'broken.yaml');
    await writeFile(broken, 'title: [unclosed');
    const unreadable = await cli('nc', 'raise', '--file', broken);
    expect(unreadable.code).toBe(1);
    expect(unreadable.err).toContain(`${broken}: not valid YAML or JSON`);

    const missing = await cli('nc', 'raise', '--file', path.join(dir, 'missing.yaml'));
    expect(missing.err).toContain('cannot read');
    expect((await cli('nc', 'show', 'NC-1999-999')).err).toContain('404');
  });
});

describe('aimsflow nc as someone without the permission', () => {
  it("prints the API's refusal naming the permission and the key's person, and exits 1", async () => {
    const file = path.join(dir, 'nc-ines.yaml');
    await writeFile(file, ncYaml.replace('raisedBy: priya.raman\n', ''));
    const refused = await cliWith({ ...env, AIMSFLOW_ADMIN_KEY: keyOf('ines.moreau') }, ['nc', 'raise', '--file', file]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('POST /admin/nonconformities: 403');
    expect(refused.err).toContain('person ines.moreau (key test-ines.moreau) holds the roles external-auditor');
    expect(refused.err).toContain('(permission corrective-action.raise)');
    const read = await cliWith({ ...env, AIMSFLOW_ADMIN_KEY: keyOf('ines.moreau') }, ['records', 'verify']);
    expect(read.code, read.err).toBe(0);
  });
});

describe('aimsflow keys', () => {
  it('hashes a key from standard input or the argument, as API_KEYS lists it', async () => {
    const fromStdin = await cliWith({}, ['keys', 'hash'], 'a-key-of-at-least-sixteen\n');
    expect(fromStdin).toEqual({ code: 0, out: hashKey('a-key-of-at-least-sixteen'), err: '' });
    expect((await cliWith({}, ['keys', 'hash', 'a-key-of-at-least-sixteen'])).out).toBe(hashKey('a-key-of-at-least-sixteen'));
    expect((await cliWith({}, ['keys', 'hash', 'short'])).code).toBe(1);
  });

  it('makes a key for a service with its API_KEYS entry, which configures an API that accepts it', async () => {
    const made = await cliWith({}, ['--json', 'keys', 'new', '--name', 'ci-deploy', '--service', 'ci', '--role', 'operations-admin']);
    expect(made.code, made.err).toBe(0);
    const { key, entry } = JSON.parse(made.out) as { key: string; entry: { sha256: string } };
    expect(entry).toEqual({ name: 'ci-deploy', sha256: hashKey(key), service: 'ci', roles: ['operations-admin'] });
    const config = parseConfig({ LINK_SECRET: 'a'.repeat(32), API_KEYS: JSON.stringify([entry]) });
    expect(keyRing(config.API_KEYS).principal(key)).toEqual({ kind: 'service', id: 'ci', via: 'api-key', key: 'ci-deploy' });

    const refused = await cliWith({}, ['keys', 'new', '--name', 'x', '--service', 'ci', '--role', 'aims-manager']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^ {2}roles\.0: /m);
  });
});

describe('aimsflow records', () => {
  it('verifies the ledger', async () => {
    const verified = await cli('records', 'verify');
    expect(verified.code).toBe(0);
    expect(verified.out).toMatch(/^ledger intact: \d+ records$/);
  });
});

it('an unreachable API is a clear error, not a stack trace', async () => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['records', 'verify'], {
    env: { AIMSFLOW_API_URL: 'http://127.0.0.1:9', AIMSFLOW_ADMIN_KEY: 'test-admin-key-0123456789abcdef' },
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  expect(code).toBe(1);
  expect(err.join('\n')).toContain('GET /admin/records/verify: cannot reach the API at http://127.0.0.1:9');
}, 30_000);
