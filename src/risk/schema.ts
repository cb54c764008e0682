/**
 * The AI risk register (ISO/IEC 42001 6.1.2, 6.1.3, 8.2, 8.3): what a risk holds, its states,
 * where it came from, the Annex C risk-source categories, the treatment options, and the risk
 * assessment workflow's input, status and result. Workflow-safe.
 */
import { z } from 'zod';
import { actorSchema, personIdSchema, timingPolicySchema } from '../common/schemas.js';
import { durationString } from '../common/duration.js';
import { SINGLE_LINE } from '../common/text.js';
import type { RiskCriteria } from './criteria.js';

export const RISK_CLAUSES = ['6.1.2', '6.1.3', '8.2', '8.3'] as const;

/** `R-001`, `R-042`, `R-1234`. */
export const RISK_ID = /^R-\d{3,6}$/;
export const riskIdSchema = z.string().regex(RISK_ID, 'must be a risk id such as R-001');

/** The ledger subject of a risk, `risk/R-001`: every change to it is a record under it. */
export const RISK_SUBJECT_PREFIX = 'risk/';
export const riskSubject = (riskId: string) => `${RISK_SUBJECT_PREFIX}${riskId}`;
export const riskIdOf = (n: number) => `R-${String(n).padStart(3, '0')}`;

/** Risk-source categories and objectives of ISO/IEC 42001 Annex C. */
export const riskCategories = [
  'fairness',
  'privacy',
  'safety',
  'security',
  'transparency',
  'explainability',
  'robustness',
  'accountability',
  'data-quality',
  'environmental',
  'maintainability',
  'ai-expertise',
  'level-of-automation',
  'machine-learning',
  'complexity-of-environment',
  'system-life-cycle',
  'hardware',
  'technology-readiness',
] as const;
export type RiskCategory = (typeof riskCategories)[number];

/** Where a risk came from. */
export const riskSourceTypes = ['impact-assessment', 'internal-audit', 'nonconformity', 'management-review', 'change', 'manual', 'risk-assessment'] as const;
export type RiskSourceType = (typeof riskSourceTypes)[number];

/**
 * identified → assessed → treatment-planned → accepted / treated → review-due → closed.
 * `review-due` is not stored: a read shows it for an accepted or treated risk past its review date.
 */
export const riskStates = ['identified', 'assessed', 'treatment-planned', 'accepted', 'treated', 'review-due', 'closed'] as const;
export type RiskState = (typeof riskStates)[number];

/** Treatment options (6.1.3): reduce by controls, avoid the activity, share it, or retain it as it is. */
export const treatmentOptions = ['modify', 'avoid', 'share', 'retain'] as const;
export type TreatmentOption = (typeof treatmentOptions)[number];

export const aimsScope = 'aims';
/** A risk is about one or more AI systems, or the AIMS as a whole (no systems). */
export const scopeIdSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be an AI system id or "aims"');

export const ratingSchema = z.object({ likelihood: z.string().min(1).max(32), consequence: z.string().min(1).max(32) });
export interface ScoredRating {
  likelihood: string;
  consequence: string;
  score: number;
  level: string;
}

export interface RiskControl {
  /** An Annex A control id (`A.7.4`) or another control, as text. */
  ref: string;
  annexA: boolean;
}

export interface PlannedAction {
  action: string;
  owner: string;
  dueDate: string;
  /** The task that carries it out, once started. */
  workflowId?: string;
  doneAt?: string;
  evidence?: string[];
}

/** A risk as the register holds it: the latest ledger record under `risk/<id>`. */
export interface Risk {
  riskId: string;
  title: string;
  description: string;
  /** AI system ids; empty for an AIMS-wide risk. */
  aiSystems: string[];
  source: { type: RiskSourceType; ref?: string };
  categories: RiskCategory[];
  owner: string;
  state: Exclude<RiskState, 'review-due'>;
  inherent?: ScoredRating;
  controls: RiskControl[];
  residual?: ScoredRating;
  treatment?: { option: TreatmentOption; plan: PlannedAction[]; decidedBy: string; decidedAt: string; assessmentId?: string };
  acceptance?: { by: string; at: string; approvalId: string; contentHash: string; role: 'top-management' | 'risk-owner' };
  /** Nonconformities, assessments and impact assessments that touched it. */
  links: Array<{ kind: 'nonconformity' | 'impact-assessment' | 'risk-assessment' | 'internal-audit' | 'management-review'; ref: string }>;
  reviewDueAt?: string;
  closed?: { by: string; at: string; reason: string };
  updatedAt: string;
  updatedBy: string;
}

/** A risk as reads show it: `review-due` when past its review date, and the record behind it. */
export type RegisterEntry = Omit<Risk, 'state'> & { state: RiskState; recordId: string; version: number };

/** A new risk from the admin API or the CLI. */
export const newRiskSchema = z
  .object({
    title: z.string().trim().min(3).max(200).regex(...SINGLE_LINE),
    description: z.string().trim().min(1).max(5000),
    aiSystems: z.array(scopeIdSchema).max(20).default([]),
    source: z.object({ type: z.enum(riskSourceTypes), ref: z.string().trim().min(1).max(200).optional() }).default({ type: 'manual' }),
    categories: z.array(z.enum(riskCategories)).min(1, 'needs at least one Annex C category').max(10),
    owner: personIdSchema,
    inherent: ratingSchema.optional(),
    by: actorSchema.optional(),
  })
  .strict();
