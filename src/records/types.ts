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

export type VerifyResult =
  | { ok: true; records: number; head: string }
  | { ok: false; records: number; brokenAt: number; reason: string };

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

export interface RecordsStore {
  append(record: NewRecord): Promise<EvidenceRecord>;
  get(id: string): Promise<EvidenceRecord | undefined>;
  list(filter?: RecordFilter): Promise<EvidenceRecord[]>;
  verify(): Promise<VerifyResult>;
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
