/**
 * docker-compose.yml, validated with the docker client (`docker compose config`; no engine
 * needed): it is valid when the secret variables are supplied, refuses to render without each of
 * them, registers exactly the search attributes of src/temporal/shared.ts, and wires the api and
 * worker to real entry points with healthchecks and start-up conditions.
 * Skipped, with the reason, when this machine has no docker client or no compose plugin.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { optionalPart } from '../scripts/lib/parts.js';
import { TEMPORAL_CONFIG, TEMPORAL_SETUP_SCRIPTS } from '../scripts/lib/topology.js';
import { findOnPath } from '../scripts/temporal-cli.js';
import { searchAttributeRegistrations } from '../src/temporal/search-attributes.js';
import { WORKER_NODE_OPTIONS, WORKER_PROCESS_ENV } from '../workers/process-settings.js';

const repoRoot = path.resolve(import.meta.dirname, '..');
const composeFile = path.join(repoRoot, 'docker-compose.yml');
const docker = findOnPath('docker');

const REQUIRED_SECRETS = ['POSTGRES_PASSWORD', 'LINK_SECRET', 'API_KEYS', 'PAYLOAD_KEYS'] as const;
const SECRETS: Record<(typeof REQUIRED_SECRETS)[number], string> = {
  POSTGRES_PASSWORD: 'compose-test-db-password-0123456789',
  LINK_SECRET: 'compose-test-link-secret-0123456789abcdef',
  API_KEYS: '[{"name":"compose-ops","sha256":"' + '0'.repeat(64) + '","service":"operations","roles":["operations-admin"]}]',
  PAYLOAD_KEYS: `compose-1:${Buffer.alloc(32, 7).toString('base64')}`,
};

/** Custom search attribute columns per type in Temporal's SQL (PostgreSQL) visibility schema. */
const SQL_VISIBILITY_LIMITS: Record<string, number> = {
  Bool: 3,
  Datetime: 3,
  Double: 3,
  Int: 3,
  Keyword: 10,
  KeywordList: 3,
  Text: 3,
};

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[] | null;
  entrypoint?: string[] | null;
  environment?: Record<string, string | null>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  ports?: { target: number; published: string }[];
  volumes?: { type: string; source?: string; target: string }[];
}

