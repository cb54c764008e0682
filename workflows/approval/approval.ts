/**
 * Approval: one or more approvers decide on exactly the content they were shown (bound by its
 * hash) under a rule (all, any, n of m), with separation of duties (the preparer cannot
 * approve). A new content version voids earlier decisions and asks again.
 */
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  isCancellation,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  approvalInputSchema,
  decideSchema,
  requiredApprovals,
  reviseSchema,
  tally,
  type ApprovalEvent,
  type ApprovalInput,
  type ApprovalResult,
  type ApprovalState,
  type ApprovalStatus,
  type Decision,
} from '../../src/approval/schema.js';
import { cancelSchema, commentSchema, type PersonRef } from '../../src/common/schemas.js';
import { durationMs } from '../../src/common/duration.js';
import type { NotificationKind } from '../../activities/notify.js';
import type { ResolvedTaskPeople } from '../../activities/directory.js';
import { cancelUpdate, commentUpdate, type UpdateAck } from '../../src/common/messages.js';
import { approvalStatusQuery, decideUpdate, reviseUpdate } from '../../src/approval/contract.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { acts, notify } from '../lib/activities.js';
import { DueTimeline, waitForNext } from '../lib/ladder.js';
import { formatDay, guardedUpdate, invalidInput, parseOrThrow, reject } from '../lib/util.js';

