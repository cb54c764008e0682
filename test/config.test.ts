import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { hashKey } from '../src/auth/api-keys.js';
import { ConfigError, parseConfig } from '../src/config.js';
import { cachedWorkflowsFor } from '../workers/worker.js';

const KEYS = [{ name: 'priya-laptop', sha256: hashKey('k'.repeat(24)), person: 'priya.raman' }];
const secrets = {
  LINK_SECRET: 'a'.repeat(32),
  API_KEYS: JSON.stringify(KEYS),
};

/** The problems parseConfig names for `env`, or [] when it accepts it. */
function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems;
  }
}

describe('config', () => {
  it('applies defaults, resolves paths and freezes the result', () => {
    const config = parseConfig(secrets);
    expect(config).toMatchObject({
      TEMPORAL_ADDRESS: 'localhost:7233',
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: 'aimsflow',
      SMTP_URL: 'smtp://localhost:1025',
      PUBLIC_BASE_URL: 'http://localhost:3000',
      API_PORT: 3000,
      LOG_LEVEL: 'info',
      API_KEYS: KEYS,
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(path.isAbsolute(config.DATA_DIR)).toBe(true);
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { API_PORT: number }).API_PORT = 1;
    }).toThrow(TypeError);
  });

  it('has no default for secrets', () => {
    try {
      parseConfig({});
      expect.unreachable('missing secrets must be refused');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems;
      expect(problems.some((p) => p.startsWith('LINK_SECRET:'))).toBe(true);
      expect(problems.some((p) => p.startsWith('API_KEYS:'))).toBe(true);
    }
  });

  it('names every bad variable on its own line', () => {
    try {
      parseConfig({
        LINK_SECRET: 'short',
        API_KEYS: '[{"name":"x","sha256":"abc"}]',
        TEMPORAL_ADDRESS: 'no-port',
        SMTP_URL: 'http://mail',
        API_PORT: '70000',
        LOG_LEVEL: 'loud',
        DATABASE_URL: 'mysql://x',
      });
      expect.unreachable('bad config must be refused');
    } catch (err) {
      const problems = (err as ConfigError).problems;
      const variables = problems.map((p) => p.split(':')[0]);
      expect(new Set(variables)).toEqual(
        new Set(['LINK_SECRET', 'API_KEYS[0].sha256', 'API_KEYS[0].person', 'TEMPORAL_ADDRESS', 'SMTP_URL', 'API_PORT', 'LOG_LEVEL', 'DATABASE_URL']),
      );
      expect(problems.find((p) => p.startsWith('LINK_SECRET'))).toContain('at least 32 characters');
    }
  });

  it('reads API_KEYS inline or from a YAML file, each key by name and SHA-256 with its principal', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aimsflow-keys-'));
    const file = path.join(dir, 'keys.yaml');
    writeFileSync(
      file,
      `keys:\n  - { name: ci-deploy, sha256: ${hashKey('c'.repeat(32)).toUpperCase()}, service: ci, roles: [operations-admin] }\n  - { name: ines, sha256: ${hashKey('i'.repeat(32))}, person: ines.moreau }\n`,
    );
    const config = parseConfig({ ...secrets, API_KEYS: file });
    expect(config.API_KEYS).toEqual([
      { name: 'ci-deploy', sha256: hashKey('c'.repeat(32)), service: 'ci', roles: ['operations-admin'] },
      { name: 'ines', sha256: hashKey('i'.repeat(32)), person: 'ines.moreau' },
    ]);
    expect(problemsOf({ ...secrets, API_KEYS: path.join(dir, 'missing.yaml') })[0]).toMatch(/^API_KEYS: is neither an inline JSON list nor a readable file \(ENOENT/);
  });

  it('refuses API_KEYS entries that are ambiguous, duplicated or give a person roles, naming the entry and field', () => {
    const sha = hashKey('x'.repeat(30));
    const problems = problemsOf({
      ...secrets,
      API_KEYS: JSON.stringify([
        { name: 'a', sha256: sha, person: 'priya.raman', roles: ['operations-admin'] },
        { name: 'b', sha256: hashKey('y'.repeat(30)), service: 'ci' },
        { name: 'c', sha256: sha, person: 'x', service: 'y', roles: ['external-auditor'] },
        { name: 'd', sha256: hashKey('z'.repeat(30)), service: 'ci', roles: ['aims-manager'] },
      ]),
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'API_KEYS[0].roles: a person gets their roles from the organization file',
        expect.stringMatching(/^API_KEYS\[1\]\.roles: a service needs its roles/),
        'API_KEYS[2].person: name either a person or a service',
        expect.stringMatching(/^API_KEYS\[3\]\.roles\[0\]: /),
      ]),
    );
    const duplicates = problemsOf({
      ...secrets,
      API_KEYS: JSON.stringify([
        { name: 'a', sha256: sha, person: 'priya.raman' },
        { name: 'a', sha256: hashKey('y'.repeat(30)), person: 'tom.baker' },
        { name: 'c', sha256: sha, service: 'ci', roles: ['operations-admin'] },
      ]),
    });
    expect(duplicates).toEqual(['API_KEYS[1].name: duplicate key name "a"', 'API_KEYS[2].sha256: the same key is listed twice']);
  });

  it('refuses ADMIN_API_KEYS (anonymous keys) and says what replaced it', () => {
    expect(problemsOf({ ...secrets, ADMIN_API_KEYS: 'k'.repeat(24) })).toEqual([expect.stringMatching(/^ADMIN_API_KEYS: is replaced by API_KEYS/)]);
  });

  it('serves worker metrics on 127.0.0.1:9464 unless WORKER_METRICS_ADDRESS says otherwise (empty: off)', () => {
    expect(parseConfig(secrets).WORKER_METRICS_ADDRESS).toBe('127.0.0.1:9464');
    expect(parseConfig({ ...secrets, WORKER_METRICS_ADDRESS: '0.0.0.0:9500' }).WORKER_METRICS_ADDRESS).toBe('0.0.0.0:9500');
    expect(parseConfig({ ...secrets, WORKER_METRICS_ADDRESS: '[::1]:9464' }).WORKER_METRICS_ADDRESS).toBe('[::1]:9464');
    expect(parseConfig({ ...secrets, WORKER_METRICS_ADDRESS: '' }).WORKER_METRICS_ADDRESS).toBeUndefined();
    for (const [value, problem] of [
      ['9464', 'WORKER_METRICS_ADDRESS: must be host:port, e.g. 127.0.0.1:9464 (empty: off)'],
      ['localhost:70000', 'WORKER_METRICS_ADDRESS: the port must be at most 65535'],
    ] as const) {
      let problems: string[] = [];
      try {
        parseConfig({ ...secrets, WORKER_METRICS_ADDRESS: value });
      } catch (err) {
        problems = (err as ConfigError).problems;
      }
      expect(problems).toEqual([problem]);
    }
  });

  it('leaves /metrics open without METRICS_TOKEN and refuses a short one', () => {
    expect(parseConfig(secrets).METRICS_TOKEN).toBeUndefined();
    expect(parseConfig({ ...secrets, METRICS_TOKEN: '' }).METRICS_TOKEN).toBeUndefined();
    expect(parseConfig({ ...secrets, METRICS_TOKEN: 'm'.repeat(24) }).METRICS_TOKEN).toBe('m'.repeat(24));
    expect(() => parseConfig({ ...secrets, METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN: must be at least 24 characters/);
  });

  it('bounds the workflow cache by a memory budget (64 MB: 128 workflows) unless a bound is given', () => {
    const defaults = parseConfig(secrets);
    expect([defaults.WORKER_CACHE_MEMORY_MB, defaults.WORKER_MAX_CACHED_WORKFLOWS]).toEqual([64, undefined]);
    expect(cachedWorkflowsFor(defaults.WORKER_CACHE_MEMORY_MB)).toBe(128);
    expect(cachedWorkflowsFor(parseConfig({ ...secrets, WORKER_CACHE_MEMORY_MB: '256' }).WORKER_CACHE_MEMORY_MB)).toBe(512);
    expect(cachedWorkflowsFor(parseConfig({ ...secrets, WORKER_CACHE_MEMORY_MB: '8' }).WORKER_CACHE_MEMORY_MB)).toBe(16);
    expect(parseConfig({ ...secrets, WORKER_MAX_CACHED_WORKFLOWS: '300' }).WORKER_MAX_CACHED_WORKFLOWS).toBe(300);
    expect(parseConfig({ ...secrets, WORKER_MAX_CACHED_WORKFLOWS: '' }).WORKER_MAX_CACHED_WORKFLOWS).toBeUndefined();
    for (const [name, value, problem] of [
      ['WORKER_CACHE_MEMORY_MB', '4', 'WORKER_CACHE_MEMORY_MB: must be at least 8'],
      ['WORKER_MAX_CACHED_WORKFLOWS', '5', 'WORKER_MAX_CACHED_WORKFLOWS: must be at least 10'],
      ['WORKER_MAX_CACHED_WORKFLOWS', 'lots', 'WORKER_MAX_CACHED_WORKFLOWS: Invalid input: expected number, received NaN'],
    ] as const) {
      expect(problemsOf({ ...secrets, [name]: value })).toEqual([problem]);
    }
  });

  it('gives pages 2.5 s for a status query and 5 s for an update, and /readyz 5 s for SMTP, each within bounds', () => {
    const defaults = parseConfig(secrets);
    expect([defaults.PAGE_QUERY_TIMEOUT_MS, defaults.PAGE_UPDATE_TIMEOUT_MS, defaults.SMTP_CHECK_TIMEOUT_MS]).toEqual([2500, 5000, 5000]);
    expect(parseConfig({ ...secrets, PAGE_QUERY_TIMEOUT_MS: '1500' }).PAGE_QUERY_TIMEOUT_MS).toBe(1500);
    for (const [name, value, problem] of [
      ['PAGE_QUERY_TIMEOUT_MS', '50', 'PAGE_QUERY_TIMEOUT_MS: must be at least 100'],
      ['PAGE_UPDATE_TIMEOUT_MS', '120000', 'PAGE_UPDATE_TIMEOUT_MS: must be at most 60000'],
      ['SMTP_CHECK_TIMEOUT_MS', 'soon', 'SMTP_CHECK_TIMEOUT_MS: Invalid input: expected number, received NaN'],
    ] as const) {
      expect(problemsOf({ ...secrets, [name]: value })).toEqual([problem]);
    }
  });

  it('trusts no proxy unless TRUST_PROXY names them: true, a hop count, or addresses and CIDR ranges', () => {
    expect(parseConfig(secrets).TRUST_PROXY).toBe(false);
    for (const off of ['', 'false', '0', '  ']) expect(parseConfig({ ...secrets, TRUST_PROXY: off }).TRUST_PROXY).toBe(false);
    expect(parseConfig({ ...secrets, TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(parseConfig({ ...secrets, TRUST_PROXY: '1' }).TRUST_PROXY).toBe(1);
    expect(parseConfig({ ...secrets, TRUST_PROXY: ' 2 ' }).TRUST_PROXY).toBe(2);
    expect(parseConfig({ ...secrets, TRUST_PROXY: '10.0.0.0/8, 192.168.1.7,::1, fd00::/8,loopback' }).TRUST_PROXY).toEqual([
      '10.0.0.0/8',
      '192.168.1.7',
      '::1',
      'fd00::/8',
      'loopback',
    ]);
    for (const [value, problem] of [
      ['yes', /^TRUST_PROXY: must be true, a number of proxy hops, or a comma-separated list .*not understood: "yes"$/],
      ['-1', /^TRUST_PROXY: must be true, .*not understood: "-1"$/],
      ['1.5', /^TRUST_PROXY: must be true, .*not understood: "1.5"$/],
      ['33', /^TRUST_PROXY: must be at most 32 proxy hops, got 33$/],
      ['10.0.0.0/33, proxy.local', /^TRUST_PROXY: must be true, .*not understood: "10.0.0.0\/33", "proxy.local"$/],
      ['10.0.0.1,,10.0.0.2', /^TRUST_PROXY: must be true, .*not understood: ""$/],
      ['::1/129', /not understood: "::1\/129"$/],
    ] as const) {
      let problems: string[] = [];
      try {
        parseConfig({ ...secrets, TRUST_PROXY: value });
      } catch (err) {
        problems = (err as ConfigError).problems;
      }
      expect(problems, value).toHaveLength(1);
      expect(problems[0], value).toMatch(problem);
    }
  });

  it('limits link pages to 120 requests a minute per person and 30 failed link checks a minute per address by default', () => {
    const defaults = parseConfig(secrets);
    expect([defaults.LINK_LIMIT_PER_PERSON, defaults.LINK_FAILURE_LIMIT_PER_ADDRESS]).toEqual([120, 30]);
    expect(parseConfig({ ...secrets, LINK_LIMIT_PER_PERSON: '600' }).LINK_LIMIT_PER_PERSON).toBe(600);
    expect(() => parseConfig({ ...secrets, LINK_LIMIT_PER_PERSON: '0' })).toThrow(/LINK_LIMIT_PER_PERSON: must be at least 1/);
    expect(() => parseConfig({ ...secrets, LINK_FAILURE_LIMIT_PER_ADDRESS: 'many' })).toThrow(/LINK_FAILURE_LIMIT_PER_ADDRESS: /);
  });

  it('leaves sign-in off without OIDC_ISSUER, and with it needs a client id and a session secret, naming each bad variable', () => {
    const off = parseConfig(secrets);
    expect(off.OIDC_ISSUER).toBeUndefined();
    expect([off.OIDC_PERSON_CLAIM, off.OIDC_TIMEOUT_MS, off.SESSION_IDLE_MINUTES, off.SESSION_MAX_HOURS]).toEqual(['email', 5000, 60, 12]);
    expect(parseConfig({ ...secrets, OIDC_ISSUER: '' }).OIDC_ISSUER).toBeUndefined();

    const on = parseConfig({ ...secrets, OIDC_ISSUER: 'https://login.example.com/realms/aims/', OIDC_CLIENT_ID: 'aimsflow', SESSION_SECRET: 's'.repeat(32) });
    expect(on.OIDC_ISSUER).toBe('https://login.example.com/realms/aims');
    expect(parseConfig({ ...secrets, OIDC_ISSUER: 'http://127.0.0.1:4000', OIDC_CLIENT_ID: 'x', SESSION_SECRET: 's'.repeat(32) }).OIDC_ISSUER).toBe('http://127.0.0.1:4000');

    const problemsOf = (env: Record<string, string>) => {
      try {
        parseConfig({ ...secrets, ...env });
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(problemsOf({ OIDC_ISSUER: 'https://login.example.com' }).sort()).toEqual([
      'OIDC_CLIENT_ID: is required with OIDC_ISSUER (the client id registered at the provider)',
      'SESSION_SECRET: is required with OIDC_ISSUER (at least 32 characters; npm start generates one)',
    ]);
    expect(problemsOf({ OIDC_ISSUER: 'http://login.example.com', OIDC_CLIENT_ID: 'x', SESSION_SECRET: 's'.repeat(32) })).toEqual([
      'OIDC_ISSUER: must be https (http only on localhost or 127.0.0.1)',
    ]);
    const bad = problemsOf({
      OIDC_ISSUER: 'not a url',
      OIDC_CLIENT_ID: 'x',
      SESSION_SECRET: 'short',
      OIDC_PERSON_CLAIM: 'upn',
      OIDC_REDIRECT_URL: 'ftp://x',
      OIDC_TIMEOUT_MS: '10',
      SESSION_IDLE_MINUTES: '0',
      SESSION_MAX_HOURS: 'forever',
    });
    expect(new Set(bad.map((p) => p.split(':')[0]))).toEqual(
      new Set(['OIDC_ISSUER', 'SESSION_SECRET', 'OIDC_PERSON_CLAIM', 'OIDC_REDIRECT_URL', 'OIDC_TIMEOUT_MS', 'SESSION_IDLE_MINUTES', 'SESSION_MAX_HOURS']),
    );
    expect(bad).toContain('SESSION_SECRET: must be at least 32 characters');
  });

  it('stops a process with one line per bad variable and exit code 1', () => {
    const entry = path.resolve(import.meta.dirname, '../workers/main.ts');
    const tsx = path.resolve(import.meta.dirname, '../node_modules/.bin/tsx');
    const run = spawnSync(tsx, [entry], {
      env: { PATH: process.env.PATH, LINK_SECRET: 'short', API_PORT: 'abc' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines[0]).toBe('Invalid configuration:');
    expect(lines.slice(1).map((l) => l.trim().split(':')[0]).sort()).toEqual(['API_KEYS', 'API_PORT', 'LINK_SECRET']);
  });
});
