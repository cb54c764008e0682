/**
 * Nonconformity and corrective action (ISO/IEC 42001 10.2): the input that raises an NC, its
 * states, its timeline and the messages sent to it. Workflow-safe.
 */
import { z } from 'zod';
import { CLAUSE_OR_CONTROL } from '../common/clauses.js';
import { SINGLE_LINE } from '../common/text.js';
import { durationString } from '../common/duration.js';
import type { PlanAction } from '../forms/index.js';
import { ncIdSchema, severities, type Severity } from './nc-id.js';
import { actorSchema, personIdSchema, timingPolicySchema } from '../common/schemas.js';

export { ncIdSchema, severities, type Severity } from './nc-id.js';

export const ncSources = ['admin', 'internal-audit', 'certification-audit', 'incident', 'concern', 'objective'] as const;
export type NcSource = (typeof ncSources)[number];

const clauseRef = z
  .string()
  .regex(CLAUSE_OR_CONTROL, 'must be a clause (e.g. 9.2) or an Annex A control (e.g. A.5.4)');

/** What raising an NC needs, apart from its id (the API, audits and triage share it). */
export const nonconformityFieldsSchema = z.object({
  title: z.string().trim().min(3, 'must be at least 3 characters').max(200).regex(...SINGLE_LINE),
  description: z.string().trim().min(1, 'is required').max(10000),
  severity: z.enum(severities, { message: 'must be "major" or "minor"' }),
  source: z.enum(ncSources, { message: `must be one of ${ncSources.join(', ')}` }),
  /** Where it came from in the source, e.g. an audit finding id or an incident ticket. */
  sourceRef: z.string().trim().min(1).max(200).optional(),
  /** Clauses and Annex A controls concerned; 10.2 is always added. */
  clauses: z.array(clauseRef).max(20).default([]),
  aiSystem: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be an AI system id').optional(),
  /** Who is accountable for the corrective action. */
  owner: personIdSchema,
  raisedBy: actorSchema.default('system'),
});
export type NonconformityFields = z.input<typeof nonconformityFieldsSchema>;

/** Per-NC overrides of the organization defaults (tests use seconds). */
export const correctiveActionPolicySchema = z.object({
  /** How long each step (containment, root cause, plan, effectiveness review) has. */
  stepDue: durationString.optional(),
  /** Wait after the actions are done before the effectiveness review. */
  effectivenessWait: durationString.optional(),
  /** From raising to closure; past it the NC is escalated to top management. */
  overallTarget: durationString.optional(),
  /** How long the AIMS manager has to approve an action plan. */
  approvalDue: durationString.optional(),
  /** Reminders and escalations of the step tasks and approvals. */
  tasks: timingPolicySchema.prefault({}),
});

export const correctiveActionInputSchema = nonconformityFieldsSchema.extend({
  ncId: ncIdSchema,
  /** When it was raised (a parent passes its finding's time); defaults to the workflow start. */
  raisedAt: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time' }).optional(),
  policy: correctiveActionPolicySchema.prefault({}),
});
export type CorrectiveActionInput = z.input<typeof correctiveActionInputSchema>;
export type CorrectiveActionSpec = z.output<typeof correctiveActionInputSchema>;

/** The organization's defaults for one severity, resolved by an activity. */
export interface CorrectiveActionTiming {
  stepDueMs: number;
  effectivenessWaitMs: number;
  overallTargetMs: number;
  aimsManagerId: string;
}

export type NcState =
  | 'containment'
  | 'root-cause'
  | 'action-plan'
  | 'implementation'
  | 'waiting-effectiveness'
  | 'effectiveness-review'
  | 'system-change'
  | 'closed'
  | 'cancelled';

export const openNcStates: readonly NcState[] = [
  'containment',
  'root-cause',
  'action-plan',
  'implementation',
  'waiting-effectiveness',
  'effectiveness-review',
  'system-change',
];

