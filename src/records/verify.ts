/**
 * Verifying the hash chain where it is stored, and remembering what was verified so that reads
 * can mark records without re-hashing the whole ledger each time.
 *
 * `verify()` reads the whole chain in one pass, page by page (never the whole ledger at once),
 * checks every record (content hash, record hash, link, seq) and the ledger head, and keeps
 * going after a break, so it reports every broken record.
 *
 * Reads (`read()`, `check()`) rely on a checkpoint: how far the last pass reached, the first
 * unverified seq it found, and a fingerprint of the row versions it hashed (the count and sum
 * of PostgreSQL's `xmin` over those rows). Before answering, a read asks the database, in one
 * statement, for the ledger head and that fingerprint, which the database computes without
 * reading any record's content:
 *   - nothing changed: the checkpoint stands;
 *   - records were appended: only those are hashed, continuing the chain from the checkpoint;
 *   - anything else (a row updated, deleted or inserted among the checked ones, even with the
 *     append-only triggers disabled, or the head moved other than forward): the whole chain is
 *     verified again before the read answers.
 * Every UPDATE, DELETE or INSERT gives the rows it writes a new transaction id, so a tamper made
 * directly in the database is caught by the next read or verify, whichever comes first. Not
 * caught, by reads or by verify: a rewrite of every record from some point to the end together
 * with the ledger head (only a copy of the head kept elsewhere can show that). A dump and restore
 * changes every row version: the next read then verifies the whole chain once.
 *
 * One store checks one thing at a time: reads arriving while a check runs share the next one.
 */
import type { Sql } from './driver.js';
import { ChainVerifier, seqRange } from './hash.js';
import { COLUMNS, toRecord } from './rows.js';
import type { LedgerBreak, LedgerStatus, VerifyResult } from './types.js';

/** Records read per query while verifying. */
export const VERIFY_PAGE_SIZE = 500;
/** Breaks listed in a verify result; `breakCount` counts them all. */
export const MAX_REPORTED_BREAKS = 1000;

/** What a pass established; reads reuse it while the database shows the same rows and head. */
export interface Checkpoint {
  /** The checks cover records with a seq up to this one. */
  through: number;
  /** The ledger head as the pass found it (null: the head row was missing). */
  head: { seq: number; hash: string } | null;
  /** First seq that is not verified, or null when every record is. */
  unverifiedFrom: number | null;
  /** Row versions covered: how many rows with seq <= through, and the sum of their xmin. */
  rows: number;
  xminSum: bigint;
}

class Breaks {
  readonly list: LedgerBreak[] = [];
  count = 0;

  add(brk: LedgerBreak): void {
    this.count += 1;
    if (this.list.length < MAX_REPORTED_BREAKS) this.list.push(brk);
  }
}

/**
 * Checks the chain after `from` (a checkpoint of an intact ledger) or from the first record,
 * then the ledger head and any record past it.
 */
async function pass(db: Sql, from?: Checkpoint & { head: { seq: number; hash: string } }): Promise<{ checkpoint: Checkpoint; result: VerifyResult }> {
  const [headRow] = await db.query<{ seq: number | string; hash: string }>('SELECT seq, hash FROM ledger_head');
  const head = headRow ? { seq: Number(headRow.seq), hash: headRow.hash } : null;
  const chain = new ChainVerifier(from?.head);
  const breaks = new Breaks();
  let rows = from?.rows ?? 0;
  let xminSum = from?.xminSum ?? 0n;
  let read = 0;
  // Records appended after the head was read are left to the next check.
  const bound = head?.seq ?? Number.MAX_SAFE_INTEGER;
  for (let last = chain.nextSeq - 1; ; ) {
    const page = await db.query(
      `SELECT ${COLUMNS}, xmin::text AS row_version FROM evidence_records WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT ${VERIFY_PAGE_SIZE}`,
      [last, bound],
    );
    for (const row of page) {
      const brk = chain.check(toRecord(row));
      if (brk) breaks.add(brk);
      rows += 1;
      xminSum += BigInt(String(row.row_version));
      read += 1;
    }
    const lastRow = page.at(-1);
    if (!lastRow || page.length < VERIFY_PAGE_SIZE) break;
    last = Number(lastRow.seq);
  }
  const lastSeq = chain.nextSeq - 1;
  if (!head) {
    breaks.add({
      seq: chain.nextSeq,
      id: null,
      kinds: ['head-missing'],
      reason: `ledger head missing (deleted outside the store): ${lastSeq > 0 ? `record ${lastSeq} cannot be confirmed` : 'no record to confirm'}`,
    });
    chain.unverify(lastSeq);
  } else if (chain.nextSeq <= head.seq) {
    breaks.add({
      seq: chain.nextSeq,
      id: null,
      kinds: ['missing'],
      reason: `${seqRange(chain.nextSeq, head.seq)} missing (the ledger head is at record ${head.seq})`,
    });
    chain.unverify(chain.nextSeq - 1);
  } else if (chain.head !== head.hash) {
    breaks.add({
      seq: head.seq,
      id: chain.lastId,
      kinds: ['head-mismatch'],
      reason: `record ${head.seq}: hash does not match the ledger head (the record was rewritten)`,
    });
    chain.unverify(head.seq);
  }
  if (head) {
    // Appends move the head in the same transaction as the insert, so one statement sees both.
    const beyond = await db.query<{ seq: number | string; id: string; total: number | string }>(
      `SELECT seq, id, count(*) OVER () AS total FROM evidence_records
        WHERE seq > (SELECT seq FROM ledger_head) ORDER BY seq LIMIT ${MAX_REPORTED_BREAKS}`,
    );
    for (const row of beyond) {
      const seq = Number(row.seq);
      breaks.add({ seq, id: row.id, kinds: ['beyond-head'], reason: `record ${seq}: beyond the ledger head (inserted outside the store)` });
      chain.unverify(seq);
    }
    const total = Number(beyond[0]?.total ?? 0);
    breaks.count += Math.max(0, total - beyond.length);
  }
  const through = head?.seq ?? lastSeq;
  const unverifiedFrom = chain.unverifiedFrom ?? null;
  const checkpoint: Checkpoint = { through, head, unverifiedFrom, rows, xminSum };
  const facts = {
    records: read,
    head: chain.head,
    verifiedThrough: verifiedThroughOf(checkpoint),
    breaks: breaks.list,
    breakCount: breaks.count,
  };
  const first = breaks.list[0];
  const result: VerifyResult = first ? { ok: false, ...facts, brokenAt: first.seq, reason: first.reason } : { ok: true, ...facts };
  return { checkpoint, result };
}

