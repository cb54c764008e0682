/**
 * The steps of a management review (ISO/IEC 42001 9.3), each one a screen: the planning from
 * the organization file, the invitation, the inputs (a)-(e) from their owners, the pack, the
 * approval rounds of the minutes, and the actions the approved results raise.
 */
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { CancellationScope, condition, isCancellation, patched } from '@temporalio/workflow';
import { POLICY_REVIEW_WORKFLOW, policyReviewWorkflowId } from '../../src/policy/contract.js';
import { POLICY_PROCESS, type PolicyReviewInput } from '../../src/policy/schema.js';
import type { ApprovalResult } from '../../src/approval/schema.js';
import { MANAGEMENT_REVIEW_PROCESS, reviewInputInstructions, reviewInputTitles, type AutomaticInputs, type ReviewInputStatus, type ReviewPack } from '../../src/management-review/schema.js';
import { minutesActions } from '../../src/management-review/rules.js';
import type { HumanTaskResult } from '../../src/task/schema.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { acts, bestEffort, mail } from '../lib/activities.js';
import { childWorkflowId, raiseNonconformity, runApproval, runTask, startDetached, startDetachedTask, type Reask } from '../lib/children.js';
import { formatDay, StepFailed } from '../lib/util.js';
import { CLAUSES, type Review } from './state.js';
import { improvementItemsText, objectiveFiguresText, previousActionsText } from './texts.js';

/** A step's task or approval failed: the timeline and the ledger say why; `onNext` is told the fresh child asked next. */
function stepFailed(review: Review, what: string, onNext: (workflowId: string) => void): Reask {
  return {
    onFailed: async (f) => {
      if (f.next) onNext(f.next.workflowId);
      review.event('step-failed', 'system', `${what}: ${f.reason}; ${f.next ? 'asked again' : `failed ${f.failures} times, given up`}`, f.workflowId);
      review.publish();
      await review.recorder.append('management-review.step-failed', 'system', { step: f.key, workflowId: f.workflowId, reason: f.reason, failures: f.failures, askedAgain: f.next !== undefined });
    },
  };
}

/** The organization's input owners, attendees, approvers and dates for this review; the start on record. */
export async function planReview(review: Review): Promise<void> {
  const { spec } = review;
  review.event('started', spec.requestedBy, `started by ${spec.trigger}${spec.triggerRef ? ` (${spec.triggerRef})` : ''} for a meeting on ${spec.meetingDate}`);
  review.publish();
  const { inputsDue, meetingIn, approvalDue } = spec.policy;
  review.setUp(
    await acts.managementReviewSetup({
      reviewId: spec.reviewId,
      meetingDate: spec.meetingDate,
      nowMs: review.startedMs,
      ...(spec.periodFrom ? { periodFrom: spec.periodFrom } : {}),
      policy: { ...(inputsDue ? { inputsDue } : {}), ...(meetingIn ? { meetingIn } : {}), ...(approvalDue ? { approvalDue } : {}) },
    }),
  );
  review.publish();
  const settings = review.settings;
  await review.recorder.append(
    'management-review.started',
    spec.requestedBy,
    {
      trigger: spec.trigger,
      triggerRef: spec.triggerRef ?? null,
      meetingDate: spec.meetingDate,
      meetingStart: review.meetingStart(),
      inputsDueAt: review.inputsDue(),
      inputOwners: settings.inputOwners,
      attendees: settings.attendees,
      period: review.period(),
      previousReviewId: settings.previousReviewId,
    },
    'started',
  );
  // The AIMS manager organizes the meeting and is always one of its attendees.
  const [organizer, ...attendees] = await acts.resolvePeople([{ person: settings.aimsManagerId }, ...settings.attendees.map((person) => ({ person }))]);
  review.organizer = organizer;
  review.attendees = organizer && !attendees.some((a) => a.id === organizer.id) ? [organizer, ...attendees] : attendees;
}

/** The automatic inputs: the previous review's actions, nonconformities and corrective actions, audit results. */
export function collectSources(review: Review): Promise<AutomaticInputs> {
  return acts.collectManagementReviewSources({ workflowId: review.workflowId, meetingDate: review.spec.meetingDate, period: review.period() });
}

