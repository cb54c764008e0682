/**
 * Internal audit (ISO/IEC 42001 9.2): the yearly audit programme, each audit's scope, window,
 * auditor and auditee, the validation rules (impartiality, windows inside the year, coverage of
 * the AIMS scope over the audit cycle), findings, and the content of the ledger records the
 * workflows write. Workflow-safe (zod only).
 */
import { z } from 'zod';
import { ANNEX_A_CONTROL, CLAUSE_NUMBER } from '../common/clauses.js';
import { SINGLE_LINE } from '../common/text.js';
import { isCalendarDate } from '../common/dates.js';
import { durationString } from '../common/duration.js';
import type { Organization } from '../organization/schema.js';
import { auditorConflicts, dutyFacts, leadAuditorCompetenceConflict } from '../people/duties.js';
import { actorSchema, personIdSchema, timingPolicySchema } from '../common/schemas.js';

// ---------------------------------------------------------------------------------------------
// Ids

export const auditYearSchema = z
  .number({ error: 'must be a year such as 2027' })
  .int('must be a whole year such as 2027')
  .min(2000, 'must be 2000 or later')
  .max(2100, 'must be 2100 or earlier');

export const auditIdSchema = z
  .string()
  .trim()
  .regex(/^[A-Z][A-Z0-9]{0,7}-\d{1,4}$/, 'must be an audit id such as A-03');

// ---------------------------------------------------------------------------------------------
// Scope, window, planned audit

const clauseSchema = z.string().trim().regex(CLAUSE_NUMBER, 'must be a clause number 4-10 such as 9.2');
const controlSchema = z.string().trim().regex(ANNEX_A_CONTROL, 'must be an Annex A control id such as A.5.4');
const processKeySchema = z.string().trim().regex(/^[a-z][a-z0-9-]{1,48}$/, 'must be a process key such as data-management');
const aiSystemIdSchema = z.string().trim().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be an AI system id');

export const auditScopeSchema = z
  .object({
    clauses: z.array(clauseSchema).max(50).default([]),
    controls: z.array(controlSchema).max(50).default([]),
    processes: z.array(processKeySchema).max(20).default([]),
    aiSystems: z.array(aiSystemIdSchema).max(20).default([]),
  })
  .strict()
  .refine((s) => s.clauses.length + s.controls.length + s.processes.length + s.aiSystems.length > 0, {
    message: 'needs at least one clause, control, process or AI system',
  });
export type AuditScope = z.output<typeof auditScopeSchema>;

const isoInstantPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** A window bound: a date (`2027-03-01`, whole days) or an ISO instant. */
export const windowBoundSchema = z
  .string()
  .trim()
  .refine((v) => isCalendarDate(v) || (isoInstantPattern.test(v) && !Number.isNaN(Date.parse(v))), 'must be a date (YYYY-MM-DD) or an ISO-8601 date-time');

export const auditWindowSchema = z
  .object({ start: windowBoundSchema, end: windowBoundSchema })
  .strict()
  .superRefine((w, ctx) => {
    if (isCalendarDate(w.start) !== isCalendarDate(w.end)) {
      ctx.addIssue({ code: 'custom', path: ['end'], message: 'must be a date when start is a date, a date-time when start is one' });
    } else if (windowEndMs(w) <= windowStartMs(w)) {
      ctx.addIssue({ code: 'custom', path: ['end'], message: 'must not be before start' });
    }
  });
export type AuditWindow = z.output<typeof auditWindowSchema>;

const DAY_MS = 86_400_000;

/** The first instant of the window (a date starts at 00:00 UTC). */
export function windowStartMs(w: { start: string }): number {
  return Date.parse(w.start);
}

/** The end of the window (a date's whole day counts: 00:00 UTC of the next day). */
export function windowEndMs(w: { end: string }): number {
  return Date.parse(w.end) + (isCalendarDate(w.end) ? DAY_MS : 0);
}

export const plannedAuditSchema = z
  .object({
    auditId: auditIdSchema,
    title: z.string().trim().min(3, 'must be at least 3 characters').max(200).regex(...SINGLE_LINE),
    /** What the audit is for and what it is checked against (defaults are filled in). */
    objectives: z.string().trim().max(5000).optional(),
    criteria: z.string().trim().max(5000).optional(),
    scope: auditScopeSchema,
    window: auditWindowSchema,
    leadAuditor: personIdSchema,
    /** Further auditors with the lead auditor; each is held to the same impartiality rules. */
    team: z.array(personIdSchema).max(10, 'at most 10 team members').optional(),
    /** The process owner being audited. */
    auditee: personIdSchema,
  })
  .strict();
