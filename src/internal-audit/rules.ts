/**
 * The plan rules applied to a programme's audits against the organization and the ledger:
 * errors (unknown people, processes or AI systems, windows outside the year, impartiality) and
 * the coverage of the AIMS scope over the audit cycle, whose gaps come back as warnings. Used
 * by the starter and the admin API before a plan reaches a workflow, and by the activity that
 * checks a plan submitted to a running programme.
 */
import { auditProblems, coverageWarnings, type CoverageResult, type PlanIssue, type PlannedAudit } from './schema.js';
import { cycleCoverage } from './coverage.js';
import type { Organization } from '../organization/schema.js';
import type { RecordsStore } from '../records/types.js';

export interface PlanValidation {
  errors: PlanIssue[];
  warnings: PlanIssue[];
  coverage: CoverageResult;
}

/**
 * Validates audits against the organization (only `checkIds` among them when given, e.g. an
 * added audit or a new auditor; `pathOf` names an audit's fields) and computes the coverage.
 */
export async function validatePlan(
  org: Organization,
  records: Pick<RecordsStore, 'list'>,
  input: { year: number; audits: PlannedAudit[]; checkIds?: string[]; pathOf?: Record<string, string> },
): Promise<PlanValidation> {
  const errors: PlanIssue[] = [];
  input.audits.forEach((audit, i) => {
    if (input.checkIds && !input.checkIds.includes(audit.auditId)) return;
    errors.push(...auditProblems(org, input.year, audit, input.pathOf?.[audit.auditId] ?? `audits.${i}`));
  });
  const coverage = await cycleCoverage(org, records, input.year, input.audits.map((a) => a.scope));
  return { errors, warnings: coverageWarnings(coverage), coverage };
}
