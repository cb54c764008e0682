/**
 * Starting a management review (ISO/IEC 42001 9.3) from the API, the CLI or a test: the input
 * is checked field by field (StartInputError) before anything starts, and the review gets its
 * business id (`management-review/2027`), its search attributes, memo and summary from the start.
 */
import { WorkflowIdReusePolicy, type Client, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { MANAGEMENT_REVIEW_PROCESS, managementReviewInputSchema, type ManagementReviewInput, type ManagementReviewSpec } from './schema.js';
import { MANAGEMENT_REVIEW_WORKFLOW, managementReviewWorkflowId, type ManagementReviewWorkflow } from './contract.js';
import type { Organization } from '../organization/schema.js';
import { searchAttributes } from '../temporal/search-attributes.js';
import { consoleDetails, parseStartInput, StartCheck } from '../temporal/start.js';

/** Checks a review input; throws StartInputError naming every bad field. */
export function checkManagementReviewInput(input: unknown, opts: { organization?: Organization; now?: Date } = {}): ManagementReviewSpec {
  const spec = parseStartInput(managementReviewInputSchema, input, 'management review');
  const check = new StartCheck('management review', opts.organization).actor('requestedBy', spec.requestedBy, ' (not in people)');
  const today = (opts.now ?? new Date()).toISOString().slice(0, 10);
  if (!spec.policy.meetingIn && spec.meetingDate < today) check.add('meetingDate', `must be today (${today}) or later`);
  if (spec.periodFrom && spec.periodFrom >= spec.meetingDate) check.add('periodFrom', 'must be before meetingDate');
  check.done();
  return spec;
}

/**
 * Validates `input` and starts the review as `management-review/<reviewId>`. A review id names
 * one review: throws WorkflowExecutionAlreadyStartedError when it runs or completed (a failed
 * or terminated one may be started again).
 */
export async function startManagementReview(
  client: Client,
  taskQueue: string,
  input: ManagementReviewInput,
  opts: { organization?: Organization; publicBaseUrl?: string | undefined } = {},
): Promise<WorkflowHandleWithFirstExecutionRunId<ManagementReviewWorkflow>> {
  const spec = checkManagementReviewInput(input, opts);
  return client.workflow.start<ManagementReviewWorkflow>(MANAGEMENT_REVIEW_WORKFLOW, {
    taskQueue,
    workflowId: managementReviewWorkflowId(spec.reviewId),
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    args: [spec],
    staticSummary: `Management review ${spec.reviewId} (meeting ${spec.meetingDate})`,
    ...consoleDetails(opts.publicBaseUrl, managementReviewWorkflowId(spec.reviewId)),
    memo: { kind: 'management-review', reviewId: spec.reviewId, meetingDate: spec.meetingDate, state: 'collecting-inputs' },
    typedSearchAttributes: [
      { key: searchAttributes.process, value: MANAGEMENT_REVIEW_PROCESS },
      { key: searchAttributes.ref, value: spec.reviewId },
      { key: searchAttributes.state, value: 'collecting-inputs' },
      { key: searchAttributes.clauses, value: ['9.3'] },
    ],
  });
}
