/**
 * The management review workflow's type name, its id, and its messages (updates and query),
 * shared by the workflow, the API, the CLI and tests. Workflow-safe.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ManagementReviewInput, ManagementReviewResult, ManagementReviewStatus, ReviewMinutes } from './schema.js';
import type { Cancel } from '../common/schemas.js';
import type { UpdateAck } from '../common/messages.js';

export const MANAGEMENT_REVIEW_WORKFLOW = 'managementReview';
export type ManagementReviewWorkflow = (input: ManagementReviewInput) => Promise<ManagementReviewResult>;

/** `management-review/2027`. */
export function managementReviewWorkflowId(reviewId: string): string {
  return `management-review/${reviewId}`;
}

export const managementReviewStatusQuery = defineQuery<ManagementReviewStatus>('managementReviewStatus');
/** Records the minutes (the outcome of the meeting); sent again, it edits them and asks for approval again. */
export const recordMinutesUpdate = defineUpdate<UpdateAck, [ReviewMinutes]>('recordMinutes');
export const cancelReviewUpdate = defineUpdate<UpdateAck, [Cancel]>('cancelReview');
