/**
 * Coverage of the AIMS scope over the audit cycle (ISO/IEC 42001 9.2.2): the scopes of the audits
 * reported in the earlier years of the cycle are read from the evidence ledger, so a programme
 * planned this year knows what the previous programmes already covered.
 */
import { coverage, INTERNAL_AUDIT_REPORTED, type AuditScope, type CoverageResult } from './schema.js';
import type { Organization } from '../organization/schema.js';
import type { RecordsStore } from '../records/types.js';
import { readSoa } from '../soa/store.js';

const PAGE = 1000;

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Scopes of the audits reported for programme years `[fromYear, toYear)`, from the ledger. */
export async function reportedScopes(
  records: Pick<RecordsStore, 'list'>,
  fromYear: number,
  toYear: number,
): Promise<Array<{ year: number; auditId: string; scope: Pick<AuditScope, 'clauses' | 'controls'> }>> {
  const out: Array<{ year: number; auditId: string; scope: Pick<AuditScope, 'clauses' | 'controls'> }> = [];
  // Audits of a year are reported within that year or shortly after it.
  const from = new Date(Date.UTC(fromYear, 0, 1)).toISOString();
  for (let afterSeq = 0; ; ) {
    const page = await records.list({ kind: INTERNAL_AUDIT_REPORTED, from, afterSeq, limit: PAGE });
    for (const record of page) {
      const c = (record.content ?? {}) as Record<string, unknown>;
      const year = typeof c.year === 'number' ? c.year : NaN;
      if (!(year >= fromYear && year < toYear)) continue;
      const scope = (c.scope ?? {}) as Record<string, unknown>;
      out.push({ year, auditId: typeof c.auditId === 'string' ? c.auditId : record.subject, scope: { clauses: strings(scope.clauses), controls: strings(scope.controls) } });
    }
    const last = page.at(-1);
    if (!last || page.length < PAGE) return out;
    afterSeq = last.seq;
  }
}

/**
 * Coverage of `year`'s scopes together with the audits reported in the cycle's earlier years,
 * against clauses 4-10 and the Annex A controls the Statement of Applicability in force includes.
 */
export async function cycleCoverage(
  org: Organization,
  records: Pick<RecordsStore, 'list'>,
  year: number,
  scopes: Array<Pick<AuditScope, 'clauses' | 'controls'>>,
): Promise<CoverageResult> {
  const cycleYears = org.internalAudit.coverageCycleYears;
  const earlier = await reportedScopes(records, year - cycleYears + 1, year);
  const soa = await readSoa(records, org);
  return coverage(org, year, cycleYears, scopes, earlier, soa?.controls.filter((c) => c.included).map((c) => c.control));
}
