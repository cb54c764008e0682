/**
 * Certification cycle (ISO/IEC 17021-1 rules as applied with ISO/IEC 42006): the input that
 * starts one certificate's cycle, the certification date rules as pure functions, the states
 * and the messages the admin sends to it. Workflow-safe (zod only; dates are checked by their
 * parts, never with `z.iso.date()`).
 *
 * The rules: Stage 2 after Stage 1; the certification decision after Stage 2; the first
 * surveillance no later than 12 months after the decision; surveillance at least once per
 * calendar year in certificate years 1 and 2; recertification completed before the
 * three-year expiry. A date that breaks a rule is an error naming the field and the rule; a
 * date that keeps the rules but leaves little room is a warning.
 */
import { z } from 'zod';
import { CLAUSE_OR_CONTROL } from '../common/clauses.js';
import { SINGLE_LINE } from '../common/text.js';
import { isCalendarDate } from '../common/dates.js';
import { durationString } from '../common/duration.js';
import { ncIdSchema, severities } from '../corrective-action/nc-id.js';
import { actorSchema, personIdSchema, timingPolicySchema } from '../common/schemas.js';

export const certificateIdSchema = z
  .string()
  .regex(/^[A-Z0-9][A-Z0-9-]{2,47}$/, 'must be a certificate id in capitals, digits and "-", e.g. CERT-2027-01');

/** The external audits of a cycle, in order. */
export const auditKeys = ['stage1', 'stage2', 'surveillance1', 'surveillance2', 'recertification'] as const;
export type AuditKey = (typeof auditKeys)[number];

export const auditNames: Record<AuditKey, string> = {
  stage1: 'Stage 1 audit',
  stage2: 'Stage 2 audit',
  surveillance1: 'first surveillance audit',
  surveillance2: 'second surveillance audit',
  recertification: 'recertification audit',
};

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** A calendar date (`2027-03-01`) or an ISO-8601 instant with an offset. */
export function isDateOrInstant(value: string): boolean {
  if (isCalendarDate(value)) return true;
  return INSTANT.test(value) && isCalendarDate(value.slice(0, 10)) && !Number.isNaN(Date.parse(value));
}

/** An audit or certificate date: a day (`2027-03-01`) or, for short test cycles, an instant. */
export const dateOrInstant = z
  .string({ error: 'must be a date (YYYY-MM-DD) or an ISO-8601 date-time' })
  .refine(isDateOrInstant, 'must be a date (YYYY-MM-DD) or an ISO-8601 date-time');

/** Milliseconds of a date (its start, UTC) or an instant. */
export function dateMs(value: string): number {
  return isCalendarDate(value) ? Date.parse(`${value}T00:00:00Z`) : Date.parse(value);
}

export const DAY_MS = 86_400_000;

/** The end of a date's day (the next day's start, UTC), or the instant itself. */
export function dateEndMs(value: string): number {
  return dateMs(value) + (isCalendarDate(value) ? DAY_MS : 0);
}

/** The same moment `months` calendar months later (the day clamped to the month's length). */
export function addMonths(ms: number, months: number): number {
  const d = new Date(ms);
  const target = new Date(ms);
  target.setUTCDate(1);
  target.setUTCMonth(d.getUTCMonth() + months);
  const last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), last));
  return target.getTime();
}

/** The day `value` falls on, `YYYY-MM-DD` (UTC). */
export function dayOf(value: string | number): string {
  return new Date(typeof value === 'number' ? value : dateMs(value)).toISOString().slice(0, 10);
}

/**
 * The expiry of a certificate decided on `decision`: the day before the third anniversary for
 * a date, the third anniversary for an instant.
 */
export function defaultExpiry(decision: string): string {
  const ms = addMonths(dateMs(decision), 36);
  return isCalendarDate(decision) ? dayOf(ms - 86_400_000) : new Date(ms).toISOString();
}

