/**
 * The anchored ledger head: captured and mailed outside the database by a scheduled workflow,
 * written into the management-review pack and the audit pack, and checked by verify. The tamper
 * test rebuilds the chain after a change, as a database owner can: plain verify passes (the
 * limit of a hash chain without a copy of the head kept elsewhere), verify with the last anchor
 * fails naming the changed record; on PGlite and on a real PostgreSQL.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManagementReviewActivities } from '../activities/management-review.js';
import { runCli } from '../src/cli/index.js';
import { ensureLedgerAnchorSchedule, ledgerAnchorScheduleId, triggerLedgerAnchor } from '../src/ledger-anchor/schedule.js';
import { LEDGER_ANCHOR_WORKFLOW, type LedgerAnchorResult } from '../src/ledger-anchor/contract.js';
import { renderPackHtml } from '../src/management-review/pack.js';
import type { ReviewPack } from '../src/management-review/schema.js';
import { anchorFile, anchorText, parseAnchors } from '../src/records/anchors.js';
import { exportRecords, verifyAuditPack } from '../src/records/export.js';
import { contentHashOf, recordHashOf } from '../src/records/hash.js';
import { openRecordsStore } from '../src/records/store.js';
import type { AnchorRef, LedgerAnchor, RecordsStore, VerifyResult } from '../src/records/types.js';
import { buildTestApp, TEST_ADMIN_KEY } from './helpers/api.js';
import { recordHistory } from './helpers/histories.js';
import { postgresAvailable, startPostgres, type TestPostgres } from './helpers/postgres.js';
import { sample, type RawSql } from './helpers/records-suite.js';
import { startTestStack, type TestStack } from './helpers/temporal.js';

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

const ref = (a: { seq: number; hash: string }): AnchorRef => ({ seq: a.seq, hash: a.hash });

/**
 * What a database owner can do: drop the triggers, change the content of record `seq`, recompute
 * its content hash and the hash of it and of every later record, move the ledger head to the new
 * last hash, and create the triggers again.
 */
async function rebuildChainAfterChange(sql: RawSql, seq: number, content: unknown): Promise<void> {
  await sql('DROP TRIGGER evidence_records_append_only ON evidence_records');
  await sql('DROP TRIGGER ledger_head_advance_only ON ledger_head');
  try {
    await sql('UPDATE evidence_records SET content = $1::text::jsonb, content_hash = $2 WHERE seq = $3', [JSON.stringify(content), contentHashOf(content), seq]);
    const [before] = await sql('SELECT hash FROM evidence_records WHERE seq = $1', [seq - 1]);
    let prevHash = seq === 1 ? '0'.repeat(64) : String(before!.hash);
    const rows = await sql('SELECT seq, id, kind, subject, clauses, actor, occurred_at, content_hash FROM evidence_records WHERE seq >= $1 ORDER BY seq', [seq]);
    for (const row of rows) {
      const hash = recordHashOf({
        seq: Number(row.seq),
        id: String(row.id),
        kind: String(row.kind),
        subject: String(row.subject),
        clauses: row.clauses as string[],
        actor: String(row.actor),
        occurredAt: new Date(row.occurred_at as string).toISOString(),
        contentHash: String(row.content_hash),
        prevHash,
      });
      await sql('UPDATE evidence_records SET prev_hash = $1, hash = $2 WHERE seq = $3', [prevHash, hash, row.seq]);
      prevHash = hash;
    }
    await sql('UPDATE ledger_head SET hash = $1', [prevHash]);
  } finally {
    await sql(`CREATE TRIGGER evidence_records_append_only BEFORE UPDATE OR DELETE ON evidence_records
                 FOR EACH ROW EXECUTE FUNCTION evidence_records_refuse_change()`);
    await sql(`CREATE TRIGGER ledger_head_advance_only BEFORE UPDATE OR DELETE ON ledger_head
                 FOR EACH ROW EXECUTE FUNCTION ledger_head_guard()`);
  }
}

