/**
 * Approval: input, rule, decisions and result. Workflow-safe.
 */
import { z } from 'zod';
import { SINGLE_LINE } from '../common/text.js';
import { assigneeRefSchema } from '../organization/schema.js';
import { conflictsSchema } from '../people/duties.js';
import { actorSchema, personIdSchema, processSchema, timingPolicySchema, viaSchema, type PersonRef, type Via } from '../common/schemas.js';
import { durationString } from '../common/duration.js';

export const contentHashSchema = z.string().regex(/^[a-f0-9]{64}$/, 'must be a sha256 hex digest (64 hex characters)');

export const approvalRuleSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('all') }),
  z.object({ type: z.literal('any') }),
  z.object({ type: z.literal('n-of-m'), n: z.number().int().min(1).max(50) }),
]);
export type ApprovalRule = z.infer<typeof approvalRuleSchema>;

export const approvalInputSchema = z.object({
  /** What kind of thing is approved, e.g. `management-review`, `impact-assessment`, `adhoc`. */
  kind: z.string().regex(/^[a-z][a-z0-9-]{1,48}$/, 'must be a kind key such as management-review'),
  title: z.string().trim().min(3).max(200).regex(...SINGLE_LINE),
  summary: z.string().trim().min(1).max(20000),
  contentUrl: z.url({ protocol: /^https?$/ }).optional(),
  contentHash: contentHashSchema,
  approvers: z.array(assigneeRefSchema).min(1).max(20),
  rule: approvalRuleSchema.default({ type: 'all' }),
  /** Who prepared the content; they may not approve it (separation of duties). */
  preparer: personIdSchema,
  /** Others who must not approve (who completed the content, the owner of what it is about, ...), each with the rule and why. */
  conflicts: conflictsSchema,
  process: processSchema.default('adhoc'),
  clauses: z.array(z.string()).max(20).default([]),
  dueAt: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time, e.g. 2027-03-01T17:00:00Z' }),
  /** How long after the due date an undecided approval expires. */
  expireAfter: durationString.default('14d'),
  policy: timingPolicySchema.prefault({}),
});
export type ApprovalInput = z.input<typeof approvalInputSchema>;
export type ApprovalSpec = z.output<typeof approvalInputSchema>;

export type ApprovalState = 'pending' | 'overdue' | 'approved' | 'rejected' | 'expired' | 'cancelled';

export interface Decision {
  by: string;
  decision: 'approve' | 'reject';
  comment?: string;
  at: string;
  contentHash: string;
  /** True once a later content version made it void. */
  voided: boolean;
  /** How the approver was authenticated (`link`: from the e-mailed link). */
  via?: Via;
}

export interface ApprovalEvent {
  at: string;
  type:
    | 'requested'
    | 'reminded'
    | 'overdue'
    | 'escalated'
    | 'decided'
    | 'commented'
    | 'revised'
    | 'approved'
    | 'rejected'
    | 'expired'
    | 'cancelled'
    /** An approver not in the organization (any more) was replaced; the detail says by whom and why. */
    | 'rerouted'
    /** An approver's pending decision or the preparer's part was handed over. */
    | 'handover';
  by: string;
  detail: string;
}

export interface ApprovalStatus {
  approvalId: string;
  kind: string;
  title: string;
  summary: string;
  contentUrl?: string;
  contentHash: string;
  version: number;
  rule: ApprovalRule;
  required: number;
  preparer: PersonRef;
  approvers: PersonRef[];
  pending: string[];
  state: ApprovalState;
  dueAt: string;
  expiresAt: string;
  decisions: Decision[];
  history: ApprovalEvent[];
}

export interface ApprovalResult {
  approvalId: string;
  status: 'approved' | 'rejected' | 'expired' | 'cancelled';
  contentHash: string;
  version: number;
  decisions: Decision[];
  decidedAt: string;
}

export const decideSchema = z
  .object({
    by: personIdSchema,
    decision: z.enum(['approve', 'reject']),
    comment: z.string().trim().max(5000).optional(),
    /** The hash of the content the approver saw. */
    contentHash: contentHashSchema,
    via: viaSchema.optional(),
  })
  .superRefine((d, ctx) => {
    if (d.decision === 'reject' && !d.comment) {
      ctx.addIssue({ code: 'custom', path: ['comment'], message: 'a comment is required to reject' });
    }
  });
export type Decide = z.infer<typeof decideSchema>;

export const reviseSchema = z.object({
  by: actorSchema,
  contentHash: contentHashSchema,
  summary: z.string().trim().min(1).max(20000).optional(),
  title: z.string().trim().min(3).max(200).regex(...SINGLE_LINE).optional(),
  contentUrl: z.url({ protocol: /^https?$/ }).optional(),
  note: z.string().trim().max(2000).optional(),
});
export type Revise = z.infer<typeof reviseSchema>;

/** Approvals needed under a rule for a number of eligible approvers. */
export function requiredApprovals(rule: ApprovalRule, eligible: number): number {
  switch (rule.type) {
    case 'all':
      return eligible;
    case 'any':
      return 1;
    case 'n-of-m':
      return rule.n;
  }
}

/**
 * Outcome so far, counting only current (not voided) decisions: approved once `required`
 * approvals are in; rejected once too few undecided approvers remain to reach `required`.
 */
export function tally(
  decisions: readonly Decision[],
  eligible: number,
  required: number,
): 'approved' | 'rejected' | 'pending' {
  const current = decisions.filter((d) => !d.voided);
  const approvals = current.filter((d) => d.decision === 'approve').length;
  const rejections = current.filter((d) => d.decision === 'reject').length;
  if (approvals >= required) return 'approved';
  if (eligible - rejections < required) return 'rejected';
  return 'pending';
}

/** What a closed approval means for the process that asked for it. */
export interface ApprovalOutcome {
  approved: boolean;
  /** Who approved the current version. */
  approvedBy: string[];
  /** Who rejected first, when someone did. */
  rejectedBy?: string;
  /** Why it was not approved (empty when approved): the rejection comments, or what happened. */
  reason: string;
}

/** Reads an approval's result: who approved, who rejected and why it was not approved. */
export function approvalOutcome(result: Pick<ApprovalResult, 'status' | 'decisions'>): ApprovalOutcome {
  const current = result.decisions.filter((d) => !d.voided);
  const approvedBy = current.filter((d) => d.decision === 'approve').map((d) => d.by);
  const rejections = current.filter((d) => d.decision === 'reject');
  const rejectedBy = rejections[0]?.by;
  const reasons: Record<ApprovalResult['status'], string> = {
    approved: '',
    expired: 'nobody decided before the approval expired',
    cancelled: 'the approval was cancelled',
    rejected: rejections.flatMap((d) => (d.comment ? [d.comment] : [])).join('; ') || 'rejected without a comment',
  };
  return { approved: result.status === 'approved', approvedBy, ...(rejectedBy ? { rejectedBy } : {}), reason: reasons[result.status] };
}
