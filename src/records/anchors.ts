/**
 * Anchors: ledger heads published outside the database, and verification of the chain against
 * them.
 *
 * The hash chain and the append-only triggers show any change made through the application or
 * made directly in the database, except one: someone who owns the database can drop the
 * triggers, change a record, recompute the hash of every later record and the ledger head, and
 * restore the triggers. The chain is then internally consistent and `verify` passes. An anchor
 * (`<seq>:<hash>`) kept outside the database closes that gap: the chain recomputed from the
 * first record must reach exactly that hash at that seq, and a rebuilt chain does not.
 *
 * An anchor's hash only says *that* something up to its seq changed. To name *which* record,
 * verification compares the recomputed hash of every record with the anchored chain: the hash
 * each record had when an anchor was captured. Each anchor carries the hashes of the records
 * since the anchor before it (in the database, in the mailed anchor file and in the audit pack),
 * so the first record whose recomputed hash differs from its anchored hash is the first record
 * that was changed (every later hash differs too, through the links). Where the anchored hashes
 * are not at hand (or the database's copy no longer agrees with the anchor given), the answer is
 * the range between the last anchor that still matches and the first that does not.
 */
import { GENESIS_HASH, contentHashOf, recordHashOf, seqRange } from './hash.js';
import type { AnchorRef, AnchorVerdict, EvidenceRecord, LedgerBreak, VerifyResult } from './types.js';

/** At most this many anchors in one verification. */
export const MAX_ANCHORS = 100;
/** An anchor keeps the hashes of at most this many records (the last ones before it). */
export const MAX_ANCHOR_RECORD_HASHES = 50_000;

const ANCHOR_PATTERN = /^(\d{1,15}):([0-9a-fA-F]{64})$/;

/** `12:ab…` → `{ seq: 12, hash: 'ab…' }`, or a message saying what is wrong. */
export function parseAnchor(text: string): AnchorRef | string {
  const m = ANCHOR_PATTERN.exec(text.trim());
  if (!m) return `"${text.length > 80 ? `${text.slice(0, 80)}…` : text}" is not <seq>:<hash> (a record number, a colon and the record's 64-digit hex sha256)`;
  const seq = Number(m[1]);
  if (seq < 1) return `"${text}": the record number must be at least 1`;
  return { seq, hash: m[2]!.toLowerCase() };
}

/**
 * One or more anchors from repeated and/or comma-separated values. Returns the anchors or the
 * problems, each naming the value.
 */
export function parseAnchors(values: readonly string[]): { anchors: AnchorRef[]; problems: string[] } {
  const parts = values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  const anchors: AnchorRef[] = [];
  const problems: string[] = [];
  if (parts.length === 0 && values.length > 0) problems.push('is empty: give <seq>:<hash>');
  for (const part of parts) {
    const parsed = parseAnchor(part);
    if (typeof parsed === 'string') problems.push(parsed);
    else anchors.push(parsed);
  }
  if (anchors.length > MAX_ANCHORS) problems.push(`at most ${MAX_ANCHORS} anchors at once`);
  const bySeq = new Map<number, string>();
  for (const a of anchors) {
    const other = bySeq.get(a.seq);
    if (other !== undefined && other !== a.hash) problems.push(`two different hashes for record ${a.seq}`);
    bySeq.set(a.seq, a.hash);
  }
  return { anchors, problems };
}

/** `<seq>:<hash>`, the form verify takes and the mail shows. */
export function anchorText(a: AnchorRef): string {
  return `${a.seq}:${a.hash}`;
}

const short = (hash: string) => `${hash.slice(0, 12)}…`;

/**
 * Recomputes the chain from the first record as records are fed in seq order (from a database
 * read or an audit pack), and compares it with the anchors and the anchored record hashes.
 * Recomputing ignores the stored `contentHash`, `prevHash` and `hash`: a record's hash is
 * computed from its fields, its content and the recomputed hash before it.
 */
