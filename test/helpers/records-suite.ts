/**
 * The records store contract, run against every backend (PGlite in memory, real PostgreSQL)
 * by test/records.test.ts and test/records-postgres.test.ts.
 */
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRecordActivities } from '../../activities/records.js';
import { RecordConflictError, RecordsStoreClosedError, RecordValidationError } from '../../src/records/errors.js';
import { exportRecords, verifyAuditPack } from '../../src/records/export.js';
import { GENESIS_HASH, contentHashOf, recordHashOf, sha256Hex } from '../../src/records/hash.js';
import type { NewRecord, RecordsStore, VerifyResult } from '../../src/records/types.js';

export type RawSql = (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

export interface StoreUnderTest {
  store: RecordsStore;
  /** Superuser SQL on the same database, for tampering like an attacker would. */
  sql: RawSql;
  /** Opens another store on the same database (runs the migrations again). */
  reopen(): Promise<RecordsStore>;
  dispose(): Promise<void>;
}

export interface Backend {
  name: string;
  fresh(): Promise<StoreUnderTest>;
}

let counter = 0;
export function sample(overrides: Partial<NewRecord> = {}): NewRecord {
  counter += 1;
  return {
    id: `rec-${counter}`,
    kind: 'task.completed',
    subject: 'corrective-action/NC-2027-004',
    clauses: ['10.2', 'A.3.3'],
    actor: 'p.owner',
    occurredAt: '2027-03-01T09:00:00.000Z',
    content: { form: { rootCause: 'stale training data', evidence: ['https://wiki/x'] }, n: counter },
    ...overrides,
  };
}

async function tamper(sql: RawSql, statements: string): Promise<void> {
  await sql('ALTER TABLE evidence_records DISABLE TRIGGER USER');
  await sql('ALTER TABLE ledger_head DISABLE TRIGGER USER');
  try {
    for (const statement of statements.split(';').map((s) => s.trim()).filter(Boolean)) await sql(statement);
  } finally {
    await sql('ALTER TABLE evidence_records ENABLE TRIGGER USER');
    await sql('ALTER TABLE ledger_head ENABLE TRIGGER USER');
  }
}

async function appendMany(store: RecordsStore, n: number, overrides: (i: number) => Partial<NewRecord> = () => ({})) {
  const out = [];
  for (let i = 1; i <= n; i++) out.push(await store.append(sample(overrides(i))));
  return out;
}

function expectBroken(result: VerifyResult, expected: { brokenAt: number; reason: RegExp; records?: number }): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.brokenAt).toBe(expected.brokenAt);
  expect(result.reason).toMatch(expected.reason);
  if (expected.records !== undefined) expect(result.records).toBe(expected.records);
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const line of lines) all.push(line);
  return all;
}