export async function approval(rawInput: ApprovalInput): Promise<ApprovalResult> {
  const spec = parseOrThrow(approvalInputSchema, rawInput, 'approval input');
  const info = workflowInfo();
  const approvalId = info.workflowId;

  // Until the organization look-ups return, the approval shows only what it was asked for.
  let preparer: PersonRef = { id: spec.preparer, name: spec.preparer, email: '' };
  let approvers: PersonRef[] = [];
  let required = 0;
  let timing: ResolvedTaskPeople | undefined = undefined;

  let state: ApprovalState = 'pending';
  let contentHash = spec.contentHash;
  let title = spec.title;
  let summary = spec.summary;
  let contentUrl = spec.contentUrl;
  let version = 1;
  let changed = false;
  let notificationSeq = 0;
  const decisions: Decision[] = [];
  const history: ApprovalEvent[] = [];
  const expireAfterMs = durationMs(spec.expireAfter);
  const createdAt = Date.now();
  let timeline = new DueTimeline({ reminderOffsetsMs: [], escalationAfterMs: [], expireAfterMs });
  timeline.arm(Date.parse(spec.dueAt), createdAt);

  const event = (type: ApprovalEvent['type'], by: string, detail: string) =>
    history.push({ at: new Date().toISOString(), type, by, detail });
  const isClosed = () => ['approved', 'rejected', 'expired', 'cancelled'].includes(state);
  const current = () => decisions.filter((d) => !d.voided);
  const pending = () => approvers.filter((a) => !current().some((d) => d.by === a.id));
  const dueIso = () => new Date(timeline.dueAt).toISOString();

  const status = (): ApprovalStatus => ({
    approvalId,
    kind: spec.kind,
    title,
    summary,
    ...(contentUrl ? { contentUrl } : {}),
    contentHash,
    version,
    rule: spec.rule,
    required,
    preparer: { id: preparer.id, name: preparer.name, email: preparer.email },
    approvers,
    pending: isClosed() ? [] : pending().map((p) => p.id),
    state,
    dueAt: dueIso(),
    expiresAt: new Date(timeline.dueAt + expireAfterMs).toISOString(),
    decisions,
    history,
  });

  const publish = () => {
    upsertSearchAttributes([
      { key: searchAttributes.process, value: spec.process },
      { key: searchAttributes.owner, value: preparer.id },
      { key: searchAttributes.assignees, value: isClosed() ? [] : pending().map((p) => p.id) },
      { key: searchAttributes.state, value: state },
      { key: searchAttributes.dueDate, value: new Date(timeline.dueAt) },
      { key: searchAttributes.clauses, value: spec.clauses },
    ]);
    upsertMemo({ kind: 'approval', title, dueAt: dueIso() });
    const approvals = current().filter((d) => d.decision === 'approve').length;
    setCurrentDetails(
      `**${state}** · ${title} · ${approvals}/${required} approvals (${spec.rule.type}) · version ${version} · due ${formatDay(timeline.dueAt)}`,
    );
  };

  const send = (kind: NotificationKind, to: PersonRef[], extra: Record<string, unknown> = {}) =>
    notify({
      notificationId: `${approvalId}/${info.firstExecutionRunId}/${++notificationSeq}-${kind}`,
      kind,
      to,
      link: { wf: approvalId, task: approvalId, action: 'approval.decide' },
      data: { title, instructions: summary, dueDate: dueIso(), clauses: spec.clauses, preparerName: preparer.name, ...extra },
    });

  const ack = (message: string): UpdateAck => ({ ok: true, state, message });
  const ruleText = () =>
    spec.rule.type === 'all' ? `all ${approvers.length} approvers` : spec.rule.type === 'any' ? `any one of ${approvers.length} approvers` : `${required} of ${approvers.length} approvers`;
  const deciders = () => {
    const names = current().map((d) => approvers.find((a) => a.id === d.by)?.name ?? d.by);
    return names.length ? names.join(', ') : 'nobody';
  };
  const ensureOpen = (): ResolvedTaskPeople => {
    if (isClosed()) reject(`the approval is already ${state}`);
    if (!timing) reject('the approval is still being set up; try again in a moment');
    return timing;
  };

  setHandler(approvalStatusQuery, status);
  const ready = () => timing !== undefined;
  let cancelReason: string | undefined;

  setHandler(
    decideUpdate,
    ...guardedUpdate({
      schema: decideSchema,
      ready,
      check: (input) => {
        ensureOpen();
        if (input.by === preparer.id) reject('separation of duties: the preparer cannot approve their own content');
        if (!approvers.some((a) => a.id === input.by)) reject('you are not one of the approvers of this item');
        if (input.contentHash !== contentHash) {
          reject('the content changed since you opened it; reload the page and review the current version');
        }
        if (current().some((d) => d.by === input.by)) reject('you have already decided on this version');
      },
      apply: (input) => {
        decisions.push({
          by: input.by,
          decision: input.decision,
          ...(input.comment ? { comment: input.comment } : {}),
          at: new Date().toISOString(),
          contentHash,
          voided: false,
        });
        const name = approvers.find((a) => a.id === input.by)?.name ?? input.by;
        const verb = input.decision === 'approve' ? 'approved' : 'rejected';
        event('decided', input.by, `${name} ${verb} version ${version}${input.comment ? `: ${input.comment}` : ''}`);
        const outcome = tally(decisions, approvers.length, required);
        if (outcome !== 'pending') state = outcome;
        changed = true;
        publish();
        return ack(input.decision === 'approve' ? 'Your approval is recorded.' : 'Your rejection and comment are recorded.');
      },
    }),
  );

  setHandler(
    reviseUpdate,
    ...guardedUpdate({
      schema: reviseSchema,
      ready,
      check: (input) => {
        ensureOpen();
        if (!['system', preparer.id].includes(input.by)) reject('only the preparer can revise the content');
        if (input.contentHash === contentHash) reject('the content hash is unchanged; nothing to revise');
      },
      apply: async (input) => {
        contentHash = input.contentHash;
        title = input.title ?? title;
        summary = input.summary ?? summary;
        contentUrl = input.contentUrl ?? contentUrl;
        version += 1;
        const voided = current().length;
        for (const d of decisions) d.voided = true;
        event('revised', input.by, `version ${version}${input.note ? `: ${input.note}` : ''}; ${voided} earlier decision(s) void`);
        changed = true;
        publish();
        await send('approval.requested', approvers, {
          rule: ruleText(),
          reason: `Version ${version} replaces the earlier content; earlier decisions are void${input.note ? `: ${input.note}` : ''}.`,
        });
        return ack(`Version ${version} is out for approval again.`);
      },
    }),
  );

  setHandler(
    commentUpdate,
    ...guardedUpdate({
      schema: commentSchema,
      ready,
      check: (input) => {
        const { aimsManagerId } = ensureOpen();
        const involved = ['system', preparer.id, aimsManagerId, ...approvers.map((a) => a.id)];
        if (!involved.includes(input.by)) reject('only people involved in this approval can comment on it');
      },
      apply: (input) => {
        event('commented', input.by, input.text);
        return ack('Comment added.');
      },
    }),
  );

  setHandler(
    cancelUpdate,
    ...guardedUpdate({
      schema: cancelSchema,
      ready,
      check: (input) => {
        const { aimsManagerId } = ensureOpen();
        if (!['system', preparer.id, aimsManagerId].includes(input.by)) {
          reject('only the preparer or the AIMS manager can cancel this approval');
        }
      },
      apply: (input) => {
        state = 'cancelled';
        cancelReason = input.reason;
        event('cancelled', input.by, `cancelled: ${input.reason}`);
        return ack('The approval is cancelled.');
      },
    }),
  );

  publish();
  const [preparerRef, people, resolvedTiming] = await Promise.all([
    acts.resolvePerson(spec.preparer),
    acts.resolvePeople(spec.approvers),
    acts.resolveTaskPeople({ assignee: { person: spec.preparer }, policy: spec.policy }),
  ]);
  preparer = { id: preparerRef.id, name: preparerRef.name, email: preparerRef.email };
  // Separation of duties: whoever prepared the content is never one of its approvers.
  approvers = people.filter((p) => p.id !== preparer.id);
  required = requiredApprovals(spec.rule, approvers.length);
  if (approvers.length === 0 || required > approvers.length) {
    invalidInput(
      `Invalid approval input: approvers: needs at least ${required || 1} approver(s) other than the preparer (${preparer.name}); found ${approvers.length}`,
    );
  }
  timeline = new DueTimeline({
    reminderOffsetsMs: resolvedTiming.reminderOffsetsMs,
    escalationAfterMs: resolvedTiming.escalationAfterMs.filter((ms) => ms < expireAfterMs),
    expireAfterMs,
  });
  timeline.arm(Date.parse(spec.dueAt), createdAt);
  timing = resolvedTiming;
  const escalationSteps = resolvedTiming.escalation;

  event('requested', preparer.id, `approval requested from ${approvers.map((a) => a.name).join(', ')} (${spec.rule.type}, ${required} needed)`);
  publish();
  let cancelledBy: Error | undefined;
  try {
    await send('approval.requested', approvers, { rule: ruleText() });

    while (!isClosed()) {
      const next = await waitForNext(timeline, () => isClosed() || changed);
      changed = false;
      if (!next || isClosed()) continue;
      switch (next.kind) {
        case 'reminder':
          event('reminded', 'system', `reminder sent to ${pending().map((p) => p.name).join(', ')}`);
          await send('approval.reminder', pending());
          break;
        case 'overdue':
          state = 'overdue';
          event('overdue', 'system', 'the due date has passed');
          publish();
          break;
        case 'escalation': {
          const step = escalationSteps[next.index];
          if (!step) break;
          const escalationLevel = next.index + 1;
          // The ladder climbs from the approvers who have not decided: their managers, then top
          // management; an approver is never escalated to about their own pending decision.
          const waiting = pending();
          const reached = await Promise.all(waiting.map((a) => acts.resolveEscalation({ assigneeId: a.id, to: step.to })));
          const targets = reached
            .flat()
            .filter((t, i, all) => all.findIndex((o) => o.id === t.id) === i && !waiting.some((w) => w.id === t.id));
          const names = targets.length ? targets.map((t) => t.name).join(', ') : 'nobody beyond the approvers';
          event('escalated', 'system', `escalated to ${names} (level ${escalationLevel})`);
          if (targets.length) {
            await send('approval.escalated', targets, {
              escalationLevel,
              approverName: waiting.map((p) => p.name).join(', '),
            });
          }
          await send('approval.reminder', waiting, { reason: `Overdue: escalated to ${names}.` });
          break;
        }
        case 'expire':
          state = 'expired';
          event('expired', 'system', 'no decision before the approval expired');
          break;
      }
    }
  } catch (err) {
    if (!isCancellation(err)) throw err;
    cancelledBy = err as Error;
    state = 'cancelled';
    cancelReason = 'cancelled by its parent process or an operator';
    event('cancelled', 'system', cancelReason);
  }

  const decidedAt = new Date().toISOString();
  // Handlers change the state behind the compiler's back; read it afresh.
  const finalState = state as ApprovalState;
  if (finalState === 'approved' || finalState === 'rejected') event(finalState, 'system', `${finalState} (version ${version})`);
  const result: ApprovalResult = {
    approvalId,
    status: finalState === 'approved' || finalState === 'rejected' || finalState === 'expired' ? finalState : 'cancelled',
    contentHash,
    version,
    decisions,
    decidedAt,
  };

  await CancellationScope.nonCancellable(async () => {
    publish();
    await acts.appendRecord({
      id: `${approvalId}/${info.firstExecutionRunId}/${result.status}`,
      kind: `approval.${result.status}`,
      subject: approvalId,
      clauses: spec.clauses,
      actor: 'system',
      occurredAt: decidedAt,
      content: {
        approvalId,
        kind: spec.kind,
        title,
        summary,
        contentHash,
        version,
        rule: spec.rule,
        preparer: preparer.id,
        approvers: approvers.map((a) => a.id),
        decisions,
        ...(cancelReason ? { reason: cancelReason } : {}),
      },
    });
    await send('approval.decided', [preparer], {
      decision: result.status,
      deciderName: deciders(),
      decidedAt,
      ...(cancelReason ? { reason: cancelReason } : {}),
    });
    await condition(allHandlersFinished);
  });

  if (cancelledBy) throw cancelledBy;
  return result;
}
