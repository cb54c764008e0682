/**
 * Management review (ISO/IEC 42001 9.3): the input that starts a review cycle, the minutes the
 * AIMS manager records, the review's states and its status. Workflow-safe (zod only).
 */
import type { AwarenessFigure, ObjectiveFigure } from '../objectives/figures.js';
import { z } from 'zod';
import { calendarDate } from '../common/dates.js';
import { durationString } from '../common/duration.js';
import { actorSchema, personIdSchema, timingPolicySchema } from '../common/schemas.js';
import { severities } from '../corrective-action/nc-id.js';

/** The process key used in search attributes, ledger records and child tasks. */
export const MANAGEMENT_REVIEW_PROCESS = 'management-review';

/** `2027`, `2027-H1`, `2027-H2`, `2027-Q3` or `2027-extra-1`: the year and an optional qualifier. */
export const reviewIdSchema = z
  .string()
  .regex(
    /^\d{4}(-(H[12]|Q[1-4]|[a-z0-9][a-z0-9-]{0,30}))?$/,
    'must be a year, optionally with a qualifier: "2027", "2027-H1", "2027-Q3" or "2027-extra-1"',
  );

/** The inputs of ISO/IEC 42001 9.3.2, a to e. */
export const reviewInputKeys = ['a', 'b', 'c', 'd', 'e'] as const;
export type ReviewInputKey = (typeof reviewInputKeys)[number];

export const reviewInputTitles: Record<ReviewInputKey, string> = {
  a: 'Status of actions from previous management reviews',
  b: 'Changes in external and internal issues relevant to the AI management system',
  c: 'Changes in needs and expectations of interested parties',
  d: 'Information on the AI management system performance',
  e: 'Opportunities for continual improvement',
};

export const reviewInputInstructions: Record<ReviewInputKey, string> = {
  a: 'Report the status of the actions decided in previous management reviews: what was done, what is late and why. The list below comes from the previous review and the live state of its tasks.',
  b: 'Describe the changes in external and internal issues relevant to the AI management system since the last review (clause 4.1): regulation, technology, organization, AI systems in scope.',
  c: 'Describe the changes in the needs and expectations of interested parties since the last review (clause 4.2): customers, regulators, affected people, staff, suppliers.',
  d: 'Comment on the AI management system performance (clauses 6.2, 9.1, 9.3.2 d). The objectives\' measurements with a chart each, the acknowledgement rate of the AI policy, nonconformities, corrective actions and audit results are gathered into the pack automatically; add what they do not show.',
  e: 'List the opportunities for continual improvement of the AI management system (clause 10.1).',
};

/** Short durations for tests and one-off overrides of the organization defaults. */
export const managementReviewPolicySchema = z.object({
  /** Inputs are due this long after the start (instead of `inputsDueBefore` the meeting). */
  inputsDue: durationString.optional(),
  /** The meeting starts this long after the start (instead of the meeting date and time). */
  meetingIn: durationString.optional(),
  /** How long top management has to approve the results. */
  approvalDue: durationString.optional(),
  /** How long after its due date an undecided approval expires. */
  approvalExpireAfter: durationString.optional(),
  /** Reminders and escalations of the input tasks and the approval. */
  tasks: timingPolicySchema.prefault({}),
});

export const managementReviewInputSchema = z.object({
  reviewId: reviewIdSchema,
  /** The day of the review meeting. */
  meetingDate: calendarDate,
  /** Who started it: a person id, or `system` for a schedule or a parent workflow. */
  requestedBy: actorSchema,
  trigger: z.enum(['admin', 'schedule', 'certification'], { message: 'must be "admin", "schedule" or "certification"' }),
  /** What started it, e.g. the certification cycle's workflow id or the schedule id. */
  triggerRef: z.string().trim().min(1).max(300).optional(),
  /** Start of the period the performance figures cover; defaults to the previous review's meeting date, or one year before. */
  periodFrom: calendarDate.optional(),
  policy: managementReviewPolicySchema.prefault({}),
});
export type ManagementReviewInput = z.input<typeof managementReviewInputSchema>;
export type ManagementReviewSpec = z.output<typeof managementReviewInputSchema>;

// The minutes (the outcome of the meeting, 9.3.3).

const reviewInputKeySchema = z.enum(reviewInputKeys, { message: 'must be one of a, b, c, d, e' });

