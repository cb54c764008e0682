/**
 * The audit pack: evidence records as NDJSON, framed so a reader can tell a complete pack
 * from a cut-off download.
 *
 *   {"type":"audit-pack","format":1,"exportedAt":…,"filter":{…},"verification":{…VerifyResult}}
 *   {"type":"record", …EvidenceRecord, "verified":true}   one line per record, in seq order
 *   {"type":"end","records":N}
 *
 * `verification` covers the whole ledger at export time and lists every break. A record line
 * is `verified` when it lies before the first break that verification found and it still
 * matches its own hashes as it is written (so do all records before it in the pack). A pack
 * exported without a filter holds the whole chain, which `verifyAuditPack` re-checks offline
 * from the lines alone.
 */
import { Readable } from 'node:stream';
import { RecordValidationError } from './errors.js';
import { ChainVerifier, ownProblems } from './hash.js';
import type { EvidenceRecord, RecordFilter, RecordsStore, VerifyResult } from './types.js';
import { MAX_LIST_LIMIT, parseRecordFilter } from './validation.js';

export const AUDIT_PACK_FORMAT = 1;

export interface AuditPackHeader {
  type: 'audit-pack';
  format: typeof AUDIT_PACK_FORMAT;
  exportedAt: string;
  filter: Omit<RecordFilter, 'limit'> & { limit?: number };
  verification: VerifyResult;
}

/**
 * NDJSON lines (each ending in `\n`) of the records matching `filter`, read page by page.
 * `filter.limit`, when given, caps the number of records exported (any size); without it all
 * matching records are exported.
 * The filter is validated before anything is read (RecordValidationError names the field).
 */
export async function* exportRecords(
  store: RecordsStore,
  filter: RecordFilter = {},
  now: () => Date = () => new Date(),
): AsyncGenerator<string, void, undefined> {
  const cap = filter.limit;
  if (cap !== undefined && !(Number.isSafeInteger(cap) && cap >= 1)) {
    throw new RecordValidationError('export filter', [{ field: 'limit', message: 'must be a whole number of at least 1' }]);
  }
  const parsed = parseRecordFilter({ ...filter, limit: undefined });
  const verification = await store.verify();
  const { limit: _limit, ...rest } = parsed;
  const header: AuditPackHeader = {
    type: 'audit-pack',
    format: AUDIT_PACK_FORMAT,
    exportedAt: now().toISOString(),
    filter: cap === undefined ? rest : { ...rest, limit: cap },
    verification,
  };
  yield `${JSON.stringify(header)}\n`;
  let count = 0;
  let afterSeq = parsed.afterSeq ?? 0;
  // Records are re-hashed as they are written; one that changed since the verification makes it
  // and everything after it unverified.
  let verifiedThrough = verification.verifiedThrough;
  for (;;) {
    const want = cap === undefined ? MAX_LIST_LIMIT : Math.min(MAX_LIST_LIMIT, cap - count);
    if (want <= 0) break;
    const page = await store.list({ ...rest, afterSeq, limit: want });
    for (const record of page) {
      if (record.seq <= verifiedThrough && ownProblems(record).kinds.length > 0) verifiedThrough = record.seq - 1;
      yield `${JSON.stringify({ type: 'record', ...record, verified: record.seq <= verifiedThrough })}\n`;
      count += 1;
    }
    const last = page.at(-1);
    if (!last || page.length < want) break;
    afterSeq = last.seq;
  }
  yield `${JSON.stringify({ type: 'end', records: count })}\n`;
}

/** The audit pack as a byte stream, e.g. a Fastify reply body (`reply.type('application/x-ndjson').send(...)`). */
export function auditPackStream(store: RecordsStore, filter: RecordFilter = {}): Readable {
  return Readable.from(exportRecords(store, filter), { objectMode: false });
}

export type AuditPackCheck =
  | { ok: true; records: number; head: string }
  | { ok: false; records: number; line: number; reason: string };

/**
 * Re-checks a complete, unfiltered audit pack from its lines: framing, then the hash chain
 * from record 1. Lines may come with or without their trailing newline.
 */
export async function verifyAuditPack(lines: AsyncIterable<string> | Iterable<string>): Promise<AuditPackCheck> {
  const chain = new ChainVerifier();
  let lineNo = 0;
  let sawHeader = false;
  let sawEnd = false;
  const fail = (reason: string): AuditPackCheck => ({ ok: false, records: chain.checked, line: lineNo, reason });
  for await (const raw of lines) {
    lineNo += 1;
    const text = raw.trim();
    if (text === '') continue;
    let entry: { type?: unknown; records?: unknown } & Partial<EvidenceRecord>;
    try {
      entry = JSON.parse(text) as typeof entry;
    } catch {
      return fail('not JSON');
    }
    if (sawEnd) return fail('line after the end marker');
    if (!sawHeader) {
      if (entry.type !== 'audit-pack') return fail('missing audit-pack header');
      sawHeader = true;
      continue;
    }
    if (entry.type === 'end') {
      if (entry.records !== chain.checked) return fail(`end marker counts ${String(entry.records)} records, pack has ${chain.checked}`);
      sawEnd = true;
      continue;
    }
    if (entry.type !== 'record') return fail(`unexpected line type ${JSON.stringify(entry.type)}`);
    const { type: _type, ...record } = entry;
    const broken = chain.check(record as EvidenceRecord);
    if (broken !== undefined) return fail(broken.reason);
  }
  if (!sawHeader) return fail('empty pack');
  if (!sawEnd) return fail('pack is cut off (no end marker)');
  return { ok: true, records: chain.checked, head: chain.head };
}
