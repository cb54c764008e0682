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
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import {
  ActivityFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  isCancellation,
  log,
  ParentClosePolicy,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  cancelReviewSchema,
  MANAGEMENT_REVIEW_PROCESS,
  managementReviewInputSchema,
  reviewInputInstructions,
  reviewInputKeys,
  reviewInputTitles,
  reviewMinutesSchema,
  type AutomaticInputs,
  type ManagementReviewEvent,
  type ManagementReviewEventType,
  type ManagementReviewInput,
  type ManagementReviewResult,
  type ManagementReviewSetup,
  type ManagementReviewState,
  type ManagementReviewStatus,
  type ReviewActionOutcome,
  type ReviewInputStatus,
  type ReviewMinutes,
  type ReviewPack,
} from '../../src/management-review/schema.js';
import type { HumanTaskInput, HumanTaskResult } from '../../src/task/schema.js';
import type { PersonRef } from '../../src/common/schemas.js';
import { cancelReviewUpdate, managementReviewStatusQuery, recordMinutesUpdate } from '../../src/management-review/contract.js';
import type { UpdateAck } from '../../src/common/messages.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { acts, mail } from '../lib/activities.js';
import { childWorkflowId, raiseNonconformity, runApproval, runTask } from '../lib/children.js';
import { formatDay, parseOrThrow, reject } from '../lib/util.js';
import { guardedUpdate } from '../lib/handlers.js';
import { ledgerWriter } from '../lib/ledger.js';

const CLAUSES = ['9.3'];

const stateText: Record<ManagementReviewState, string> = {
  'collecting-inputs': 'collecting inputs',
  'awaiting-minutes': 'waiting for the minutes',
  'awaiting-approval': 'waiting for top management approval',
  completed: 'completed',
  cancelled: 'cancelled',
};

const hhmm = (ms: number) => {
  const d = new Date(ms);
  return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
};

/** `Tue 15 Dec 2026, 10:00 to 12:00 UTC`. */
const meetingWords = (startMs: number, endMs: number) => `${formatDay(startMs)}, ${hhmm(startMs)} to ${hhmm(endMs)} UTC`;

function previousActionsText(automatic: AutomaticInputs): string {
  const prev = automatic.previousActions;
  if (!prev.available) return `The previous review's actions could not be read: ${prev.reason}.`;
  if (!prev.reviewId) return 'No earlier management review was found in the records.';
  if (prev.actions.length === 0) return `The previous review (${prev.reviewId}) decided no actions.`;
  return [
    `Actions decided in the previous review (${prev.reviewId}):`,
    ...prev.actions.map(
      (a) =>
        `${a.n}. ${a.title} (owner ${a.owner}, due ${a.dueDate}, input ${a.input}${a.ncId ? `, ${a.ncId}` : ''}): ${a.state}${a.stateSource === 'ledger' ? ' (last known)' : ''}`,
    ),
  ].join('\n');
}

function minutesText(minutes: ReviewMinutes): string {
  const list = (items: string[]) => (items.length ? items.map((d, i) => `${i + 1}. ${d}`).join('\n') : 'None.');
  return [
    `Attendees: ${minutes.attendees.join(', ')}`,
    `Decisions on opportunities for continual improvement:\n${list(minutes.improvementDecisions)}`,
    `Decisions on changes to the AI management system:\n${list(minutes.changeDecisions)}`,
    `Actions:\n${list(
      minutes.actions.map(
        (a) => `${a.title} (owner ${a.owner}, due ${a.dueDate}, input ${a.input}${a.ncRef ? `, addresses ${a.ncRef}` : a.nonconformity ? ', nonconformity' : ''})`,
      ),
    )}`,
    ...(minutes.notes ? [`Notes:\n${minutes.notes}`] : []),
  ].join('\n\n');
}

