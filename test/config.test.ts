import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config.js';
import { cachedWorkflowsFor } from '../workers/worker.js';

const secrets = {
  LINK_SECRET: 'a'.repeat(32),
  ADMIN_API_KEYS: 'k'.repeat(24),
};

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
      ADMIN_API_KEYS: ['k'.repeat(24)],
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
      expect(problems.some((p) => p.startsWith('ADMIN_API_KEYS:'))).toBe(true);
    }
  });

  it('names every bad variable on its own line', () => {
    try {
      parseConfig({
        LINK_SECRET: 'short',
        ADMIN_API_KEYS: 'tooshort, also-short',
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
        new Set(['LINK_SECRET', 'ADMIN_API_KEYS', 'TEMPORAL_ADDRESS', 'SMTP_URL', 'API_PORT', 'LOG_LEVEL', 'DATABASE_URL']),
      );
      expect(problems.find((p) => p.startsWith('LINK_SECRET'))).toContain('at least 32 characters');
    }
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
      let problems: string[] = [];
      try {
        parseConfig({ ...secrets, [name]: value });
      } catch (err) {
        problems = (err as ConfigError).problems;
      }
      expect(problems).toEqual([problem]);
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
      let problems: string[] = [];
      try {
        parseConfig({ ...secrets, [name]: value });
      } catch (err) {
        problems = (err as ConfigError).problems;
      }
      expect(problems).toEqual([problem]);
    }
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
    expect(lines.slice(1).map((l) => l.trim().split(':')[0]).sort()).toEqual(['ADMIN_API_KEYS', 'API_PORT', 'LINK_SECRET']);
  });
});
