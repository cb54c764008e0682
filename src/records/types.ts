/**
 * The evidence ledger (ISO/IEC 42001 7.5 documented information): append-only,
 * hash-chained records, and the log of sent notifications that keeps retried
 * activities from sending the same mail twice.
 */

/** What a caller supplies to append one record. */
export interface NewRecord {
  /** Caller-chosen id; appending the same id twice returns the first record (idempotent retries). */
  id: string;
  /** e.g. `task.completed`, `approval.decided`, `nonconformity.raised`. */
  kind: string;
  /** What the record is about, usually a workflow id, e.g. `corrective-action/NC-2027-004`. */
  subject: string;
  /** ISO/IEC 42001 clauses or Annex A controls, e.g. `['10.2', 'A.3.3']`. */
  clauses: string[];
  /** Person id or `system`. */
  actor: string;
  /** ISO-8601 instant the recorded event happened. */
  occurredAt: string;
  /** Any JSON value. */
  content: unknown;
}

export interface EvidenceRecord extends NewRecord {
  /** Position in the chain, from 1. */
  seq: number;
  /** sha256 (hex) of the canonical JSON of `content`. */
  contentHash: string;
  /** `hash` of the previous record, or 64 zeros for the first. */
  prevHash: string;
  /** sha256 (hex) over seq, id, kind, subject, clauses, actor, occurredAt, contentHash, prevHash. */
  hash: string;
  /** When the store accepted it. */
  recordedAt: string;
}

export interface RecordFilter {
  subject?: string;
  /** Prefix match on subject, e.g. `corrective-action/`. */
  subjectPrefix?: string;
  kind?: string;
  /** Records that list this clause or control among their `clauses`. */
  clause?: string;
  /** ISO-8601 instant: `occurredAt` at or after it. */
  from?: string;
  /** ISO-8601 instant: `occurredAt` before it (exclusive). */
  to?: string;
  /** Records after this seq: page through with the last seq of the previous page. */
  afterSeq?: number;
  /** Page size for `list`: default 100, at most 1000. */
  limit?: number;
}

/** What is wrong with a broken record (or with the ledger around it). */
export type BreakKind =
  /** `content` does not match `contentHash`: the content was edited. */
  | 'content-hash'
  /** A hashed field (id, kind, subject, clauses, actor, occurredAt, contentHash, prevHash) does not match `hash`. */
  | 'record-hash'
  /** `prevHash` is not the previous record's hash: that record was rewritten, or this link edited. */
  | 'prev-link'
  /** Records before this one are missing (seq gap). */
  | 'seq-gap'
  /** A record out of order or repeated (audit packs only; the database keeps seq unique and ordered). */
  | 'seq-order'
  /** Records up to the ledger head are missing (`id` is null). */
  | 'missing'
  /** The last record's hash is not the one the ledger head holds: it was rewritten. */
  | 'head-mismatch'
  /** The ledger head row was deleted, so the last record cannot be confirmed (`id` is null). */
  | 'head-missing'
  /** A record past the ledger head: inserted outside the store. */
  | 'beyond-head'
  /**
   * Against a known head (an anchor): the chain recomputed from the first record does not reach
   * the anchored hash; `seq` is the first record that differs from the anchored chain (or the
   * first of the records one of which does, when the anchored record hashes are not at hand).
   */
  | 'anchor-mismatch'
  /** An anchor names a record past the ledger head: records were removed with the head, or the anchor is from another ledger. */
  | 'anchor-beyond-head';

/** One broken record, by seq and id, with what is wrong. */
export interface LedgerBreak {
  /** Seq of the broken record; for `missing` and `head-missing`, the first seq that is not there. */
  seq: number;
  /** Its id; null when there is no record at `seq`. */
  id: string | null;
  /** Everything wrong with it, in the order checked. */
  kinds: BreakKind[];
  /** The same in words, e.g. `record 5: content hash mismatch (content edited)`. */
  reason: string;
}

interface VerifyFacts {
  /** Records read. */
  records: number;
  /** Hash of the last record read (the ledger head when ok; 64 zeros for an empty ledger). */
  head: string;
  /**
   * Every record with a seq up to this one is verified; later ones are not. A record counts as
   * verified when it and all records before it check out and the next record's link (or the
   * ledger head) confirms its hash.
   */
  verifiedThrough: number;
  /** Every broken record in seq order, up to MAX_REPORTED_BREAKS of them. */
  breaks: LedgerBreak[];
  /** How many breaks were found, including any left out of `breaks`. */
  breakCount: number;
  /** With anchors given: what was found for each, in the order given. */
  anchors?: AnchorVerdict[];
}

/** A known ledger head: the record at `seq` had `hash` (e.g. a head published outside the database). */
export interface AnchorRef {
  seq: number;
  hash: string;
}

/** What verification found for one anchor. */
export interface AnchorVerdict extends AnchorRef {
  /** `match`: the chain recomputed from the first record has `hash` at `seq`. */
  status: 'match' | 'mismatch' | 'beyond-head';
  /** The recomputed hash at `seq` (absent beyond the head). */
  recomputed?: string;
}

