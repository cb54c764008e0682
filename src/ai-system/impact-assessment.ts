/**
 * AI system impact assessment (ISO/IEC 42001 6.1.4, 8.4, Annex A.5): significant changes, the
 * organization's scales and thresholds, the scoring of impacts, and the input, status and result
 * of one assessment (`impact-assessment/<systemId>/<year>-<n>`). Workflow-safe.
 */
import { z } from 'zod';
import { durationString } from '../common/duration.js';
import type { ImpactArea, ImpactRow } from '../forms/index.js';
import { aiSystemSchema, impactTiers } from '../organization/schema.js';
import { actorSchema, timingPolicySchema } from '../common/schemas.js';

/** Clauses and controls every impact-assessment record carries. */
export const IMPACT_ASSESSMENT_CLAUSES = ['6.1.4', '8.4', 'A.5.2', 'A.5.3', 'A.5.4', 'A.5.5'];

/** The AI system id pattern of the inventory. */
export const aiSystemIdSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be lowercase letters, digits, ".", "_" or "-" (max 64)');

/** An AI system's registration data: the same fields and rules as an entry of the inventory in the organization file. */
export const aiSystemRegistrationSchema = z.strictObject({
  ...aiSystemSchema.shape,
  impactTier: z.enum(impactTiers, { message: `must be one of ${impactTiers.join(', ')}` }),
});
export type AiSystemRegistration = z.output<typeof aiSystemRegistrationSchema>;

/** What kind of significant change (6.3, 8.4) was made to an AI system. */
export const changeTypes = ['model', 'data-source', 'intended-use', 'deployment-context', 'jurisdiction'] as const;
export type ChangeType = (typeof changeTypes)[number];

export const significantChangeSchema = z.object({
  type: z.enum(changeTypes, { message: `must be one of ${changeTypes.join(', ')}` }),
  /** Who announces it: a person id, or `system`. */
  by: actorSchema,
  /** Why it is significant: what changed. */
  why: z.string().trim().min(3, 'must say what changed (at least 3 characters)').max(5000),
});
export type SignificantChangeInput = z.input<typeof significantChangeSchema>;

/** A change as the workflows keep it: with when it arrived. */
export interface SignificantChange {
  type: ChangeType;
  by: string;
  why: string;
  at: string;
}

/** The organization's settings for impact assessment, resolved to milliseconds. */
export interface ImpactAssessmentSettings {
  reassessEveryMs: number;
  startBeforeMs: number;
  changeDebounceMs: number;
  /** Absent in results recorded before the setting existed. */
  firstAssessmentInMs?: number;
  /** After a cancelled or failed assessment, the next one starts this long after; absent in results recorded before the setting existed. */
  retryAfterMs?: number;
  severityScale: string[];
  likelihoodScale: string[];
  signOffThreshold: number;
  riskTreatmentThreshold: number;
  stepDueMs: { scoping: number; assessment: number; review: number; signOff: number; riskTreatment: number };
  aimsManagerId: string;
}

/** An impact with its levels: inherent (before mitigation) and residual (after it). */
export interface ScoredImpact extends ImpactRow {
  level: number;
  residualLevel: number;
}

/**
 * Impact level = severity rank × likelihood rank, ranks counted from 1 along the organization's
 * scales (1-25 on the default 5-level scales). A level not on a scale ranks 0.
 */
export function impactLevel(severity: string, likelihood: string, scales: { severityScale: readonly string[]; likelihoodScale: readonly string[] }): number {
  return (scales.severityScale.indexOf(severity) + 1) * (scales.likelihoodScale.indexOf(likelihood) + 1);
}

export function scoreImpacts(rows: readonly ImpactRow[], scales: { severityScale: readonly string[]; likelihoodScale: readonly string[] }): ScoredImpact[] {
  return rows.map((row) => ({
    ...row,
    level: impactLevel(row.severity, row.likelihood, scales),
    residualLevel: impactLevel(row.residualSeverity, row.residualLikelihood, scales),
  }));
}

/** The assessment's resulting impact level: the highest residual level of its impacts (what remains after mitigation). */
export function resultingLevel(impacts: readonly ScoredImpact[]): number {
  return impacts.reduce((max, i) => Math.max(max, i.residualLevel), 0);
}

/** Who signs off by the level alone: top management at or above the threshold, the AIMS manager below it. */
export function signOffRole(level: number, threshold: number): 'top-management' | 'aims-manager' {
  return level >= threshold ? 'top-management' : 'aims-manager';
}

/** Impact tiers whose assessments top management signs off whatever the level. */
export const HIGH_IMPACT_TIERS: ReadonlyArray<(typeof impactTiers)[number]> = ['high', 'critical'];

/** Who signs off an assessment, and why. */
export interface SignOffRoute {
  role: 'top-management' | 'aims-manager';
  /** `level`: at or above the threshold; `impact-tier`: a high-tier system; `preparer`: the AIMS manager assessed or owns it; `below-threshold`: the AIMS manager signs. */
  reason: 'level' | 'impact-tier' | 'preparer' | 'below-threshold';
}

/**
 * Routes the sign-off: top management at or above the threshold, for every system of a high
 * impact tier (`high`, `critical`) whatever the level, and when the AIMS manager assessed it
 * or owns the system (nobody signs off their own work); the AIMS manager otherwise.
 */
