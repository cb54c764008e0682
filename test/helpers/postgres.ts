/**
 * A real PostgreSQL for tests: `TEST_DATABASE_URL` when set, otherwise a throwaway cluster
 * started from the Debian server binaries (`apt-get install postgresql`) in a temp directory
 * on a free 127.0.0.1 port. Undefined when neither is available.
 *
 * Every call of `createDatabase()` gives a fresh, empty database on the same server.
 */
import pg from 'pg';
import { findPostgresBinDir, startPostgresCluster } from '../../scripts/lib/postgres-cluster.js';

export { findPostgresBinDir };

/** Whether startPostgres() has something to start or connect to. */
export function postgresAvailable(): boolean {
  return Boolean(process.env.TEST_DATABASE_URL) || findPostgresBinDir() !== undefined;
}

export interface TestPostgres {
  /** A database created for this server handle, ready to use. */
  url: string;
  /** Creates another empty database and returns its URL. */
  createDatabase(): Promise<string>;
  /** Drops the created databases; stops the cluster if this helper started it. */
  stop(): Promise<void>;
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
  if (!findPostgresBinDir()) return undefined;
  const cluster = await startPostgresCluster();
  const adminUrl = cluster.adminUrl;
  const databases = databaseFactory(adminUrl);
  const url = await databases.create();
  let stopped = false;
  return {
    url,
    createDatabase: () => databases.create(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await cluster.destroy();
    },
  };
}