/** The same owner also rewrites the database's copy of the anchors to match the rebuilt chain. */
async function rewriteStoredAnchors(sql: RawSql): Promise<void> {
  await sql('ALTER TABLE ledger_anchors DISABLE TRIGGER USER');
  try {
    const anchors = await sql('SELECT seq, record_hashes FROM ledger_anchors');
    for (const a of anchors) {
      const [row] = await sql('SELECT hash FROM evidence_records WHERE seq = $1', [a.seq]);
      const hashes = (a.record_hashes as Array<[number, string]>).map(([s]) => s);
      const current = await sql('SELECT seq, hash FROM evidence_records WHERE seq = ANY($1::bigint[]) ORDER BY seq', [hashes]);
      await sql('UPDATE ledger_anchors SET hash = $1, record_hashes = $2::text::jsonb WHERE seq = $3', [
        row!.hash,
        JSON.stringify(current.map((c) => [Number(c.seq), String(c.hash)])),
        a.seq,
      ]);
    }
  } finally {
    await sql('ALTER TABLE ledger_anchors ENABLE TRIGGER USER');
  }
}

interface Backend {
  name: string;
  open(): Promise<{ store: RecordsStore; sql: RawSql; dispose: () => Promise<void> }>;
}

let postgres: TestPostgres | undefined;
const backends: Backend[] = [
  {
    name: 'PGlite',
    async open() {
      const db = await PGlite.create('memory://');
      const store = await openRecordsStore({ dataDir: 'memory://', pglite: db });
      return {
        store,
        sql: async (text, params) => (await db.query<Record<string, unknown>>(text, params)).rows,
        dispose: async () => {
          await store.close();
          await db.close();
        },
      };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      postgres ??= await startPostgres();
      if (!postgres) throw new Error('PostgreSQL is a prerequisite of the tests: install it (apt-get install -y postgresql) or set TEST_DATABASE_URL');
      const url = await postgres.createDatabase();
      const store = await openRecordsStore({ dataDir: 'unused', databaseUrl: url });
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return {
        store,
        sql: async (text, params) => (await client.query(text, params)).rows as Record<string, unknown>[],
        dispose: async () => {
          await store.close();
          await client.end();
        },
      };
    },
  },
];

afterAll(async () => {
  await postgres?.stop();
}, 60_000);

function expectAnchorBreak(result: VerifyResult, seq: number, id: string | null, reason: RegExp): void {
  expect(result.ok).toBe(false);
  const brk = result.breaks.find((b) => b.kinds.includes('anchor-mismatch'));
  expect(brk, JSON.stringify(result.breaks)).toBeDefined();
  expect(brk).toMatchObject({ seq, id, kinds: ['anchor-mismatch'] });
  expect(brk!.reason).toMatch(reason);
  if (!result.ok) {
    expect(result.brokenAt).toBe(seq);
    expect(result.verifiedThrough).toBe(seq - 1);
  }
}