/** The planned dates of a cycle; the Stage 1 and 2 dates only in the initial certification. */
export const auditPlanSchema = z.object({
  stage1: dateOrInstant.optional(),
  stage2: dateOrInstant.optional(),
  /** When the certification body is expected to decide (defaults to the Stage 2 date). */
  decision: dateOrInstant.optional(),
  surveillance1: dateOrInstant,
  surveillance2: dateOrInstant,
  recertification: dateOrInstant,
});
export type AuditPlan = z.output<typeof auditPlanSchema>;

/** The plan of the next three-year cycle, given with a recertification decision. */
export const nextPlanSchema = auditPlanSchema.pick({ surveillance1: true, surveillance2: true, recertification: true });
export type NextPlan = z.output<typeof nextPlanSchema>;

export const certificateDatesSchema = z.object({
  decisionDate: dateOrInstant,
  expiresOn: dateOrInstant,
});
export type CertificateDates = z.output<typeof certificateDatesSchema>;

/** Per-cycle overrides of the organization's `certificationCycle` settings (tests use seconds). */
export const certificationPolicySchema = z.object({
  reminderOffsets: z.array(durationString).max(10).optional(),
  readinessChecks: z.array(durationString).max(5).optional(),
  /** How long after its planned date an audit's outcome may come before the window counts as missed. */
  auditWindow: durationString.optional(),
  /** Default deadlines of the certification body for its nonconformities. */
  ncDeadlines: z.object({ major: durationString.optional(), minor: durationString.optional() }).optional(),
  /** Passed to the corrective actions raised from the body's findings (step due dates, reminders). */
  correctiveAction: z
    .object({
      stepDue: durationString.optional(),
      effectivenessWait: durationString.optional(),
      approvalDue: durationString.optional(),
      tasks: timingPolicySchema.optional(),
    })
    .optional(),
});
export type CertificationPolicy = z.output<typeof certificationPolicySchema>;

export const auditResults = ['recommended', 'recommended-with-conditions', 'not-recommended'] as const;
export const findingSeverities = [...severities, 'observation', 'opportunity'] as const;

/** One finding of the certification body. */
export const bodyFindingSchema = z.object({
  /** The body's reference, e.g. `F-3`. */
  ref: z.string().trim().min(1, 'is required').max(100),
  severity: z.enum(findingSeverities, { message: `must be one of ${findingSeverities.join(', ')}` }),
  title: z.string().trim().min(3, 'must be at least 3 characters').max(200),
  description: z.string().trim().min(1, 'is required').max(10000),
  clauses: z.array(z.string().regex(CLAUSE_OR_CONTROL, 'must be a clause or an Annex A control')).max(20).default([]),
  /** Who owns the corrective action; defaults to the AIMS manager. */
  owner: personIdSchema.optional(),
  /** The body's deadline for a nonconformity; defaults from the settings. */
  deadline: dateOrInstant.optional(),
});
export type BodyFinding = z.output<typeof bodyFindingSchema>;

export const recordOutcomeSchema = z.object({
  by: actorSchema.default('system'),
  audit: z.enum(auditKeys, { message: `must be one of ${auditKeys.join(', ')}` }),
  /** When the audit took place (its last day). */
  completedOn: dateOrInstant,
  result: z.enum(auditResults, { message: `must be one of ${auditResults.join(', ')}` }),
  summary: z.string().trim().max(10000).optional(),
  findings: z.array(bodyFindingSchema).max(100).default([]),
});
export type RecordOutcome = z.input<typeof recordOutcomeSchema>;

export const decisions = ['granted', 'refused', 'suspended', 'reinstated', 'withdrawn'] as const;
export type Decision = (typeof decisions)[number];

export const recordDecisionSchema = z.object({
  by: actorSchema.default('system'),
  decision: z.enum(decisions, { message: `must be one of ${decisions.join(', ')}` }),
  decidedOn: dateOrInstant,
  /** The new certificate's expiry (granted); defaults to three years from the decision. */
  expiresOn: dateOrInstant.optional(),
  reason: z.string().trim().max(5000).optional(),
  /** With a recertification decision: the next cycle's audit dates (defaults from the decision). */
  nextPlan: nextPlanSchema.optional(),
  /**
   * With a grant: the nonconformities from the audit whose corrections and corrective actions the
   * body has reviewed and accepted; every major still open must be named (rules.ts).
   */
  acceptedPlans: z.array(ncIdSchema).max(100).optional(),
});
export type RecordDecision = z.input<typeof recordDecisionSchema>;