// Read without docker: the compose file runs Temporal with the harness's own files.
describe('docker-compose.yml and the topology harness', () => {
  interface RawService {
    entrypoint?: string[];
    command?: string[];
    volumes?: string[];
    environment?: Record<string, string>;
  }
  async function raw(): Promise<Record<string, RawService>> {
    return (parse(await readFile(composeFile, 'utf8'), { merge: true }) as { services: Record<string, RawService> }).services;
  }
  /** The container path a host path of the repository is mounted at. */
  function mountOf(service: RawService | undefined, hostPath: string): string | undefined {
    const entry = service?.volumes?.find((v) => v.split(':')[0] === `./${hostPath}`);
    return entry?.split(':')[1];
  }

  it('runs the set-up scripts the harness runs', async () => {
    const services = await raw();
    for (const [service, script] of [
      ['temporal-schema', TEMPORAL_SETUP_SCRIPTS.schema],
      ['temporal-setup', TEMPORAL_SETUP_SCRIPTS.namespace],
    ] as const) {
      const mounted = mountOf(services[service], path.dirname(script));
      expect(mounted, `${service} mounts ${path.dirname(script)}`).toBeDefined();
      expect(services[service]?.entrypoint).toEqual(['/bin/sh', `${mounted}/${path.basename(script)}`]);
      expect(existsSync(path.join(repoRoot, script))).toBe(true);
    }
  });

  it('starts the server with the configuration the harness uses', async () => {
    const temporal = (await raw()).temporal;
    const mounted = mountOf(temporal, TEMPORAL_CONFIG.dir);
    expect(mounted).toBe(`/aimsflow/${TEMPORAL_CONFIG.dir}`);
    expect(temporal?.command?.join(' ')).toContain(
      `temporal-server --root /aimsflow --config ${TEMPORAL_CONFIG.dir} --env ${TEMPORAL_CONFIG.env}`,
    );
    expect(existsSync(path.join(repoRoot, TEMPORAL_CONFIG.dir, `${TEMPORAL_CONFIG.env}.yaml`))).toBe(true);
    // Every variable the configuration template reads without a default is set by compose.
    const template = await readFile(path.join(repoRoot, TEMPORAL_CONFIG.dir, `${TEMPORAL_CONFIG.env}.yaml`), 'utf8');
    const required = [...template.matchAll(/\{\{ env "([A-Z_]+)"/g)].map((m) => m[1]!);
    expect(required.length).toBeGreaterThan(0);
    for (const name of new Set(required)) expect(Object.keys(temporal?.environment ?? {}), name).toContain(name);
  });
});

const compose = optionalPart('docker compose (validation only, no engine)');
if (!compose.here) console.warn(`compose.test.ts: skipped: ${compose.skipReason}`);

describe.skipIf(!compose.here)('docker-compose.yml', () => {
  let emptyEnvDir: string;
  let emptyEnvFile: string;

  /** Runs `docker compose` on the project's file with only the given secrets in the environment. */
  function compose(args: string[], secrets: Partial<typeof SECRETS>): Promise<RunResult> {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of REQUIRED_SECRETS) delete env[name];
    Object.assign(env, secrets);
    return new Promise((resolve) => {
      execFile(
        docker!,
        // An empty --env-file keeps a developer's own .env out of the test.
        ['compose', '--project-directory', repoRoot, '-f', composeFile, '--env-file', emptyEnvFile, ...args],
        { env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
          resolve({ code, stdout, stderr: stderr || (err && !stdout ? err.message : '') });
        },
      );
    });
  }

  async function renderedServices(): Promise<Record<string, ComposeService>> {
    const result = await compose(['config', '--format', 'json'], SECRETS);
    expect(result.code, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as { services: Record<string, ComposeService> }).services;
  }

  beforeAll(async () => {
    emptyEnvDir = await mkdtemp(path.join(os.tmpdir(), 'aimsflow-compose-'));
    emptyEnvFile = path.join(emptyEnvDir, 'empty.env');
    await writeFile(emptyEnvFile, '');
  });

  afterAll(async () => {
    if (emptyEnvDir) await rm(emptyEnvDir, { recursive: true, force: true });
  });

  it('is valid when the secret variables are supplied', async () => {
    const result = await compose(['config', '-q'], SECRETS);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it.each(REQUIRED_SECRETS)('refuses to render without %s and names it', async (missing) => {
    const secrets: Partial<typeof SECRETS> = { ...SECRETS };
    delete secrets[missing];
    const result = await compose(['config', '-q'], secrets);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`required variable ${missing} is missing a value`);
  });

  it('passes the supplied secrets through unchanged (no defaults)', async () => {
    const services = await renderedServices();
    for (const name of ['api', 'worker']) {
      const env = services[name]?.environment ?? {};
      expect(env.LINK_SECRET).toBe(SECRETS.LINK_SECRET);
      expect(env.API_KEYS).toBe(SECRETS.API_KEYS);
      expect(env.PAYLOAD_KEYS).toBe(SECRETS.PAYLOAD_KEYS);
      expect(env.NODE_ENV).toBe('production');
      expect(env.TEMPORAL_UI_URL).toBe('http://localhost:8233');
      expect(env.DATABASE_URL).toBe(`postgres://aimsflow:${SECRETS.POSTGRES_PASSWORD}@postgresql:5432/aimsflow`);
      expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
      expect(env.SMTP_URL).toBe('smtp://mailpit:1025');
    }
    expect(services.postgresql?.environment?.POSTGRES_PASSWORD).toBe(SECRETS.POSTGRES_PASSWORD);
    expect(services.temporal?.environment?.POSTGRES_PASSWORD).toBe(SECRETS.POSTGRES_PASSWORD);
  });

  it('points the Temporal UI at the API codec endpoint, with credentials, and the API answers the UI origin', async () => {
    const services = await renderedServices();
    const ui = services['temporal-ui']?.environment ?? {};
    expect(ui.TEMPORAL_CODEC_ENDPOINT).toBe('http://localhost:3000/codec');
    expect(ui.TEMPORAL_CODEC_INCLUDE_CREDENTIALS).toBe('true');
    const published = (services['temporal-ui']?.ports ?? []).map((p) => `http://localhost:${p.published}`);
    expect(published).toContain(services.api?.environment?.TEMPORAL_UI_URL);
  });

  it('registers exactly the search attributes defined in src/temporal/shared.ts', async () => {
    const services = await renderedServices();
    const setup = services['temporal-setup'];
    expect(setup?.image).toMatch(/^temporalio\/admin-tools:/);
    const declared = (setup?.environment?.AIMS_SEARCH_ATTRIBUTES ?? '').trim().split(/\s+/).filter(Boolean);
    const pairs = declared.map((pair) => {
      const [name, type, ...rest] = pair.split('=');
      expect(rest, `malformed entry ${pair}`).toEqual([]);
      return { name: name!, type: type! };
    });
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    expect(pairs.sort(byName)).toEqual(searchAttributeRegistrations().sort(byName));
    // The shared set-up script reads that variable.
    expect(setup?.entrypoint).toEqual(['/bin/sh', '/aimsflow/scripts/setup-namespace.sh']);
  });

  it('stays within the custom search attribute slots of SQL visibility', () => {
    const perType = new Map<string, number>();
    for (const { type } of searchAttributeRegistrations()) perType.set(type, (perType.get(type) ?? 0) + 1);
    for (const [type, count] of perType) {
      expect(SQL_VISIBILITY_LIMITS[type], `unknown type ${type}`).toBeDefined();
      expect(count, `${type} attributes`).toBeLessThanOrEqual(SQL_VISIBILITY_LIMITS[type]!);
    }
  });

  it('runs the api and worker from the Dockerfile build of real entry points', async () => {
    const services = await renderedServices();
    const expectations = { worker: 'dist/workers/main.js', api: 'dist/src/api/server.js' } as const;
    for (const [name, entry] of Object.entries(expectations)) {
      const service = services[name];
      expect(service?.build?.dockerfile).toBe('Dockerfile');
      expect(service?.command).toEqual(['node', entry]);
      // dist/ mirrors the sources (tsconfig.build.json has rootDir ".").
      const source = entry.replace(/^dist\//, '').replace(/\.js$/, '.ts');
      expect(existsSync(path.join(repoRoot, source)), `${source} exists`).toBe(true);
      expect(service?.depends_on).toMatchObject({
        postgresql: { condition: 'service_healthy' },
        'temporal-setup': { condition: 'service_completed_successfully' },
        mailpit: { condition: 'service_healthy' },
      });
    }
    expect(existsSync(path.join(repoRoot, 'Dockerfile'))).toBe(true);
  });

  it('runs the worker as workers/process-settings.ts says: two malloc arenas (the image), a small young generation', async () => {
    const services = await renderedServices();
    expect(services.worker?.environment?.NODE_OPTIONS?.split(/\s+/)).toEqual([...WORKER_NODE_OPTIONS]);
    const dockerfile = await readFile(path.join(repoRoot, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    for (const [name, value] of Object.entries(WORKER_PROCESS_ENV)) expect(runtime).toMatch(new RegExp(`^ENV ${name}=${value}$`, 'm'));
  });

  it('has healthchecks, start-up ordering and the documented ports', async () => {
    const services = await renderedServices();
    for (const name of ['postgresql', 'temporal', 'mailpit', 'api']) {
      expect(services[name]?.healthcheck?.test?.length, `${name} healthcheck`).toBeGreaterThan(0);
    }
    expect(services.temporal?.depends_on).toMatchObject({
      'temporal-schema': { condition: 'service_completed_successfully' },
    });
    expect(services['temporal-setup']?.depends_on).toMatchObject({ temporal: { condition: 'service_healthy' } });
    const published = (name: string) =>
      (services[name]?.ports ?? []).map((p) => `${p.published}->${p.target}`).sort();
    expect(published('temporal-ui')).toEqual(['8233->8080']);
    expect(published('mailpit')).toEqual(['1025->1025', '8025->8025']);
    expect(published('api')).toEqual(['3000->3000']);
    expect(published('temporal')).toEqual(['7233->7233']);
    expect(services.postgresql?.image).toMatch(/^postgres:16/);
    expect(services.postgresql?.volumes?.some((v) => v.type === 'volume' && v.target === '/var/lib/postgresql/data')).toBe(
      true,
    );
  });
});