describe.each(backends)('anchored verification on $name', (backend) => {
  it(
    'the tamper test: after a change and a rebuilt chain plain verify passes, verify with the last anchor names the changed record',
    async () => {
      expect(postgresAvailable() || backend.name === 'PGlite').toBe(true);
      const { store, sql, dispose } = await backend.open();
      try {
        const records = [];
        for (let i = 0; i < 6; i++) records.push(await store.append(sample()));
        const first = (await store.anchors.capture())!;
        await store.anchors.published(first.seq, ['priya.raman']);
        for (let i = 0; i < 4; i++) records.push(await store.append(sample()));
        const last = (await store.anchors.capture())!;
        const lastPublished = await store.anchors.published(last.seq, ['priya.raman', 'ines.moreau']);
        expect([first.seq, last.seq]).toEqual([6, 10]);
        expect(last).toMatchObject({ previousSeq: 6, hash: records[9]!.hash });
        expect(last.recordHashes).toEqual(records.slice(6).map((r) => [r.seq, r.hash]));
        // The same head captured again is the same anchor.
        expect(lastPublished?.publishedAt).toEqual(expect.any(String));
        expect(await store.anchors.capture()).toEqual(lastPublished);
        expect(await store.verify({ anchors: [ref(first), ref(last)] })).toMatchObject({
          ok: true,
          anchors: [
            { seq: 6, status: 'match' },
            { seq: 10, status: 'match' },
          ],
        });

        await rebuildChainAfterChange(sql, 4, { form: { rootCause: 'nothing to see here' } });

        // The limit: the chain is internally consistent again, so neither verify nor a read sees the change.
        const plain = await store.verify();
        expect(plain).toMatchObject({ ok: true, records: 10, breakCount: 0 });
        expect(plain.head).not.toBe(last.hash);
        expect((await store.read()).ledger).toEqual({ intact: true, verifiedThrough: 10 });

        // The last anchor, kept outside the database, shows it and names record 4.
        const anchored = await store.verify({ anchors: [ref(last)] });
        expectAnchorBreak(anchored, 4, records[3]!.id, /^record 4: first record that differs from the chain anchored at record 10/);
        expect(anchored.anchors).toEqual([{ seq: 10, hash: last.hash, status: 'mismatch', recomputed: plain.head }]);
        // An anchor from before the change still matches.
        const earlier = (await store.verify({ anchors: [{ seq: 3, hash: records[2]!.hash }] }));
        expect(earlier).toMatchObject({ ok: true, anchors: [{ seq: 3, status: 'match' }] });

        // If the owner rewrites the database's copy of the anchors too, it no longer agrees with the
        // anchor given: verify still fails, and names the range between the anchors given.
        await rewriteStoredAnchors(sql);
        const range = await store.verify({ anchors: [{ seq: 3, hash: records[2]!.hash }, ref(last)] });
        expectAnchorBreak(range, 4, records[3]!.id, /^records 4–10: the chain recomputed from the first record does not reach the chain anchored at record 10/);
        expect(range.anchors?.map((a) => a.status)).toEqual(['match', 'mismatch']);
        const narrowest = await store.verify({ anchors: [{ seq: 3, hash: records[2]!.hash }, { seq: 4, hash: records[3]!.hash }] });
        expectAnchorBreak(narrowest, 4, records[3]!.id, /^record 4: the chain recomputed .* this record was changed$/);
      } finally {
        await dispose();
      }
    },
    120_000,
  );

  it('an anchor past the ledger head fails verification saying so; the stored anchors refuse changes', async () => {
    const { store, sql, dispose } = await backend.open();
    try {
      for (let i = 0; i < 3; i++) await store.append(sample());
      const result = await store.verify({ anchors: [{ seq: 7, hash: 'a'.repeat(64) }] });
      expect(result).toMatchObject({ ok: false, brokenAt: 7, anchors: [{ seq: 7, status: 'beyond-head' }] });
      expect(result.breaks).toEqual([
        {
          seq: 7,
          id: null,
          kinds: ['anchor-beyond-head'],
          reason: 'anchor at record 7 is beyond the ledger head (record 3): records 4–7 were removed together with the head, or the anchor is not from this ledger',
        },
      ]);
      const anchor = (await store.anchors.capture())!;
      await expect(sql('UPDATE ledger_anchors SET hash = $1', ['b'.repeat(64)])).rejects.toThrow(/ledger_anchors keeps every anchor as captured/);
      await expect(sql('DELETE FROM ledger_anchors')).rejects.toThrow(/ledger_anchors keeps every anchor as captured/);
      expect(await store.anchors.published(anchor.seq, ['priya.raman'])).toMatchObject({ recipients: ['priya.raman'], publishedAt: expect.any(String) as unknown });
      // The first publication counts.
      const again = await store.anchors.published(anchor.seq, ['someone.else']);
      expect(again?.recipients).toEqual(['priya.raman']);
    } finally {
      await dispose();
    }
  }, 60_000);
});