export type NewRisk = z.input<typeof newRiskSchema>;

/** A change through the admin API, outside a running assessment. */
export const riskUpdateSchema = z
  .object({
    title: z.string().trim().min(3).max(200).regex(...SINGLE_LINE).optional(),
    description: z.string().trim().min(1).max(5000).optional(),
    owner: personIdSchema.optional(),
    categories: z.array(z.enum(riskCategories)).min(1).max(10).optional(),
    inherent: ratingSchema.optional(),
    residual: ratingSchema.optional(),
    controls: z.array(z.string().trim().min(1).max(200)).max(40).optional(),
    close: z.object({ reason: z.string().trim().min(1).max(2000) }).optional(),
    reason: z.string().trim().min(1).max(2000),
    by: actorSchema.optional(),
  })
  .strict();
export type RiskUpdate = z.input<typeof riskUpdateSchema>;

/** Acceptance of a residual risk outside a cycle, by a top manager. */
export const riskAcceptanceSchema = z.object({ by: personIdSchema.optional(), comment: z.string().trim().min(1).max(2000) }).strict();

// ---- The risk assessment workflow ----

export const riskAssessmentTriggers = ['planned', 'change', 'admin', 'impact-assessment'] as const;
export type RiskAssessmentTrigger = (typeof riskAssessmentTriggers)[number];

export const riskAssessmentPolicySchema = z
  .object({
    tasks: timingPolicySchema.prefault({}),
    identifyDue: durationString.optional(),
    analyseDue: durationString.optional(),
    treatDue: durationString.optional(),
    planApprovalDue: durationString.optional(),
    acceptanceDue: durationString.optional(),
    verificationDue: durationString.optional(),
  })
  .prefault({});

export const riskAssessmentInputSchema = z.object({
  /** An AI system id, or `aims` for the AIMS-wide assessment. */
  scope: scopeIdSchema,
  /** `<year>-<n>`. */
  assessmentRef: z.string().regex(/^\d{4}-\d{1,4}$/, 'must be <year>-<n>, e.g. 2027-1'),
  trigger: z.enum(riskAssessmentTriggers),
  /** Why it runs (the changes announced, the impact assessment that led to it). */
  reason: z.string().trim().max(5000).default(''),
  startedBy: actorSchema.default('system'),
  /** The AI system's name and owner, for a system that is not in the organization file's inventory. */
  system: z.object({ name: z.string().min(1).max(200), owner: personIdSchema }).optional(),
  policy: riskAssessmentPolicySchema,
});
export type RiskAssessmentInput = z.input<typeof riskAssessmentInputSchema>;
export type RiskAssessmentSpec = z.output<typeof riskAssessmentInputSchema>;

/** What the workflow looks up when it starts: the criteria, who assesses, the AIMS manager and the step durations. */
export interface RiskAssessmentSettings {
  criteria: RiskCriteria;
  /** The AI system's owner, or the owner of the process `ai-risk-management` (else the AIMS manager). */
  assessor: string;
  systemName?: string;
  aimsManagerId: string;
  stepDueMs: Record<keyof RiskCriteria['stepDue'], number>;
}

export type RiskAssessmentState = 'identify' | 'analyse' | 'treat' | 'plan-approval' | 'acceptance' | 'treatment' | 'verification' | 'recorded' | 'cancelled';

/** One row of the Annex A comparison: each control covered by the treatment, or not needed and why. */
export interface AnnexAComparison {
  control: string;
  decision: 'covered' | 'not-needed';
  why: string;
}

export interface RiskAssessmentEvent {
  at: string;
  type:
    | 'started'
    | 'step-started'
    | 'step-failed'
    | 'identified'
    | 'analysed'
    | 'treated'
    | 'plan-approved'
    | 'plan-rejected'
    | 'accepted'
    | 'acceptance-refused'
    | 'action-done'
    | 'verified'
    | 'not-effective'
    | 'recorded'
    | 'cancelled'
    | 'handover';
  by: string;
  detail: string;
  workflowId?: string;
}

export interface RiskAssessmentStatus {
  assessmentId: string;
  workflowId: string;
  scope: string;
  trigger: RiskAssessmentTrigger;
  state: RiskAssessmentState;
  round: number;
  currentStep?: { key: string; workflowId: string } | undefined;
  risks: Risk[];
  closedRisks: string[];
  annexA: AnnexAComparison[];
  contentHash?: string | undefined;
  recordedAt?: string | undefined;
  timeline: RiskAssessmentEvent[];
}

export interface RiskAssessmentResult {
  assessmentId: string;
  status: 'recorded' | 'cancelled';
  risks: Array<{ riskId: string; state: Risk['state']; level?: string | undefined; residualLevel?: string | undefined }>;
  recordId?: string;
  soaVersion?: number;
  reason?: string;
}