export type PlannedAuditInput = z.input<typeof plannedAuditSchema>;
export type PlannedAudit = z.output<typeof plannedAuditSchema>;

export const auditListSchema = z
  .array(plannedAuditSchema)
  .min(1, 'needs at least one audit')
  .max(100)
  .superRefine((audits, ctx) => {
    const seen = new Set<string>();
    audits.forEach((a, i) => {
      if (seen.has(a.auditId)) ctx.addIssue({ code: 'custom', path: [i, 'auditId'], message: `duplicate audit id "${a.auditId}"` });
      seen.add(a.auditId);
    });
  });

// ---------------------------------------------------------------------------------------------
// Policy (organization defaults overridden per programme; tests use seconds)

export const auditStepPolicySchema = z.object({
  /** Due duration of the audit plan, acknowledgement, fieldwork and findings tasks. */
  stepDue: durationString.optional(),
  /** How long the report approver has. */
  approvalDue: durationString.optional(),
  /** Reminders and escalations of the tasks and approvals. */
  tasks: timingPolicySchema.prefault({}),
});

export const internalAuditPolicySchema = auditStepPolicySchema.extend({
  /** How long before a window the lead auditor is reminded (default from the organization file). */
  reminderBefore: durationString.optional(),
  /** How long the AIMS manager has to submit the plan when the programme starts without one. */
  planDue: durationString.optional(),
  /** The moment the year-end report is written (default: 1 January of the next year, UTC). */
  yearEndAt: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time' }).optional(),
});
export type InternalAuditPolicy = z.output<typeof internalAuditPolicySchema>;

// ---------------------------------------------------------------------------------------------
// Programme input

/** What a schedule or launcher passes: no audits, the programme starts in `planning`. */
export const internalAuditProgrammeMinimalInputSchema = z.object({
  year: auditYearSchema,
  requestedBy: actorSchema.default('system'),
  trigger: z.enum(['admin', 'schedule'], { message: 'must be "admin" or "schedule"' }).default('admin'),
});
export type InternalAuditProgrammeMinimalInput = z.input<typeof internalAuditProgrammeMinimalInputSchema>;

export const internalAuditProgrammeInputSchema = internalAuditProgrammeMinimalInputSchema.extend({
  /** The planned audits; without them the AIMS manager is asked to plan the programme. */
  audits: auditListSchema.optional(),
  policy: internalAuditPolicySchema.prefault({}),
});
export type InternalAuditProgrammeInput = z.input<typeof internalAuditProgrammeInputSchema>;
export type InternalAuditProgrammeSpec = z.output<typeof internalAuditProgrammeInputSchema>;

// ---------------------------------------------------------------------------------------------
// Programme updates

export const submitPlanSchema = z.object({ by: actorSchema, audits: auditListSchema, note: z.string().trim().max(5000).optional() }).strict();
export type SubmitPlan = z.output<typeof submitPlanSchema>;

/** Set when a window in the past records an audit that already took place (the rule below). */
const alreadyHeldField = z.boolean().optional();

export const rescheduleAuditSchema = z
  .object({
    by: actorSchema,
    auditId: auditIdSchema,
    window: auditWindowSchema,
    reason: z.string().trim().min(1, 'a reason is required').max(2000),
    alreadyHeld: alreadyHeldField,
  })
  .strict();
export type RescheduleAudit = z.input<typeof rescheduleAuditSchema>;

export const changeAuditorSchema = z
  .object({ by: actorSchema, auditId: auditIdSchema, leadAuditor: personIdSchema, reason: z.string().trim().min(1, 'a reason is required').max(2000) })
  .strict();
export type ChangeAuditor = z.input<typeof changeAuditorSchema>;

export const addAuditSchema = z
  .object({ by: actorSchema, audit: plannedAuditSchema, reason: z.string().trim().max(2000).optional(), alreadyHeld: alreadyHeldField })
  .strict();
export type AddAudit = z.output<typeof addAuditSchema>;

export const cancelAuditSchema = z
  .object({ by: actorSchema, auditId: auditIdSchema, reason: z.string().trim().min(1, 'a reason is required').max(2000) })
  .strict();