/** The meeting invitation to every attendee, with a calendar invitation. */
export async function invite(review: Review): Promise<void> {
  const { spec, organizer, attendees } = review;
  if (!organizer) return;
  const sent = await review.recorder.notify(
    {
      kind: 'management-review.invitation',
      to: attendees,
      data: { title: `Management review ${spec.reviewId}`, clauses: CLAUSES, meetingText: review.meetingText(), inputsDueDate: review.inputsDue() },
      invite: {
        uid: review.workflowId,
        title: `Management review ${spec.reviewId}`,
        description: `Management review ${spec.reviewId} (ISO/IEC 42001 9.3). Inputs are due ${formatDay(review.settings.inputsDueAtMs)}; the review pack follows.`,
        start: review.meetingStart(),
        end: review.meetingEnd(),
        sequence: 0,
        organizer,
      },
    },
    review.recorder.sequenced('invitation'),
  );
  if (sent) review.event('invitation-sent', 'system', `meeting invitation sent to ${attendees.map((a) => a.name).join(', ')}`);
}

/**
 * Inputs (a)-(e): one task per input, all at once, due before the meeting; each input supplied
 * goes to the ledger. Those still open when the meeting starts are withdrawn and marked missing.
 */
export async function collectInputs(review: Review, automatic: AutomaticInputs): Promise<void> {
  const scope = new CancellationScope();
  let settled = false;
  const collecting = scope.run(() => Promise.all(review.inputs.map((input) => requestInput(review, input, automatic)))).then(() => {
    settled = true;
  });
  const allIn = await condition(() => settled, Math.max(1, review.settings.meetingStartMs - Date.now()));
  if (!allIn) scope.cancel();
  await collecting;
  for (const input of review.inputs) {
    if (input.state !== 'requested') continue;
    input.state = 'missing';
    review.event('input-missing', 'system', `input (${input.key}) from ${input.owner} missing at the meeting`, input.taskWorkflowId);
  }
}

/** One input from its owner; a task withdrawn at the meeting or cancelled leaves it requested. */
async function requestInput(review: Review, input: ReviewInputStatus, automatic: AutomaticInputs): Promise<void> {
  const instructions = [
    reviewInputInstructions[input.key],
    // The automatic part of input (a) goes into its task, so its owner reports on the live list.
    ...(input.key === 'a' ? [previousActionsText(automatic)] : []),
    // So is input (e)'s: the improvement items still open.
    ...(input.key === 'e' ? improvementItemsText(automatic) : []),
    // And input (d)'s: the objectives' figures.
    ...(input.key === 'd' ? objectiveFiguresText(automatic) : []),
    `Management review ${review.spec.reviewId}, meeting ${review.meetingText()}.`,
  ].join('\n\n');
  review.event('input-requested', 'system', `input (${input.key}) requested from ${input.owner}`, input.taskWorkflowId);
  let result: HumanTaskResult;
  try {
    result = await runTask(
      `input-${input.key}`,
      {
      title: `Management review ${review.spec.reviewId}: input (${input.key}) ${input.title}`,
      instructions,
      clauses: ['9.3', '9.3.2'],
      process: MANAGEMENT_REVIEW_PROCESS,
      assignee: { person: input.owner },
      dueAt: review.inputsDue(),
      form: 'text',
      requestedBy: 'system',
      policy: review.taskPolicy(),
      },
      stepFailed(review, `input (${input.key})`, (workflowId) => (input.taskWorkflowId = workflowId)),
    );
  } catch (err) {
    // Withdrawn at the meeting, or failed every time it was asked: the input stays requested and is missing at the meeting.
    if (!isCancellation(err) && !(err instanceof StepFailed)) throw err;
    return;
  }
  if (result.status !== 'completed') return;
  input.state = 'supplied';
  input.suppliedBy = result.completedBy ?? input.owner;
  input.suppliedAt = result.completedAt ?? new Date().toISOString();
  input.text = typeof result.data?.text === 'string' ? result.data.text : JSON.stringify(result.data ?? {});
  review.event('input-supplied', input.suppliedBy, `input (${input.key}) supplied`, input.taskWorkflowId);
  review.publish();
  const { key, title, text, suppliedAt, taskWorkflowId } = input;
  await review.recorder.append('management-review.input', input.suppliedBy, { key, title, text, suppliedAt, taskWorkflowId }, `input-${key}`);
}

