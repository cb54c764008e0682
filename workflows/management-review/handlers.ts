/**
 * What people can do to a running management review: read its status, record the minutes
 * (again, to edit them: the running approval is revised and earlier decisions are void) and
 * cancel it. Only the AIMS manager (or the system) records and cancels.
 */
import { condition, setHandler } from '@temporalio/workflow';
import { cancelSchema } from '../../src/common/schemas.js';
import type { UpdateAck } from '../../src/common/messages.js';
import { cancelReviewUpdate, managementReviewStatusQuery, recordMinutesUpdate } from '../../src/management-review/contract.js';
import { minutesActions, minutesProblems } from '../../src/management-review/rules.js';
import { reviewMinutesSchema, type ReviewMinutes } from '../../src/management-review/schema.js';
import { acts } from '../lib/activities.js';
import { lookUpOrReject, onUpdate } from '../lib/handlers.js';
import { rejectUnknown } from '../lib/people.js';
import { reject } from '../lib/util.js';
import { registerReviewHandover } from './handover.js';
import type { Review } from './state.js';
import { minutesText } from './texts.js';

const alreadyApproved = 'the results are already approved; changes belong in the next management review';

export function registerReviewHandlers(review: Review): void {
  const ready = () => review.setup !== undefined;
  const aimsManagerOnly = (by: string, refusal: string) => {
    if (!['system', review.setup?.aimsManagerId].includes(by)) reject(refusal);
  };

  setHandler(managementReviewStatusQuery, () => review.status());

  onUpdate(recordMinutesUpdate, {
    schema: reviewMinutesSchema,
    ready,
    check: (input) => {
      aimsManagerOnly(input.by, 'only the AIMS manager can record the minutes of the management review');
      if (review.state === 'collecting-inputs') reject('the review pack is not ready yet: record the minutes once the inputs are in or the meeting has taken place');
      if (review.approved || review.state === 'completed') reject(alreadyApproved);
      if (review.state === 'cancelled') reject('the management review is cancelled');
      const problems = minutesProblems(input, { nowMs: Date.now(), meetingStartMs: review.settings.meetingStartMs, missing: review.missingInputs() });
      if (problems.length) reject(problems.join('; '));
    },
    apply: async (input) => {
      // One recording at a time: each one hashes and versions the minutes it replaces.
      await condition(() => !review.busy);
      review.busy = true;
      try {
        return await recordMinutes(review, input);
      } finally {
        review.busy = false;
      }
    },
  });

  registerReviewHandover(review);

  onUpdate(cancelReviewUpdate, {
    schema: cancelSchema,
    ready,
    check: (input) => {
      aimsManagerOnly(input.by, 'only the AIMS manager can cancel a management review');
      if (review.isClosed()) reject(`the management review is already ${review.state}`);
      if (review.approved) reject('the results are already approved');
    },
    apply: (input) => {
      review.cancellation = { by: input.by, at: new Date().toISOString(), reason: input.reason };
      review.scope.cancel();
      return review.ack('The management review is being cancelled.');
    },
  });
}

/**
 * Records the minutes: everyone they name must be known, their content (with the pack's hash)
 * is hashed for the approval, and an approval already running is revised to the new version.
 */
async function recordMinutes(review: Review, input: ReviewMinutes): Promise<UpdateAck> {
  if (review.approved || review.isClosed()) reject(alreadyApproved);
  rejectUnknown(await lookUpOrReject(() => acts.resolvePeople([...input.attendees, ...minutesActions(input).map((a) => a.owner)].map((person) => ({ person })))));
  const contentHash = await acts.contentHash(review.approvalContent(input));
  const version = (review.minutes?.version ?? 0) + 1;
  const packHash = review.pack?.contentHash ?? null;
  const summary = `Management review ${review.spec.reviewId}: results for approval (version ${version}).\n\nReview pack content hash: ${packHash ?? 'none'}\n\n${minutesText(input)}`;
  const running = review.approvalRunning ? review.approval : undefined;
  if (running) {
    if (contentHash === review.approvalHash) reject('the minutes are unchanged');
    const revised = await acts.reviseManagementReviewApproval({
      approvalWorkflowId: running.workflowId,
      by: input.by,
      contentHash,
      summary,
      note: `the minutes were edited (version ${version}); earlier decisions are void`,
    });
    if (!revised.revised) reject(`the approval could not be revised: ${revised.reason ?? 'it is closed'}`);
  }
  review.minutes = { ...input, version, recordedAt: new Date().toISOString() };
  review.approvalHash = contentHash;
  review.approvalSummary = summary;
  const editing = running !== undefined;
  review.event(editing ? 'minutes-edited' : 'minutes-recorded', input.by, `minutes version ${version}${editing ? ': earlier approval decisions are void, approval asked again' : ''}`);
  await review.recorder.append('management-review.minutes', input.by, { version, minutes: input, packHash, approvalHash: contentHash }, `minutes-${version}`);
  if (!editing) review.minutesPending = true;
  review.publish();
  return review.ack(editing ? `Minutes version ${version} recorded; top management is asked to approve again.` : `Minutes version ${version} recorded; sent for approval.`);
}