export const reviewActionSchema = z
  .object({
    title: z.string().trim().min(3, 'must be at least 3 characters').max(200),
    description: z.string().trim().max(5000).optional(),
    owner: personIdSchema,
    dueDate: calendarDate,
    /** The review input it answers (9.3.2 a-e). */
    input: reviewInputKeySchema,
    /** A nonconformity it addresses (e.g. NC-2027-004); the action becomes a corrective action. */
    ncRef: z.string().trim().min(1).max(200).optional(),
    /** True when the action addresses a nonconformity: it becomes a corrective action. */
    nonconformity: z.boolean().default(false),
    /** Severity of that nonconformity (default minor). */
    severity: z.enum(severities).optional(),
  })
  .strict();
export type ReviewAction = z.output<typeof reviewActionSchema>;

/**
 * What the meeting decided about an input missing from the pack: accepted as missing, with the
 * reason, or an action to supply it: the index of one of the minutes' `actions` (0 for the
 * first), or an action written here (it answers that input; `input` may be left out).
 */
export const missingInputDecisionSchema = z.discriminatedUnion(
  'decision',
  [
    z.strictObject({
      input: reviewInputKeySchema,
      decision: z.literal('accepted'),
      reason: z.string().trim().min(3, 'must say why the review accepts the input as missing (at least 3 characters)').max(5000),
    }),
    z.strictObject({
      input: reviewInputKeySchema,
      decision: z.literal('action'),
      action: z.union(
        [z.number().int().min(0, 'must be the index of one of the actions (0 for the first)'), reviewActionSchema.extend({ input: reviewInputKeySchema.optional() })],
        { error: 'must be the index of one of the actions (0 for the first), or an action' },
      ),
    }),
  ],
  { error: 'must be "accepted" (with a reason) or "action" (with the action that supplies the input)' },
);
export type MissingInputDecision = z.output<typeof missingInputDecisionSchema>;

export const reviewMinutesSchema = z
  .object({
    /** The AIMS manager (or `system`). */
    by: actorSchema,
    attendees: z.array(personIdSchema).min(1, 'needs at least one attendee').max(100),
    /** Decisions on opportunities for continual improvement (9.3.3). */
    improvementDecisions: z.array(z.string().trim().min(1, 'is required').max(5000)).max(100).default([]),
    /** Decisions on any need for changes to the AI management system (9.3.3). */
    changeDecisions: z.array(z.string().trim().min(1, 'is required').max(5000)).max(100).default([]),
    actions: z.array(reviewActionSchema).max(50).default([]),
    /** One decision for each input the pack marks missing (9.3.2): accepted with a reason, or an action to supply it. */
    missingInputs: z.array(missingInputDecisionSchema).max(reviewInputKeys.length).default([]),
    notes: z.string().trim().max(20000).optional(),
    /** A decision to review the AI policy (5.2, A.2.4), with why: starts `policy-review/mr-<review id>` once the minutes are approved. */
    reviewPolicy: z.string().trim().min(1, 'must say why the policy is to be reviewed').max(2000).optional(),
  })
  .strict();
export type ReviewMinutesInput = z.input<typeof reviewMinutesSchema>;
export type ReviewMinutes = z.output<typeof reviewMinutesSchema>;

export type ManagementReviewState =
  | 'collecting-inputs'
  | 'awaiting-minutes'
  | 'awaiting-approval'
  | 'completed'
  | 'cancelled';

/** Where an input's content came from. */
export interface ReviewInputStatus {
  key: ReviewInputKey;
  title: string;
  owner: string;
  taskWorkflowId: string;
  dueAt: string;
  state: 'requested' | 'supplied' | 'missing';
  suppliedBy?: string;
  suppliedAt?: string;
  text?: string;
}

/** A source read by an activity: its data, or why it could not be read (never shown as zero). */
export type SourceResult<T> = ({ available: true } & T) | { available: false; reason: string };

export interface PreviousActionStatus {
  n: number;
  title: string;
  owner: string;
  dueDate: string;
  input: ReviewInputKey;
  workflowId: string;
  kind: 'task' | 'corrective-action';
  ncId?: string;
  /** Live state (from the task or NC workflow), or the last known one. */
  state: string;
  /** `live` when read from the running or closed workflow, `ledger` when only the ledger knew. */
  stateSource: 'live' | 'ledger';
}