export type NcEventType =
  | 'raised'
  | 'step-started'
  | 'step-completed'
  | 'step-reasked'
  /** A step's task or approval failed (failed, timed out, terminated); it is asked again, or the NC gives up on it. */
  | 'step-failed'
  /** The owner is not in the organization (any more): the AIMS manager took over. */
  | 'rerouted'
  /** The owner's (or the AIMS manager's, or an action owner's) part was handed over. */
  | 'handover'
  | 'plan-refused'
  | 'plan-approved'
  | 'plan-rejected'
  | 'not-effective'
  | 'effective'
  | 'escalated'
  | 'commented'
  | 'concern-merged'
  | 'cancel-requested'
  | 'cancel-approved'
  | 'cancel-refused'
  | 'cancel-withdrawn'
  /** The risks and opportunities were updated: a risk in the register, linked to the NC (10.2 e). */
  | 'risks-updated'
  | 'closed'
  | 'cancelled';

export interface NcEvent {
  at: string;
  type: NcEventType;
  by: string;
  detail: string;
  /** The child workflow of a step, when the event is about one. */
  workflowId?: string;
  data?: Record<string, unknown>;
}

export interface RootCause {
  cycle: number;
  method: string;
  analysis: string;
  rootCause: string;
  similarElsewhere: 'yes' | 'no';
  similarDetail: string;
  by: string;
}

export interface NcStatus {
  ncId: string;
  workflowId: string;
  title: string;
  description: string;
  severity: Severity;
  source: NcSource;
  sourceRef?: string;
  clauses: string[];
  aiSystem?: string;
  owner: string;
  raisedBy: string;
  raisedAt: string;
  targetAt: string;
  state: NcState;
  /** True once the overall target passed with the NC still open (escalated to top management). */
  overdue: boolean;
  /** Analysis cycle, from 1; each not-effective review starts the next one. */
  cycle: number;
  notEffectiveCount: number;
  /** The step running now: its key and child workflow id. */
  currentStep?: { key: string; workflowId: string };
  containment?: Record<string, unknown>;
  rootCauses: RootCause[];
  actions: Array<PlanAction & { cycle: number; workflowId: string; done: boolean }>;
  effectiveness: Array<{ cycle: number; effective: boolean; justification: string; by: string; at: string }>;
  systemChange?: { required: boolean; justification: string; riskIds?: string[] };
  mergedConcerns: string[];
  /** A cancellation waiting for top management's approval, and its approval's workflow id. */
  cancelRequest?: CancelRequest;
  closedAt?: string;
  cancellation?: NcCancellation;
  timeline: NcEvent[];
}

/** How an NC was cancelled: who asked, when, why, and who approved it when approval was needed. */
export interface NcCancellation {
  by: string;
  at: string;
  reason: string;
  approvedBy?: string;
}

export interface CancelRequest {
  by: string;
  at: string;
  reason: string;
  workflowId: string;
}

export interface CorrectiveActionResult {
  ncId: string;
  status: 'closed' | 'cancelled';
  notEffectiveCount: number;
  closedAt?: string;
  cancellation?: NcCancellation;
}

/** A concern merged into an existing NC (its timeline gets the concern). */
export const mergeConcernSchema = z.object({
  by: actorSchema,
  concernId: z.string().trim().min(1, 'is required').max(200),
  summary: z.string().trim().min(1, 'is required').max(10000),
  note: z.string().trim().max(5000).optional(),
});
export type MergeConcern = z.infer<typeof mergeConcernSchema>;

// Rules

/**
 * Rule cancel-needs-top-management: a nonconformity the certification body raised, or any
 * major one, is cancelled only when top management approves the request (its reason and who
 * asked); a minor one from another source the AIMS manager cancels directly.
 */
export function cancelNeedsApproval(nc: { severity: Severity; source: NcSource }): boolean {
  return nc.severity === 'major' || nc.source === 'certification-audit';
}

/** Today's date (UTC) as YYYY-MM-DD, the way plan due dates are written. */
export function calendarDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * Rule action-due-not-in-past: every action of an action plan is due today or later (an action
 * is due at the end of its day, UTC). Returns one refusal per action due earlier, naming its
 * field (`actions.<i>.dueDate`, counted from 0 as the plan form names it).
 */
export function pastDueActions(actions: ReadonlyArray<{ dueDate: string }>, today: string): string[] {
  return actions.flatMap((a, i) =>
    a.dueDate < today ? [`actions.${i}.dueDate: ${a.dueDate} is in the past: an action must be due today (${today}) or later (rule action-due-not-in-past)`] : [],
  );
}