export class AnchorCheck {
  private readonly wanted: Map<number, string>;
  private readonly recomputedAt = new Map<number, string>();
  /** Ids of records that may begin a reported range (seq 1 and the record after each anchor). */
  private readonly idAt = new Map<number, string>();
  private readonly rangeStarts: Set<number>;
  private expected = 1;
  private prev = GENESIS_HASH;
  private firstWitnessDiff: { seq: number; id: string; anchored: string; recomputed: string } | undefined;
  private firstGap: number | undefined;

  /**
   * @param anchors the anchors to check (any order; duplicates allowed)
   * @param anchored the anchored chain: seq → the hash the record had when an anchor was captured
   */
  constructor(
    private readonly anchors: readonly AnchorRef[],
    private readonly anchored: ReadonlyMap<number, string> = new Map(),
  ) {
    this.wanted = new Map(anchors.map((a) => [a.seq, a.hash]));
    this.rangeStarts = new Set([1, ...anchors.map((a) => a.seq + 1)]);
  }

  /** The highest anchored seq: records after it need not be fed. */
  get lastSeq(): number {
    return Math.max(0, ...this.anchors.map((a) => a.seq));
  }

  feed(record: Pick<EvidenceRecord, 'seq' | 'id' | 'kind' | 'subject' | 'clauses' | 'actor' | 'occurredAt' | 'content'>): void {
    const seq = record.seq;
    if (!Number.isSafeInteger(seq) || seq < this.expected) return;
    if (seq > this.expected) this.firstGap ??= this.expected;
    let contentHash: string;
    try {
      contentHash = contentHashOf(record.content);
    } catch {
      contentHash = 'not canonical JSON';
    }
    const hash = recordHashOf({ ...record, contentHash, prevHash: this.prev });
    const anchored = this.anchored.get(seq);
    if (anchored !== undefined && anchored !== hash && !this.firstWitnessDiff) {
      this.firstWitnessDiff = { seq, id: record.id, anchored, recomputed: hash };
    }
    if (this.wanted.has(seq)) this.recomputedAt.set(seq, hash);
    if (this.rangeStarts.has(seq)) this.idAt.set(seq, record.id);
    this.prev = hash;
    this.expected = seq + 1;
  }

  /**
   * The verdict on each anchor (in the order given) and the breaks to report: for a mismatch,
   * the first record that differs from the anchored chain (or the range it lies in); for an
   * anchor past `headSeq`, that it is beyond the head.
   */
  finish(headSeq: number): { verdicts: AnchorVerdict[]; breaks: LedgerBreak[] } {
    const verdicts: AnchorVerdict[] = this.anchors.map((a) => {
      const recomputed = this.recomputedAt.get(a.seq);
      if (a.seq > headSeq || recomputed === undefined) return { seq: a.seq, hash: a.hash, status: 'beyond-head' };
      return { seq: a.seq, hash: a.hash, status: recomputed === a.hash ? 'match' : 'mismatch', recomputed };
    });
    const breaks: LedgerBreak[] = [];
    const failing = verdicts.filter((v) => v.status === 'mismatch').sort((a, b) => a.seq - b.seq)[0];
    if (failing) {
      const lo = Math.max(0, ...verdicts.filter((v) => v.status === 'match' && v.seq < failing.seq).map((v) => v.seq));
      const inRange = (seq: number | undefined) => seq !== undefined && seq > lo && seq <= failing.seq;
      const diff = this.firstWitnessDiff;
      const where = `the chain anchored at record ${failing.seq} (anchored hash ${short(failing.hash)}, recomputed ${short(failing.recomputed ?? '')})`;
      if (inRange(this.firstGap) && (!diff || this.firstGap! <= diff.seq)) {
        breaks.push({
          seq: this.firstGap!,
          id: null,
          kinds: ['anchor-mismatch'],
          reason: `record ${this.firstGap}: missing, so the chain differs from ${where}`,
        });
      } else if (diff && inRange(diff.seq)) {
        breaks.push({
          seq: diff.seq,
          id: diff.id,
          kinds: ['anchor-mismatch'],
          reason:
            `record ${diff.seq}: first record that differs from ${where}: its recomputed hash is ${short(diff.recomputed)}, ` +
            `the anchored chain has ${short(diff.anchored)}; it was changed, and every later hash was recomputed (the chain was rebuilt)`,
        });
      } else {
        const from = lo + 1;
        breaks.push({
          seq: from,
          id: this.idAt.get(from) ?? null,
          kinds: ['anchor-mismatch'],
          reason:
            `${seqRange(from, failing.seq)}: the chain recomputed from the first record does not reach ${where}; ` +
            (from === failing.seq
              ? 'this record was changed'
              : 'the first changed record is among these (the anchored hashes of these records are not at hand: give an earlier anchor, or verify against an anchor file or an audit pack exported before the change)'),
        });
      }
    }
    for (const v of verdicts.filter((x) => x.status === 'beyond-head')) {
      breaks.push({
        seq: v.seq,
        id: null,
        kinds: ['anchor-beyond-head'],
        reason: `anchor at record ${v.seq} is beyond the ledger head (record ${headSeq}): ${seqRange(headSeq + 1, v.seq)} were removed together with the head, or the anchor is not from this ledger`,
      });
    }
    breaks.sort((a, b) => a.seq - b.seq);
    return { verdicts, breaks };
  }
}