/** The pack: every input, the automatic parts with their sources, and its content hash, on record. */
export async function buildPack(review: Review): Promise<void> {
  const automatic = await collectSources(review);
  const body: Omit<ReviewPack, 'contentHash'> = {
    reviewId: review.spec.reviewId,
    workflowId: review.workflowId,
    organizationName: review.settings.organizationName,
    meetingDate: review.spec.meetingDate,
    meetingStart: review.meetingStart(),
    meetingEnd: review.meetingEnd(),
    builtAt: new Date().toISOString(),
    inputs: review.inputs.map((i) => ({ ...i })),
    automatic,
  };
  const contentHash = await acts.contentHash(body);
  // The ledger computes the same hash over the same content: the pack's hash can be checked there.
  await review.recorder.append('management-review.pack', 'system', body, 'pack');
  review.pack = { ...body, contentHash };
  review.state = 'awaiting-minutes';
  review.publish();
}

/** The pack to the attendees: the printable document and the updated meeting invitation. */
export async function sendPack(review: Review): Promise<void> {
  const { organizer, attendees, pack } = review;
  if (!organizer || !pack) return;
  const notificationId = review.recorder.notificationId(review.recorder.sequenced('pack'));
  // Attendees no longer in the organization have no address: the pack goes to the others.
  const to = attendees.filter((a) => a.email !== '');
  const sent = await bestEffort('review pack not sent', () => mail.sendManagementReviewPack({ notificationId, pack, to, organizer, sequence: 1 }), {
    workflowId: review.workflowId,
  });
  const supplied = review.supplied();
  if (sent) review.event('pack-sent', 'system', `review pack sent to ${attendees.length} attendee(s) (${supplied} input(s) supplied, ${review.inputs.length - supplied} missing)`);
}

/**
 * The minutes, approved by top management: each recording of the minutes opens an approval
 * round bound to the hash of pack + minutes; a rejection, an expiry or an approval of content
 * that is no longer current goes back to the AIMS manager for new minutes.
 */
export async function approveResults(review: Review): Promise<ApprovalResult> {
  for (let round = 1; ; round += 1) {
    await condition(() => review.minutesPending);
    review.minutesPending = false;
    review.state = 'awaiting-approval';
    const key = `approval-${round}`;
    const approvalId = childWorkflowId(key);
    review.approval = { workflowId: approvalId, round, state: 'pending' };
    review.approvalRunning = true;
    review.event('approval-requested', 'system', `results sent to top management for approval (round ${round})`, approvalId);
    review.publish();
    const { settings, spec } = review;
    let decision: ApprovalResult | StepFailed;
    try {
      decision = await runApproval(
        key,
        {
        kind: MANAGEMENT_REVIEW_PROCESS,
        title: `Management review ${spec.reviewId}: results`,
        summary: review.approvalSummary.slice(0, 20000),
        contentHash: review.approvalHash ?? '',
        approvers: settings.approvers,
        rule: settings.rule,
        preparer: review.preparer(review.minutes?.by),
        process: MANAGEMENT_REVIEW_PROCESS,
        clauses: ['9.3', '9.3.3'],
        dueAt: new Date(Date.now() + settings.approvalDueMs).toISOString(),
        ...(spec.policy.approvalExpireAfter ? { expireAfter: spec.policy.approvalExpireAfter } : {}),
        policy: review.taskPolicy(),
        },
        stepFailed(review, `the approval (round ${round})`, (workflowId) => (review.approval = { workflowId, round, state: 'pending' })),
      ).catch((err: unknown) => {
        // An approval that failed every time it was asked: back to the AIMS manager, like a rejection.
        if (err instanceof StepFailed) return err;
        throw err;
      });
    } finally {
      review.approvalRunning = false;
    }
    if (decision instanceof StepFailed) {
      review.approval = { workflowId: review.approval.workflowId, round, state: 'failed' };
      review.event('rejected', 'system', `approval round ${round} could not run (${decision.reason}); the AIMS manager records the minutes again`, review.approval.workflowId);
      review.state = 'awaiting-minutes';
      review.publish();
      continue;
    }
    review.approval = { workflowId: approvalId, round, state: decision.status, decidedAt: decision.decidedAt };
    const current = decision.decisions.filter((d) => !d.voided);
    if (decision.status === 'approved' && decision.contentHash === review.approvalHash) {
      review.approved = true;
      review.approvedAt = decision.decidedAt;
      const by = current.filter((d) => d.decision === 'approve').map((d) => d.by);
      review.event('approved', by.join(', ') || 'system', `results approved by ${by.join(', ')} (round ${round}, version ${decision.version})`, approvalId);
      return decision;
    }
    const comments = current.filter((d) => d.decision === 'reject' && d.comment).map((d) => d.comment);
    const why =
      decision.status === 'approved' ? 'the approved content is not the current minutes' : decision.status === 'rejected' ? `rejected: ${comments.join('; ')}` : decision.status;
    review.event(decision.status === 'expired' ? 'expired' : 'rejected', 'system', `approval round ${round} ${why}; the AIMS manager records the minutes again`, approvalId);
    review.state = 'awaiting-minutes';
    review.publish();
  }
}

