/**
 * A real PostgreSQL for tests: `TEST_DATABASE_URL` when set, otherwise a throwaway cluster
 * started from the Debian server binaries (`apt-get install postgresql`) in a temp directory
 * on a free 127.0.0.1 port. Undefined when neither is available.
 *
 * Every call of `createDatabase()` gives a fresh, empty database on the same server.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export interface TestPostgres {
  /** A database created for this server handle, ready to use. */
  url: string;
  /** Creates another empty database and returns its URL. */
  createDatabase(): Promise<string>;
  /** Drops the created databases; stops the cluster if this helper started it. */
  stop(): Promise<void>;
}

/** The newest Debian PostgreSQL server bin directory, if installed. */
export function findPostgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = path.join(root, v, 'bin');
    if (existsSync(path.join(bin, 'initdb')) && existsSync(path.join(bin, 'pg_ctl'))) return bin;
  }
  return undefined;
}

/** Whether startPostgres() has something to start or connect to. */
export function postgresAvailable(): boolean {
  return Boolean(process.env.TEST_DATABASE_URL) || findPostgresBinDir() !== undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function databaseFactory(adminUrl: string) {
  const created: string[] = [];
  let counter = 0;
  return {
    created,
    async create(): Promise<string> {
      counter += 1;
      const name = `aimsflow_test_${process.pid}_${Date.now().toString(36)}_${counter}`;
      await adminQuery(adminUrl, `CREATE DATABASE ${name} ENCODING 'UTF8' TEMPLATE template0`);
      created.push(name);
      return withDatabase(adminUrl, name);
    },
    async dropAll(): Promise<void> {
      for (const name of created.splice(0)) {
        await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }
    },
  };
}

export async function startPostgres(): Promise<TestPostgres | undefined> {
  const given = process.env.TEST_DATABASE_URL;
  if (given) {
    const databases = databaseFactory(given);
    const url = await databases.create();
    return { url, createDatabase: () => databases.create(), stop: () => databases.dropAll() };
  }
  const bin = findPostgresBinDir();
  if (!bin) return undefined;

  const isRoot = process.getuid?.() === 0;
  // PostgreSQL refuses to run as root: run the server tools as the `postgres` system user.
  const asOwner = (file: string, args: string[]) =>
    isRoot ? run('runuser', ['-u', 'postgres', '--', file, ...args], { timeout: 120_000 }) : run(file, args, { timeout: 120_000 });

  const dir = await mkdtemp(path.join(os.tmpdir(), 'aimsflow-pg-'));
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    await chown(dir, uid, gid);
  }
  await chmod(dir, 0o700);
  const data = path.join(dir, 'data');
  const pgCtl = path.join(bin, 'pg_ctl');
  await asOwner(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);

  let port = 0;
  let started = false;
  for (let attempt = 0; attempt < 3 && !started; attempt++) {
    port = await freePort();
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    try {
      await asOwner(pgCtl, ['-D', data, '-l', path.join(dir, 'server.log'), '-o', options, '-w', '-t', '60', 'start']);
      started = true;
    } catch (err) {
      if (attempt === 2) {
        await rm(dir, { recursive: true, force: true });
        throw new Error(`PostgreSQL test cluster did not start: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  const stopCluster = () =>
    isRoot
      ? ['runuser', ['-u', 'postgres', '--', pgCtl, '-D', data, '-m', 'immediate', '-w', 'stop']] as const
      : [pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']] as const;
  // A test run that dies must not leave a server behind.
  const onExit = () => {
    const [file, args] = stopCluster();
    try {
      execFileSync(file, [...args], { stdio: 'ignore', timeout: 30_000 });
    } catch {
      // already stopped
    }
  };
  process.once('exit', onExit);

  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const databases = databaseFactory(adminUrl);
  const url = await databases.create();
  let stopped = false;
  return {
    url,
    createDatabase: () => databases.create(),
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', onExit);
      const [file, args] = stopCluster();
      await run(file, [...args], { timeout: 60_000 }).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