function verifiedThroughOf(cp: Checkpoint): number {
  return cp.unverifiedFrom === null ? cp.through : Math.min(cp.through, cp.unverifiedFrom - 1);
}

export function statusOf(cp: Checkpoint): LedgerStatus {
  const verifiedThrough = verifiedThroughOf(cp);
  if (cp.unverifiedFrom === null) return { intact: true, verifiedThrough };
  return {
    intact: false,
    verifiedThrough,
    note:
      `The evidence ledger's hash chain is broken: records from seq ${verifiedThrough + 1} on are unverified. ` +
      '`aimsflow records verify` (GET /admin/records/verify) lists every break.',
  };
}

/** The checkpoint, still standing, moved forward over appended records, or from a new full pass. */
async function refresh(db: Sql, cp: Checkpoint | undefined): Promise<Checkpoint> {
  if (!cp) return (await pass(db)).checkpoint;
  const [probe] = await db.query<{ head_seq: number | string | null; head_hash: string | null; n: number | string; xmin_sum: string }>(
    `SELECT (SELECT seq FROM ledger_head) AS head_seq, (SELECT hash FROM ledger_head) AS head_hash,
            count(*) AS n, coalesce(sum(xmin::text::bigint), 0)::text AS xmin_sum
       FROM evidence_records WHERE seq <= $1`,
    [cp.through],
  );
  if (!probe || Number(probe.n) !== cp.rows || BigInt(probe.xmin_sum) !== cp.xminSum) return (await pass(db)).checkpoint;
  const head = probe.head_seq === null ? null : { seq: Number(probe.head_seq), hash: String(probe.head_hash) };
  if (head === null || cp.head === null) return head === cp.head ? cp : (await pass(db)).checkpoint;
  if (head.seq === cp.head.seq && head.hash === cp.head.hash) return cp;
  if (head.seq > cp.head.seq) {
    // Already broken earlier: whatever was appended since is unverified anyway.
    if (cp.unverifiedFrom !== null) return cp;
    return (await pass(db, { ...cp, head: cp.head })).checkpoint;
  }
  return (await pass(db)).checkpoint;
}

/** One store's view of how far its ledger is verified. */
export class LedgerWatch {
  private checkpoint: Checkpoint | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private queued: Promise<Checkpoint> | undefined;

  constructor(private readonly db: () => Sql) {}

  /** The ledger's standing as of now; callers arriving while a check runs share the next one. */
  async status(): Promise<LedgerStatus> {
    this.queued ??= this.serially(async () => {
      this.queued = undefined;
      this.checkpoint = await refresh(this.db(), this.checkpoint);
      return this.checkpoint;
    });
    return statusOf(await this.queued);
  }

  /** A full pass from the first record; its result also becomes the checkpoint for reads. */
  verify(): Promise<VerifyResult> {
    return this.serially(async () => {
      const { checkpoint, result } = await pass(this.db());
      this.checkpoint = checkpoint;
      return result;
    });
  }

  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }
}
