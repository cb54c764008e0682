/**
 * Readiness before an external audit: the internal audits reported within the period and
 * whether together they cover the AIMS scope (the internal audit programme's coverage rule:
 * clauses 4-10 and the Annex A controls the Statement of Applicability includes), a management review completed within it,
 * and the open major nonconformities. Each source that cannot be read is reported as
 * unavailable with the reason, never as "nothing found".
 */
import type { Client } from '@temporalio/client';
import { listNonconformities } from '../corrective-action/visibility.js';
import type { AuditKey, ReadinessReport } from './schema.js';
import { coveredBy, requiredCoverage } from '../internal-audit/schema.js';
import { summarizeInternalAudits, type InternalAuditSummary, type Unavailable } from '../internal-audit/summary.js';
import { completedReviews } from '../management-review/summary.js';
import type { Organization } from '../organization/schema.js';
import type { RecordsStore } from '../records/types.js';
import { readSoa } from '../soa/store.js';

export interface ReadinessInput {
  audit: AuditKey;
  /** Which check this is, e.g. `60d`. */
  check: string;
  period: { from: string; to: string };
}

export type ReadinessFindings = Omit<ReadinessReport, 'reviewStarted' | 'ready' | 'at'>;

export async function assessReadiness(
  deps: { records: Pick<RecordsStore, 'list'>; organization: () => Organization; temporal?: { client: Client; taskQueue: string } | undefined },
  input: ReadinessInput,
): Promise<ReadinessFindings> {
  const [audits, reviews, majors, included] = await Promise.all([
    summarizeInternalAudits(deps.records, input.period),
    completedReviews(deps.records, input.period),
    openMajors(deps.temporal),
    includedControls(deps),
  ]);
  return {
    audit: input.audit,
    check: input.check,
    period: input.period,
    internalAudit: internalAuditCoverage(deps.organization, audits, included),
    managementReview: Array.isArray(reviews)
      ? {
          available: true,
          complete: reviews.length > 0,
          reviews: reviews.map((r) => ({ reviewId: r.reviewId, workflowId: r.workflowId, approvedAt: r.approvedAt })),
        }
      : { available: false, reason: reviews.reason },
    openMajors: majors,
  };
}

/** The audits of the period and the items of the AIMS scope none of them covered. */
function internalAuditCoverage(organization: () => Organization, audits: InternalAuditSummary | Unavailable, included: string[] | Unavailable): ReadinessReport['internalAudit'] {
  if (!audits.available) return { available: false, reason: audits.reason };
  if (!Array.isArray(included)) return { available: false, reason: included.reason };
  let required: string[];
  try {
    required = requiredCoverage(organization(), included);
  } catch (err) {
    return { available: false, reason: `organization file: ${err instanceof Error ? err.message : String(err)}` };
  }
  const covered = coveredBy(required, audits.audits.map((a) => a.scope));
  const missing = required.filter((item) => !covered.includes(item));
  return {
    available: true,
    complete: audits.audits.length > 0 && missing.length === 0,
    audits: audits.audits.map((a) => ({ auditId: a.auditId, workflowId: a.workflowId, reportedAt: a.reportedAt })),
    missing,
  };
}

/** The Annex A controls the Statement of Applicability in force includes. */
async function includedControls(deps: { records: Pick<RecordsStore, 'list'>; organization: () => Organization }): Promise<string[] | Unavailable> {
  try {
    const soa = await readSoa(deps.records, deps.organization());
    return (soa?.controls ?? []).filter((c) => c.included).map((c) => c.control);
  } catch (err) {
    return { available: false, reason: `Statement of Applicability: ${err instanceof Error ? err.message : String(err)}` };
  }
}

async function openMajors(temporal: { client: Client; taskQueue: string } | undefined): Promise<ReadinessReport['openMajors']> {
  if (!temporal) return { available: false, reason: 'Temporal visibility is not configured' };
  try {
    const items = await listNonconformities(temporal.client, temporal.taskQueue, { severity: 'major' }, 1000);
    return {
      available: true,
      items: items
        .filter((nc) => nc.executionStatus === 'RUNNING' && nc.state !== 'closed' && nc.state !== 'cancelled')
        .map((nc) => ({ ncId: nc.ncId, workflowId: nc.workflowId, title: nc.title, state: nc.state, targetAt: nc.targetAt })),
    };
  } catch (err) {
    return { available: false, reason: `Temporal visibility: ${err instanceof Error ? err.message : String(err)}` };
  }
}
