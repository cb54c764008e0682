/**
 * The records store contract, run against every backend (PGlite in memory, real PostgreSQL)
 * by test/records.test.ts and test/records-postgres.test.ts.
 */
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRecordActivities } from '../../activities/records.js';
import { runCli } from '../../src/cli/index.js';
import { RecordConflictError, RecordsStoreClosedError, RecordValidationError } from '../../src/records/errors.js';
import { exportRecords, verifyAuditPack } from '../../src/records/export.js';
import { GENESIS_HASH, contentHashOf, recordHashOf, sha256Hex } from '../../src/records/hash.js';
import type { Sql } from '../../src/records/driver.js';
import type { BreakKind, EvidenceRecord, NewRecord, RecordsStore, VerifyResult } from '../../src/records/types.js';
import { LedgerWatch, MAX_REPORTED_BREAKS } from '../../src/records/verify.js';
import { buildTestApp, TEST_ADMIN_KEY, type TestApp } from './api.js';

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

/** The breaks of a failed verification, in order: seq, and id, kinds and reason where given. */
function expectBreaks(
  result: VerifyResult,
  expected: Array<{ seq: number; id?: string | null; kinds: BreakKind[]; reason?: string | RegExp }>,
): void {
  expect(result.ok).toBe(false);
  expect(result.breakCount).toBe(expected.length);
  expect(result.breaks.map((b) => b.seq)).toEqual(expected.map((e) => e.seq));
  expected.forEach((e, i) => {
    const actual = result.breaks[i]!;
    expect(actual.kinds).toEqual(e.kinds);
    if (e.id !== undefined) expect(actual.id).toBe(e.id);
    if (typeof e.reason === 'string') expect(actual.reason).toBe(e.reason);
    else if (e.reason) expect(actual.reason).toMatch(e.reason);
  });
  if (!result.ok) {
    expect(result.brokenAt).toBe(expected[0]?.seq);
    expect(result.reason).toBe(result.breaks[0]?.reason);
  }
}

