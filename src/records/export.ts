/**
 * The audit pack: evidence records as NDJSON, framed so a reader can tell a complete pack
 * from a cut-off download.
 *
 *   {"type":"audit-pack","format":2,"exportedAt":…,"filter":{…},"verification":{…VerifyResult},"ledgerHead":{seq,hash,at}}
 *   {"type":"anchor", …LedgerAnchor}                       one line per published anchor up to the head
 *   {"type":"record", …EvidenceRecord, "verified":true}   one line per record, in seq order
 *   {"type":"end","records":N,"anchors":M}                 (`anchors` only when M > 0)
 *
 * `verification` covers the whole ledger at export time and lists every break. A record line
 * is `verified` when it lies before the first break that verification found and it still
 * matches its own hashes as it is written (so do all records before it in the pack). A pack
 * exported without a filter holds the whole chain, which `verifyAuditPack` re-checks offline
 * from the lines alone.
 *
 * The anchors are the ledger heads published outside the database up to the export, each with
 * the hashes of the records it covered. Offline, `verifyAuditPack` checks that the pack's chain,
 * recomputed from its first record, reaches every anchor (the pack's own and any the auditor
 * kept from the anchor mails), and names the first record that differs from an anchored chain.
 * Format 1 packs (no head, no anchors) are still read.
 */
import { Readable } from 'node:stream';
import { RecordValidationError } from './errors.js';
import { AnchorCheck, anchoredChain } from './anchors.js';
import { ChainVerifier, ownProblems } from './hash.js';
import type { AnchorRef, AnchorVerdict, EvidenceRecord, LedgerAnchor, LedgerHead, RecordFilter, RecordsStore, VerifyResult } from './types.js';
import { MAX_LIST_LIMIT, parseRecordFilter } from './validation.js';

export const AUDIT_PACK_FORMAT = 2;

export interface AuditPackHeader {
  type: 'audit-pack';
  format: typeof AUDIT_PACK_FORMAT;
  exportedAt: string;
  filter: Omit<RecordFilter, 'limit'> & { limit?: number };
  verification: VerifyResult;
  /** The ledger head at export. */
  ledgerHead: LedgerHead;
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
  const ledgerHead = await store.head();
  const anchors = await store.anchors.list({ throughSeq: ledgerHead.seq, publishedOnly: true, withRecordHashes: true });
  const { limit: _limit, ...rest } = parsed;
  const header: AuditPackHeader = {
    type: 'audit-pack',
    format: AUDIT_PACK_FORMAT,
    exportedAt: now().toISOString(),
    filter: cap === undefined ? rest : { ...rest, limit: cap },
    verification,
    ledgerHead,
  };
  yield `${JSON.stringify(header)}\n`;
  for (const anchor of anchors) yield `${JSON.stringify({ type: 'anchor', ...anchor })}\n`;
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
  yield `${JSON.stringify({ type: 'end', records: count, ...(anchors.length ? { anchors: anchors.length } : {}) })}\n`;
}

/** The audit pack as a byte stream, e.g. a Fastify reply body (`reply.type('application/x-ndjson').send(...)`). */
export function auditPackStream(store: RecordsStore, filter: RecordFilter = {}): Readable {
  return Readable.from(exportRecords(store, filter), { objectMode: false });
}

export type AuditPackCheck =
  | { ok: true; records: number; head: string; anchors?: AnchorVerdict[] }
  | { ok: false; records: number; line: number; reason: string; anchors?: AnchorVerdict[]; firstDifference?: { seq: number; id: string | null } };

/** What an anchor file (the attachment of an anchor mail) holds; see anchorFile(). */
export type AnchorFileContent = AnchorRef & { recordHashes?: Array<[number, string]> };

export interface VerifyAuditPackOptions {
  /** Heads known from outside (e.g. the anchor mails), checked besides the pack's own anchors. */
  anchors?: AnchorRef[];
  /** Anchor files kept from the anchor mails: their heads and the record hashes they carry. */
  anchorFiles?: AnchorFileContent[];
}

/**
 * Re-checks a complete, unfiltered audit pack from its lines: framing, then the hash chain
 * from record 1, then that the chain recomputed from record 1 reaches every anchor (the pack's
 * and those given). A mismatch names the first record that differs from the anchored chain
 * (from the record hashes the anchors carry), or the range it lies in. Lines may come with or
 * without their trailing newline.
 */
export async function verifyAuditPack(lines: AsyncIterable<string> | Iterable<string>, options: VerifyAuditPackOptions = {}): Promise<AuditPackCheck> {
  const chain = new ChainVerifier();
  const packAnchors: Array<AnchorRef & { recordHashes: Array<[number, string]> }> = [];
  let anchorCheck: AnchorCheck | undefined;
  let lineNo = 0;
  let sawHeader = false;
  let sawEnd = false;
  let sawRecord = false;
  const fail = (reason: string): AuditPackCheck => ({ ok: false, records: chain.checked, line: lineNo, reason });
  for await (const raw of lines) {
    lineNo += 1;
    const text = raw.trim();
    if (text === '') continue;
    let entry: { type?: unknown; records?: unknown; anchors?: unknown } & Partial<EvidenceRecord> & Partial<LedgerAnchor>;
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
    if (entry.type === 'anchor') {
      if (sawRecord) return fail('anchor line after the first record');
      if (!Number.isSafeInteger(entry.seq) || typeof entry.hash !== 'string') return fail('anchor line without seq and hash');
      packAnchors.push({ seq: entry.seq!, hash: entry.hash, recordHashes: Array.isArray(entry.recordHashes) ? entry.recordHashes : [] });
      continue;
    }
    if (entry.type === 'end') {
      if (entry.records !== chain.checked) return fail(`end marker counts ${String(entry.records)} records, pack has ${chain.checked}`);
      if ((entry.anchors ?? 0) !== packAnchors.length) return fail(`end marker counts ${String(entry.anchors)} anchors, pack has ${packAnchors.length}`);
      sawEnd = true;
      continue;
    }
    if (entry.type !== 'record') return fail(`unexpected line type ${JSON.stringify(entry.type)}`);
    if (!sawRecord) {
      sawRecord = true;
      const given = [...(options.anchors ?? []), ...(options.anchorFiles ?? [])];
      // Record hashes from the anchor files kept outside come first; the pack's own fill the rest.
      const anchored = anchoredChain([...packAnchors, ...(options.anchorFiles ?? []).map((f) => ({ recordHashes: f.recordHashes ?? [] }))]);
      if (given.length + packAnchors.length > 0) anchorCheck = new AnchorCheck([...packAnchors, ...given], anchored);
    }
    const { type: _type, ...record } = entry;
    const broken = chain.check(record as EvidenceRecord);
    if (broken !== undefined) return fail(broken.reason);
    anchorCheck?.feed(record as EvidenceRecord);
  }
  if (!sawHeader) return fail('empty pack');
  if (!sawEnd) return fail('pack is cut off (no end marker)');
  if (!sawRecord) {
    const given = [...packAnchors, ...(options.anchors ?? []), ...(options.anchorFiles ?? [])];
    if (given.length > 0) anchorCheck = new AnchorCheck(given);
  }
  if (!anchorCheck) return { ok: true, records: chain.checked, head: chain.head };
  const { verdicts, breaks } = anchorCheck.finish(chain.nextSeq - 1);
  const first = breaks[0];
  if (first) {
    return { ok: false, records: chain.checked, line: lineNo, reason: first.reason, anchors: verdicts, firstDifference: { seq: first.seq, id: first.id } };
  }
  return { ok: true, records: chain.checked, head: chain.head, anchors: verdicts };
}
