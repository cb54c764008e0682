/**
 * Hashing of evidence records: canonical JSON (RFC 8785, via `canonicalize`), sha256 in hex,
 * and the chain check shared by `RecordsStore.verify()`, record reads and anyone re-checking an
 * exported audit pack offline.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { BreakKind, EvidenceRecord, LedgerBreak } from './types.js';

/** `prevHash` of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Canonical JSON of a value (RFC 8785: sorted keys, no whitespace, ECMAScript number form).
 * Throws for values JSON cannot represent: undefined, functions, NaN, Infinity, BigInt,
 * lone surrogates and cycles.
 */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('not a JSON value');
  return text;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** sha256 of the canonical JSON of a record's content. */
export function contentHashOf(content: unknown): string {
  return sha256Hex(canonicalJson(content));
}

/** The fields a record's `hash` covers, in the order types.ts documents them. */
export type HashedFields = Pick<
  EvidenceRecord,
  'seq' | 'id' | 'kind' | 'subject' | 'clauses' | 'actor' | 'occurredAt' | 'contentHash' | 'prevHash'
>;

/** sha256 over the canonical JSON object of exactly the hashed fields. */
export function recordHashOf(r: HashedFields): string {
  return sha256Hex(
    canonicalJson({
      seq: r.seq,
      id: r.id,
      kind: r.kind,
      subject: r.subject,
      clauses: r.clauses,
      actor: r.actor,
      occurredAt: r.occurredAt,
      contentHash: r.contentHash,
      prevHash: r.prevHash,
    }),
  );
}

/** Which parts of a record fail its own hashes (content hash, record hash), in words. */
export function ownProblems(record: EvidenceRecord): { kinds: BreakKind[]; parts: string[] } {
  const kinds: BreakKind[] = [];
  const parts: string[] = [];
  let contentHash: string | undefined;
  try {
    contentHash = contentHashOf(record.content);
  } catch (err) {
    kinds.push('content-hash');
    parts.push(`content is not canonical JSON (${(err as Error).message})`);
  }
  if (contentHash !== undefined && contentHash !== record.contentHash) {
    kinds.push('content-hash');
    parts.push('content hash mismatch (content edited)');
  }
  if (recordHashOf(record) !== record.hash) {
    kinds.push('record-hash');
    parts.push('hash mismatch (id, kind, subject, clauses, actor, occurredAt, contentHash or prevHash edited)');
  }
  return { kinds, parts };
}

/** `a` or `a–b`. */
export function seqRange(from: number, to: number): string {
  return from === to ? `record ${from}` : `records ${from}–${to}`;
}

/**
 * Checks records fed in chain order, one at a time, and keeps going after a break: seq without
 * gaps, content hash, record hash and the link to the previous record. `check` returns
 * undefined for a sound record and a LedgerBreak naming everything wrong with a broken one.
 *
 * It also tracks the first record that can no longer count as verified. A record is verified
 * when it and every record before it check out and its own hash is confirmed by the next
 * record's link (or by the ledger head, which the caller checks). So a content edit at n leaves
 * n - 1 verified, while a broken link into n, an edited hash field of n (its prev_hash may have
 * been edited too) or a gap before n leave the record before it unconfirmed: that record may
 * have been rewritten with recomputed hashes.
 */
export class ChainVerifier {
  private expectedSeq: number;
  private prevHash: string;
  private lastRecordId: string | null = null;
  /** Records fed so far (out-of-order ones excepted). */
  checked = 0;
  /** First seq that is not verified because of a break found so far. */
  unverifiedFrom: number | undefined;

  /** Starts after record `start.seq` whose stored hash is `start.hash` (default: the genesis). */
  constructor(start: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH }) {
    this.expectedSeq = start.seq + 1;
    this.prevHash = start.hash;
  }

  /** Stored hash of the last record fed (the start hash before the first). */
  get head(): string {
    return this.prevHash;
  }

  /** The seq the next record must have. */
  get nextSeq(): number {
    return this.expectedSeq;
  }

  /** Id of the last record fed, if any was. */
  get lastId(): string | null {
    return this.lastRecordId;
  }

  /** Records from `seq` on are not verified (the earliest such point is kept). */
  unverify(seq: number): void {
    const from = Math.max(1, seq);
    if (this.unverifiedFrom === undefined || from < this.unverifiedFrom) this.unverifiedFrom = from;
  }

  check(record: EvidenceRecord): LedgerBreak | undefined {
    const seq = record.seq;
    if (!Number.isSafeInteger(seq) || seq < this.expectedSeq) {
      // A duplicate or a record out of order is not fed into the chain.
      this.unverify(Math.min(this.expectedSeq - 1, Number.isSafeInteger(seq) ? seq : this.expectedSeq - 1));
      return { seq, id: record.id, kinds: ['seq-order'], reason: `record ${seq} out of order (expected record ${this.expectedSeq})` };
    }
    const kinds: BreakKind[] = [];
    const parts: string[] = [];
    const gap = seq > this.expectedSeq;
    if (gap) {
      kinds.push('seq-gap');
      parts.push(`${seqRange(this.expectedSeq, seq - 1)} missing before it (seq gap)`);
      // The record before the gap lost the successor that confirmed it.
      this.unverify(this.expectedSeq - 1);
    }
    const own = ownProblems(record);
    kinds.push(...own.kinds);
    parts.push(...own.parts);
    if (own.kinds.includes('content-hash')) this.unverify(seq);
    // With its hash broken, this record's prev_hash proves nothing about the record before it.
    if (own.kinds.includes('record-hash')) this.unverify(seq - 1);
    // After a gap the previous record is missing, so there is no link to check.
    if (!gap && record.prevHash !== this.prevHash) {
      kinds.push('prev-link');
      parts.push(seq === 1 ? 'prev_hash is not the genesis hash' : `prev_hash does not match record ${seq - 1} (that record was rewritten, or this link edited)`);
      this.unverify(seq - 1);
    }
    this.prevHash = record.hash;
    this.expectedSeq = seq + 1;
    this.lastRecordId = record.id;
    this.checked += 1;
    return kinds.length === 0 ? undefined : { seq, id: record.id, kinds, reason: `record ${seq}: ${parts.join('; ')}` };
  }
}