export function recordsStoreSuite(backend: Backend): void {
  describe(`records store on ${backend.name}`, { timeout: 120_000 }, () => {
    let t: StoreUnderTest;
    let store: RecordsStore;
    const extra: RecordsStore[] = [];

    beforeEach(async () => {
      t = await backend.fresh();
      store = t.store;
    }, 180_000);
    afterEach(async () => {
      for (const s of extra.splice(0)) await s.close();
      await t.dispose();
    }, 60_000);

    describe('append and get', () => {
      it('stores a record with its hashes and chains the next one to it', async () => {
        const input = sample();
        const first = await store.append(input);
        expect(first).toMatchObject({ ...input, seq: 1, prevHash: GENESIS_HASH });
        expect(first.contentHash).toBe(contentHashOf(input.content));
        expect(first.contentHash).toBe(sha256Hex(JSON.stringify({ form: { evidence: ['https://wiki/x'], rootCause: 'stale training data' }, n: (input.content as { n: number }).n })));
        expect(first.hash).toBe(recordHashOf(first));
        expect(Date.parse(first.recordedAt)).not.toBeNaN();

        const second = await store.append(sample());
        expect(second.seq).toBe(2);
        expect(second.prevHash).toBe(first.hash);

        expect(await store.get(first.id)).toEqual(first);
        expect(await store.get('no-such-record')).toBeUndefined();
        expect(await store.get('')).toBeUndefined();
      });

      it('normalizes occurredAt to UTC milliseconds', async () => {
        const r = await store.append(sample({ occurredAt: '2027-03-01T10:30:00+01:30' }));
        expect(r.occurredAt).toBe('2027-03-01T09:00:00.000Z');
        expect((await store.get(r.id))?.occurredAt).toBe('2027-03-01T09:00:00.000Z');
      });

      it('keeps any JSON content exactly and verifies it afterwards', async () => {
        const contents: unknown[] = [
          'plain string',
          '{"looks":"like json"}',
          42,
          0.1 + 0.2,
          1e-7,
          1e21,
          -0.5,
          9007199254740991,
          null,
          true,
          [],
          {},
          [1, 'two', { three: [3] }],
          { 'ünïcödé ✓': 'emoji 🤖 and 漢字', b: { z: 1, a: 2 }, quote: '"\\\n\t' },
          { date: new Date('2027-01-01T00:00:00Z') },
        ];
        for (const content of contents) {
          const r = await store.append(sample({ content }));
          const back = await store.get(r.id);
          expect(back?.content).toEqual(JSON.parse(JSON.stringify(content)));
          expect(back?.contentHash).toBe(r.contentHash);
        }
        expect(await store.verify()).toMatchObject({ ok: true, records: contents.length });
      });
    });

    describe('idempotency', () => {
      it('returns the stored record for the same id and the same content', async () => {
        const input = sample({ content: { a: 1, b: [1, 2] } });
        const first = await store.append(input);
        const again = await store.append({
          ...input,
          content: { b: [1, 2], a: 1 },
          occurredAt: '2027-03-01T10:00:00+01:00',
        });
        expect(again).toEqual(first);
        expect(await store.list()).toHaveLength(1);
      });

      it('refuses the same id with different content or fields, naming what differs', async () => {
        const input = sample();
        await store.append(input);
        await expect(store.append({ ...input, content: { other: true } })).rejects.toThrow(RecordConflictError);
        await expect(store.append({ ...input, content: { other: true } })).rejects.toThrow(/different content/);
        await expect(store.append({ ...input, actor: 'someone.else', clauses: ['9.2'] })).rejects.toThrow(
          /different clauses, actor/,
        );
        expect(await store.list()).toHaveLength(1);
      });

      it('appends a record once when the same id arrives concurrently', async () => {
        const input = sample();
        const results = await Promise.all(Array.from({ length: 8 }, () => store.append(input)));
        expect(new Set(results.map((r) => r.seq))).toEqual(new Set([1]));
        expect(await store.list()).toHaveLength(1);
      });
    });

    describe('validation', () => {
      const invalid: [string, unknown, RegExp][] = [
        ['empty kind', { kind: '' }, /kind: must not be empty/],
        ['bad occurredAt', { occurredAt: 'yesterday' }, /occurredAt: must be an ISO-8601 date-time/],
        ['occurredAt without zone', { occurredAt: '2027-03-01T09:00:00' }, /occurredAt:/],
        ['impossible date', { occurredAt: '2027-02-30T09:00:00Z' }, /occurredAt:/],
        ['bad clause', { clauses: ['10.2', 'clause ten'] }, /clauses\.1: must be a clause/],
        ['clauses not an array', { clauses: '10.2' }, /clauses: must be an array/],
        ['missing content', { content: undefined }, /content: is required/],
        ['NaN content', { content: { score: Number.NaN } }, /content: must be a JSON value/],
        ['BigInt content', { content: { n: 10n } }, /content: must be a JSON value/],
        ['NUL in content', { content: { s: 'a\u0000b' } }, /content: must not contain NUL/],
        ['actor with spaces around', { actor: ' p.owner ' }, /actor: must not start or end with white space/],
        ['numeric subject', { subject: 7 }, /subject: must be a string/],
        ['unknown field', { extra: 1 }, /\(value\): unknown field extra/],
      ];
      it.each(invalid)('rejects %s with an error naming the field', async (_name, overrides, message) => {
        const bad = { ...sample(), ...(overrides as Partial<NewRecord>) };
        const error = await store.append(bad).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(error).toBeInstanceOf(RecordValidationError);
        expect((error as Error).message).toMatch(message);
        expect(await store.list()).toHaveLength(0);
      });

      it('rejects a value that is not an object', async () => {
        await expect(store.append(null as unknown as NewRecord)).rejects.toThrow(/invalid record: \(value\): must be an object/);
      });

      it('rejects bad filters naming the field', async () => {
        await expect(store.list({ limit: 1001 })).rejects.toThrow(/limit: must be at most 1000/);
        await expect(store.list({ limit: 0 })).rejects.toThrow(/limit: must be at least 1/);
        await expect(store.list({ from: 'last week' })).rejects.toThrow(/from:/);
        await expect(store.list({ afterSeq: -1 })).rejects.toThrow(/afterSeq:/);
        await expect(store.list({ from: '2027-02-01T00:00:00Z', to: '2027-01-01T00:00:00Z' })).rejects.toThrow(/to: must not be before from/);
      });
    });

    describe('list', () => {
      it('filters by subject, prefix, kind, clause, time and seq, in seq order', async () => {
        await store.append(sample({ id: 'a', subject: 'corrective-action/NC-1', kind: 'nonconformity.raised', clauses: ['10.2'], occurredAt: '2027-01-10T00:00:00Z' }));
        await store.append(sample({ id: 'b', subject: 'corrective-action/NC-1', kind: 'task.completed', clauses: ['10.2', 'A.3.3'], occurredAt: '2027-02-10T00:00:00Z' }));
        await store.append(sample({ id: 'c', subject: 'corrective-action/NC-2', kind: 'task.completed', clauses: ['A.3.3'], occurredAt: '2027-03-10T00:00:00Z' }));
        await store.append(sample({ id: 'd', subject: 'management-review/2027', kind: 'approval.decided', clauses: ['9.3'], occurredAt: '2027-04-10T00:00:00Z' }));
        await store.append(sample({ id: 'e', subject: 'corrective_action/NC-3', kind: 'task.completed', clauses: [], occurredAt: '2027-05-10T00:00:00Z' }));
        await store.append(sample({ id: 'f', subject: 'corrective-action%/x', kind: 'task.completed', clauses: [], occurredAt: '2027-05-10T00:00:00Z' }));
        const ids = async (filter: Parameters<RecordsStore['list']>[0]) => (await store.list(filter)).map((r) => r.id);

        expect(await ids({})).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
        expect(await ids({ subject: 'corrective-action/NC-1' })).toEqual(['a', 'b']);
        expect(await ids({ subjectPrefix: 'corrective-action/' })).toEqual(['a', 'b', 'c']);
        // LIKE wildcards in a prefix are literal characters.
        expect(await ids({ subjectPrefix: 'corrective_action/' })).toEqual(['e']);
        expect(await ids({ subjectPrefix: 'corrective-action%' })).toEqual(['f']);
        expect(await ids({ kind: 'task.completed' })).toEqual(['b', 'c', 'e', 'f']);
        expect(await ids({ clause: 'A.3.3' })).toEqual(['b', 'c']);
        expect(await ids({ clause: '10.2', kind: 'task.completed' })).toEqual(['b']);
        expect(await ids({ from: '2027-02-10T00:00:00Z', to: '2027-04-10T00:00:00Z' })).toEqual(['b', 'c']);
        expect(await ids({ from: '2027-04-01T00:00:00+02:00' })).toEqual(['d', 'e', 'f']);
        expect(await ids({ afterSeq: 4 })).toEqual(['e', 'f']);
        expect(await ids({ afterSeq: 1, limit: 2 })).toEqual(['b', 'c']);
        expect(await ids({ subject: 'nobody' })).toEqual([]);
      });

      it('returns 100 records by default and up to 1000 on request', async () => {
        await appendMany(store, 120);
        const page = await store.list();
        expect(page).toHaveLength(100);
        expect(page.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
        expect(await store.list({ limit: 1000 })).toHaveLength(120);
      });
    });

    describe('concurrency', () => {
      it('keeps the chain gapless and unbroken under 50 parallel appends', async () => {
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.append(sample({ content: { i } }))));
        expect(results.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
        const listed = await store.list({ limit: 1000 });
        for (let i = 1; i < listed.length; i++) expect(listed[i]?.prevHash).toBe(listed[i - 1]?.hash);
        expect(await store.verify()).toEqual({ ok: true, records: 50, head: listed.at(-1)?.hash });
      });

      it('keeps one chain when two stores on the same database append at once', async () => {
        const other = await t.reopen();
        extra.push(other);
        await Promise.all(
          Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? store : other).append(sample({ content: { i } }))),
        );
        expect(await store.verify()).toMatchObject({ ok: true, records: 40 });
        expect(await other.verify()).toMatchObject({ ok: true, records: 40 });
      });
    });

    describe('append-only at the database level', () => {
      it('refuses UPDATE, DELETE and TRUNCATE of records', async () => {
        await appendMany(store, 3);
        await expect(t.sql(`UPDATE evidence_records SET actor = 'mallory' WHERE seq = 2`)).rejects.toThrow(/append-only: UPDATE refused/);
        await expect(t.sql('DELETE FROM evidence_records WHERE seq = 3')).rejects.toThrow(/append-only: DELETE refused/);
        await expect(t.sql('TRUNCATE evidence_records CASCADE')).rejects.toThrow(/append-only: TRUNCATE refused/);
        expect(await store.verify()).toMatchObject({ ok: true, records: 3 });
      });

      it('refuses moving or deleting the ledger head', async () => {
        const [, second] = await appendMany(store, 3);
        await expect(t.sql('UPDATE ledger_head SET seq = 2, hash = $1', [second?.hash])).rejects.toThrow(/ledger_head may only advance/);
        await expect(t.sql('DELETE FROM ledger_head')).rejects.toThrow(/ledger_head is append-only/);
        await expect(t.sql('TRUNCATE ledger_head')).rejects.toThrow(/ledger_head is append-only/);
        expect(await store.verify()).toMatchObject({ ok: true, records: 3 });
      });
    });

    describe('verify', () => {
      it('passes on an empty ledger', async () => {
        expect(await store.verify()).toEqual({ ok: true, records: 0, head: GENESIS_HASH });
      });

      it('passes across several pages', async () => {
        const all = await appendMany(store, 1203);
        expect(await store.verify()).toEqual({ ok: true, records: 1203, head: all.at(-1)?.hash });
      });

      it('detects edited content', async () => {
        await appendMany(store, 8);
        await tamper(t.sql, `UPDATE evidence_records SET content = '{"forged":true}' WHERE seq = 5`);
        expect(await store.verify()).toEqual({
          ok: false,
          records: 4,
          brokenAt: 5,
          reason: 'record 5: content hash mismatch (content edited)',
        });
      });

      it('detects an edited actor', async () => {
        await appendMany(store, 8);
        await tamper(t.sql, `UPDATE evidence_records SET actor = 'mallory' WHERE seq = 3`);
        expectBroken(await store.verify(), { brokenAt: 3, reason: /^record 3: hash mismatch/ });
      });

      it('detects a record rewritten with recomputed hashes by the broken link after it', async () => {
        const records = await appendMany(store, 8);
        const victim = records[3]!;
        const forged = { ...victim, actor: 'mallory', content: { forged: true }, contentHash: contentHashOf({ forged: true }) };
        forged.hash = recordHashOf(forged);
        await tamper(t.sql, `UPDATE evidence_records SET actor = 'mallory', content = '{"forged":true}', content_hash = '${forged.contentHash}', hash = '${forged.hash}' WHERE seq = 4`);
        expect(await store.verify()).toMatchObject({ ok: false, brokenAt: 5, reason: 'record 5: prev_hash does not match record 4' });
      });

      it('detects a record deleted in the middle', async () => {
        await appendMany(store, 10);
        await tamper(t.sql, 'DELETE FROM evidence_records WHERE seq = 7');
        expectBroken(await store.verify(), { records: 6, brokenAt: 7, reason: /^record 7 missing/ });
      });

      it('detects the first record deleted', async () => {
        await appendMany(store, 3);
        await tamper(t.sql, 'DELETE FROM evidence_records WHERE seq = 1');
        expectBroken(await store.verify(), { records: 0, brokenAt: 1, reason: /^record 1 missing/ });
      });

      it('detects the last record deleted, through the ledger head', async () => {
        await appendMany(store, 10);
        await tamper(t.sql, 'DELETE FROM evidence_records WHERE seq = 10');
        expect(await store.verify()).toEqual({
          ok: false,
          records: 9,
          brokenAt: 10,
          reason: 'record 10 missing (the ledger head is at record 10)',
        });
      });

      it('detects a deleted ledger head', async () => {
        await appendMany(store, 4);
        await tamper(t.sql, 'DELETE FROM ledger_head');
        expectBroken(await store.verify(), { records: 4, brokenAt: 5, reason: /^ledger head missing/ });
      });

      it('detects a record slipped in past the ledger head', async () => {
        const [, , third] = await appendMany(store, 3);
        const forged = { ...sample(), seq: 4, prevHash: third!.hash, contentHash: contentHashOf({ x: 1 }), hash: '' };
        forged.hash = recordHashOf(forged);
        await t.sql(
          `INSERT INTO evidence_records (seq, id, kind, subject, clauses, actor, occurred_at, content, content_hash, prev_hash, hash)
           VALUES (4, $1, 'x', 's', '{}', 'a', now(), '{"x":1}', $2, $3, $4)`,
          [forged.id, forged.contentHash, forged.prevHash, forged.hash],
        );
        expect(await store.verify()).toMatchObject({ ok: false, records: 3, brokenAt: 4, reason: 'record 4 is beyond the ledger head (inserted outside the store)' });
      });
    });

    describe('migrations', () => {
      it('are applied once and reopening keeps the records', async () => {
        const first = await store.append(sample());
        const again = await t.reopen();
        extra.push(again);
        expect(await again.get(first.id)).toEqual(first);
        const versions = await t.sql('SELECT version FROM schema_migrations ORDER BY version');
        expect(versions.map((r) => Number(r.version))).toEqual([1, 2, 3, 4]);
        expect((await again.append(sample())).seq).toBe(2);
      });
    });

    describe('notifications', () => {
      it('finds nothing, remembers once and keeps the first entry', async () => {
        expect(await store.notifications.find('mail/ca-1/reminder-1')).toBeUndefined();
        const sent = { notificationId: 'mail/ca-1/reminder-1', messageId: '<m1@aimsflow>', recipients: ['a@example.org', 'b@example.org'], sentAt: '2027-03-01T09:00:00.000Z' };
        await store.notifications.remember(sent);
        await store.notifications.remember({ ...sent, messageId: '<m2@aimsflow>' });
        expect(await store.notifications.find(sent.notificationId)).toEqual(sent);
        const rows = await t.sql('SELECT count(*)::int AS n FROM sent_notifications');
        expect(rows[0]?.n).toBe(1);
      });

      it('rejects a bad entry naming the field', async () => {
        await expect(
          store.notifications.remember({ notificationId: 'n', messageId: 'm', recipients: ['a@example.org'], sentAt: 'now' }),
        ).rejects.toThrow(/invalid sent notification: sentAt:/);
        await expect(
          store.notifications.remember({ notificationId: '', messageId: 'm', recipients: [], sentAt: '2027-03-01T09:00:00Z' }),
        ).rejects.toThrow(/notificationId: must not be empty/);
      });
    });

    describe('organization versions', () => {
      const doc = (name: string) => ({ organization: { name }, people: [{ id: 'ana' }] });
      const hash = (n: number) => String(n).repeat(64).slice(0, 64);

      it('accepts a version once, keeps the newest in force, and accepts an earlier one again as a new version', async () => {
        expect(await store.organizations.latest()).toBeUndefined();
        const first = await store.organizations.accept({ hash: hash(1), document: doc('Northwind'), acceptedBy: 'system', reason: 'start' });
        expect(first).toMatchObject({ seq: 1, hash: hash(1), document: doc('Northwind'), acceptedBy: 'system', reason: 'start', created: true });
        expect(await store.organizations.accept({ hash: hash(1), document: doc('Northwind'), acceptedBy: 'priya.raman', reason: 'again' })).toMatchObject({ seq: 1, created: false });
        const second = await store.organizations.accept({ hash: hash(2), document: doc('Northwind Ltd'), acceptedBy: 'priya.raman', reason: 'renamed' });
        expect(second).toMatchObject({ seq: 2, created: true });
        const back = await store.organizations.accept({ hash: hash(1), document: doc('Northwind'), acceptedBy: 'priya.raman', reason: 'reverted' });
        expect(back).toMatchObject({ seq: 3, hash: hash(1), created: true });
        expect(await store.organizations.latest()).toMatchObject({ seq: 3, reason: 'reverted', document: doc('Northwind') });
      });

      it('accepts the same new version once when two processes accept it at once', async () => {
        const results = await Promise.all(
          Array.from({ length: 5 }, () => store.organizations.accept({ hash: hash(7), document: doc('Same'), acceptedBy: 'system', reason: 'worker start' })),
        );
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.seq))).toEqual(new Set([1]));
      });

      it('refuses a version without a sha256 hash', async () => {
        await expect(store.organizations.accept({ hash: 'nope', document: {}, acceptedBy: 'system', reason: 'x' })).rejects.toThrow(/hash: must be a sha256 hex digest/);
      });
    });

    describe('sequence allocation', () => {
      it('numbers keys 1, 2, 3 per scope and gives a key the same number again', async () => {
        expect(await store.allocateSequence('nc/2027', 'audit-1/finding-1')).toBe(1);
        expect(await store.allocateSequence('nc/2027', 'audit-1/finding-2')).toBe(2);
        expect(await store.allocateSequence('nc/2027', 'audit-1/finding-1')).toBe(1);
        expect(await store.allocateSequence('nc/2028', 'audit-1/finding-1')).toBe(1);
        expect(await store.allocateSequence('nc/2027', 'incident-7')).toBe(3);
      });

      it('hands out gapless, distinct numbers under concurrency, one per key', async () => {
        const keys = Array.from({ length: 20 }, (_, i) => `k-${i % 10}`);
        const numbers = await Promise.all(keys.map((k) => store.allocateSequence('concurrent', k)));
        expect(new Set(numbers).size).toBe(10);
        expect([...new Set(numbers)].sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
        keys.forEach((k, i) => expect(numbers[i]).toBe(numbers[keys.indexOf(k)]));
      });

      it('rejects an empty scope or key naming the field', async () => {
        await expect(store.allocateSequence('', 'k')).rejects.toThrow(/scope: must be a non-empty string/);
        await expect(store.allocateSequence('s', ' ')).rejects.toThrow(/key: must be a non-empty string/);
      });
    });

    describe('export', () => {
      it('writes a framed NDJSON audit pack that re-verifies offline', async () => {
        const records = await appendMany(store, 5, (i) => ({ subject: i % 2 ? 'corrective-action/NC-9' : 'management-review/2027' }));
        const lines = await collect(exportRecords(store, {}, () => new Date('2027-06-01T00:00:00Z')));
        expect(lines.every((l) => l.endsWith('\n'))).toBe(true);
        const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(parsed[0]).toEqual({
          type: 'audit-pack',
          format: 1,
          exportedAt: '2027-06-01T00:00:00.000Z',
          filter: {},
          verification: { ok: true, records: 5, head: records.at(-1)?.hash },
        });
        expect(parsed.slice(1, -1)).toEqual(records.map((r) => ({ type: 'record', ...(JSON.parse(JSON.stringify(r)) as Record<string, unknown>) })));
        expect(parsed.at(-1)).toEqual({ type: 'end', records: 5 });
        expect(await verifyAuditPack(lines)).toEqual({ ok: true, records: 5, head: records.at(-1)?.hash });

        const edited = [...lines];
        edited[3] = edited[3]!.replace('"actor":"p.owner"', '"actor":"mallory"');
        const editedCheck = await verifyAuditPack(edited);
        expect(editedCheck).toMatchObject({ ok: false, line: 4 });
        expect(editedCheck.ok ? '' : editedCheck.reason).toMatch(/^record 3: hash mismatch/);
        expect(await verifyAuditPack(lines.slice(0, -1))).toMatchObject({ ok: false, reason: 'pack is cut off (no end marker)' });

        const filtered = await collect(exportRecords(store, { subjectPrefix: 'corrective-action/', limit: 2 }));
        const body = filtered.map((l) => JSON.parse(l) as { type: string; seq?: number });
        expect(body.filter((l) => l.type === 'record').map((l) => l.seq)).toEqual([1, 3]);
        expect(body.at(-1)).toEqual({ type: 'end', records: 2 });
      });

      it('pages through more records than one list call returns', async () => {
        await appendMany(store, 1005);
        const lines = await collect(exportRecords(store));
        expect(lines).toHaveLength(1007);
        expect(await verifyAuditPack(lines)).toMatchObject({ ok: true, records: 1005 });
      });

      it('reports a broken chain in the header and refuses a bad filter', async () => {
        await appendMany(store, 3);
        await tamper(t.sql, `UPDATE evidence_records SET content = '[]' WHERE seq = 2`);
        const [header] = await collect(exportRecords(store));
        expect(JSON.parse(header!)).toMatchObject({ verification: { ok: false, brokenAt: 2 } });
        await expect(collect(exportRecords(store, { limit: 0 }))).rejects.toThrow(/limit: must be a whole number/);
        await expect(collect(exportRecords(store, { clause: 'ten' }))).rejects.toThrow(/clause: must be a clause/);
      });
    });

    describe('appendRecord activity', () => {
      it('appends idempotently and fails a conflicting or bad record without retries', async () => {
        const activities = createRecordActivities({ store });
        const appendRecord = (r: NewRecord) => activities.appendRecord(r);
        const input = sample();
        const first = await appendRecord(input);
        expect(first).toEqual({ id: input.id, seq: 1, hash: (await store.get(input.id))?.hash });
        expect(await appendRecord(input)).toEqual(first);

        const conflict = await appendRecord({ ...input, content: 'changed' }).catch((err: unknown) => err);
        expect(conflict).toBeInstanceOf(ApplicationFailure);
        expect(conflict).toMatchObject({ nonRetryable: true, type: 'RecordConflictError' });

        const bad = await appendRecord({ ...sample(), kind: '' }).catch((err: unknown) => err);
        expect(bad).toMatchObject({ nonRetryable: true, type: 'RecordValidationError' });
        expect((bad as Error).message).toMatch(/kind: must not be empty/);
      });
    });

    describe('lifecycle', () => {
      it('answers ping and refuses use after close', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
        const other = await t.reopen();
        await other.close();
        await other.close();
        await expect(other.ping()).rejects.toThrow(RecordsStoreClosedError);
        await expect(other.append(sample())).rejects.toThrow(/records store is closed/);
        await expect(store.ping()).resolves.toBeUndefined();
      });
    });
  });
}