export const moveDatesSchema = z.object({
  by: actorSchema.default('system'),
  dates: auditPlanSchema.partial().refine((d) => Object.keys(d).length > 0, 'give at least one date to move'),
  reason: z.string().trim().min(1, 'a reason is required').max(2000),
});
export type MoveDates = z.input<typeof moveDatesSchema>;

export const endCycleSchema = z.object({
  by: actorSchema.default('system'),
  reason: z.string().trim().min(1, 'a reason is required').max(2000),
});
export type EndCycle = z.input<typeof endCycleSchema>;

/** One finished three-year cycle, carried into the next (continue-as-new). */
export interface CycleHistoryEntry {
  cycle: number;
  certificate?: CertificateDates;
  audits: Array<{ audit: AuditKey; planned: string; completedOn?: string; result?: string; findings: number; ncIds: string[]; missed: boolean }>;
  decisions: Array<{ decision: Decision; decidedOn: string; by: string; expiresOn?: string; reason?: string; acceptedPlans?: string[] }>;
  endedAt: string;
}

export const certificationInputSchema = z
  .object({
    certificateId: certificateIdSchema,
    standard: z.literal('iso42001', { message: 'must be "iso42001"' }).default('iso42001'),
    /** The certification body; defaults to the organization file's `certification.body`. */
    body: z.object({ name: z.string().trim().min(1, 'is required').max(200).regex(...SINGLE_LINE), contactEmail: z.email().optional() }).optional(),
    startedBy: actorSchema.default('system'),
    /** An existing certificate: the cycle starts at its first surveillance (no Stage 1 and 2). */
    certificate: certificateDatesSchema.optional(),
    plan: auditPlanSchema,
    /** 1 for the first three-year cycle; raised at each recertification. */
    cycle: z.number().int().min(1).default(1),
    /** Earlier cycles, carried through continue-as-new. */
    history: z.array(z.custom<CycleHistoryEntry>((v) => typeof v === 'object' && v !== null)).default([]),
    policy: certificationPolicySchema.prefault({}),
  })
  .superRefine((input, ctx) => {
    if (input.certificate) {
      for (const key of ['stage1', 'stage2', 'decision'] as const) {
        if (input.plan[key] !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['plan', key], message: 'is only planned for an initial certification (without certificate)' });
        }
      }
    } else {
      for (const key of ['stage1', 'stage2'] as const) {
        if (input.plan[key] === undefined) {
          ctx.addIssue({ code: 'custom', path: ['plan', key], message: 'is required for an initial certification (or give the existing certificate)' });
        }
      }
    }
  });
export type CertificationInput = z.input<typeof certificationInputSchema>;
export type CertificationSpec = z.output<typeof certificationInputSchema>;

/** Thresholds below which dates keep the rules but are risky (milliseconds). */
export interface RiskyThresholds {
  /** Stage 2 later than this after Stage 1. */
  stage2MaxAfterStage1Ms: number;
  /** Recertification closer than this to the expiry. */
  recertificationMinBeforeExpiryMs: number;
  /** A surveillance audit closer than this to the last day its rule allows. */
  surveillanceMinMarginMs: number;
}

export const defaultRiskyThresholds: RiskyThresholds = {
  stage2MaxAfterStage1Ms: 90 * 86_400_000,
  recertificationMinBeforeExpiryMs: 60 * 86_400_000,
  surveillanceMinMarginMs: 30 * 86_400_000,
};

export type DateRule =
  | 'stage2-after-stage1'
  | 'decision-after-stage2'
  | 'first-surveillance-within-12-months'
  | 'surveillance-after-decision'
  | 'surveillance-in-order'
  | 'second-surveillance-within-24-months'
  | 'surveillance-every-calendar-year'
  | 'recertification-after-surveillance'
  | 'recertification-before-expiry'
  | 'certificate-runs-three-years'
  | 'not-in-the-past'
  | 'stage2-soon-after-stage1'
  | 'surveillance-margin'
  | 'recertification-lead-time';