export function signOffRoute(input: {
  level: number;
  threshold: number;
  impactTier: (typeof impactTiers)[number];
  preparer: string;
  /** The system's owner, who scoped it: they do not sign it off either (src/people/duties.ts). */
  owner?: string | undefined;
  aimsManagerId: string;
}): SignOffRoute {
  if (signOffRole(input.level, input.threshold) === 'top-management') return { role: 'top-management', reason: 'level' };
  if (input.preparer === input.aimsManagerId || input.owner === input.aimsManagerId) return { role: 'top-management', reason: 'preparer' };
  if (HIGH_IMPACT_TIERS.includes(input.impactTier)) return { role: 'top-management', reason: 'impact-tier' };
  return { role: 'aims-manager', reason: 'below-threshold' };
}

export const impactAssessmentTriggers = ['initial', 'scheduled', 'change'] as const;
export type ImpactAssessmentTrigger = (typeof impactAssessmentTriggers)[number];

/** Per-assessment overrides of the organization's step due dates (tests use seconds). */
export const impactAssessmentPolicySchema = z.object({
  scopingDue: durationString.optional(),
  assessmentDue: durationString.optional(),
  reviewDue: durationString.optional(),
  signOffDue: durationString.optional(),
  riskTreatmentDue: durationString.optional(),
  /** Reminders and escalations of the step tasks and the sign-off. */
  tasks: timingPolicySchema.prefault({}),
});

/** `2027-1`: the year the assessment started and its number in that year for the system. */
export const assessmentRefSchema = z.string().regex(/^\d{4}-\d{1,4}$/, 'must be <year>-<n>, e.g. 2027-1');

export const impactAssessmentInputSchema = z.object({
  /** The system as registered when the assessment starts. */
  system: aiSystemRegistrationSchema,
  /** `<year>-<n>`. */
  assessmentRef: assessmentRefSchema,
  trigger: z.enum(impactAssessmentTriggers).default('scheduled'),
  /** Significant changes that led to it (more may be attached while it runs). */
  changes: z
    .array(significantChangeSchema.extend({ at: z.iso.datetime({ offset: true }) }))
    .max(200)
    .default([]),
  /** When the reassessment is due (the system shows overdue after it). */
  dueAt: z.iso.datetime({ offset: true }).optional(),
  /** The previous signed-off assessment, for context. */
  previous: z.object({ assessmentRef: z.string(), level: z.number(), signedOffAt: z.string() }).optional(),
  policy: impactAssessmentPolicySchema.prefault({}),
});
export type ImpactAssessmentInput = z.input<typeof impactAssessmentInputSchema>;
export type ImpactAssessmentSpec = z.output<typeof impactAssessmentInputSchema>;

export type ImpactAssessmentState = 'scoping' | 'assessment' | 'review' | 'sign-off' | 'recorded' | 'cancelled';

export interface ImpactScope {
  intendedUse: string;
  foreseeableMisuse: string;
  deploymentContext: string;
  jurisdictions: string[];
  affectedIndividuals: string;
  affectedGroups: string;
  society: string;
  note?: string;
}

export interface ImpactAssessmentEvent {
  at: string;
  type:
    | 'started'
    | 'step-started'
    | 'scoped'
    | 'assessed'
    | 'approved-by-review'
    | 'sent-back'
    | 'reopened'
    | 'signed-off'
    | 'sign-off-refused'
    | 'change-attached'
    | 'recorded'
    | 'risk-treatment-opened'
    | 'risks-registered'
    | 'cancelled'
    /** A step's task or the sign-off failed; it is asked again, or the assessment gives up on it. */
    | 'step-failed'
    /** The system owner's part in the assessment was handed over. */
    | 'handover';
  by: string;
  detail: string;
  workflowId?: string;
}

export interface ImpactAssessmentStatus {
  assessmentId: string;
  assessmentRef: string;
  workflowId: string;
  systemId: string;
  system: AiSystemRegistration;
  trigger: ImpactAssessmentTrigger;
  state: ImpactAssessmentState;
  dueAt?: string;
  round: number;
  /** How often the review sent the assessment back. */
  sendBacks: number;
  /** How often the sign-off refused it (rejected or expired). */
  signOffRefusals: number;
  /** How often a significant change announced during the review or sign-off sent it back to the assessment step. */
  reopened?: number;
  currentStep?: { key: string; workflowId: string };
  /**
   * Changes that led to it and those announced while it ran; `awaitingAssessment`: announced
   * during the review or sign-off, so the assessment went back to the assessment step for it.
   */
  changes: Array<SignificantChange & { attached: boolean; awaitingAssessment?: boolean }>;
  scope?: ImpactScope & { by: string };
  impacts: ScoredImpact[];
  assessedBy?: string;
  level?: number;
  signOff?: { role: 'top-management' | 'aims-manager'; by: string; at: string; contentHash: string };
  contentHash?: string;
  riskTreatments: Array<{ workflowId: string; impact: number; residualLevel: number }>;
  /** The risks of the register its high residual impacts created or updated. */
  risks?: Array<{ riskId: string; impact: number; residualLevel: number; created: boolean }>;
  recordedAt?: string;
  cancellation?: { by: string; at: string; reason: string };
  timeline: ImpactAssessmentEvent[];
}

export interface ImpactAssessmentResult {
  assessmentId: string;
  assessmentRef: string;
  status: 'recorded' | 'cancelled';
  level?: number;
  signOffRole?: 'top-management' | 'aims-manager';
  signedOffBy?: string;
  signedOffAt?: string;
  recordedAt?: string;
  sendBacks: number;
  riskTreatments: string[];
  /** The risks of the register its high residual impacts created or updated. */
  risks?: string[];
  cancellation?: { by: string; at: string; reason: string };
}

/** Labels of the impact areas, with the control each belongs to. */
export const impactAreaText: Record<ImpactArea, string> = {
  individuals: 'individuals (A.5.4)',
  groups: 'groups of individuals (A.5.4)',
  society: 'society (A.5.5)',
};
