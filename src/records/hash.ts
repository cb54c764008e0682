/**
 * Hashing of evidence records: canonical JSON (RFC 8785, via `canonicalize`), sha256 in hex,
 * and the chain check shared by `RecordsStore.verify()` and anyone re-checking an exported
 * audit pack offline.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { EvidenceRecord } from './types.js';

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

/**
 * Checks records fed in chain order, one at a time: seq without gaps from 1, content hash,
 * record hash and the link to the previous record. `check` returns undefined for a sound
 * record and the reason for the first broken one.
 */
export class ChainVerifier {
  private expectedSeq = 1;
  private prevHash = GENESIS_HASH;
  /** Records checked and found sound so far. */
  checked = 0;

  /** Hash of the last sound record (GENESIS_HASH before the first). */
  get head(): string {
    return this.prevHash;
  }

  /** The seq the next record must have. */
  get nextSeq(): number {
    return this.expectedSeq;
  }

  check(record: EvidenceRecord): string | undefined {
    const seq = record.seq;
    if (seq !== this.expectedSeq) {
      return seq > this.expectedSeq
        ? `record ${this.expectedSeq} missing (seq gap before record ${seq})`
        : `record ${seq} out of order (expected record ${this.expectedSeq})`;
    }
    let contentHash: string;
    try {
      contentHash = contentHashOf(record.content);
    } catch (err) {
      return `record ${seq}: content is not canonical JSON (${(err as Error).message})`;
    }
    if (contentHash !== record.contentHash) {
      return `record ${seq}: content hash mismatch (content edited)`;
    }
    if (recordHashOf(record) !== record.hash) {
      return `record ${seq}: hash mismatch (id, kind, subject, clauses, actor, occurredAt or contentHash edited)`;
    }
    if (record.prevHash !== this.prevHash) {
      return seq === 1
        ? `record 1: prev_hash is not the genesis hash`
        : `record ${seq}: prev_hash does not match record ${seq - 1}`;
    }
    this.prevHash = record.hash;
    this.expectedSeq = seq + 1;
    this.checked += 1;
    return undefined;
  }
}
