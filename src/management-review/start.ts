/**
 * Starting a management review (ISO/IEC 42001 9.3) from the API, the CLI or a test: the input
 * is checked field by field (StartInputError) before anything starts, and the review gets its
 * business id (`management-review/2027`), its search attributes, memo and summary from the start.
 */
import { WorkflowIdReusePolicy, type Client, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { MANAGEMENT_REVIEW_PROCESS, managementReviewInputSchema, type ManagementReviewInput, type ManagementReviewSpec } from './schema.js';
import { MANAGEMENT_REVIEW_WORKFLOW, managementReviewWorkflowId } from './contract.js';
import type { Organization } from '../organization/schema.js';
import type { managementReview } from '../../workflows/management-review/management-review.js';
import { searchAttributes } from '../temporal/search-attributes.js';
import { StartInputError, type StartIssue } from '../temporal/start.js';

/** Checks a review input; throws StartInputError naming every bad field. */
export function checkManagementReviewInput(input: unknown, opts: { organization?: Organization; now?: Date } = {}): ManagementReviewSpec {
  const parsed = managementReviewInputSchema.safeParse(input);
  if (!parsed.success) {
    throw new StartInputError(
      'management review',
      parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(input)', message: issue.message })),
    );
  }
  const spec = parsed.data;
  const issues: StartIssue[] = [];
  const org = opts.organization;
  if (org && spec.requestedBy !== 'system' && !org.people.some((p) => p.id === spec.requestedBy)) {
    issues.push({ path: 'requestedBy', message: `unknown person "${spec.requestedBy}" (not in people)` });
  }
  const today = (opts.now ?? new Date()).toISOString().slice(0, 10);
  if (!spec.policy.meetingIn && spec.meetingDate < today) {
    issues.push({ path: 'meetingDate', message: `must be today (${today}) or later` });
  }
  if (spec.periodFrom && spec.periodFrom >= spec.meetingDate) {
    issues.push({ path: 'periodFrom', message: 'must be before meetingDate' });
  }
  if (issues.length) throw new StartInputError('management review', issues);
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
  opts: { organization?: Organization } = {},
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof managementReview>> {
  const spec = checkManagementReviewInput(input, opts);
  return client.workflow.start<typeof managementReview>(MANAGEMENT_REVIEW_WORKFLOW, {
    taskQueue,
    workflowId: managementReviewWorkflowId(spec.reviewId),
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    args: [spec],
    staticSummary: `Management review ${spec.reviewId} (meeting ${spec.meetingDate})`,
    memo: { kind: 'management-review', reviewId: spec.reviewId, meetingDate: spec.meetingDate, state: 'collecting-inputs' },
    typedSearchAttributes: [
      { key: searchAttributes.process, value: MANAGEMENT_REVIEW_PROCESS },
      { key: searchAttributes.ref, value: spec.reviewId },
      { key: searchAttributes.state, value: 'collecting-inputs' },
      { key: searchAttributes.clauses, value: ['9.3'] },
    ],
  });
}