export interface AutomaticInputs {
  collectedAt: string;
  period: { from: string; to: string };
  /** Input (a): the previous review's actions and their state. */
  previousActions: SourceResult<{ reviewId: string | null; actions: PreviousActionStatus[] }>;
  /** Input (d): nonconformities and corrective actions. */
  nonconformities: SourceResult<{ summary: Record<string, unknown> }>;
  /** Input (d): audit results. */
  audits: SourceResult<{ summary: Record<string, unknown> }>;
  /**
   * Input (e): the open improvement items (10.1), such as audit observations and opportunities
   * for improvement. Absent in packs built before improvement items existed.
   */
  improvements?: SourceResult<{ items: ImprovementSummary[] }>;
  /**
   * Input (d): each AI objective measured in the period (latest value, target, trend, misses,
   * series; 6.2, 9.1). Absent in packs built before objectives were measured.
   */
  objectives?: SourceResult<{ objectives: ObjectiveFigure[] }>;
  /** Input (d): the acknowledgement rate of the latest AI policy version (7.3). Absent in packs built before. */
  awareness?: SourceResult<{ figure: AwarenessFigure }>;
  /**
   * Input (d): the AI risk register's figures (open risks by level, overdue treatments,
   * accepted residual risks). Absent in packs built before the register existed.
   */
  risks?: SourceResult<{ figures: Record<string, unknown> }>;
  /**
   * The evidence ledger's head when the pack was built, and the last head published outside the
   * database (an anchor), so the pack pins the ledger it was built from. Absent in packs built
   * before anchors existed.
   */
  ledger?: SourceResult<{ head: PackLedgerHead; anchor: (PackLedgerHead & { publishedAt: string }) | null }>;
}

/** A ledger head as a pack shows it: record seq and hash, and when it was read. */
export interface PackLedgerHead {
  seq: number;
  hash: string;
  at: string;
}

/** One open improvement item as management review input (e) shows it. */
export interface ImprovementSummary {
  improvementId: string;
  type: string;
  statement: string;
  clauses: string[];
  /** Where it came from, e.g. the audit finding `A-03-F2`. */
  sourceRef: string;
  raisedAt: string;
}

export interface ReviewPack {
  reviewId: string;
  workflowId: string;
  organizationName: string;
  meetingDate: string;
  meetingStart: string;
  meetingEnd: string;
  builtAt: string;
  inputs: ReviewInputStatus[];
  automatic: AutomaticInputs;
  /** sha256 of the canonical JSON of the pack without this field. */
  contentHash: string;
}

export interface ReviewActionOutcome extends ReviewAction {
  n: number;
  kind: 'task' | 'corrective-action';
  workflowId: string;
  ncId?: string;
}

export type ManagementReviewEventType =
  | 'started'
  | 'input-requested'
  | 'input-supplied'
  | 'input-missing'
  | 'invitation-sent'
  | 'pack-sent'
  | 'minutes-recorded'
  | 'minutes-edited'
  | 'approval-requested'
  | 'approved'
  | 'rejected'
  | 'expired'
  | 'action-created'
  | 'completed'
  | 'cancelled'
  /** An input task or the approval failed; it is asked again, or the review routes around it. */
  | 'step-failed'
  /** An input owner's, an attendee's or the AIMS manager's part was handed over. */
  | 'handover';

export interface ManagementReviewEvent {
  at: string;
  type: ManagementReviewEventType;
  by: string;
  detail: string;
  workflowId?: string;
}

export interface ManagementReviewStatus {
  reviewId: string;
  workflowId: string;
  trigger: ManagementReviewSpec['trigger'];
  triggerRef?: string;
  requestedBy: string;
  meetingDate: string;
  meetingStart?: string;
  inputsDueAt?: string;
  state: ManagementReviewState;
  aimsManager?: string;
  attendees: string[];
  inputs: ReviewInputStatus[];
  pack?: ReviewPack;
  minutes?: ReviewMinutes & { version: number; recordedAt: string };
  /** Hash of pack + minutes that top management approves. */
  approvalHash?: string;
  approval?: { workflowId: string; round: number; state: string; decidedAt?: string };
  approvedAt?: string;
  actions: ReviewActionOutcome[];
  completedAt?: string;
  cancellation?: { by: string; at: string; reason: string };
  timeline: ManagementReviewEvent[];
}

export interface ManagementReviewResult {
  reviewId: string;
  status: 'completed' | 'cancelled';
  approvedAt?: string;
  actions: ReviewActionOutcome[];
}

/** The settings a review resolves from the organization file (by an activity). */
export interface ManagementReviewSetup {
  organizationName: string;
  aimsManagerId: string;
  inputOwners: Record<ReviewInputKey, string>;
  attendees: string[];
  approvers: Array<{ person: string } | { role: 'top-management' }>;
  rule: { type: 'all' } | { type: 'any' } | { type: 'n-of-m'; n: number };
  meetingStartMs: number;
  meetingEndMs: number;
  inputsDueAtMs: number;
  approvalDueMs: number;
  periodFrom: string;
  /** Reminders and escalation of the input tasks from `managementReview` (the organization defaults when absent). */
  taskPolicy: { reminderOffsets?: string[]; escalation?: Array<{ after: string; to: 'manager' | 'top-management' | 'aims-manager' }> };
}