export interface DateIssue {
  /** The field, e.g. `plan.surveillance1`. */
  path: string;
  rule: DateRule;
  message: string;
}

/** The dates the rules look at; the decision and expiry are actual once decided, planned before. */
export interface CycleDates {
  stage1?: string | undefined;
  stage2?: string | undefined;
  decision?: string | undefined;
  surveillance1: string;
  surveillance2: string;
  recertification: string;
  expiresOn?: string | undefined;
  /** For a renewed certificate: the expiry of the one it renews (the three years count from it). */
  renewalOf?: string | undefined;
}

export interface DateCheckOptions {
  risky?: RiskyThresholds;
  /** Now, for refusing not-yet-held audits planned in the past. */
  nowMs?: number;
  /** Fields checked against `nowMs` (the ones being planned or moved). */
  future?: Array<keyof CycleDates>;
  /** Where each field lives in the caller's input (default `plan.<field>`). */
  pathOf?: (field: keyof CycleDates) => string;
}

const days = (ms: number) => `${Math.round(ms / 86_400_000)} day(s)`;

/**
 * Checks a cycle's dates against the certification rules. Returns the broken rules as errors
 * (each naming its field) and the risky dates as warnings; the dates are refused when there
 * is any error.
 */
export function checkCycleDates(dates: CycleDates, options: DateCheckOptions = {}): { errors: DateIssue[]; warnings: DateIssue[] } {
  const risky = options.risky ?? defaultRiskyThresholds;
  const pathOf = options.pathOf ?? ((field: keyof CycleDates) => (field === 'expiresOn' ? 'certificate.expiresOn' : `plan.${field}`));
  const errors: DateIssue[] = [];
  const warnings: DateIssue[] = [];
  const err = (field: keyof CycleDates, rule: DateRule, message: string) => errors.push({ path: pathOf(field), rule, message });
  const warn = (field: keyof CycleDates, rule: DateRule, message: string) => warnings.push({ path: pathOf(field), rule, message });
  const at = (field: keyof CycleDates) => {
    const v = dates[field];
    return v === undefined ? undefined : dateMs(v);
  };
  const show = (field: keyof CycleDates) => dates[field] ?? '';

  if (options.nowMs !== undefined) {
    for (const field of options.future ?? []) {
      const value = dates[field];
      // A date (no time) counts as its whole day.
      const end = value === undefined ? undefined : dateEndMs(value);
      if (end !== undefined && end <= options.nowMs) err(field, 'not-in-the-past', `${show(field)} is in the past: an audit not yet held must be planned ahead`);
    }
  }

  const stage1 = at('stage1');
  const stage2 = at('stage2');
  if (stage1 !== undefined && stage2 !== undefined) {
    if (stage2 <= stage1) err('stage2', 'stage2-after-stage1', `Stage 2 must come after Stage 1 (${show('stage1')})`);
    else if (stage2 - stage1 > risky.stage2MaxAfterStage1Ms) {
      warn('stage2', 'stage2-soon-after-stage1', `Stage 2 is ${days(stage2 - stage1)} after Stage 1; more than ${days(risky.stage2MaxAfterStage1Ms)} may make the body repeat Stage 1`);
    }
  }
  // The decision: as recorded or planned; before it is planned, Stage 2 stands in for it.
  let decision = at('decision');
  const decisionField: keyof CycleDates = decision !== undefined ? 'decision' : 'stage2';
  if (decision !== undefined && stage2 !== undefined && decision <= stage2) {
    err('decision', 'decision-after-stage2', `the certification decision must come after Stage 2 (${show('stage2')})`);
  }
  decision ??= stage2;

  const s1 = dateMs(dates.surveillance1);
  const s2 = dateMs(dates.surveillance2);
  const recert = dateMs(dates.recertification);
  if (decision !== undefined) {
    const limit1 = addMonths(decision, 12);
    const limit2 = addMonths(decision, 24);
    if (s1 <= decision) {
      err('surveillance1', 'surveillance-after-decision', `the first surveillance must come after the certification decision (${show(decisionField)})`);
    } else if (s1 > limit1) {
      err('surveillance1', 'first-surveillance-within-12-months', `the first surveillance must be no later than 12 months after the certification decision (${show(decisionField)}): by ${dayOf(limit1)}`);
    } else if (limit1 - s1 < risky.surveillanceMinMarginMs) {
      warn('surveillance1', 'surveillance-margin', `the first surveillance is less than ${days(risky.surveillanceMinMarginMs)} before its last allowed day ${dayOf(limit1)}: a delay would miss the window`);
    }
    if (s2 > s1 && s2 > limit2) {
      err('surveillance2', 'second-surveillance-within-24-months', `the second surveillance must be in the second certificate year: by ${dayOf(limit2)}`);
    } else if (s2 > s1 && limit2 - s2 < risky.surveillanceMinMarginMs) {
      warn('surveillance2', 'surveillance-margin', `the second surveillance is less than ${days(risky.surveillanceMinMarginMs)} before its last allowed day ${dayOf(limit2)}: a delay would miss the window`);
    }
    // At least one audit in every calendar year: no calendar year without one between the
    // decision and the recertification.
    const year = (ms: number) => new Date(ms).getUTCFullYear();
    const chain: Array<[keyof CycleDates, number]> = [
      [decisionField, decision],
      ['surveillance1', s1],
      ['surveillance2', s2],
      ['recertification', recert],
    ];
    for (let i = 1; i < chain.length; i += 1) {
      const [prevField, prev] = chain[i - 1]!;
      const [field, ms] = chain[i]!;
      if (ms > prev && year(ms) - year(prev) > 1) {
        err(field, 'surveillance-every-calendar-year', `leaves ${year(prev) + 1} without an audit after ${show(prevField)}: surveillance must happen at least once per calendar year`);
      }
    }
  }
  if (s2 <= s1) err('surveillance2', 'surveillance-in-order', `the second surveillance must come after the first (${dates.surveillance1})`);
  if (recert <= s2) err('recertification', 'recertification-after-surveillance', `the recertification must come after the second surveillance (${dates.surveillance2})`);

  const expiry = at('expiresOn') ?? (decision !== undefined ? addMonths(decision, 36) : undefined);
  if (expiry !== undefined) {
    const from = dates.renewalOf !== undefined ? dateMs(dates.renewalOf) : decision;
    if (from !== undefined && dates.expiresOn !== undefined && expiry > addMonths(from, 36)) {
      const what = dates.renewalOf !== undefined ? `the expiry it renews (${dates.renewalOf})` : 'its decision';
      err('expiresOn', 'certificate-runs-three-years', `a certificate runs at most three years from ${what}: until ${dayOf(addMonths(from, 36))}`);
    }
    if (recert >= expiry) {
      err('recertification', 'recertification-before-expiry', `the recertification must be completed before the certificate expires (${dayOf(expiry)})`);
    } else if (expiry - recert < risky.recertificationMinBeforeExpiryMs) {
      warn('recertification', 'recertification-lead-time', `the recertification is only ${days(expiry - recert)} before the expiry ${dayOf(expiry)}: findings could not be closed in time (at least ${days(risky.recertificationMinBeforeExpiryMs)} is advised)`);
    }
  }
  return { errors, warnings };
}

