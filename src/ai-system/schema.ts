/**
 * One long-lived workflow per AI system of the inventory (`ai-system/<systemId>`): its input,
 * the state it carries across continue-as-new, its status and the messages sent to it.
 * Workflow-safe.
 */
import { z } from 'zod';
import { SINGLE_LINE } from '../common/text.js';
import { durationString } from '../common/duration.js';
import {
  aiSystemIdSchema,
  aiSystemRegistrationSchema,
  impactAssessmentPolicySchema,
  type AiSystemRegistration,
  type ImpactAssessmentTrigger,
  type SignificantChange,
} from './impact-assessment.js';
import { impactTiers } from '../organization/schema.js';
import { actorSchema, personIdSchema } from '../common/schemas.js';

export const aiSystemStates = ['current', 'due', 'in-progress', 'overdue', 'retired'] as const;
export type AiSystemState = (typeof aiSystemStates)[number];

export const aiSystemSources = ['organization-file', 'api'] as const;
export type AiSystemSource = (typeof aiSystemSources)[number];

/** Per-system overrides of the organization's settings (tests use seconds). */
export const aiSystemPolicySchema = z.object({
  reassessEvery: durationString.optional(),
  startBefore: durationString.optional(),
  changeDebounce: durationString.optional(),
  /** A system never assessed starts its first assessment after this long (default from the organization file: at once). */
  firstAssessmentIn: durationString.optional(),
  /** After a cancelled or failed assessment, the next one starts this long after (default from the organization file: 30d). */
  retryAfter: durationString.optional(),
  /** Continue as new after this many assessments in one run (default 10). */
  continueAsNewAfter: z.number().int().min(1).max(1000).optional(),
  /** Continue as new once the history holds this many events (default 5000). */
  maxHistoryEvents: z.number().int().min(100).max(50_000).optional(),
  assessment: impactAssessmentPolicySchema.prefault({}),
});
export type AiSystemPolicy = z.input<typeof aiSystemPolicySchema>;

/** After a cancelled or failed assessment the next one starts `retryAfter` later (default 30 days). */
export const DEFAULT_RETRY_AFTER_MS = 30 * 24 * 3600_000;

/**
 * When the next assessment starts after one that was cancelled or failed (8.4: assessment at
 * planned intervals): `retryAfter` from now, or the planned start when that comes sooner.
 */
export function retryStartMs(input: { nowMs: number; retryAfterMs: number; plannedStartMs: number | undefined }): number {
  const retry = input.nowMs + input.retryAfterMs;
  const planned = input.plannedStartMs;
  return planned !== undefined && planned > input.nowMs ? Math.min(planned, retry) : retry;
}

/** The last signed-off assessment. */
export interface LastAssessment {
  assessmentRef: string;
  workflowId: string;
  level: number;
  signOffRole: 'top-management' | 'aims-manager';
  signedOffBy: string;
  signedOffAt: string;
  /** When it went to the ledger; the next reassessment is due the interval after it. */
  recordedAt: string;
}

export interface AiSystemEvent {
  at: string;
  type:
    | 'registered'
    | 'updated'
    | 'change-announced'
    | 'change-attached'
    | 'assessment-started'
    | 'assessment-recorded'
    | 'risk-assessment-started'
    | 'assessment-cancelled'
    | 'continued-as-new'
    | 'retired'
    /** The system's owner was handed over (a registration change). */
    | 'handover';
  by: string;
  detail: string;
  workflowId?: string;
}

/** What the workflow carries into its next run when it continues as new. */
export interface AiSystemCarried {
  system: AiSystemRegistration;
  source: AiSystemSource;
  registeredAt: string;
  last?: LastAssessment;
  /** When the next reassessment is due. */
  nextDueAt?: string;
  /** Changes waiting for the debounce window to close. */
  pendingChanges: SignificantChange[];
  /** Workflows from before the retry: after a cancelled assessment, scheduled starts wait for a change. */
  held?: boolean;
  /** After a cancelled or failed assessment: when the next one starts. */
  retryAt?: string;
  /** The changes of the cancelled or failed assessment, taken by the next one. */
  retryChanges?: SignificantChange[];
  /** Assessment numbers used per year, e.g. `{ "2027": 2 }`. */
  numbers: Record<string, number>;
  assessmentsTotal: number;
  sendBacksTotal: number;
  runs: number;
  /** Recent events (the last 50). */
  history: AiSystemEvent[];
  /** Ledger records written so far (part of their ids). */
  recordSeq: number;
}

export const aiSystemInputSchema = z
  .object({
    systemId: aiSystemIdSchema,
    /** The registration; left out, it is read from the organization file's inventory. */
    system: aiSystemRegistrationSchema.optional(),
    source: z.enum(aiSystemSources).default('organization-file'),
    registeredBy: actorSchema.default('system'),
    policy: aiSystemPolicySchema.prefault({}),
    /** Set by the workflow itself when it continues as new. */
    carried: z.custom<AiSystemCarried>((v) => typeof v === 'object' && v !== null, 'must be the carried state').optional(),
  })
  .superRefine((input, ctx) => {
    if (input.system && input.system.id !== input.systemId) {
      ctx.addIssue({ code: 'custom', path: ['system', 'id'], message: `must be the systemId "${input.systemId}"` });
    }
  });
export type AiSystemInput = z.input<typeof aiSystemInputSchema>;
export type AiSystemSpec = z.output<typeof aiSystemInputSchema>;

export interface AiSystemStatus {
  systemId: string;
  workflowId: string;
  system: AiSystemRegistration;
  source: AiSystemSource;
  registeredAt: string;
  state: AiSystemState;
  nextDueAt?: string;
  /** When the next assessment starts, if one is planned. */
  nextStartAt?: string;
  last?: LastAssessment;
  current?: { assessmentRef: string; workflowId: string; trigger: ImpactAssessmentTrigger; startedAt: string };
  pendingChanges: SignificantChange[];
  held: boolean;
  /** After a cancelled or failed assessment: when the next one starts, and the changes it takes over. */
  retryAt?: string;
  retryChanges: SignificantChange[];
  assessmentsTotal: number;
  sendBacksTotal: number;
  /** Runs of this workflow (1 + continue-as-new count). */
  runs: number;
  retired?: { by: string; at: string; reason: string };
  history: AiSystemEvent[];
}

export interface AiSystemResult {
  systemId: string;
  status: 'retired';
  retired: { by: string; at: string; reason: string };
  assessmentsTotal: number;
}

/** Changes to a registration (any subset of its fields but the id). */
export const registrationChangesSchema = z
  .strictObject({
    name: z.string().trim().min(1, 'is required').max(200).regex(...SINGLE_LINE).optional(),
    owner: personIdSchema.optional(),
    purpose: z.string().trim().min(1, 'is required').max(5000).optional(),
    impactTier: z.enum(impactTiers, { message: `must be one of ${impactTiers.join(', ')}` }).optional(),
    lifecycle: z.enum(['design', 'development', 'deployed', 'retired'], { message: 'must be design, development, deployed or retired' }).optional(),
  })
  .refine((c) => Object.keys(c).length > 0, { message: 'name at least one field to change' });
export type RegistrationChanges = z.output<typeof registrationChangesSchema>;

export const updateRegistrationSchema = z.object({
  by: actorSchema,
  changes: registrationChangesSchema,
  reason: z.string().trim().max(2000).optional(),
});
export type UpdateRegistration = z.infer<typeof updateRegistrationSchema>;

export const retireSchema = z.object({
  by: actorSchema,
  reason: z.string().trim().min(1, 'a reason is required').max(2000),
});
export type Retire = z.infer<typeof retireSchema>;
