/**
 * Management review (ISO/IEC 42001 9.3): one workflow per review (`management-review/2027`).
 * Each input of 9.3.2 (a-e) is requested from its owner as a human task due before the meeting
 * (reminded and escalated by the task); the automatic parts (the previous review's actions with
 * their live state, nonconformities and corrective actions, audit results) are collected by
 * activities. At the meeting, or as soon as every input is in, the review pack (printable
 * HTML, content-hashed) goes to the attendees with the meeting invitation; inputs still open
 * at the meeting are marked missing. The AIMS manager records the minutes; top management
 * approves them, bound to the hash of pack + minutes (editing the minutes voids earlier
 * decisions and asks again). The approved results go to the ledger and each action becomes a
 * tracked task, or a corrective action when it addresses a nonconformity.
 */
import {
  managementReviewInputSchema,
  type ManagementReviewInput,
  type ManagementReviewResult,
} from '../../src/management-review/schema.js';
import { closing, runLifecycle } from '../lib/lifecycle.js';
import { parseOrThrow } from '../lib/util.js';
import { registerReviewHandlers } from './handlers.js';
import { Review } from './state.js';
import { approveResults, buildPack, collectInputs, collectSources, invite, planReview, raiseActions, sendPack } from './steps.js';

export async function managementReview(rawInput: ManagementReviewInput): Promise<ManagementReviewResult> {
  const review = new Review(parseOrThrow(managementReviewInputSchema, rawInput, 'management review input'));
  registerReviewHandlers(review);

  // 9.3.1 at a planned interval: the input owners, attendees, approvers and dates from the organization file.
  await planReview(review);

  const ending = await runLifecycle(
    review.scope,
    async () => {
      const early = await collectSources(review);
      // Invitation: the meeting in every attendee's calendar.
      await invite(review);
      // 9.3.2 inputs (a)-(e), each from its owner, due before the meeting; missing if still open then.
      await collectInputs(review, early);
      // The review pack: every input, the automatic parts with their sources, its content hash.
      await buildPack(review);
      await sendPack(review);
      // 9.3.3 results: the minutes, approved by top management (recorded again after a rejection).
      return approveResults(review);
    },
    () => review.cancellation !== undefined,
  );
  if (ending.kind === 'cancelled' && ending.temporal) {
    review.cancellation = { by: 'system', at: new Date().toISOString(), reason: 'cancelled by an operator' };
  }

  await closing(async () => {
    const { minutes } = review;
    if (ending.kind === 'done' && minutes && review.approvedAt) {
      // Outputs: the actions as tasks or corrective actions, then the approved results on record.
      await raiseActions(review, review.preparer(minutes.by));
      await review.complete(ending.value, minutes);
    } else {
      await review.cancel();
    }
    review.publish();
  });
  if (ending.kind === 'cancelled' && ending.temporal) throw ending.temporal;
  return review.result();
}