/** Rewrites a record the way a careful forger would: new actor and content, hashes recomputed. */
async function forge(sql: RawSql, victim: EvidenceRecord): Promise<void> {
  const forged = { ...victim, actor: 'mallory', content: { forged: true }, contentHash: contentHashOf({ forged: true }) };
  forged.hash = recordHashOf(forged);
  await tamper(
    sql,
    `UPDATE evidence_records SET actor = 'mallory', content = '{"forged":true}', content_hash = '${forged.contentHash}', hash = '${forged.hash}' WHERE seq = ${victim.seq}`,
  );
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
        expect(await store.verify()).toMatchObject({ ok: true, records: 50, head: listed.at(-1)?.hash, verifiedThrough: 50, breakCount: 0 });
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
        expect(await store.verify()).toEqual({ ok: true, records: 0, head: GENESIS_HASH, verifiedThrough: 0, breaks: [], breakCount: 0 });
      });

      it('passes across several pages, and counts every break of a ledger edited throughout while listing the first 1000', async () => {
        const all = await appendMany(store, 1203);
        expect(await store.verify()).toEqual({ ok: true, records: 1203, head: all.at(-1)?.hash, verifiedThrough: 1203, breaks: [], breakCount: 0 });
        await tamper(t.sql, `UPDATE evidence_records SET content = '{"forged":true}' WHERE seq > 3`);
        const result = await store.verify();
        expect(result).toMatchObject({ ok: false, records: 1203, verifiedThrough: 3, brokenAt: 4, breakCount: 1200 });
        expect(result.breaks).toHaveLength(MAX_REPORTED_BREAKS);
        expect(result.breaks[0]).toEqual({ seq: 4, id: all[3]!.id, kinds: ['content-hash'], reason: 'record 4: content hash mismatch (content edited)' });
        expect(result.breaks.at(-1)).toMatchObject({ seq: 1003, id: all[1002]!.id, kinds: ['content-hash'] });
      });

      it('detects edited content', async () => {
        const records = await appendMany(store, 8);
        await tamper(t.sql, `UPDATE evidence_records SET content = '{"forged":true}' WHERE seq = 5`);
        const reason = 'record 5: content hash mismatch (content edited)';
        expect(await store.verify()).toEqual({
          ok: false,
          records: 8,
          head: records[7]!.hash,
          verifiedThrough: 4,
          breaks: [{ seq: 5, id: records[4]!.id, kinds: ['content-hash'], reason }],
          breakCount: 1,
          brokenAt: 5,
          reason,
        });
      });

      it('lists two tampered records with different breaks by seq and id, in one pass', async () => {
        const records = await appendMany(store, 10);
        await tamper(t.sql, `UPDATE evidence_records SET content = '"edited"' WHERE seq = 3; UPDATE evidence_records SET actor = 'mallory' WHERE seq = 7`);
        const result = await store.verify();
        expectBreaks(result, [
          { seq: 3, id: records[2]!.id, kinds: ['content-hash'] },
          { seq: 7, id: records[6]!.id, kinds: ['record-hash'], reason: /^record 7: hash mismatch \(id, kind, subject, clauses, actor/ },
        ]);
        expect(result).toMatchObject({ records: 10, verifiedThrough: 2, brokenAt: 3 });
      });

      it('detects an edited actor, and no longer vouches for the record before it', async () => {
        await appendMany(store, 8);
        await tamper(t.sql, `UPDATE evidence_records SET actor = 'mallory' WHERE seq = 3`);
        const result = await store.verify();
        expectBreaks(result, [{ seq: 3, kinds: ['record-hash'], reason: /^record 3: hash mismatch/ }]);
        // Record 3's prev_hash is covered by its broken hash, so it no longer confirms record 2.
        expect(result.verifiedThrough).toBe(1);
      });

      it('detects a record rewritten with recomputed hashes by the broken link after it, and does not vouch for the rewritten one', async () => {
        const records = await appendMany(store, 8);
        await forge(t.sql, records[3]!);
        const result = await store.verify();
        expectBreaks(result, [
          { seq: 5, id: records[4]!.id, kinds: ['prev-link'], reason: 'record 5: prev_hash does not match record 4 (that record was rewritten, or this link edited)' },
        ]);
        expect(result.verifiedThrough).toBe(3);
      });

      it('detects a record deleted in the middle', async () => {
        const records = await appendMany(store, 10);
        await tamper(t.sql, 'DELETE FROM evidence_records WHERE seq = 7');
        const result = await store.verify();
        expectBreaks(result, [{ seq: 8, id: records[7]!.id, kinds: ['seq-gap'], reason: 'record 8: record 7 missing before it (seq gap)' }]);
        expect(result).toMatchObject({ records: 9, verifiedThrough: 5 });
      });

      it('detects the first record deleted', async () => {
        await appendMany(store, 3);
        await tamper(t.sql, 'DELETE FROM evidence_records WHERE seq = 1');
        const result = await store.verify();
        expectBreaks(result, [{ seq: 2, kinds: ['seq-gap'], reason: /^record 2: record 1 missing before it/ }]);
        expect(result.verifiedThrough).toBe(0);
      });

      it('detects the last records deleted, through the ledger head', async () => {
        await appendMany(store, 10);
        await tamper(t.sql, 'DELETE FROM evidence_records WHERE seq >= 9');
        const result = await store.verify();
        expectBreaks(result, [{ seq: 9, id: null, kinds: ['missing'], reason: 'records 9–10 missing (the ledger head is at record 10)' }]);
        expect(result).toMatchObject({ records: 8, verifiedThrough: 7 });
      });

      it('detects the last record rewritten, through the ledger head', async () => {
        const records = await appendMany(store, 4);
        await forge(t.sql, records[3]!);
        const result = await store.verify();
        expectBreaks(result, [{ seq: 4, id: records[3]!.id, kinds: ['head-mismatch'], reason: /^record 4: hash does not match the ledger head/ }]);
        expect(result.verifiedThrough).toBe(3);
      });

      it('detects a deleted ledger head', async () => {
        await appendMany(store, 4);
        await tamper(t.sql, 'DELETE FROM ledger_head');
        const result = await store.verify();
        expectBreaks(result, [{ seq: 5, id: null, kinds: ['head-missing'], reason: /^ledger head missing \(deleted outside the store\): record 4 cannot be confirmed/ }]);
        expect(result).toMatchObject({ records: 4, verifiedThrough: 3 });
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
        const result = await store.verify();
        expectBreaks(result, [{ seq: 4, id: forged.id, kinds: ['beyond-head'], reason: 'record 4: beyond the ledger head (inserted outside the store)' }]);
        expect(result).toMatchObject({ records: 3, verifiedThrough: 3 });
      });

      it('finds every kind of break in one pass', async () => {
        const records = await appendMany(store, 12);
        await forge(t.sql, records[5]!);
        await tamper(
          t.sql,
          `UPDATE evidence_records SET content = '{}' WHERE seq = 2; UPDATE evidence_records SET subject = 'elsewhere' WHERE seq = 4;
           DELETE FROM evidence_records WHERE seq = 9; DELETE FROM evidence_records WHERE seq = 12`,
        );
        const result = await store.verify();
        expectBreaks(result, [
          { seq: 2, id: records[1]!.id, kinds: ['content-hash'] },
          { seq: 4, id: records[3]!.id, kinds: ['record-hash'] },
          { seq: 7, id: records[6]!.id, kinds: ['prev-link'] },
          { seq: 10, id: records[9]!.id, kinds: ['seq-gap'] },
          { seq: 12, id: null, kinds: ['missing'] },
        ]);
        expect(result).toMatchObject({ records: 10, verifiedThrough: 1, brokenAt: 2 });
      });
    });

    describe('reads', () => {
      it('mark every record verified on an untampered ledger', async () => {
        const records = await appendMany(store, 5);
        const read = await store.read();
        expect(read.ledger).toEqual({ intact: true, verifiedThrough: 5 });
        expect(read.records).toEqual(records.map((r) => ({ ...r, verified: true })));
        expect(await store.check(await store.list({ afterSeq: 3 }))).toEqual({
          records: records.slice(3).map((r) => ({ ...r, verified: true })),
          ledger: { intact: true, verifiedThrough: 5 },
        });
      });

      it('mark records from the first break on as unverified, also when the read returns neither tampered record', async () => {
        await appendMany(store, 10, (i) => ({ subject: i % 2 ? 'corrective-action/NC-1' : 'management-review/2027' }));
        expect((await store.read()).ledger.intact).toBe(true);
        await tamper(t.sql, `UPDATE evidence_records SET content = '"edited"' WHERE seq = 3; UPDATE evidence_records SET actor = 'mallory' WHERE seq = 7`);

        const later = await store.read({ afterSeq: 7 });
        expect(later.records.map((r) => [r.seq, r.verified])).toEqual([[8, false], [9, false], [10, false]]);
        expect(later.ledger).toEqual({
          intact: false,
          verifiedThrough: 2,
          note: "The evidence ledger's hash chain is broken: records from seq 3 on are unverified. `aimsflow records verify` (GET /admin/records/verify) lists every break.",
        });
        const reviews = await store.read({ subject: 'management-review/2027' });
        expect(reviews.records.map((r) => [r.seq, r.verified])).toEqual([[2, true], [4, false], [6, false], [8, false], [10, false]]);
        // Records appended after the break are not vouched for either.
        const appended = await store.append(sample());
        expect((await store.read({ afterSeq: 10 })).records).toEqual([{ ...appended, verified: false }]);
      });

      it('do not vouch for a record rewritten with recomputed hashes', async () => {
        const records = await appendMany(store, 6);
        await store.read();
        await forge(t.sql, records[3]!);
        const read = await store.read({ afterSeq: 2 });
        expect(read.records.map((r) => [r.seq, r.verified])).toEqual([[3, true], [4, false], [5, false], [6, false]]);
      });

      it('hash only records appended since the last check, and the whole chain again after any change in the database', async () => {
        await appendMany(store, 10);
        let hashed = 0;
        let probes = 0;
        const sql: Sql = {
          async query<T extends Record<string, unknown>>(text: string, params?: unknown[]) {
            const rows = await t.sql(text, params);
            if (text.includes('row_version')) hashed += rows.length;
            if (text.includes('xmin_sum')) probes += 1;
            return rows as T[];
          },
          async exec(text: string) {
            await t.sql(text);
          },
        };
        const watch = new LedgerWatch(() => sql);
        const checked = async () => {
          hashed = 0;
          const status = await watch.status();
          return { hashed, ...status };
        };
        expect(await checked()).toEqual({ hashed: 10, intact: true, verifiedThrough: 10 });
        expect(await checked()).toEqual({ hashed: 0, intact: true, verifiedThrough: 10 });
        const more = await appendMany(store, 5);
        expect(await checked()).toEqual({ hashed: 5, intact: true, verifiedThrough: 15 });

        await tamper(t.sql, `UPDATE evidence_records SET content = '[]' WHERE seq = 12`);
        expect(await checked()).toMatchObject({ hashed: 15, intact: false, verifiedThrough: 11 });
        // Past a break, appended records are unverified anyway: nothing is hashed.
        await appendMany(store, 2);
        expect(await checked()).toMatchObject({ hashed: 0, intact: false, verifiedThrough: 11 });
        // Putting the content back is a change in the database too: the whole chain is verified again.
        expect(more[1]!.seq).toBe(12);
        await tamper(t.sql, `UPDATE evidence_records SET content = '${JSON.stringify(more[1]!.content)}' WHERE seq = 12`);
        expect(await checked()).toEqual({ hashed: 17, intact: true, verifiedThrough: 17 });
        // Tampering with the head alone is caught as well.
        await tamper(t.sql, 'DELETE FROM ledger_head');
        expect(await checked()).toMatchObject({ hashed: 17, intact: false, verifiedThrough: 16 });

        // Callers arriving together share one check.
        probes = 0;
        await Promise.all([watch.status(), watch.status(), watch.status()]);
        expect(probes).toBe(1);
      });
    });

    describe('migrations', () => {
      it('are applied once and reopening keeps the records', async () => {
        const first = await store.append(sample());
        const again = await t.reopen();
        extra.push(again);
        expect(await again.get(first.id)).toEqual(first);
        const versions = await t.sql('SELECT version FROM schema_migrations ORDER BY version');
        expect(versions.map((r) => Number(r.version))).toEqual([1, 2, 3, 4, 5]);
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
          format: 2,
          exportedAt: '2027-06-01T00:00:00.000Z',
          filter: {},
          verification: { ok: true, records: 5, head: records.at(-1)?.hash, verifiedThrough: 5, breaks: [], breakCount: 0 },
          ledgerHead: { seq: 5, hash: records.at(-1)?.hash, at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) as unknown },
        });
        expect(parsed.slice(1, -1)).toEqual(
          records.map((r) => ({ type: 'record', ...(JSON.parse(JSON.stringify(r)) as Record<string, unknown>), verified: true })),
        );
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

      it('lists every break in the header, marks records from the first break on, and refuses a bad filter', async () => {
        const records = await appendMany(store, 5);
        await tamper(t.sql, `UPDATE evidence_records SET content = '[]' WHERE seq = 2; UPDATE evidence_records SET kind = 'forged' WHERE seq = 4`);
        const [header, ...rest] = (await collect(exportRecords(store))).map((l) => JSON.parse(l) as { verification?: VerifyResult; seq?: number; verified?: boolean });
        expect(header).toMatchObject({ verification: { ok: false, brokenAt: 2, breakCount: 2, verifiedThrough: 1 } });
        expect(header!.verification!.breaks.map((b) => [b.seq, b.id, b.kinds])).toEqual([
          [2, records[1]!.id, ['content-hash']],
          [4, records[3]!.id, ['record-hash']],
        ]);
        expect(rest.slice(0, -1).map((l) => [l.seq, l.verified])).toEqual([[1, true], [2, false], [3, false], [4, false], [5, false]]);
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

    describe('through the admin API and the CLI', () => {
      let app: TestApp;
      let env: Record<string, string>;
      beforeEach(async () => {
        app = await buildTestApp({ records: store });
        env = { AIMSFLOW_API_URL: await app.app.listen({ host: '127.0.0.1', port: 0 }), AIMSFLOW_ADMIN_KEY: TEST_ADMIN_KEY };
      });
      afterEach(async () => {
        await app.close();
      });
      const cli = async (...argv: string[]) => {
        const out: string[] = [];
        const err: string[] = [];
        const code = await runCli(argv, { env, out: (l) => out.push(l), err: (l) => err.push(l) });
        return { code, out: out.join('\n'), err: err.join('\n') };
      };
      const get = async (url: string) => {
        const res = await app.app.inject({ method: 'GET', url, headers: app.adminHeaders });
        expect(res.statusCode, res.body).toBe(200);
        return res;
      };

      it('read an untampered ledger as verified', async () => {
        await appendMany(store, 4);
        const page = (await get('/admin/records')).json<{ records: Array<{ verified: boolean }>; ledger: unknown }>();
        expect(page.records.map((r) => r.verified)).toEqual([true, true, true, true]);
        expect(page.ledger).toEqual({ intact: true, verifiedThrough: 4 });
        expect((await get('/admin/records/verify')).json()).toMatchObject({ ok: true, records: 4, verifiedThrough: 4, breaks: [], breakCount: 0 });

        expect(await cli('records', 'verify')).toEqual({ code: 0, out: 'ledger intact: 4 records', err: '' });
        const listed = await cli('records', 'list');
        expect(listed.code).toBe(0);
        const lines = listed.out.split('\n');
        expect(lines).toHaveLength(4);
        for (const line of lines) expect(line).toMatch(/^\s+\d+ {2}verified {4}2027-/);
        expect(listed.out).not.toMatch(/UNVERIFIED|Note:/);
      });

      it('list two tampered records by seq and id, and flag records from the first break on in every read', async () => {
        const records = await appendMany(store, 6);
        await tamper(t.sql, `UPDATE evidence_records SET content = '{"forged":true}' WHERE seq = 2; UPDATE evidence_records SET actor = 'mallory' WHERE seq = 5`);

        const verified = (await get('/admin/records/verify')).json<VerifyResult>();
        expectBreaks(verified, [
          { seq: 2, id: records[1]!.id, kinds: ['content-hash'], reason: 'record 2: content hash mismatch (content edited)' },
          { seq: 5, id: records[4]!.id, kinds: ['record-hash'] },
        ]);
        expect(verified).toMatchObject({ ok: false, records: 6, verifiedThrough: 1 });

        const page = (await get('/admin/records?limit=3')).json<{ records: Array<{ seq: number; verified: boolean }>; nextAfterSeq: number; ledger: { note: string } }>();
        expect(page.records.map((r) => [r.seq, r.verified])).toEqual([[1, true], [2, false], [3, false]]);
        expect(page.ledger).toMatchObject({ intact: false, verifiedThrough: 1 });
        expect(page.ledger.note).toMatch(/records from seq 2 on are unverified/);

        const pack = (await get('/admin/records/export')).body.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; seq?: number; verified?: boolean; verification?: VerifyResult });
        expect(pack[0]?.verification?.breaks.map((b) => [b.seq, b.id])).toEqual([[2, records[1]!.id], [5, records[4]!.id]]);
        expect(pack.filter((l) => l.type === 'record').map((l) => l.verified)).toEqual([true, false, false, false, false, false]);

        const text = await cli('records', 'verify');
        expect(text.code).toBe(1);
        expect(text.out.split('\n')).toEqual([
          'ledger broken: 2 broken records among 6 read; verified through record 1, records from seq 2 on are unverified',
          `  seq 2  ${records[1]!.id}  content-hash: content hash mismatch (content edited)`,
          `  seq 5  ${records[4]!.id}  record-hash: hash mismatch (id, kind, subject, clauses, actor, occurredAt, contentHash or prevHash edited)`,
        ]);
        expect(text.err).toBe('aimsflow: the evidence ledger failed verification: 2 broken records, first at seq 2');
        const json = await cli('--json', 'records', 'verify');
        expect(json.code).toBe(1);
        expect((JSON.parse(json.out) as VerifyResult).breaks.map((b) => b.id)).toEqual([records[1]!.id, records[4]!.id]);

        const listed = await cli('records', 'list', '--after-seq', '1', '--limit', '2');
        expect(listed.code).toBe(0);
        const lines = listed.out.split('\n');
        expect(lines.slice(0, 2).map((l) => /^\s+(\d+) {2}(\S+)/.exec(l)?.slice(1))).toEqual([['2', 'UNVERIFIED'], ['3', 'UNVERIFIED']]);
        expect(lines.slice(2)).toEqual([
          'More: add --after-seq 3',
          "Note: The evidence ledger's hash chain is broken: records from seq 2 on are unverified. `aimsflow records verify` (GET /admin/records/verify) lists every break.",
        ]);
        const bad = await cli('records', 'list', '--from', 'yesterday');
        expect(bad.code).toBe(1);
        expect(bad.err).toMatch(/GET \/admin\/records\?from=yesterday: 400/);
        expect(bad.err).toMatch(/^ {2}from: /m);
      });

      it('describe the breaks and the flags in the OpenAPI document', async () => {
        type Schema = { type?: string | string[]; properties?: Record<string, Schema>; items?: Schema; anyOf?: Schema[]; oneOf?: Schema[]; required?: string[] };
        const doc = (await app.app.inject({ method: 'GET', url: '/openapi.json' })).json<{
          paths: Record<string, { get: { responses: Record<string, { content: Record<string, { schema: Schema }> }> } }>;
        }>();
        const ok = (path: string) => doc.paths[path]!.get.responses['200']!.content['application/json']!.schema;
        const verify = ok('/admin/records/verify');
        const variants = verify.oneOf ?? verify.anyOf ?? [];
        expect(variants).toHaveLength(2);
        for (const variant of variants) {
          expect(variant.required).toEqual(expect.arrayContaining(['ok', 'records', 'verifiedThrough', 'breaks', 'breakCount']));
          expect(Object.keys(variant.properties!.breaks!.items!.properties!)).toEqual(['seq', 'id', 'kinds', 'reason']);
        }
        const list = ok('/admin/records');
        expect(list.properties!.records!.items!.properties!.verified).toMatchObject({ type: 'boolean' });
        expect(Object.keys(list.properties!.ledger!.properties!)).toEqual(['intact', 'verifiedThrough', 'note']);
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