/** The dates the rules check for a cycle input (plan and, when certified, its certificate). */
export function cycleDatesOf(spec: Pick<CertificationSpec, 'plan' | 'certificate'>): CycleDates {
  return {
    stage1: spec.plan.stage1,
    stage2: spec.plan.stage2,
    decision: spec.certificate?.decisionDate ?? spec.plan.decision,
    surveillance1: spec.plan.surveillance1,
    surveillance2: spec.plan.surveillance2,
    recertification: spec.plan.recertification,
    expiresOn: spec.certificate?.expiresOn,
  };
}

/** The next cycle's default audit dates after a recertification decision. */
export function defaultNextPlan(decidedOn: string, expiresOn: string): NextPlan {
  const decision = dateMs(decidedOn);
  const fmt = (ms: number) => (isCalendarDate(decidedOn) ? dayOf(ms) : new Date(ms).toISOString());
  return {
    surveillance1: fmt(addMonths(decision, 11)),
    surveillance2: fmt(addMonths(decision, 22)),
    recertification: fmt(addMonths(dateMs(expiresOn), -4)),
  };
}

export const certificationStates = [
  'stage-1',
  'stage-2',
  'decision',
  'valid',
  'surveillance-due',
  'overdue',
  'suspended',
  'withdrawn',
  'expired',
  'recertification',
  'refused',
  'ended',
] as const;
export type CertificationState = (typeof certificationStates)[number];

