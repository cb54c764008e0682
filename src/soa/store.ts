/**
 * The Statement of Applicability in the ledger: its versions (`soa.changed` records in ledger
 * order, the first carrying the baseline) and approvals (`soa.approved`). Version 0 is the
 * baseline from the organization file, shown until the first change is recorded.
 */
import { contentHashOf } from '../records/hash.js';
import type { EvidenceRecord, RecordsStore } from '../records/types.js';
import type { Organization } from '../organization/schema.js';
import { applySoaEdits, baselineSoa, SOA_APPROVED, SOA_CHANGED, SOA_CLAUSES, SOA_SUBJECT, type SoaChangeContent, type SoaControl, type SoaEdit } from './schema.js';

export interface SoaVersion {
  version: number;
  controls: SoaControl[];
  /** sha256 of the canonical JSON of `{ version, controls }`: what an approval is bound to. */
  hash: string;
  recordId: string | null;
  at: string | null;
  by: string | null;
  reason: string;
  source: string | null;
  approved: { by: string; at: string; approvalId: string; recordId: string } | null;
}

async function soaRecords(records: Pick<RecordsStore, 'list'>): Promise<EvidenceRecord[]> {
  const out: EvidenceRecord[] = [];
  for (let afterSeq = 0; ; ) {
    const page = await records.list({ subject: SOA_SUBJECT, afterSeq, limit: 1000 });
    out.push(...page);
    const last = page.at(-1);
    if (!last || page.length < 1000) return out;
    afterSeq = last.seq;
  }
}

export const soaHash = (version: number, controls: readonly SoaControl[]) => contentHashOf({ version, controls });

/** Every version, oldest first (version 0, the baseline, first). */
export async function soaVersions(records: Pick<RecordsStore, 'list'>, org: Pick<Organization, 'aims' | 'roles'>): Promise<SoaVersion[]> {
  const rows = await soaRecords(records);
  const changes = rows.filter((r) => r.kind === SOA_CHANGED);
  const approvals = rows.filter((r) => r.kind === SOA_APPROVED);
  const first = changes[0]?.content as SoaChangeContent | undefined;
  let controls = first?.baseline ?? baselineSoa(org);
  const approvedOf = (version: number, hash: string) => {
    const a = approvals.find((r) => (r.content as { version?: number; hash?: string }).version === version && (r.content as { hash?: string }).hash === hash);
    if (!a) return null;
    const c = a.content as { approvedBy?: string; approvalId?: string };
    return { by: c.approvedBy ?? a.actor, at: a.occurredAt, approvalId: c.approvalId ?? '', recordId: a.id };
  };
  const versions: SoaVersion[] = [];
  const v0 = soaHash(0, controls);
  versions.push({ version: 0, controls, hash: v0, recordId: null, at: null, by: null, reason: 'baseline from the organization file', source: null, approved: approvedOf(0, v0) });
  changes.forEach((r, i) => {
    const c = r.content as SoaChangeContent;
    controls = applySoaEdits(controls, c.changes);
    const version = i + 1;
    const hash = soaHash(version, controls);
    versions.push({ version, controls, hash, recordId: r.id, at: r.occurredAt, by: r.actor, reason: c.reason, source: c.source ?? null, approved: approvedOf(version, hash) });
  });
  return versions;
}

/** The current version, or the one asked for; undefined for a version that does not exist. */
export async function readSoa(records: Pick<RecordsStore, 'list'>, org: Pick<Organization, 'aims' | 'roles'>, version?: number): Promise<SoaVersion | undefined> {
  const all = await soaVersions(records, org);
  return version === undefined ? all.at(-1) : all[version];
}

/** Records a change (a new version). The first change carries the baseline it applies to. */
export async function appendSoaChange(
  records: Pick<RecordsStore, 'append' | 'list' | 'get'>,
  org: Pick<Organization, 'aims' | 'roles'>,
  input: { id: string; actor: string; changes: SoaEdit[]; reason: string; source?: string; occurredAt?: string },
): Promise<{ recordId: string; version: number }> {
  // A retried write gets the version it recorded the first time.
  const again = await records.get(input.id);
  if (again) return { recordId: again.id, version: (await soaVersions(records, org)).findIndex((v) => v.recordId === again.id) };
  const existing = await records.list({ subject: SOA_SUBJECT, kind: SOA_CHANGED, limit: 1 });
  const content: SoaChangeContent = {
    changes: input.changes,
    reason: input.reason,
    ...(input.source ? { source: input.source } : {}),
    ...(existing.length === 0 ? { baseline: baselineSoa(org) } : {}),
  };
  const stored = await records.append({
    id: input.id,
    kind: SOA_CHANGED,
    subject: SOA_SUBJECT,
    clauses: [...SOA_CLAUSES, ...input.changes.map((c) => c.control)].slice(0, 20),
    actor: input.actor,
    occurredAt: input.occurredAt ?? new Date().toISOString(),
    content,
  });
  const versions = await soaVersions(records, org);
  return { recordId: stored.id, version: versions.findIndex((v) => v.recordId === stored.id) };
}
