/**
 * The Statement of Applicability's review cycle (6.1.3, yearly): its workflow, id, input and
 * status. Workflow-safe.
 */
import { defineQuery } from '@temporalio/workflow';
import { z } from 'zod';
import { actorSchema, timingPolicySchema } from '../common/schemas.js';
import { durationString } from '../common/duration.js';

export const SOA_REVIEW_WORKFLOW = 'soaReview';

/** `soa-review/2027`. */
export function soaReviewWorkflowId(year: number): string {
  return `soa-review/${year}`;
}

export const soaReviewInputSchema = z.object({
  year: z.number().int().min(2000).max(2200),
  requestedBy: actorSchema.default('system'),
  trigger: z.enum(['schedule', 'admin', 'management-review']).default('admin'),
  policy: z
    .object({ tasks: timingPolicySchema.prefault({}), reviewDue: durationString.default('30d'), approvalDue: durationString.default('14d') })
    .prefault({}),
});
export type SoaReviewInput = z.input<typeof soaReviewInputSchema>;

export interface SoaReviewStatus {
  workflowId: string;
  year: number;
  state: 'review' | 'approval' | 'approved' | 'cancelled';
  round: number;
  version?: number;
  hash?: string;
  approvedBy?: string;
  timeline: Array<{ at: string; type: string; by: string; detail: string; workflowId?: string }>;
}

export interface SoaReviewResult {
  workflowId: string;
  status: 'approved' | 'cancelled';
  version?: number;
  hash?: string;
  changed?: boolean;
  reason?: string;
}

export type SoaReviewWorkflow = (input: SoaReviewInput) => Promise<SoaReviewResult>;

export const soaReviewStatusQuery = defineQuery<SoaReviewStatus>('soaReviewStatus');
