/**
 * The AI policy as a controlled document (ISO/IEC 42001 5.2, A.2.2-A.2.4) and its awareness
 * (7.3): the review input, its outcome, the version records and the people in scope of the
 * acknowledgements. Workflow-safe.
 */
import { z } from 'zod';
import { durationString } from '../common/duration.js';
import { actorSchema, timingPolicySchema } from '../common/schemas.js';
import type { Organization } from '../organization/schema.js';

export const POLICY_CLAUSES = ['5.2', 'A.2.2', 'A.2.3', 'A.2.4'] as const;
export const AWARENESS_CLAUSES = ['7.3'] as const;
export const POLICY_PROCESS = 'ai-policy';

export const policyReviewTriggers = ['schedule', 'management-review', 'admin'] as const;
export const REVIEW_CHOICES = ['no change', 'new version'] as const;

export const policyReviewInputSchema = z.object({
  /** `2027`, or `mr-2027` for one a management review decided; the schedule's runs take theirs from the workflow id. */
  reviewRef: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be lowercase letters, digits, ".", "_" or "-" (max 64)'),
  trigger: z.enum(policyReviewTriggers).default('admin'),
  /** What started it, e.g. the management review's decision. */
  reason: z.string().trim().max(2000).optional(),
  requestedBy: actorSchema.default('system'),
  /** Overrides of the organization's timing (tests use seconds). */
  policy: z
    .object({
      reviewDue: durationString.optional(),
      approvalDue: durationString.optional(),
      acknowledgementDue: durationString.optional(),
      tasks: timingPolicySchema.prefault({}),
      /** Reminders of the acknowledgement tasks (7.3), apart from the review's. */
      acknowledgementTasks: timingPolicySchema.optional(),
    })
    .prefault({}),
});
export type PolicyReviewInput = Omit<z.input<typeof policyReviewInputSchema>, 'reviewRef'> & { reviewRef?: string };

/** The review's ref from its workflow id (`policy-review/scheduled-2027-01-05T00:00:00Z` → `scheduled-2027-01-05t00-00-00z`). */
export function reviewRefOf(workflowId: string): string {
  return workflowId
    .replace(/^policy-review\//, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 64) || 'review';
}
export type PolicyReviewSpec = z.output<typeof policyReviewInputSchema>;

/** An approved version of the policy, as its ledger record holds it. */
export interface PolicyVersion {
  version: number;
  title: string;
  text: string;
  contentHash: string;
  owner: string;
  approvedBy: string[];
  approvedAt: string;
  approvalId: string;
  reviewRef: string;
}

export interface PolicySetup {
  ownerId: string;
  organizationName: string;
  current: PolicyVersion | null;
  reviewDueMs: number;
  approvalDueMs: number;
  acknowledgementDueMs: number;
  /** Everyone who acknowledges a new version. */
  inScope: string[];
}

export type PolicyReviewState = 'reviewing' | 'drafting' | 'awaiting-approval' | 'acknowledging' | 'no-change' | 'completed' | 'not-approved' | 'cancelled';

export interface Acknowledgement {
  person: string;
  taskId: string;
  state: 'open' | 'acknowledged' | 'cancelled';
  at?: string;
}

export interface PolicyReviewStatus {
  reviewRef: string;
  workflowId: string;
  trigger: (typeof policyReviewTriggers)[number];
  state: PolicyReviewState;
  owner: string;
  current: { version: number; contentHash: string } | null;
  outcome?: 'no change' | 'new version' | 'not approved';
  newVersion?: { version: number; contentHash: string; approvedAt?: string };
  acknowledgements: Acknowledgement[];
  /** Acknowledged ÷ in scope (null before any is requested). */
  acknowledgementRate: number | null;
  history: Array<{ at: string; type: string; by: string; detail: string; workflowId?: string }>;
}

export interface PolicyReviewResult {
  reviewRef: string;
  outcome: 'no change' | 'new version' | 'not approved' | 'cancelled';
  version: number | null;
  acknowledged: number;
  inScope: number;
}

/** The people who acknowledge each version: everyone with a role, or the organization file's list. */
export function acknowledgementScope(org: Organization): string[] {
  const listed = org.aiPolicy.acknowledgedBy;
  if (Array.isArray(listed)) return [...new Set(listed)];
  const { roles } = org;
  const holders = [
    ...roles.topManagement,
    roles.aimsManager,
    ...roles.internalAuditors,
    ...roles.aiGovernance,
    ...Object.values(roles.processOwners),
    ...org.aiSystems.map((s) => s.owner),
    ...roles.operationsAdmins,
  ];
  // External auditors hold a role here but are not the organization's people: they do not acknowledge its policy.
  return [...new Set(holders)].filter((p) => !roles.externalAuditors.includes(p));
}