describe('the audit pack carries the head and its anchors and verifies offline', () => {
  let store: RecordsStore;
  let sql: RawSql;
  let dispose: () => Promise<void>;
  let dir: string;
  beforeAll(async () => {
    ({ store, sql, dispose } = await backends[0]!.open());
    dir = await mkdtemp(path.join(os.tmpdir(), 'aimsflow-anchor-'));
  });
  afterAll(async () => {
    await dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('exports the head and the published anchors, then names the changed record offline, from the pack or from a kept anchor file', async () => {
    const records = [];
    for (let i = 0; i < 5; i++) records.push(await store.append(sample()));
    const unpublished = (await store.anchors.capture())!;
    for (let i = 0; i < 3; i++) records.push(await store.append(sample()));
    const anchor = (await store.anchors.capture())!;
    await store.anchors.published(anchor.seq, ['priya.raman', 'ines.moreau']);
    const published = (await store.anchors.get(anchor.seq))!;

    const before = await collect(exportRecords(store));
    const parsed = before.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed[0]).toMatchObject({ type: 'audit-pack', format: 2, ledgerHead: { seq: 8, hash: anchor.hash } });
    // Only anchors that left the database: the one captured but never mailed is not in the pack.
    expect(parsed.filter((l) => l.type === 'anchor')).toEqual([{ type: 'anchor', ...JSON.parse(JSON.stringify(published)) }]);
    expect(unpublished.publishedAt).toBeNull();
    expect(parsed.at(-1)).toEqual({ type: 'end', records: 8, anchors: 1 });
    expect(await verifyAuditPack(before)).toEqual({ ok: true, records: 8, head: anchor.hash, anchors: [{ seq: 8, hash: anchor.hash, status: 'match', recomputed: anchor.hash }] });

    await rebuildChainAfterChange(sql, 2, { edited: true });
    const after = await collect(exportRecords(store));
    const check = await verifyAuditPack(after);
    expect(check).toMatchObject({ ok: false, firstDifference: { seq: 2, id: records[1]!.id }, anchors: [{ seq: 8, status: 'mismatch' }] });
    expect(check.ok ? '' : check.reason).toMatch(/^record 2: first record that differs from the chain anchored at record 8/);

    // The owner rewrites the anchors too: the pack agrees with itself, the anchor file kept from the mail does not.
    await rewriteStoredAnchors(sql);
    const rewritten = await collect(exportRecords(store));
    expect(await verifyAuditPack(rewritten)).toMatchObject({ ok: true, records: 8 });
    const kept = anchorFile(published);
    expect(await verifyAuditPack(rewritten, { anchorFiles: [kept] })).toMatchObject({ ok: false, firstDifference: { seq: 2, id: records[1]!.id } });
    expect(await verifyAuditPack(rewritten, { anchors: [ref(anchor)] })).toMatchObject({ ok: false, firstDifference: { seq: 1 } });

    // The same from the command line, offline (no API configured).
    const packFile = path.join(dir, 'pack.ndjson');
    const anchorPath = path.join(dir, `ledger-anchor-${anchor.seq}.json`);
    await writeFile(packFile, rewritten.join(''));
    await writeFile(anchorPath, JSON.stringify(kept));
    const cli = async (...argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(argv, { env: {}, out: (l) => out.push(l), err: (l) => err.push(l) });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    expect(await cli('records', 'verify-pack', packFile)).toMatchObject({ code: 0, out: expect.stringMatching(/^audit pack intact: 8 records/) as unknown });
    const failed = await cli('records', 'verify-pack', packFile, '--anchor-file', anchorPath);
    expect(failed.code).toBe(1);
    expect(failed.out).toContain(`first record that differs from the anchored chain: seq 2 (${records[1]!.id})`);
    expect(failed.out).toMatch(/anchor 8:[0-9a-f]{16}… {2}DOES NOT MATCH/);
    expect(failed.err).toMatch(/the audit pack failed verification: record 2: first record that differs/);
    const bad = await cli('records', 'verify-pack', packFile, '--anchor', '8:xyz');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--anchor <seq:hash>.*"8:xyz" is not <seq>:<hash>/s);
  });
});

describe('verify with anchors through the admin API and the CLI', () => {
  it('takes repeated or comma-separated anchors, refuses a bad one with 400 naming anchor, and names the changed record', async () => {
    const { store, sql, dispose } = await backends[0]!.open();
    const t = await buildTestApp({ records: store });
    try {
      const records = [];
      for (let i = 0; i < 5; i++) records.push(await store.append(sample()));
      const anchor = (await store.anchors.capture())!;
      await store.anchors.published(anchor.seq, ['priya.raman']);
      const get = (url: string) => t.app.inject({ method: 'GET', url, headers: t.adminHeaders });

      for (const query of ['anchor=nonsense', 'anchor=5:abc', `anchor=0:${'a'.repeat(64)}`, 'anchor=', `anchor=5:${'a'.repeat(64)},junk`]) {
        const res = await get(`/admin/records/verify?${query}`);
        expect(res.statusCode, query).toBe(400);
        const body = res.json<{ message: string; issues: Array<{ path: string; message: string }> }>();
        expect(body.issues.map((i) => i.path)).toContain('anchor');
        expect(body.message).toMatch(/anchor/);
      }
      expect((await get(`/admin/records/verify?anchor=${anchor.seq}:${'a'.repeat(64)}&anchor=${anchor.seq}:${'b'.repeat(64)}`)).json()).toMatchObject({
        issues: [{ path: 'anchor', message: `two different hashes for record ${anchor.seq}` }],
      });

      const both = `${records[1]!.seq}:${records[1]!.hash}`;
      const comma = await get(`/admin/records/verify?anchor=${both},${anchorText(anchor)}`);
      expect(comma.statusCode).toBe(200);
      expect(comma.json()).toMatchObject({ ok: true, anchors: [{ seq: 2, status: 'match' }, { seq: 5, status: 'match' }] });
      const repeated = await get(`/admin/records/verify?anchor=${both}&anchor=${anchorText(anchor).toUpperCase()}`);
      expect(repeated.json()).toMatchObject({ ok: true, anchors: [{ seq: 2, status: 'match' }, { seq: 5, hash: anchor.hash, status: 'match' }] });
      const beyond = (await get(`/admin/records/verify?anchor=99:${anchor.hash}`)).json<VerifyResult>();
      expect(beyond).toMatchObject({ ok: false, brokenAt: 99, anchors: [{ seq: 99, status: 'beyond-head' }] });
      expect(beyond.ok ? '' : beyond.reason).toMatch(/^anchor at record 99 is beyond the ledger head \(record 5\)/);
      const listed = (await get('/admin/records/anchors')).json<{ items: Array<Omit<LedgerAnchor, 'recordHashes'> & { anchor: string }> }>();
      expect(listed.items).toEqual([{ ...JSON.parse(JSON.stringify({ ...anchor, recordHashes: undefined, publishedAt: listed.items[0]!.publishedAt, recipients: ['priya.raman'] })), anchor: anchorText(anchor) }]);

      await rebuildChainAfterChange(sql, 3, 'changed');
      expect((await get('/admin/records/verify')).json()).toMatchObject({ ok: true, breakCount: 0 });
      const failed = (await get(`/admin/records/verify?anchor=${anchorText(anchor)}`)).json<VerifyResult>();
      expectAnchorBreak(failed, 3, records[2]!.id, /^record 3: first record that differs/);

      const env = { AIMSFLOW_API_URL: await t.app.listen({ host: '127.0.0.1', port: 0 }), AIMSFLOW_ADMIN_KEY: TEST_ADMIN_KEY };
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(['records', 'verify', '--anchor', anchorText(anchor)], { env, out: (l) => out.push(l), err: (l) => err.push(l) });
      expect(code).toBe(1);
      expect(out.join('\n')).toContain(`seq 3  ${records[2]!.id}  anchor-mismatch: first record that differs from the chain anchored at record 5`);
      expect(err.join('\n')).toMatch(/failed verification: 1 broken record, first at seq 3/);
      const usage: string[] = [];
      expect(await runCli(['records', 'verify', '--anchor', '5'], { env, out: () => undefined, err: (l) => usage.push(l) })).toBe(2);
      expect(usage.join('\n')).toMatch(/"5" is not <seq>:<hash>/);
    } finally {
      await t.close();
      await dispose();
    }
  }, 60_000);

  it('parses anchors: repeated, comma-separated, upper-case hex; names each bad value', () => {
    const h = 'ab'.repeat(32);
    expect(parseAnchors([`1:${h}`, ` 2:${h.toUpperCase()} , 3:${h}`])).toEqual({
      anchors: [
        { seq: 1, hash: h },
        { seq: 2, hash: h },
        { seq: 3, hash: h },
      ],
      problems: [],
    });
    expect(parseAnchors(['1:xyz', ':', `-1:${h}`]).problems).toEqual([
      '"1:xyz" is not <seq>:<hash> (a record number, a colon and the record\'s 64-digit hex sha256)',
      '":" is not <seq>:<hash> (a record number, a colon and the record\'s 64-digit hex sha256)',
      `"-1:${h}" is not <seq>:<hash> (a record number, a colon and the record's 64-digit hex sha256)`,
    ]);
  });
});

describe('the daily anchor workflow', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  }, 120_000);
  afterAll(async () => {
    await stack?.client.schedule.getHandle(ledgerAnchorScheduleId(stack.taskQueue)).delete().catch(() => undefined);
    await stack?.stop();
  });

  it('mails the head to the AIMS manager and the external auditor from its schedule, once, and the packs show it', async () => {
    const { organization, records, smtp } = stack;
    for (let i = 0; i < 4; i++) await records.append(sample());
    const head = await records.head();
    const deps = { client: stack.client, taskQueue: stack.taskQueue };
    expect(await ensureLedgerAnchorSchedule(deps, '1d')).toBe('created');
    expect(await ensureLedgerAnchorSchedule(deps, '1d')).toBe('unchanged');
    const described = await stack.client.schedule.getHandle(ledgerAnchorScheduleId(stack.taskQueue)).describe();
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: LEDGER_ANCHOR_WORKFLOW, taskQueue: stack.taskQueue });
    expect(described.spec.intervals).toMatchObject([{ every: 86_400_000 }]);
    expect(await triggerLedgerAnchor(deps)).toBe(true);

    const people = [organization.roles.aimsManager, ...organization.roles.externalAuditors];
    expect(people).toEqual(['priya.raman', 'ines.moreau']);
    const emails = people.map((id) => organization.people.find((p) => p.id === id)!.email);
    const mails = await Promise.all(
      emails.map((email) => smtp.waitFor((m) => m.headers.get('x-aimsflow-kind') === 'ledger.anchor' && JSON.stringify(m.to).includes(email), 60_000)),
    );
    for (const mail of mails) {
      expect(mail.subject).toMatch(new RegExp(`^Evidence ledger anchor: record ${head.seq} `));
      expect(mail.text).toContain(head.hash);
      expect(mail.text).toContain(`--anchor ${head.seq}:${head.hash}`);
      const attachment = mail.attachments.find((a) => a.filename === `ledger-anchor-${head.seq}.json`);
      expect(attachment).toBeDefined();
      const file = JSON.parse(attachment!.content.toString('utf8')) as { seq: number; hash: string; recordHashes: Array<[number, string]> };
      expect(file).toMatchObject({ type: 'ledger-anchor', seq: head.seq, hash: head.hash });
      expect(file.recordHashes).toHaveLength(4);
    }
    // The Message-ID derives from the anchor and the recipient, so a resent mail is recognised as the same.
    expect(new Set(mails.map((m) => m.messageId)).size).toBe(2);

    const [run] = (await stack.client.schedule.getHandle(ledgerAnchorScheduleId(stack.taskQueue)).describe()).info.recentActions;
    const published = stack.client.workflow.getHandle<(input?: unknown) => Promise<LedgerAnchorResult>>(run!.action.workflow.workflowId);
    expect(await published.result()).toEqual({ status: 'published', seq: head.seq, hash: head.hash, at: expect.any(String) as unknown, recipients: people, skipped: [] });
    expect(await records.anchors.get(head.seq)).toMatchObject({ publishedAt: expect.any(String) as unknown, recipients: people });
    await recordHistory('ledger-anchor', published.workflowId);

    // A run with nothing appended since does not mail again.
    const again = await stack.start<[], LedgerAnchorResult>(LEDGER_ANCHOR_WORKFLOW, []);
    expect(await again.result()).toMatchObject({ status: 'already-published', seq: head.seq, hash: head.hash });
    await recordHistory('ledger-anchor-unchanged', again.workflowId);
    expect(smtp.messages.filter((m) => m.headers.get('x-aimsflow-kind') === 'ledger.anchor')).toHaveLength(2);

    // The audit pack carries the head and the anchor.
    const pack = (await collect(exportRecords(records))).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(pack[0]).toMatchObject({ ledgerHead: { seq: head.seq, hash: head.hash } });
    expect(pack[1]).toMatchObject({ type: 'anchor', seq: head.seq, hash: head.hash, recipients: people });

    // The management-review pack shows the head when it was built and the last published anchor.
    await records.append(sample());
    const now = await records.head();
    const activities = createManagementReviewActivities({
      organization: () => organization,
      records,
      temporal: { client: stack.client, taskQueue: stack.taskQueue },
      sendNotification: () => Promise.reject(new Error('not used')),
      links: stack.links,
    });
    const automatic = await activities.collectManagementReviewSources({ workflowId: 'management-review/anchor-test', meetingDate: '2027-03-15', period: { from: '2026-03-15', to: '2027-03-15' } });
    expect(automatic.ledger).toMatchObject({ available: true, head: { seq: now.seq, hash: now.hash }, anchor: { seq: head.seq, hash: head.hash } });
    const body = {
      reviewId: 'anchor-test',
      workflowId: 'management-review/anchor-test',
      organizationName: organization.organization.name,
      meetingDate: '2027-03-15',
      meetingStart: '2027-03-15T10:00:00.000Z',
      meetingEnd: '2027-03-15T12:00:00.000Z',
      builtAt: '2027-03-01T10:00:00.000Z',
      inputs: [],
      automatic,
    };
    const html = renderPackHtml({ ...body, contentHash: contentHashOf(body) } satisfies ReviewPack);
    expect(html).toContain(`Ledger head when the pack was built: record ${now.seq}, hash <code>${now.hash}</code>`);
    expect(html).toContain(`Last head published outside the database (anchor): record ${head.seq}, hash <code>${head.hash}</code>`);
  }, 120_000);
});