export type CancelAudit = z.input<typeof cancelAuditSchema>;

/** Writes the year-end report now instead of at the end of the year (e.g. before an external audit). */
export const closeYearSchema = z.object({ by: actorSchema, reason: z.string().trim().min(1, 'a reason is required').max(2000) }).strict();
export type CloseYear = z.output<typeof closeYearSchema>;

// ---------------------------------------------------------------------------------------------
// Audit (child) input and messages

export const internalAuditInputSchema = z.object({
  year: auditYearSchema,
  audit: plannedAuditSchema,
  /** The programme's workflow id (for the record and the progress signals). */
  programmeWorkflowId: z.string().min(1).max(300),
  policy: auditStepPolicySchema.prefault({}),
});
export type InternalAuditInput = z.input<typeof internalAuditInputSchema>;
export type InternalAuditSpec = z.output<typeof internalAuditInputSchema>;

/** A change the programme passes to a running audit. */
export type AuditChange =
  | { type: 'reschedule'; window: AuditWindow; reason: string; by: string }
  | { type: 'auditor'; leadAuditor: string; reason: string; by: string }
  /** The auditee was handed over (they left, or the process changed hands). */
  | { type: 'auditee'; auditee: string; reason: string; by: string };

export const findingTypes = ['major-nc', 'minor-nc', 'observation', 'opportunity'] as const;
export type FindingType = (typeof findingTypes)[number];

export interface AuditFinding {
  /** `<auditId>-F<n>`, e.g. `A-03-F2`. */
  findingId: string;
  type: FindingType;
  refs: string[];
  statement: string;
  evidence: string;
  /** For nonconformities: who owns the corrective action (default: the auditee). */
  owner?: string;
  /** For nonconformities: the NC raised. */
  ncId?: string;
  /** For observations and opportunities for improvement: the improvement item raised (10.1). */
  improvementId?: string;
}

export type AuditState =
  | 'invited'
  | 'planning'
  | 'acknowledgement'
  | 'fieldwork'
  | 'findings'
  | 'report-approval'
  | 'reported'
  | 'cancelled';

export interface AuditStatus {
  year: number;
  auditId: string;
  workflowId: string;
  programmeWorkflowId: string;
  title: string;
  scope: AuditScope;
  window: AuditWindow;
  leadAuditor: string;
  auditee: string;
  state: AuditState;
  inviteSequence: number;
  currentStep?: { key: string; workflowId: string };
  plan?: Record<string, unknown>;
  fieldwork?: Record<string, unknown>;
  findings: AuditFinding[];
  ncIds: string[];
  reportedAt?: string;
  cancellation?: { by: string; at: string; reason: string };
  timeline: Array<{ at: string; type: string; by: string; detail: string }>;
}

export interface InternalAuditResult {
  auditId: string;
  status: 'reported' | 'cancelled';
  findings: AuditFinding[];
  ncIds: string[];
  reportedAt?: string;
  cancellation?: { by: string; at: string; reason: string };
}

/** Progress an audit reports to its programme (signal). */
export interface AuditProgress {
  auditId: string;
  state: AuditState;
  at: string;
  findings?: FindingCounts;
  ncIds?: string[];
}

// ---------------------------------------------------------------------------------------------
// Programme status

/** `finishing`: the year is over and its interim report written; audits under way are finishing before the final report. */
export type ProgrammeState = 'planning' | 'validating' | 'approval' | 'running' | 'reporting' | 'finishing' | 'closed' | 'cancelled';

/** How the programme tracks an audit. */
export type TrackedAuditState = 'planned' | 'in-progress' | 'reported' | 'overdue' | 'cancelled';

export interface TrackedAudit extends PlannedAudit {
  workflowId: string;
  state: TrackedAuditState;
  /** Its window records an audit that already took place: no reminder, no escalation. */
  alreadyHeld?: boolean;
  /** The audit's own step. */
  step: AuditState | 'not-started';
  unplanned: boolean;
  reminded: boolean;
  escalated: boolean;
  findings?: FindingCounts;
  ncIds: string[];
  reportedAt?: string;
  cancellation?: { by: string; at: string; reason: string };
}

export interface PlanIssue {
  field: string;
  rule: string;
  message: string;
}