/** A verification result with the anchors' verdicts and breaks merged in. */
export function withAnchors(result: VerifyResult, check: { verdicts: AnchorVerdict[]; breaks: LedgerBreak[] }): VerifyResult {
  const breaks = [...result.breaks, ...check.breaks].sort((a, b) => a.seq - b.seq);
  const breakCount = result.breakCount + check.breaks.length;
  const firstAnchorBreak = check.breaks[0];
  const verifiedThrough = firstAnchorBreak ? Math.min(result.verifiedThrough, firstAnchorBreak.seq - 1) : result.verifiedThrough;
  const facts = { records: result.records, head: result.head, verifiedThrough, breaks, breakCount, anchors: check.verdicts };
  const first = breaks[0];
  return first ? { ok: false, ...facts, brokenAt: first.seq, reason: first.reason } : { ok: true, ...facts };
}

/** The anchored chain of a list of anchors' record hashes, as a map. */
export function anchoredChain(anchors: ReadonlyArray<{ recordHashes: ReadonlyArray<readonly [number, string]> }>): Map<number, string> {
  const chain = new Map<number, string>();
  for (const a of anchors) for (const [seq, hash] of a.recordHashes) chain.set(seq, hash);
  return chain;
}

/** The anchor file mailed with every anchor (`ledger-anchor-<seq>.json`). */
export interface AnchorFile {
  type: 'ledger-anchor';
  format: 1;
  seq: number;
  hash: string;
  at: string;
  previousSeq: number;
  /** `[seq, hash]` of the records after `previousSeq` up to `seq` (the last ones, at most MAX_ANCHOR_RECORD_HASHES). */
  recordHashes: Array<[number, string]>;
}

export function anchorFile(a: { seq: number; hash: string; at: string; previousSeq: number; recordHashes: Array<[number, string]> }): AnchorFile {
  return { type: 'ledger-anchor', format: 1, seq: a.seq, hash: a.hash, at: a.at, previousSeq: a.previousSeq, recordHashes: a.recordHashes };
}

/** Reads an anchor file's JSON; a message naming what is wrong when it is not one. */
export function parseAnchorFile(json: string): AnchorFile | string {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return 'not JSON';
  }
  const v = value as Partial<AnchorFile>;
  if (v?.type !== 'ledger-anchor') return 'not a ledger anchor file (type must be "ledger-anchor")';
  const ref = parseAnchor(`${String(v.seq)}:${String(v.hash)}`);
  if (typeof ref === 'string') return `seq and hash: ${ref}`;
  const hashes = Array.isArray(v.recordHashes) ? v.recordHashes : [];
  if (!hashes.every((h) => Array.isArray(h) && Number.isSafeInteger(h[0]) && typeof h[1] === 'string' && /^[0-9a-f]{64}$/.test(h[1]))) {
    return 'recordHashes must be a list of [seq, hash]';
  }
  return { type: 'ledger-anchor', format: 1, seq: ref.seq, hash: ref.hash, at: String(v.at ?? ''), previousSeq: Number(v.previousSeq ?? 0), recordHashes: hashes };
}
