/**
 * Internal audit results (ISO/IEC 42001 9.2) as an input to management review (9.3.2 d) and to
 * certification readiness: the audits reported in a period with their scope and findings, and
 * the programmes' year-end reports with the coverage achieved. Read from the evidence ledger
 * only; a ledger that cannot be read is reported as unavailable with the reason, never as zero.
 */
import {
  addCounts,
  INTERNAL_AUDIT_PROGRAMME_INTERIM_REPORT,
  INTERNAL_AUDIT_PROGRAMME_REPORT,
  INTERNAL_AUDIT_REPORTED,
  zeroCounts,
  type AuditReportedContent,
  type FindingCounts,
  type ProgrammeReportContent,
} from './schema.js';
import type { EvidenceRecord, RecordsStore } from '../records/types.js';

export interface Unavailable {
  available: false;
  reason: string;
}

export interface InternalAuditSummaryAudit {
  auditId: string;
  workflowId: string;
  title: string;
  scope: { clauses: string[]; controls: string[]; processes: string[]; aiSystems: string[] };
  window: { start: string; end: string };
  reportedAt: string;
  findings: FindingCounts;
  ncIds: string[];
}

export interface InternalAuditSummary {
  available: true;
  period: { from: string; to: string };
  auditsReported: number;
  audits: InternalAuditSummaryAudit[];
  findingsByType: FindingCounts;
  ncIds: string[];
  /**
   * Each programme's year-end report written in the period: the final one, or the interim one
   * while its audits under way have not finished (`status: 'interim'`).
   */
  programmes: Array<{ year: number; workflowId: string; status: 'interim' | 'final'; reportedAt: string; coverage: { covered: string[]; uncovered: string[] } }>;
}

const PAGE = 1000;

async function recordsOf(records: Pick<RecordsStore, 'list'>, kind: string, period: { from: string; to: string }): Promise<EvidenceRecord[]> {
  const out: EvidenceRecord[] = [];
  for (let afterSeq = 0; ; ) {
    const page = await records.list({ kind, from: period.from, to: period.to, afterSeq, limit: PAGE });
    out.push(...page);
    const last = page.at(-1);
    if (!last || page.length < PAGE) return out;
    afterSeq = last.seq;
  }
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

function countsOf(v: unknown): FindingCounts {
  const c = obj(v);
  return { majorNc: num(c.majorNc), minorNc: num(c.minorNc), observation: num(c.observation), opportunity: num(c.opportunity) };
}

function auditOf(record: EvidenceRecord): InternalAuditSummaryAudit {
  const c = obj(record.content) as Partial<AuditReportedContent>;
  const scope = obj(c.scope);
  const window = obj(c.window);
  return {
    auditId: typeof c.auditId === 'string' ? c.auditId : record.subject.split('/').at(-1) ?? record.subject,
    workflowId: typeof c.workflowId === 'string' ? c.workflowId : record.subject,
    title: typeof c.title === 'string' ? c.title : '',
    scope: { clauses: strings(scope.clauses), controls: strings(scope.controls), processes: strings(scope.processes), aiSystems: strings(scope.aiSystems) },
    window: { start: typeof window.start === 'string' ? window.start : '', end: typeof window.end === 'string' ? window.end : '' },
    reportedAt: typeof c.reportedAt === 'string' ? c.reportedAt : record.occurredAt,
    findings: countsOf(c.findingCounts),
    ncIds: strings(c.ncIds),
  };
}

/** The internal audits reported and the programme reports written within `[from, to)`. */
export async function summarizeInternalAudits(
  records: Pick<RecordsStore, 'list'>,
  period: { from: string; to: string },
): Promise<InternalAuditSummary | Unavailable> {
  try {
    const [reported, interimReports, finalReports] = await Promise.all([
      recordsOf(records, INTERNAL_AUDIT_REPORTED, period),
      recordsOf(records, INTERNAL_AUDIT_PROGRAMME_INTERIM_REPORT, period),
      recordsOf(records, INTERNAL_AUDIT_PROGRAMME_REPORT, period),
    ]);
    // One audit may be recorded more than once only through a restarted run; keep its latest report.
    const byWorkflow = new Map<string, InternalAuditSummaryAudit>();
    for (const record of reported) {
      const audit = auditOf(record);
      byWorkflow.set(audit.workflowId, audit);
    }
    const audits = [...byWorkflow.values()].sort((a, b) => a.reportedAt.localeCompare(b.reportedAt));
    const findingsByType = audits.reduce((sum, a) => addCounts(sum, a.findings), zeroCounts());
    const programmeOf = (record: EvidenceRecord, status: 'interim' | 'final') => {
      const c = obj(record.content) as Partial<ProgrammeReportContent>;
      const cov = obj(c.coverage);
      return {
        year: num(c.year),
        workflowId: typeof c.workflowId === 'string' ? c.workflowId : record.subject,
        status,
        reportedAt: typeof c.reportedAt === 'string' ? c.reportedAt : record.occurredAt,
        coverage: { covered: strings(cov.covered), uncovered: strings(cov.uncovered) },
      };
    };
    // A final report supersedes the programme's interim one.
    const finals = finalReports.map((r) => programmeOf(r, 'final'));
    const interims = interimReports.map((r) => programmeOf(r, 'interim')).filter((i) => !finals.some((f) => f.workflowId === i.workflowId));
    const programmes = [...finals, ...interims].sort((a, b) => a.reportedAt.localeCompare(b.reportedAt));
    return {
      available: true,
      period,
      auditsReported: audits.length,
      audits,
      findingsByType,
      ncIds: [...new Set(audits.flatMap((a) => a.ncIds))],
      programmes,
    };
  } catch (err) {
    return { available: false, reason: `evidence ledger: ${err instanceof Error ? err.message : String(err)}` };
  }
}