export type CertificateStanding = 'none' | 'valid' | 'suspended' | 'withdrawn' | 'expired' | 'refused';

/**
 * The state shown in `AimsState` and the status query, from where the cycle is: the audit it
 * waits for, whether that audit's window was missed, how near it is, and the certificate's
 * standing.
 */
export function certificationState(s: {
  standing: CertificateStanding;
  ended: boolean;
  current: AuditKey | 'decision' | undefined;
  missed: boolean;
  nowMs: number;
  /** The current audit's planned time. */
  dueMs: number | undefined;
  /** How long before an audit it counts as due (the first reminder offset). */
  dueHorizonMs: number;
}): CertificationState {
  if (s.standing === 'withdrawn' || s.standing === 'expired' || s.standing === 'refused' || s.standing === 'suspended') return s.standing;
  if (s.ended) return 'ended';
  if (s.current === 'stage1') return 'stage-1';
  if (s.current === 'stage2') return 'stage-2';
  if (s.current === 'decision') return 'decision';
  if (s.missed) return 'overdue';
  const near = s.dueMs !== undefined && s.nowMs >= s.dueMs - s.dueHorizonMs;
  if (s.current === 'recertification' && near) return 'recertification';
  if ((s.current === 'surveillance1' || s.current === 'surveillance2') && near) return 'surveillance-due';
  return 'valid';
}

/** Readiness before an external audit, as the readiness activity reports it. */
export interface ReadinessReport {
  audit: AuditKey;
  check: string;
  at: string;
  period: { from: string; to: string };
  internalAudit:
    | {
        available: true;
        /** Audits were reported in the period and together they cover the AIMS scope. */
        complete: boolean;
        audits: Array<{ auditId: string; workflowId: string; reportedAt: string }>;
        /** The items of the AIMS scope (clauses, applicable Annex A controls) no audit of the period covered; absent in reports from before the coverage check. */
        missing?: string[];
      }
    | { available: false; reason: string };
  managementReview:
    | { available: true; complete: boolean; reviews: Array<{ reviewId: string; workflowId: string; approvedAt: string }> }
    | { available: false; reason: string };
  openMajors:
    | { available: true; items: Array<{ ncId: string; workflowId: string; title: string; state: string; targetAt?: string | undefined }> }
    | { available: false; reason: string };
  /** The management review started because none was complete. */
  reviewStarted?: { reviewId: string; workflowId: string };
  ready: boolean;
}

export interface AuditStatus {
  audit: AuditKey;
  name: string;
  planned: string;
  /** The last moment the outcome is expected before the window counts as missed. */
  windowEndsAt: string;
  completedOn?: string;
  result?: string;
  summary?: string;
  recordedBy?: string;
  findings: Array<BodyFinding & { ncId?: string; workflowId?: string; deadlineAt?: string; ncClosedAs?: 'closed' | 'cancelled' }>;
  missed: boolean;
  remindersSent: string[];
  readiness: ReadinessReport[];
}