export interface CoverageResult {
  cycleYears: number;
  /** Years whose reported audits count (this one included). */
  years: number[];
  required: string[];
  covered: string[];
  uncovered: string[];
}

export interface ProgrammeStatus {
  year: number;
  workflowId: string;
  state: ProgrammeState;
  trigger: 'admin' | 'schedule';
  requestedBy: string;
  aimsManager?: string;
  planTask?: { workflowId: string };
  approval?: { workflowId: string; round: number };
  /** The plan waiting for approval (while validating or in approval), and who prepared it. */
  plan?: { audits: PlannedAudit[]; by: string };
  approvedAt?: string;
  audits: TrackedAudit[];
  warnings: PlanIssue[];
  lastRejection?: string;
  coverage?: CoverageResult;
  yearEndAt: string;
  /** When the interim report was written (audits were still under way at the year end). */
  interimReportedAt?: string;
  /** When the (final) year-end report was written. */
  reportedAt?: string;
  timeline: Array<{ at: string; type: string; by: string; detail: string }>;
}

export interface ProgrammeResult {
  year: number;
  status: 'closed' | 'cancelled';
  reportedAt?: string;
  audits: Array<{ auditId: string; state: TrackedAuditState }>;
}

// ---------------------------------------------------------------------------------------------
// Findings

export interface FindingCounts {
  majorNc: number;
  minorNc: number;
  observation: number;
  opportunity: number;
}

export function countFindings(findings: Array<{ type: FindingType }>): FindingCounts {
  return {
    majorNc: findings.filter((f) => f.type === 'major-nc').length,
    minorNc: findings.filter((f) => f.type === 'minor-nc').length,
    observation: findings.filter((f) => f.type === 'observation').length,
    opportunity: findings.filter((f) => f.type === 'opportunity').length,
  };
}

export function addCounts(a: FindingCounts, b: FindingCounts): FindingCounts {
  return {
    majorNc: a.majorNc + b.majorNc,
    minorNc: a.minorNc + b.minorNc,
    observation: a.observation + b.observation,
    opportunity: a.opportunity + b.opportunity,
  };
}

export const zeroCounts = (): FindingCounts => ({ majorNc: 0, minorNc: 0, observation: 0, opportunity: 0 });

