/** The records store on embedded PGlite: the shared contract in memory, plus persistence on disk. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalJson, contentHashOf } from '../src/records/hash.js';
import { DirectoryLockedError } from '../src/records/lockfile.js';
import { migrate, migrations, MigrationError } from '../src/records/migrations.js';
import { pgliteDriver } from '../src/records/driver.js';
import { openRecordsStore } from '../src/records/store.js';
import { recordsStoreSuite, sample } from './helpers/records-suite.js';

/** An empty cluster's data directory, made once: loading it is much faster than a new initdb. */
let emptyCluster: Promise<Blob> | undefined;
async function freshPglite(): Promise<PGlite> {
  emptyCluster ??= (async () => {
    const db = await PGlite.create('memory://');
    try {
      return await db.dumpDataDir('none');
    } finally {
      await db.close();
    }
  })();
  return PGlite.create({ loadDataDir: await emptyCluster });
}

recordsStoreSuite({
  name: 'PGlite (in memory)',
  async fresh() {
    const db = await freshPglite();
    const store = await openRecordsStore({ dataDir: 'memory://', pglite: db });
    return {
      store,
      sql: async (text, params) => (await db.query<Record<string, unknown>>(text, params)).rows,
      reopen: () => openRecordsStore({ dataDir: 'memory://', pglite: db }),
      async dispose() {
        await store.close();
        await db.close();
      },
    };
  },
});

describe('canonical JSON', () => {
  it('sorts keys, drops whitespace and writes numbers the ECMAScript way (RFC 8785)', () => {
    expect(canonicalJson({ b: [3, { d: 1, c: null }], a: 'x', '€': 1, '\r': 2, '1': 3 })).toBe(
      '{"\\r":2,"1":3,"a":"x","b":[3,{"c":null,"d":1}],"€":1}',
    );
    expect(canonicalJson([1e21, 1e-7, 0.000001, -0, 333333333.3333333])).toBe('[1e+21,1e-7,0.000001,0,333333333.3333333]');
    expect(contentHashOf({ a: 1, b: 2 })).toBe(contentHashOf({ b: 2, a: 1 }));
    expect(() => canonicalJson(undefined)).toThrow(/not a JSON value/);
    expect(() => canonicalJson({ x: Number.POSITIVE_INFINITY })).toThrow(/Infinity/);
  });
});

describe('records store on PGlite (on disk)', () => {
  const dirs: string[] = [];
  const tempDir = async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'aimsflow-records-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('keeps records across close and reopen and verifies them', async () => {
    const dataDir = await tempDir();
    const store = await openRecordsStore({ dataDir });
    const first = await store.append(sample());
    const second = await store.append(sample());
    await store.notifications.remember({ notificationId: 'n1', messageId: '<m@x>', recipients: ['a@example.org'], sentAt: '2027-03-01T09:00:00Z' });
    await store.close();
    expect(existsSync(path.join(dataDir, 'records'))).toBe(true);

    const reopened = await openRecordsStore({ dataDir });
    try {
      expect(await reopened.list()).toEqual([first, second]);
      expect(await reopened.verify()).toMatchObject({ ok: true, records: 2, head: second.hash, breakCount: 0 });
      expect((await reopened.read()).records.map((r) => r.verified)).toEqual([true, true]);
      expect(await reopened.notifications.find('n1')).toMatchObject({ messageId: '<m@x>' });
      expect((await reopened.append(sample())).prevHash).toBe(second.hash);
    } finally {
      await reopened.close();
    }
  }, 60_000);

  it('keeps the embedded database to 16 MB of shared buffers (PostgreSQL’s 128 MB would be resident in the process)', async () => {
    const dataDir = await tempDir();
    await (await openRecordsStore({ dataDir })).close();
    // The setting lives in the data directory's postgresql.conf, which a plain open reads.
    const db = await PGlite.create(path.join(dataDir, 'records'));
    try {
      expect((await db.query<{ shared_buffers: string }>('SHOW shared_buffers')).rows).toEqual([{ shared_buffers: '16MB' }]);
    } finally {
      await db.close();
    }
  }, 60_000);

  it('refuses a second open of the same directory while the first is open', async () => {
    const dataDir = await tempDir();
    const store = await openRecordsStore({ dataDir });
    try {
      const err = await openRecordsStore({ dataDir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DirectoryLockedError);
      expect((err as Error).message).toMatch(/serves one process at a time; set DATABASE_URL/);
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  }, 60_000);

  it('takes over a lock left by a process that has ended', async () => {
    const dataDir = await tempDir();
    const ended = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    await writeFile(path.join(dataDir, 'records.lock'), `${ended.stdout.toString()}\n`);
    const store = await openRecordsStore({ dataDir });
    try {
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
    expect(existsSync(path.join(dataDir, 'records.lock'))).toBe(false);
  }, 60_000);
});

describe('migrations', () => {
  it('refuse a database whose applied migration differs from this release', async () => {
    const db = await freshPglite();
    try {
      const driver = pgliteDriver(db, { owned: false });
      expect(await migrate(driver)).toEqual([1, 2, 3, 4, 5]);
      expect(await migrate(driver)).toEqual([]);
      const changed = migrations.map((m) => (m.version === 2 ? { ...m, sql: `${m.sql}\n-- edited` } : m));
      await expect(migrate(driver, undefined, changed)).rejects.toThrow(MigrationError);
      await expect(migrate(driver, undefined, changed)).rejects.toThrow(/migration 2 \(sent notifications\) differs/);
    } finally {
      await db.close();
    }
  });
});