export type VerifyResult =
  | (VerifyFacts & { ok: true })
  | (VerifyFacts & {
      ok: false;
      /** Seq of the first break (`breaks[0].seq`). */
      brokenAt: number;
      /** Reason of the first break (`breaks[0].reason`). */
      reason: string;
    });

/** How far a read can trust the ledger, as of that read. */
export interface LedgerStatus {
  /** No break anywhere in the ledger. */
  intact: boolean;
  /** Records with a seq up to this one are verified; later ones are not. */
  verifiedThrough: number;
  /** For people, when some records are unverified: which ones and what to do. */
  note?: string;
}

/** A record as a read shows it: with whether the hash chain vouches for it. */
export type CheckedRecord = EvidenceRecord & {
  /** False for records at or after the first break in the chain (see LedgerStatus.verifiedThrough). */
  verified: boolean;
};

export interface RecordsRead {
  records: CheckedRecord[];
  ledger: LedgerStatus;
}

export interface SentNotification {
  notificationId: string;
  messageId: string;
  recipients: string[];
  sentAt: string;
}

/** A version of the organization file accepted as the one in force. */
export interface AcceptedOrganization {
  /** Order of acceptance, from 1. */
  seq: number;
  /** sha256 of the canonical JSON of `document`. */
  hash: string;
  /** The organization file as parsed. */
  document: unknown;
  acceptedBy: string;
  reason: string;
  acceptedAt: string;
}

/** The ledger head: the last record's seq and hash, and when the head was read. */
export interface LedgerHead {
  /** 0 for an empty ledger. */
  seq: number;
  /** 64 zeros for an empty ledger. */
  hash: string;
  /** When the ledger was seen at this head (ISO-8601). */
  at: string;
}

/**
 * A ledger head captured to be published outside the database, with the hash of every record
 * since the previous anchor (the anchored chain), so a later rebuild of the chain can be pinned
 * to the first record that differs.
 */
export interface LedgerAnchor extends LedgerHead {
  /** Seq of the last anchor published before this one was captured (0 for none). */
  previousSeq: number;
  /** `[seq, hash]` of the records after `previousSeq` up to `seq` (the last MAX_ANCHOR_RECORD_HASHES of them). */
  recordHashes: Array<[number, string]>;
  /** When it was mailed outside the database; null until then. */
  publishedAt: string | null;
  /** Who it was mailed to (person ids). */
  recipients: string[];
}

export interface VerifyOptions {
  /** Known heads to check the chain against (see AnchorRef). */
  anchors?: AnchorRef[];
}

export interface RecordsStore {
  append(record: NewRecord): Promise<EvidenceRecord>;
  get(id: string): Promise<EvidenceRecord | undefined>;
  /** Records as stored, unchecked: for computations over the ledger. Show people `read()`. */
  list(filter?: RecordFilter): Promise<EvidenceRecord[]>;
  /**
   * Records for people to see: `list(filter)`, each marked verified or not. Cheap: it re-hashes
   * only records appended since the last check, unless the already checked part of the ledger
   * changed in the database since (then it verifies the whole chain again before answering).
   */
  read(filter?: RecordFilter): Promise<RecordsRead>;
  /** Marks records obtained from `list()` (or `get()`) the way `read()` does. */
  check(records: readonly EvidenceRecord[]): Promise<RecordsRead>;
  /**
   * Checks the whole chain in one streaming pass and reports every broken record; with
   * `anchors`, also that the chain recomputed from the first record reaches each anchored hash,
   * naming the first record that differs from an anchored chain.
   */
  verify(options?: VerifyOptions): Promise<VerifyResult>;
  /** The ledger head as it is now. */
  head(): Promise<LedgerHead>;
  /** Ledger heads captured for publishing outside the database. */
  anchors: {
    /**
     * Captures the current head as an anchor (the same head twice gives the same anchor);
     * undefined for an empty ledger.
     */
    capture(): Promise<LedgerAnchor | undefined>;
    /** The anchor at `seq`, with its record hashes. */
    get(seq: number): Promise<LedgerAnchor | undefined>;
    /** Notes that the anchor at `seq` was mailed to `recipients`; the first time counts. */
    published(seq: number, recipients: string[]): Promise<LedgerAnchor | undefined>;
    /** Anchors up to `throughSeq` (default all), oldest first; `publishedOnly` leaves out those never mailed. */
    list(options?: { throughSeq?: number; publishedOnly?: boolean; withRecordHashes?: boolean }): Promise<LedgerAnchor[]>;
  };
  /** The send-once log used by the mail activity. */
  notifications: {
    find(notificationId: string): Promise<SentNotification | undefined>;
    remember(sent: SentNotification): Promise<void>;
  };
  /** The organization file in force, one version after another. */
  organizations: {
    /** The version in force, if any was accepted. */
    latest(): Promise<AcceptedOrganization | undefined>;
    /** Accepts `document` unless it is the version in force already; answers the version in force. */
    accept(version: { hash: string; document: unknown; acceptedBy: string; reason: string }): Promise<AcceptedOrganization & { created: boolean }>;
  };
  /**
   * The next number in `scope` (1, 2, 3, ...) for `key`; the same key in the same scope always
   * gets the number it got first (retries, double submits).
   */
  allocateSequence(scope: string, key: string): Promise<number>;
  /** A cheap round trip, for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