/** `1 major NC, 0 minor NCs, 2 observations, 0 opportunities for improvement` */
export function findingsText(c: FindingCounts): string {
  const n = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`;
  return [
    n(c.majorNc, 'major NC', 'major NCs'),
    n(c.minorNc, 'minor NC', 'minor NCs'),
    n(c.observation, 'observation', 'observations'),
    n(c.opportunity, 'opportunity for improvement', 'opportunities for improvement'),
  ].join(', ');
}

/** `clauses 8.2, 8.4; controls A.7.2; processes data-management` (for texts). */
export function scopeText(scope: AuditScope): string {
  return [
    scope.clauses.length ? `clauses ${scope.clauses.join(', ')}` : '',
    scope.controls.length ? `controls ${scope.controls.join(', ')}` : '',
    scope.processes.length ? `processes ${scope.processes.join(', ')}` : '',
    scope.aiSystems.length ? `AI systems ${scope.aiSystems.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('; ');
}

// ---------------------------------------------------------------------------------------------
// Ledger record content

export const INTERNAL_AUDIT_REPORTED = 'internal-audit.reported';
export const INTERNAL_AUDIT_PROGRAMME_REPORT = 'internal-audit-programme.report';
/** Written at the year end while audits are still under way; the final report supersedes it. */
export const INTERNAL_AUDIT_PROGRAMME_INTERIM_REPORT = 'internal-audit-programme.interim-report';

/** Content of `internal-audit.reported` (subject `internal-audit/<year>/<auditId>`). */
export interface AuditReportedContent {
  year: number;
  auditId: string;
  workflowId: string;
  programmeWorkflowId: string;
  title: string;
  objectives: string;
  criteria: string;
  scope: AuditScope;
  window: AuditWindow;
  leadAuditor: string;
  auditee: string;
  reportedAt: string;
  approvedBy: string[];
  findings: AuditFinding[];
  findingCounts: FindingCounts;
  ncIds: string[];
  distributedTo: string[];
}

/**
 * Content of `internal-audit-programme.report` and `internal-audit-programme.interim-report`
 * (subject `internal-audit-programme/<year>`).
 */
export interface ProgrammeReportContent {
  year: number;
  workflowId: string;
  reportedAt: string;
  /**
   * `final`: written once every audit of the year has finished; `interim`: written at the year
   * end while audits were still under way. Absent in reports written before interim reports
   * existed (one report at the year end).
   */
  status?: 'interim' | 'final';
  /** Interim report: the audits still under way. */
  underWay?: string[];
  /** Final report: the record id of the interim report it supersedes, or null when there was none. */
  supersedes?: string | null;
  coverage: CoverageResult;
  audits: Array<{
    auditId: string;
    title: string;
    state: TrackedAuditState;
    unplanned: boolean;
    window: AuditWindow;
    leadAuditor: string;
    findings: FindingCounts | null;
    ncIds: string[];
    cancellation: { by: string; at: string; reason: string } | null;
  }>;
  counts: { planned: number; reported: number; cancelled: number; notReported: number; unplanned: number };
  findingsByType: FindingCounts;
  ncs: Array<{ ncId: string; auditId: string; state: string }>;
}

// ---------------------------------------------------------------------------------------------
// Validation rules

/**
 * Impartiality of one audit's lead auditor and team (the rules live in src/people/duties.ts); each problem
 * names its rule. An auditor must not be the auditee, own a process, an AI system or a clause in
 * scope, or audit AIMS work they run themselves.
 */
export function impartialityProblems(org: Organization, audit: PlannedAudit, path: string): PlanIssue[] {
  const facts = dutyFacts(org);
  return [
    ...auditorConflicts(facts, audit).map((c) => ({ field: `${path}.leadAuditor`, rule: c.rule, message: c.reason })),
    ...(audit.team ?? []).flatMap((member, i) =>
      auditorConflicts(facts, { ...audit, leadAuditor: member }).map((c) => ({ field: `${path}.team.${i}`, rule: c.rule, message: c.reason })),
    ),
  ];
}

/** Problems of one audit against the organization and the year; errors only. */
export function auditProblems(org: Organization, year: number, audit: PlannedAudit, path: string): PlanIssue[] {
  const out: PlanIssue[] = [];
  const people = new Set(org.people.map((p) => p.id));
  if (!people.has(audit.leadAuditor)) out.push({ field: `${path}.leadAuditor`, rule: 'known person', message: `unknown person "${audit.leadAuditor}"` });
  if (!people.has(audit.auditee)) out.push({ field: `${path}.auditee`, rule: 'known person', message: `unknown person "${audit.auditee}"` });
  (audit.team ?? []).forEach((member, i) => {
    if (!people.has(member)) out.push({ field: `${path}.team.${i}`, rule: 'known person', message: `unknown person "${member}"` });
  });
  audit.scope.processes.forEach((p, i) => {
    if (!(p in org.roles.processOwners)) {
      out.push({ field: `${path}.scope.processes.${i}`, rule: 'known process', message: `unknown process "${p}" (not in roles.processOwners)` });
    }
  });
  audit.scope.aiSystems.forEach((s, i) => {
    if (!org.aiSystems.some((a) => a.id === s)) out.push({ field: `${path}.scope.aiSystems.${i}`, rule: 'known AI system', message: `unknown AI system "${s}"` });
  });
  const yearStart = Date.UTC(year, 0, 1);
  const yearEnd = Date.UTC(year + 1, 0, 1);
  if (windowStartMs(audit.window) < yearStart || windowStartMs(audit.window) >= yearEnd) {
    out.push({ field: `${path}.window.start`, rule: 'window inside the year', message: `must be within ${year}` });
  }
  if (windowEndMs(audit.window) > yearEnd || windowEndMs(audit.window) <= yearStart) {
    out.push({ field: `${path}.window.end`, rule: 'window inside the year', message: `must be within ${year}` });
  }
  out.push(...impartialityProblems(org, audit, path));
  const endMs = windowEndMs(audit.window);
  const incompetent = Number.isFinite(endMs) ? leadAuditorCompetenceConflict(org, audit.leadAuditor, new Date(endMs).toISOString().slice(0, 10)) : undefined;
  if (incompetent) out.push({ field: `${path}.leadAuditor`, rule: incompetent.rule, message: incompetent.reason });
  return out;
}

/**
 * The AIMS scope an audit cycle must cover: clauses 4-10 and the Annex A controls the Statement
 * of Applicability includes (`included`), else the organization file's applicable controls.
 */
export function requiredCoverage(org: Organization, included?: readonly string[]): string[] {
  return [...org.aims.clauses, ...(included ?? org.aims.annexA.applicable)];
}

/** The required items a set of scopes covers (a scope clause `9` covers `9.2`, `9.2` covers `9.2.1`). */
export function coveredBy(required: string[], scopes: Array<Pick<AuditScope, 'clauses' | 'controls'>>): string[] {
  const items = scopes.flatMap((s) => [...s.clauses, ...s.controls]);
  return required.filter((r) => items.some((i) => i === r || r.startsWith(`${i}.`) || i.startsWith(`${r}.`)));
}

/** Coverage over the cycle: this year's scopes plus those reported in earlier years of the cycle. */
export function coverage(
  org: Organization,
  year: number,
  cycleYears: number,
  scopes: Array<Pick<AuditScope, 'clauses' | 'controls'>>,
  earlier: Array<{ year: number; scope: Pick<AuditScope, 'clauses' | 'controls'> }>,
  included?: readonly string[],
): CoverageResult {
  const years = Array.from({ length: cycleYears }, (_, i) => year - cycleYears + 1 + i);
  const required = requiredCoverage(org, included);
  const counted = [...scopes, ...earlier.filter((e) => e.year >= years[0]! && e.year < year).map((e) => e.scope)];
  const covered = coveredBy(required, counted);
  return { cycleYears, years, required, covered, uncovered: required.filter((r) => !covered.includes(r)) };
}

/** Coverage gaps as warnings (one per programme, listing the uncovered items). */
export function coverageWarnings(result: CoverageResult): PlanIssue[] {
  if (!result.uncovered.length) return [];
  return [
    {
      field: 'audits',
      rule: 'coverage',
      message: `not covered within the ${result.cycleYears}-year audit cycle (${result.years[0]}-${result.years.at(-1)}): ${result.uncovered.join(', ')}`,
    },
  ];
}

/** The UTC day (`YYYY-MM-DD`) of an instant. */
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Where a window starts against now: `past`, `now` or `future`. A date window is compared by
 * day, so a window of dates that starts today is neither in the past nor in the future.
 */
function windowStartAgainst(w: AuditWindow, nowMs: number): 'past' | 'now' | 'future' {
  if (isCalendarDate(w.start)) {
    const today = dayOf(nowMs);
    return w.start < today ? 'past' : w.start > today ? 'future' : 'now';
  }
  const start = windowStartMs(w);
  return start < nowMs ? 'past' : start > nowMs ? 'future' : 'now';
}

/**
 * A window an audit is moved to, or added with, during the year must not start in the past:
 * no one can plan, announce and carry out an audit in days that are gone. The one exception is
 * a change that records an audit that already took place (`alreadyHeld`): then the window must
 * have begun, and a reason says why the audit is recorded after the fact.
 */
export function windowChangeProblems(change: { window: AuditWindow; alreadyHeld?: boolean | undefined; reason?: string | undefined }, nowMs: number): PlanIssue[] {
  const w = change.window;
  const when = windowStartAgainst(w, nowMs);
  const reference = isCalendarDate(w.start) ? `today (${dayOf(nowMs)})` : `now (${new Date(nowMs).toISOString()})`;
  if (!change.alreadyHeld) {
    if (when !== 'past') return [];
    return [
      {
        field: 'window',
        rule: 'window not in the past',
        message: `starts ${w.start}, before ${reference}; a window may lie in the past only to record an audit that already took place (alreadyHeld, with a reason)`,
      },
    ];
  }
  const out: PlanIssue[] = [];
  if (when === 'future') {
    out.push({ field: 'window', rule: 'an audit already held has begun', message: `starts ${w.start}, after ${reference}: an audit that already took place cannot start in the future` });
  }
  if (!change.reason?.trim()) {
    out.push({ field: 'reason', rule: 'an audit already held needs a reason', message: 'a reason is required to record an audit that already took place' });
  }
  return out;
}

export function describeIssues(issues: PlanIssue[]): string {
  return issues.map((i) => `${i.field}: ${i.message} [${i.rule}]`).join('; ');
}

/** `YYYY-MM-DD` of a window bound (for texts). */
export function windowText(w: AuditWindow): string {
  return w.start === w.end ? w.start : `${w.start} to ${w.end}`;
}

