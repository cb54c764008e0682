/**
 * The records store on a real PostgreSQL (TEST_DATABASE_URL, or a throwaway cluster from the
 * Debian server packages). PostgreSQL is a prerequisite of the tests: without it this file
 * fails, on every machine, saying how to get it.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTransientPgError } from '../src/records/driver.js';
import { openRecordsStore } from '../src/records/store.js';
import type { RecordsStore } from '../src/records/types.js';
import { postgresAvailable, startPostgres, type TestPostgres } from './helpers/postgres.js';
import { recordsStoreSuite, sample } from './helpers/records-suite.js';

const available = postgresAvailable();
if (!available) {
  throw new Error('PostgreSQL is a prerequisite of the tests: install it (apt-get install -y postgresql) or set TEST_DATABASE_URL');
}

let server: TestPostgres | undefined;

beforeAll(async () => {
  if (!available) return;
  server = await startPostgres();
  if (!server) throw new Error('PostgreSQL looked available but could not be started');
}, 120_000);

afterAll(async () => {
  await server?.stop();
}, 60_000);

async function rawClient(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

describe.skipIf(!available)('PostgreSQL', () => {
  recordsStoreSuite({
    name: 'PostgreSQL',
    async fresh() {
      const url = await server!.createDatabase();
      const store = await openRecordsStore({ dataDir: 'unused', databaseUrl: url });
      const client = await rawClient(url);
      return {
        store,
        sql: async (text, params) => (await client.query(text, params)).rows as Record<string, unknown>[],
        reopen: () => openRecordsStore({ dataDir: 'unused', databaseUrl: url }),
        async dispose() {
          await store.close();
          await client.end();
        },
      };
    },
  });

  describe('records store on PostgreSQL, several processes', () => {
    it('migrates once when several stores open a new database at the same moment, then appends in one chain', async () => {
      const url = await server!.createDatabase();
      const stores: RecordsStore[] = await Promise.all(
        Array.from({ length: 4 }, () => openRecordsStore({ dataDir: 'unused', databaseUrl: url, postgres: { poolSize: 3 } })),
      );
      try {
        await Promise.all(Array.from({ length: 60 }, (_, i) => stores[i % 4]!.append(sample({ content: { i } }))));
        const client = await rawClient(url);
        try {
          const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
          expect(rows.map((r) => r.version)).toEqual([1, 2, 3, 4, 5]);
        } finally {
          await client.end();
        }
        expect(await stores[0]!.verify()).toMatchObject({ ok: true, records: 60 });
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    }, 60_000);

    it('refuses a database that is not UTF8', async () => {
      const url = await server!.createDatabase();
      const name = `${new URL(url).pathname.slice(1)}_ascii`;
      const admin = await rawClient(url);
      try {
        await admin.query(`CREATE DATABASE ${name} ENCODING 'SQL_ASCII' TEMPLATE template0`);
      } finally {
        await admin.end();
      }
      const asciiUrl = new URL(url);
      asciiUrl.pathname = `/${name}`;
      try {
        await expect(openRecordsStore({ dataDir: 'unused', databaseUrl: asciiUrl.toString() })).rejects.toThrow(
          /records database must use UTF8 encoding, found SQL_ASCII/,
        );
      } finally {
        const cleanup = await rawClient(url);
        await cleanup.query(`DROP DATABASE IF EXISTS ${name}`).finally(() => cleanup.end());
      }
    });
  });
});

describe('PostgreSQL driver without a server', () => {
  it('gives up on an unreachable server after its retries with the connection error', async () => {
    const err = await openRecordsStore({
      dataDir: 'unused',
      databaseUrl: 'postgres://postgres@127.0.0.1:1/none',
      postgres: { attempts: 2, connectTimeoutMs: 1000 },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ECONNREFUSED' });
    expect(isTransientPgError(err)).toBe(true);
  });

  it('classifies only connection failures as transient', () => {
    expect(isTransientPgError(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(true);
    expect(isTransientPgError(Object.assign(new Error('could not serialize'), { code: '40001' }))).toBe(true);
    expect(isTransientPgError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransientPgError(Object.assign(new Error('syntax error'), { code: '42601' }))).toBe(false);
    expect(isTransientPgError(Object.assign(new Error('append-only'), { code: 'P0001' }))).toBe(false);
    expect(isTransientPgError('nope')).toBe(false);
  });
});