export type CertificationEventType =
  | 'started'
  | 'cycle-started'
  | 'reminded'
  | 'readiness'
  | 'escalated'
  | 'audit-recorded'
  | 'dates-moved'
  | 'decision'
  | 'certified'
  | 'nonconformity-closed'
  | 'recertified'
  | 'ended'
  /** A management review the cycle started failed; a fresh one is started, or the cycle gives up on it. */
  | 'review-failed'
  /** The AIMS manager's or a top manager's part was handed over: the cycle looked its people up again. */
  | 'handover';

export interface CertificationEvent {
  at: string;
  type: CertificationEventType;
  by: string;
  detail: string;
  data?: Record<string, unknown>;
}

export interface CertificationStatus {
  certificateId: string;
  workflowId: string;
  standard: string;
  body: { name: string; contactEmail?: string | undefined };
  cycle: number;
  state: CertificationState;
  standing: CertificateStanding;
  certificate?: CertificateDates;
  plan: AuditPlan;
  /** The audit (or decision) the cycle waits for now. */
  current?: AuditKey | 'decision';
  audits: AuditStatus[];
  decisions: CycleHistoryEntry['decisions'];
  warnings: DateIssue[];
  history: CycleHistoryEntry[];
  ended?: { by: string; at: string; reason: string };
  timeline: CertificationEvent[];
}

export interface CertificationResult {
  certificateId: string;
  cycle: number;
  state: CertificationState;
  history: CycleHistoryEntry[];
}

/** The organization's `certificationCycle` settings, resolved by an activity. */
export interface CertificationSettings {
  /** Person ids in the organization file (finding owners must be one). */
  people: string[];
  aimsManager: { id: string; name: string; email: string };
  topManagement: Array<{ id: string; name: string; email: string }>;
  body: { name: string; contactEmail?: string | undefined } | undefined;
  reminderOffsetsMs: number[];
  readinessChecksMs: number[];
  auditWindowMs: number;
  ncDeadlinesMs: { major: number; minor: number };
  risky: RiskyThresholds;
}

/** Ready for the audit: internal audits cover the AIMS scope and a management review the period, and no major nonconformity is open. */
export function isReady(r: Pick<ReadinessReport, 'internalAudit' | 'managementReview' | 'openMajors'>): boolean {
  return (
    r.internalAudit.available &&
    r.internalAudit.complete &&
    r.managementReview.available &&
    r.managementReview.complete &&
    r.openMajors.available &&
    r.openMajors.items.length === 0
  );
}

/** One line per check, for the readiness mail. */
export function readinessLines(report: ReadinessReport): string[] {
  const lines: string[] = [];
  const ia = report.internalAudit;
  const missing = ia.available ? (ia.missing ?? []) : [];
  lines.push(
    !ia.available
      ? `Internal audit covering the period: unknown (${ia.reason})`
      : ia.complete
        ? `Internal audit covering the period: complete (${ia.audits.map((a) => a.auditId).join(', ')})`
        : ia.audits.length === 0
          ? `Internal audit covering the period: none reported yet${missing.length ? ` (the AIMS scope's ${missing.length} items are not covered)` : ''}`
          : `Internal audit covering the period: scope not covered by ${ia.audits.map((a) => a.auditId).join(', ')}; missing ${missing.join(', ')}`.slice(0, 500),
  );
  const mr = report.managementReview;
  lines.push(
    !mr.available
      ? `Management review covering the period: unknown (${mr.reason})`
      : mr.complete
        ? `Management review covering the period: complete (${mr.reviews.map((r) => r.reviewId).join(', ')})`
        : report.reviewStarted
          ? `Management review covering the period: none complete; review ${report.reviewStarted.reviewId} started (${report.reviewStarted.workflowId})`
          : 'Management review covering the period: none complete',
  );
  const nc = report.openMajors;
  lines.push(
    !nc.available
      ? `Open major nonconformities: unknown (${nc.reason})`
      : nc.items.length === 0
        ? 'Open major nonconformities: none'
        : `Open major nonconformities (${nc.items.length}): ${nc.items.map((i) => `${i.ncId} ${i.title} (${i.state})`).join('; ')}`.slice(0, 500),
  );
  return lines;
}
