/** Reading evidence records from database rows, the same way on PGlite and PostgreSQL. */
import type { Row } from './driver.js';
import type { EvidenceRecord } from './types.js';

export const COLUMNS =
  'seq, id, kind, subject, clauses, actor, occurred_at, content, content_hash, prev_hash, hash, recorded_at';

export function isoOf(value: unknown): string {
  const date = value instanceof Date ? value : new Date(String(value));
  return date.toISOString();
}

export function toRecord(row: Row): EvidenceRecord {
  return {
    seq: Number(row.seq),
    id: String(row.id),
    kind: String(row.kind),
    subject: String(row.subject),
    clauses: (row.clauses as string[] | null) ?? [],
    actor: String(row.actor),
    occurredAt: isoOf(row.occurred_at),
    content: row.content,
    contentHash: String(row.content_hash),
    prevHash: String(row.prev_hash),
    hash: String(row.hash),
    recordedAt: isoOf(row.recorded_at),
  };
}
