/**
 * Where each item lives in the console, by its workflow id: the one place that knows the
 * console's paths for links from elsewhere (the static details a workflow carries in the
 * Temporal UI, the evidence pages' links to the item a record is about). Pure: no I/O.
 *
 * A workflow without a page of its own (a task, an approval, a scheduled run) is shown by
 * the evidence page of its records.
 */

const seg = (value: string) => encodeURIComponent(value);

export const consolePaths = {
  nonconformities: '/console/nonconformities',
  nonconformity: (ncId: string) => `/console/nonconformities/${seg(ncId)}`,
  concerns: '/console/concerns',
  concern: (year: string, ref: string) => `/console/concerns/${seg(year)}/${seg(ref)}`,
  aiSystems: '/console/ai-systems',
  aiSystem: (systemId: string) => `/console/ai-systems/${seg(systemId)}`,
  assessment: (systemId: string, ref: string) => `/console/ai-systems/${seg(systemId)}/assessments/${seg(ref)}`,
  risks: '/console/risks',
  risk: (riskId: string) => `/console/risks/${seg(riskId)}`,
  soa: '/console/soa',
  objectives: '/console/objectives',
  objective: (objectiveId: string) => `/console/objectives/${seg(objectiveId)}`,
  policy: '/console/policy',
  policyVersion: (version: number) => `/console/policy/${version}`,
  evidence: '/console/evidence',
  /** The evidence page of one subject (usually a workflow id). */
  evidenceOf: (subject: string) => `/console/evidence?subject=${encodeURIComponent(subject)}`,
  /** The evidence page of every subject under a prefix (e.g. `management-review/`). */
  evidenceUnder: (prefix: string) => `/console/evidence?subjectPrefix=${encodeURIComponent(prefix)}`,
  record: (seq: number) => `/console/evidence/${seq}`,
  /** The plan-and-start pages of the cycles (src/<process>/console.ts of each). */
  auditProgramme: (year: string) => `/console/plan/audit-programme/${seg(year)}`,
  managementReview: (reviewId: string) => `/console/plan/management-review/${seg(reviewId)}`,
  certification: (certificateId: string) => `/console/plan/certification/${seg(certificateId)}`,
  schedule: (kind: string) => `/console/plan/schedules/${seg(kind)}`,
} as const;

/** Workflow ids with a console page of their own, and the page. */
const PAGES: Array<[RegExp, (m: RegExpExecArray) => string]> = [
  [/^corrective-action\/(NC-\d{4}-\d{3,})$/, (m) => consolePaths.nonconformity(m[1]!)],
  [/^concern\/(\d{4})\/([a-z0-9]{8})$/, (m) => consolePaths.concern(m[1]!, m[2]!)],
  [/^ai-system\/([a-z0-9][a-z0-9._-]{0,63})$/, (m) => consolePaths.aiSystem(m[1]!)],
  [/^impact-assessment\/([a-z0-9][a-z0-9._-]{0,63})\/(\d{4}-\d+)$/, (m) => consolePaths.assessment(m[1]!, m[2]!)],
  [/^objective\/([^/]+)$/, (m) => consolePaths.objective(m[1]!)],
  [/^risk\/(R-\d+)$/, (m) => consolePaths.risk(m[1]!)],
  [/^soa(-review\/.*)?$/, () => consolePaths.soa],
  [/^internal-audit-programme\/(\d{4})$/, (m) => consolePaths.auditProgramme(m[1]!)],
  [/^management-review\/([^/]+)$/, (m) => consolePaths.managementReview(m[1]!)],
  [/^certification\/iso42001\/([^/]+)$/, (m) => consolePaths.certification(m[1]!)],
  [/^policy(-review\/.*)?$/, () => consolePaths.policy],
];

/** The console page of the item a workflow (or a record's subject) is about. */
export function consolePathOf(workflowId: string): string {
  for (const [pattern, page] of PAGES) {
    const m = pattern.exec(workflowId);
    if (m) return page(m);
  }
  return consolePaths.evidenceOf(workflowId);
}

/** `path` under the public base URL (`PUBLIC_BASE_URL`, with or without a trailing slash). */
export function consoleUrl(publicBaseUrl: string, path: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}${path}`;
}