export async function managementReview(rawInput: ManagementReviewInput): Promise<ManagementReviewResult> {
  const spec = parseOrThrow(managementReviewInputSchema, rawInput, 'management review input');
  const info = workflowInfo();
  const workflowId = info.workflowId;
  const startedMs = Date.now();

  let state: ManagementReviewState = 'collecting-inputs';
  // eslint-disable-next-line prefer-const -- the query and the update handlers read it before the look-ups return
  let setup: (ManagementReviewSetup & { previousReviewId: string | null }) | undefined;
  let inputs: ReviewInputStatus[] = [];
  let pack: ReviewPack | undefined;
  let minutes: ManagementReviewStatus['minutes'];
  let minutesPending = false;
  let approvalHash: string | undefined;
  let approvalSummary = '';
  let approval: ManagementReviewStatus['approval'];
  let approvalRunning = false;
  let approvedAt: string | undefined;
  let approved = false;
  let completedAt: string | undefined;
  let cancellation: ManagementReviewStatus['cancellation'];
  let busy = false;
  let notificationSeq = 0;
  const actions: ReviewActionOutcome[] = [];
  const timeline: ManagementReviewEvent[] = [];

  const event = (type: ManagementReviewEventType, by: string, detail: string, child?: string) =>
    timeline.push({ at: new Date().toISOString(), type, by, detail, ...(child ? { workflowId: child } : {}) });
  const isClosed = () => state === 'completed' || state === 'cancelled';
  const supplied = () => inputs.filter((i) => i.state === 'supplied').length;

  const status = (): ManagementReviewStatus => ({
    reviewId: spec.reviewId,
    workflowId,
    trigger: spec.trigger,
    ...(spec.triggerRef ? { triggerRef: spec.triggerRef } : {}),
    requestedBy: spec.requestedBy,
    meetingDate: spec.meetingDate,
    ...(setup
      ? { meetingStart: new Date(setup.meetingStartMs).toISOString(), inputsDueAt: new Date(setup.inputsDueAtMs).toISOString(), aimsManager: setup.aimsManagerId }
      : {}),
    state,
    attendees: setup?.attendees ?? [],
    inputs,
    ...(pack ? { pack } : {}),
    ...(minutes ? { minutes } : {}),
    ...(approvalHash ? { approvalHash } : {}),
    ...(approval ? { approval } : {}),
    ...(approvedAt ? { approvedAt } : {}),
    actions,
    ...(completedAt ? { completedAt } : {}),
    ...(cancellation ? { cancellation } : {}),
    timeline,
  });

  const dueDate = (): Date => {
    if (!setup) return new Date(startedMs);
    if (state === 'collecting-inputs') return new Date(setup.inputsDueAtMs);
    return new Date(setup.meetingStartMs);
  };
  const publish = () => {
    const pendingOwners = [...new Set(inputs.filter((i) => i.state === 'requested').map((i) => i.owner))];
    const assignees =
      state === 'collecting-inputs' ? pendingOwners : state === 'awaiting-minutes' && setup ? [setup.aimsManagerId] : [];
    upsertSearchAttributes([
      { key: searchAttributes.process, value: MANAGEMENT_REVIEW_PROCESS },
      { key: searchAttributes.ref, value: spec.reviewId },
      { key: searchAttributes.state, value: state },
      { key: searchAttributes.clauses, value: CLAUSES },
      { key: searchAttributes.source, value: spec.trigger === 'certification' ? 'certification-audit' : spec.trigger === 'schedule' ? 'schedule' : 'admin' },
      { key: searchAttributes.assignees, value: isClosed() ? [] : assignees },
      { key: searchAttributes.dueDate, value: dueDate() },
      ...(setup ? [{ key: searchAttributes.owner, value: setup.aimsManagerId }] : []),
    ]);
    upsertMemo({ kind: 'management-review', reviewId: spec.reviewId, meetingDate: spec.meetingDate, state });
    const progress =
      state === 'collecting-inputs' && inputs.length ? ` · ${supplied()}/${inputs.length} inputs in, due ${formatDay(setup?.inputsDueAtMs ?? startedMs)}` : '';
    const missing = pack ? pack.inputs.filter((i) => i.state === 'missing').length : 0;
    const gaps = missing ? ` · ${missing} input(s) missing` : '';
    const outputs = state === 'completed' ? ` · ${actions.length} action(s)` : '';
    setCurrentDetails(
      `**Management review ${spec.reviewId}** · ${stateText[state]}${progress}${gaps} · meeting ${setup ? meetingWords(setup.meetingStartMs, setup.meetingEndMs) : spec.meetingDate} · started by ${spec.trigger}${outputs}`,
    );
  };

  /** Sends a notification; a failure is logged (the review goes on), a cancellation goes through. */
  const mailNotify = async (input: Parameters<typeof mail.notify>[0]): Promise<boolean> => {
    try {
      await mail.notify(input);
      return true;
    } catch (err) {
      if (!(err instanceof ActivityFailure) || isCancellation(err)) throw err;
      log.error('notification not sent', { notificationId: input.notificationId, error: err.cause?.message ?? err.message });
      return false;
    }
  };

  const records = ledgerWriter({ clauses: CLAUSES, identity: () => ({ reviewId: spec.reviewId, workflowId }) });
  const ledger = records.append;

  // Query and updates.
  setHandler(managementReviewStatusQuery, status);
  const ack = (message: string): UpdateAck => ({ ok: true, state, message });
  const ready = () => setup !== undefined;
  const lifecycleScope = new CancellationScope();

  const approvalContent = (m: ReviewMinutes) => ({ reviewId: spec.reviewId, packHash: pack?.contentHash ?? null, minutes: m });

  setHandler(
    recordMinutesUpdate,
    ...guardedUpdate({
      schema: reviewMinutesSchema,
      ready,
      check: (input) => {
        if (!['system', setup?.aimsManagerId].includes(input.by)) reject('only the AIMS manager can record the minutes of the management review');
        if (state === 'collecting-inputs') reject('the review pack is not ready yet: record the minutes once the inputs are in or the meeting has taken place');
        if (approved || state === 'completed') reject('the results are already approved; changes belong in the next management review');
        if (state === 'cancelled') reject('the management review is cancelled');
      },
      apply: async (input) => {
        await condition(() => !busy);
        busy = true;
        try {
          if (approved || isClosed()) reject('the results are already approved; changes belong in the next management review');
          try {
            await acts.resolvePeople([...input.attendees, ...input.actions.map((a) => a.owner)].map((person) => ({ person })));
          } catch (err) {
            if (err instanceof ActivityFailure) reject(`the minutes name someone unknown: ${err.cause?.message ?? err.message}`);
            throw err;
          }
          const contentHash = await acts.contentHash(approvalContent(input));
          const version = (minutes?.version ?? 0) + 1;
          const summary = `Management review ${spec.reviewId}: results for approval (version ${version}).\n\nReview pack content hash: ${pack?.contentHash ?? 'none'}\n\n${minutesText(input)}`;
          const running = approvalRunning ? approval : undefined;
          const editing = running !== undefined;
          if (running) {
            if (contentHash === approvalHash) reject('the minutes are unchanged');
            const revised = await acts.reviseManagementReviewApproval({
              approvalWorkflowId: running.workflowId,
              by: input.by,
              contentHash,
              summary,
              note: `the minutes were edited (version ${version}); earlier decisions are void`,
            });
            if (!revised.revised) reject(`the approval could not be revised: ${revised.reason ?? 'it is closed'}`);
          }
          minutes = { ...input, version, recordedAt: new Date().toISOString() };
          approvalHash = contentHash;
          approvalSummary = summary;
          event(editing ? 'minutes-edited' : 'minutes-recorded', input.by, `minutes version ${version}${editing ? ': earlier approval decisions are void, approval asked again' : ''}`);
          await ledger('management-review.minutes', input.by, { version, minutes: input, packHash: pack?.contentHash ?? null, approvalHash: contentHash }, `minutes-${version}`);
          if (!editing) minutesPending = true;
          publish();
          return ack(editing ? `Minutes version ${version} recorded; top management is asked to approve again.` : `Minutes version ${version} recorded; sent for approval.`);
        } finally {
          busy = false;
        }
      },
    }),
  );

  setHandler(
    cancelReviewUpdate,
    ...guardedUpdate({
      schema: cancelReviewSchema,
      ready,
      check: (input) => {
        if (!['system', setup?.aimsManagerId].includes(input.by)) reject('only the AIMS manager can cancel a management review');
        if (isClosed()) reject(`the management review is already ${state}`);
        if (approved) reject('the results are already approved');
      },
      apply: (input) => {
        cancellation = { by: input.by, at: new Date().toISOString(), reason: input.reason };
        lifecycleScope.cancel();
        return ack('The management review is being cancelled.');
      },
    }),
  );

  event('started', spec.requestedBy, `started by ${spec.trigger}${spec.triggerRef ? ` (${spec.triggerRef})` : ''} for a meeting on ${spec.meetingDate}`);
  publish();
  const resolved = await acts.managementReviewSetup({
    reviewId: spec.reviewId,
    meetingDate: spec.meetingDate,
    nowMs: startedMs,
    ...(spec.periodFrom ? { periodFrom: spec.periodFrom } : {}),
    policy: {
      ...(spec.policy.inputsDue ? { inputsDue: spec.policy.inputsDue } : {}),
      ...(spec.policy.meetingIn ? { meetingIn: spec.policy.meetingIn } : {}),
      ...(spec.policy.approvalDue ? { approvalDue: spec.policy.approvalDue } : {}),
    },
  });
  const inputsDue = new Date(resolved.inputsDueAtMs).toISOString();
  inputs = reviewInputKeys.map((key) => ({
    key,
    title: reviewInputTitles[key],
    owner: resolved.inputOwners[key],
    taskWorkflowId: childWorkflowId(`input-${key}`),
    dueAt: inputsDue,
    state: 'requested' as const,
  }));
  setup = resolved;
  const aimsManager = resolved.aimsManagerId;
  // The input's policy wins over the organization's management review settings, key by key.
  const taskPolicy = { ...resolved.taskPolicy, ...spec.policy.tasks };
  const period = { from: resolved.periodFrom, to: spec.meetingDate };
  publish();
  await ledger('management-review.started', spec.requestedBy, {
    trigger: spec.trigger,
    triggerRef: spec.triggerRef ?? null,
    meetingDate: spec.meetingDate,
    meetingStart: new Date(resolved.meetingStartMs).toISOString(),
    inputsDueAt: inputsDue,
    inputOwners: resolved.inputOwners,
    attendees: resolved.attendees,
    period,
    previousReviewId: resolved.previousReviewId,
  }, 'started');

  const [organizer, ...attendeeRefs] = await acts.resolvePeople([{ person: aimsManager }, ...resolved.attendees.map((person) => ({ person }))]);
  const attendees: PersonRef[] = organizer && !attendeeRefs.some((a) => a.id === organizer.id) ? [organizer, ...attendeeRefs] : attendeeRefs;
  const meetingStart = new Date(resolved.meetingStartMs).toISOString();
  const meetingEnd = new Date(resolved.meetingEndMs).toISOString();

  const lifecycle = async () => {
    // The automatic part of input (a) goes into its task, so its owner reports on the live list.
    const early = await acts.collectManagementReviewSources({ workflowId, meetingDate: spec.meetingDate, period });

    if (organizer) {
      const sent = await mailNotify({
        notificationId: `${workflowId}/${info.firstExecutionRunId}/${++notificationSeq}-invitation`,
        kind: 'management-review.invitation',
        to: attendees,
        data: {
          title: `Management review ${spec.reviewId}`,
          clauses: CLAUSES,
          meetingText: meetingWords(resolved.meetingStartMs, resolved.meetingEndMs),
          inputsDueDate: inputsDue,
        },
        invite: {
          uid: workflowId,
          title: `Management review ${spec.reviewId}`,
          description: `Management review ${spec.reviewId} (ISO/IEC 42001 9.3). Inputs are due ${formatDay(resolved.inputsDueAtMs)}; the review pack follows.`,
          start: meetingStart,
          end: meetingEnd,
          sequence: 0,
          organizer,
        },
      });
      if (sent) event('invitation-sent', 'system', `meeting invitation sent to ${attendees.map((a) => a.name).join(', ')}`);
    }

    // Inputs: one task per input, all in parallel; those still open at the meeting are missing.
    const inputScope = new CancellationScope();
    let inputsSettled = false;
    const collecting = inputScope
      .run(() =>
        Promise.all(
          inputs.map(async (input) => {
            const instructions = [
              reviewInputInstructions[input.key],
              ...(input.key === 'a' ? [previousActionsText(early)] : []),
              `Management review ${spec.reviewId}, meeting ${meetingWords(resolved.meetingStartMs, resolved.meetingEndMs)}.`,
            ].join('\n\n');
            event('input-requested', 'system', `input (${input.key}) requested from ${input.owner}`, input.taskWorkflowId);
            let result: HumanTaskResult;
            try {
              result = await runTask(`input-${input.key}`, {
                title: `Management review ${spec.reviewId}: input (${input.key}) ${input.title}`,
                instructions,
                clauses: ['9.3', '9.3.2'],
                process: MANAGEMENT_REVIEW_PROCESS,
                assignee: { person: input.owner },
                dueAt: inputsDue,
                form: 'text',
                requestedBy: 'system',
                policy: taskPolicy,
              } satisfies HumanTaskInput);
            } catch (err) {
              if (!isCancellation(err)) throw err;
              return;
            }
            if (result.status !== 'completed') return;
            input.state = 'supplied';
            input.suppliedBy = result.completedBy ?? input.owner;
            input.suppliedAt = result.completedAt ?? new Date().toISOString();
            input.text = typeof result.data?.text === 'string' ? result.data.text : JSON.stringify(result.data ?? {});
            event('input-supplied', input.suppliedBy, `input (${input.key}) supplied`, input.taskWorkflowId);
            publish();
            await ledger(
              'management-review.input',
              input.suppliedBy,
              { key: input.key, title: input.title, text: input.text, suppliedAt: input.suppliedAt, taskWorkflowId: input.taskWorkflowId },
              `input-${input.key}`,
            );
          }),
        ),
      )
      .then(() => {
        inputsSettled = true;
      });
    const allIn = await condition(() => inputsSettled, Math.max(1, resolved.meetingStartMs - Date.now()));
    if (!allIn) inputScope.cancel();
    await collecting;
    for (const input of inputs) {
      if (input.state !== 'requested') continue;
      input.state = 'missing';
      event('input-missing', 'system', `input (${input.key}) from ${input.owner} missing at the meeting`, input.taskWorkflowId);
    }

    // The pack: every input, the automatic parts with their sources, and its content hash.
    const automatic = await acts.collectManagementReviewSources({ workflowId, meetingDate: spec.meetingDate, period });
    const body: Omit<ReviewPack, 'contentHash'> = {
      reviewId: spec.reviewId,
      workflowId,
      organizationName: resolved.organizationName,
      meetingDate: spec.meetingDate,
      meetingStart,
      meetingEnd,
      builtAt: new Date().toISOString(),
      inputs: inputs.map((i) => ({ ...i })),
      automatic,
    };
    const contentHash = await acts.contentHash(body);
    // The ledger computes the same hash over the same content: the pack's hash can be checked there.
    await ledger('management-review.pack', 'system', body, 'pack');
    pack = { ...body, contentHash };
    state = 'awaiting-minutes';
    publish();
    if (organizer) {
      try {
        await mail.sendManagementReviewPack({
          notificationId: `${workflowId}/${info.firstExecutionRunId}/${++notificationSeq}-pack`,
          pack,
          to: attendees,
          organizer,
          sequence: 1,
        });
        event('pack-sent', 'system', `review pack sent to ${attendees.length} attendee(s) (${supplied()} input(s) supplied, ${inputs.length - supplied()} missing)`);
      } catch (err) {
        if (!(err instanceof ActivityFailure) || isCancellation(err)) throw err;
        log.error('review pack not sent', { workflowId, error: err.cause?.message ?? err.message });
      }
    }

    // Minutes, then the approval of the results by top management (again after a rejection).
    for (let round = 1; ; round += 1) {
      await condition(() => minutesPending);
      minutesPending = false;
      state = 'awaiting-approval';
      const key = `approval-${round}`;
      const approvalId = childWorkflowId(key);
      approval = { workflowId: approvalId, round, state: 'pending' };
      approvalRunning = true;
      event('approval-requested', 'system', `results sent to top management for approval (round ${round})`, approvalId);
      publish();
      const preparer = minutes && minutes.by !== 'system' ? minutes.by : aimsManager;
      let decision;
      try {
        decision = await runApproval(key, {
          kind: MANAGEMENT_REVIEW_PROCESS,
          title: `Management review ${spec.reviewId}: results`,
          summary: approvalSummary.slice(0, 20000),
          contentHash: approvalHash ?? '',
          approvers: resolved.approvers,
          rule: resolved.rule,
          preparer,
          process: MANAGEMENT_REVIEW_PROCESS,
          clauses: ['9.3', '9.3.3'],
          dueAt: new Date(Date.now() + resolved.approvalDueMs).toISOString(),
          ...(spec.policy.approvalExpireAfter ? { expireAfter: spec.policy.approvalExpireAfter } : {}),
          policy: taskPolicy,
        });
      } finally {
        approvalRunning = false;
      }
      approval = { workflowId: approvalId, round, state: decision.status, decidedAt: decision.decidedAt };
      if (decision.status === 'approved' && decision.contentHash === approvalHash) {
        approved = true;
        approvedAt = decision.decidedAt;
        const by = decision.decisions.filter((d) => !d.voided && d.decision === 'approve').map((d) => d.by);
        event('approved', by.join(', ') || 'system', `results approved by ${by.join(', ')} (round ${round}, version ${decision.version})`, approvalId);
        return decision;
      }
      const comments = decision.decisions.filter((d) => !d.voided && d.decision === 'reject' && d.comment).map((d) => d.comment);
      const why =
        decision.status === 'approved'
          ? 'the approved content is not the current minutes'
          : decision.status === 'rejected'
            ? `rejected: ${comments.join('; ')}`
            : decision.status;
      event(decision.status === 'expired' ? 'expired' : 'rejected', 'system', `approval round ${round} ${why}; the AIMS manager records the minutes again`, approvalId);
      state = 'awaiting-minutes';
      publish();
    }
  };

  let cancelledByTemporal: Error | undefined;
  let decision: Awaited<ReturnType<typeof lifecycle>> | undefined;
  try {
    decision = await lifecycleScope.run(lifecycle);
  } catch (err) {
    if (!isCancellation(err)) throw err;
    if (!cancellation) {
      cancelledByTemporal = err as Error;
      cancellation = { by: 'system', at: new Date().toISOString(), reason: 'cancelled by an operator' };
    }
  }

  await CancellationScope.nonCancellable(async () => {
    if (decision && minutes && approvedAt) {
      // Outputs: each action becomes a tracked task or a corrective action that outlives the review.
      const m = minutes;
      for (const [i, a] of m.actions.entries()) {
        const n = i + 1;
        const key = `action-${n}`;
        const instructions = `${a.description ?? a.title}\n\nDecided in management review ${spec.reviewId} (input ${a.input}: ${reviewInputTitles[a.input]}).`;
        if (a.nonconformity || a.ncRef) {
          const raised = await raiseNonconformity(key, {
            title: a.title,
            description: instructions,
            severity: a.severity ?? 'minor',
            source: 'admin',
            sourceRef: a.ncRef ?? workflowId,
            clauses: ['9.3'],
            owner: a.owner,
            raisedBy: m.by === 'system' ? aimsManager : m.by,
          });
          actions.push({ ...a, n, kind: 'corrective-action', workflowId: raised.workflowId, ncId: raised.ncId });
          event('action-created', 'system', `action ${n} raised as ${raised.ncId}: ${a.title}`, raised.workflowId);
        } else {
          const taskId = childWorkflowId(key);
          try {
            await startChild<(input: HumanTaskInput) => Promise<HumanTaskResult>>('humanTask', {
              workflowId: taskId,
              args: [
                {
                  title: `Management review ${spec.reviewId}: action ${n}: ${a.title}`.slice(0, 200),
                  instructions,
                  clauses: ['9.3', '10.1'],
                  process: MANAGEMENT_REVIEW_PROCESS,
                  assignee: { person: a.owner },
                  dueAt: `${a.dueDate}T23:59:59Z`,
                  form: 'evidence',
                  requestedBy: m.by === 'system' ? aimsManager : m.by,
                  policy: taskPolicy,
                },
              ],
              parentClosePolicy: ParentClosePolicy.ABANDON,
              workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
              staticSummary: `Management review ${spec.reviewId}: action ${n}: ${a.title}`,
              typedSearchAttributes: [
                { key: searchAttributes.process, value: MANAGEMENT_REVIEW_PROCESS },
                { key: searchAttributes.ref, value: spec.reviewId },
              ],
            });
          } catch (err) {
            if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
          }
          actions.push({ ...a, n, kind: 'task', workflowId: taskId });
          event('action-created', 'system', `action ${n} assigned to ${a.owner}: ${a.title}`, taskId);
        }
      }
      state = 'completed';
      completedAt = new Date().toISOString();
      event('completed', 'system', `results approved; ${actions.length} action(s) raised`);
      await ledger(
        'management-review.completed',
        'system',
        {
          meetingDate: spec.meetingDate,
          meetingStart,
          trigger: spec.trigger,
          triggerRef: spec.triggerRef ?? null,
          approvedAt,
          approvalWorkflowId: approval?.workflowId ?? null,
          approvers: decision.decisions.filter((d) => !d.voided).map((d) => ({ by: d.by, decision: d.decision, at: d.at })),
          packHash: pack?.contentHash ?? null,
          approvalHash: approvalHash ?? null,
          inputs: (pack?.inputs ?? inputs).map((i) => ({ key: i.key, state: i.state, owner: i.owner, suppliedBy: i.suppliedBy ?? null })),
          minutesVersion: m.version,
          attendees: m.attendees,
          improvementDecisions: m.improvementDecisions,
          changeDecisions: m.changeDecisions,
          notes: m.notes ?? null,
          actions,
        },
        'completed',
        approvedAt,
      );
    } else {
      state = 'cancelled';
      const c = cancellation ?? { by: 'system', at: new Date().toISOString(), reason: 'cancelled' };
      event('cancelled', c.by, `cancelled: ${c.reason}`);
      await ledger('management-review.cancelled', c.by, { reason: c.reason, timeline }, 'cancelled');
      if (organizer) {
        await mailNotify({
          notificationId: `${workflowId}/${info.firstExecutionRunId}/cancelled`,
          kind: 'management-review.cancelled',
          to: attendees,
          data: { title: `Management review ${spec.reviewId}`, clauses: CLAUSES, meetingText: meetingWords(resolved.meetingStartMs, resolved.meetingEndMs), reason: c.reason },
          invite: {
            uid: workflowId,
            title: `Management review ${spec.reviewId}`,
            start: meetingStart,
            end: meetingEnd,
            sequence: pack ? 2 : 1,
            cancelled: true,
            organizer,
          },
        });
      }
    }
    publish();
    await condition(allHandlersFinished);
  });
  if (cancelledByTemporal) throw cancelledByTemporal;
  return {
    reviewId: spec.reviewId,
    // Set inside the closing scope, behind the compiler's back.
    status: (state as ManagementReviewState) === 'completed' ? 'completed' : 'cancelled',
    ...(approvedAt ? { approvedAt } : {}),
    actions,
  };
}
