/** Messages of the AI policy review workflow (5.2, A.2.4, 7.3). Workflow-safe. */
import { defineQuery } from '@temporalio/workflow';
import type { PolicyReviewInput, PolicyReviewResult, PolicyReviewStatus } from './schema.js';

export const POLICY_REVIEW_WORKFLOW = 'policyReview';
export type PolicyReviewWorkflow = (input: PolicyReviewInput) => Promise<PolicyReviewResult>;

/** `policy-review/2027`. */
export function policyReviewWorkflowId(reviewRef: string): string {
  return `policy-review/${reviewRef}`;
}

export const policyReviewStatusQuery = defineQuery<PolicyReviewStatus>('policyReviewStatus');