/**
 * The outputs: each action of the approved minutes becomes a tracked task for its owner, or a
 * corrective action when it addresses a nonconformity; both outlive the review.
 */
export async function raiseActions(review: Review, by: string): Promise<void> {
  const { spec } = review;
  // The minutes' actions, then those decided to supply a missing input.
  for (const [i, a] of (review.minutes ? minutesActions(review.minutes) : []).entries()) {
    const n = i + 1;
    const key = `action-${n}`;
    const instructions = `${a.description ?? a.title}\n\nDecided in management review ${spec.reviewId} (input ${a.input}: ${reviewInputTitles[a.input]}).`;
    if (a.nonconformity || a.ncRef) {
      const raised = await raiseNonconformity(key, {
        title: a.title,
        description: instructions,
        severity: a.severity ?? 'minor',
        source: 'admin',
        sourceRef: a.ncRef ?? review.workflowId,
        clauses: ['9.3'],
        owner: a.owner,
        raisedBy: by,
      });
      review.actions.push({ ...a, n, kind: 'corrective-action', workflowId: raised.workflowId, ncId: raised.ncId });
      review.event('action-created', 'system', `action ${n} raised as ${raised.ncId}: ${a.title}`, raised.workflowId);
      continue;
    }
    const title = `Management review ${spec.reviewId}: action ${n}: ${a.title}`;
    await startDetachedTask(
      key,
      {
        title: title.slice(0, 200),
        instructions,
        clauses: ['9.3', '10.1'],
        process: MANAGEMENT_REVIEW_PROCESS,
        assignee: { person: a.owner },
        dueAt: `${a.dueDate}T23:59:59Z`,
        form: 'evidence',
        requestedBy: by,
        policy: review.taskPolicy(),
      },
      {
        summary: title,
        // An action is one piece of work for good: a finished action task is never started again.
        reuse: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: [
          { key: searchAttributes.process, value: MANAGEMENT_REVIEW_PROCESS },
          { key: searchAttributes.ref, value: spec.reviewId },
        ],
      },
    );
    const taskId = childWorkflowId(key);
    review.actions.push({ ...a, n, kind: 'task', workflowId: taskId });
    review.event('action-created', 'system', `action ${n} assigned to ${a.owner}: ${a.title}`, taskId);
  }
  // A decision to review the AI policy starts its review, which outlives this one.
  if (review.minutes?.reviewPolicy && patched(POLICY_REVIEW_PATCH)) await startPolicyReview(review, review.minutes.reviewPolicy, by);
}

/** Minutes that decide a review of the AI policy start it once approved (issue #19). */
const POLICY_REVIEW_PATCH = 'management-review-policy-review';

async function startPolicyReview(review: Review, reason: string, by: string): Promise<void> {
  const reviewRef = `mr-${review.spec.reviewId}`.toLowerCase();
  const workflowId = policyReviewWorkflowId(reviewRef);
  const input: PolicyReviewInput = { reviewRef, trigger: 'management-review', reason: `decided in management review ${review.spec.reviewId}: ${reason}`.slice(0, 2000), requestedBy: by };
  await startDetached(POLICY_REVIEW_WORKFLOW, {
    workflowId,
    args: [input],
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    staticSummary: `AI policy review ${reviewRef}`,
    typedSearchAttributes: [
      { key: searchAttributes.process, value: POLICY_PROCESS },
      { key: searchAttributes.ref, value: reviewRef },
    ],
  });
  review.event('action-created', 'system', `review of the AI policy started: ${reason}`, workflowId);
}
