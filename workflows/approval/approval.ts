/**
 * Approval: one or more approvers decide on exactly the content they were shown (bound by its
 * hash) under a rule (all, any, n of m), with separation of duties (the preparer cannot
 * approve). A new content version voids earlier decisions and asks again.
 */
import { isCancellation, patched } from '@temporalio/workflow';
import { approvalInputSchema, requiredApprovals, type ApprovalInput, type ApprovalResult, type ApprovalState } from '../../src/approval/schema.js';
import { conflictOf, conflictText } from '../../src/people/duties.js';
import { acts } from '../lib/activities.js';
import { DueTimeline, walkLadder } from '../lib/ladder.js';
import { closing } from '../lib/lifecycle.js';
import { ref } from '../lib/people.js';
import { invalidInput, parseOrThrow } from '../lib/util.js';
import { registerApprovalHandlers } from './handlers.js';
import { Approval } from './state.js';

/** Undecided approvers who left the organization hand their decision on at the next reminder or escalation (issue #21). */
const APPROVER_REROUTE_PATCH = 'approval-reroutes-unknown-approver';

/** Before a reminder or an escalation: an undecided approver the organization no longer names hands the decision to top management. */
async function recheckApprovers(a: Approval): Promise<void> {
  if (!patched(APPROVER_REROUTE_PATCH) || a.pending().length === 0) return;
  await a.rerouteGone(await acts.resolvePeople(a.pending().map((p) => ({ person: p.id }))), true);
}

export async function approval(rawInput: ApprovalInput): Promise<ApprovalResult> {
  const a = new Approval(parseOrThrow(approvalInputSchema, rawInput, 'approval input'));
  registerApprovalHandlers(a);

  // Resolve the preparer, the approvers and the organization's timing.
  a.publish();
  const { spec } = a;
  const [preparer, people, timing] = await Promise.all([
    acts.resolvePerson(spec.preparer),
    acts.resolvePeople(spec.approvers),
    acts.resolveTaskPeople({ assignee: { person: spec.preparer }, policy: spec.policy }),
  ]);
  a.preparer = ref(preparer);
  // Separation of duties: whoever prepared the content, or conflicts otherwise, is never one of its approvers.
  a.approvers = people.filter((p) => p.id !== a.preparer.id && !conflictOf(spec.conflicts, p.id)).map(ref);
  a.required = requiredApprovals(spec.rule, a.approvers.length);
  if (a.approvers.length === 0 || a.required > a.approvers.length) {
    const others = spec.conflicts.length ? ` or those who conflict (${spec.conflicts.map(conflictText).join('; ')})` : '';
    invalidInput(
      `Invalid approval input: approvers: needs at least ${a.required || 1} approver(s) other than the preparer (${a.preparer.name})${others}; found ${a.approvers.length}`,
    );
  }
  for (const left of people.filter((p) => p.id !== a.preparer.id && conflictOf(spec.conflicts, p.id))) {
    a.event('rerouted', 'system', `${left.name} does not decide: ${conflictText(conflictOf(spec.conflicts, left.id)!)}`);
  }
  a.timeline = new DueTimeline({
    reminderOffsetsMs: timing.reminderOffsetsMs,
    escalationAfterMs: timing.escalationAfterMs.filter((ms) => ms < a.expireAfterMs),
    expireAfterMs: a.expireAfterMs,
  });
  a.timeline.arm(Date.parse(spec.dueAt), a.createdAt);
  // Approvers no longer in the organization: a top manager decides in their place; a vacant role has a stand-in.
  await a.rerouteGone(people, false);
  for (const p of people.filter((x) => x.insteadOf)) a.event('rerouted', 'system', `${p.name} decides: ${p.insteadOf}`);
  a.people = timing;
  a.event('requested', a.preparer.id, `approval requested from ${a.approvers.map((p) => p.name).join(', ')} (${spec.rule.type}, ${a.required} needed)`);
  a.publish();

  let cancelledBy: Error | undefined;
  try {
    // Ask, then remind the undecided before the due date and escalate after it until decided or expired.
    await a.send('approval.requested', a.approvers, { rule: a.ruleText() });
    await walkLadder(a.timeline, () => a.isClosed(), {
      reminder: async () => {
        await recheckApprovers(a);
        a.event('reminded', 'system', `reminder sent to ${a.pending().map((p) => p.name).join(', ')}`);
        await a.send('approval.reminder', a.pending());
      },
      overdue: () => {
        a.state = 'overdue';
        a.event('overdue', 'system', 'the due date has passed');
        a.publish();
      },
      escalation: async (index) => {
        const step = timing.escalation[index];
        if (!step) return;
        await recheckApprovers(a);
        // The ladder climbs from the approvers who have not decided: their managers, then top
        // management; an approver is never escalated to about their own pending decision.
        const waiting = a.pending();
        const reached = await Promise.all(waiting.map((w) => acts.resolveEscalation({ assigneeId: w.id, to: step.to })));
        const targets = reached.flat().filter((t, i, all) => all.findIndex((o) => o.id === t.id) === i && !waiting.some((w) => w.id === t.id));
        const names = targets.length ? targets.map((t) => t.name).join(', ') : 'nobody beyond the approvers';
        a.event('escalated', 'system', `escalated to ${names} (level ${index + 1})`);
        if (targets.length) await a.send('approval.escalated', targets, { escalationLevel: index + 1, approverName: waiting.map((p) => p.name).join(', ') });
        await a.send('approval.reminder', waiting, { reason: `Overdue: escalated to ${names}.` });
      },
      expire: () => {
        a.state = 'expired';
        a.event('expired', 'system', 'no decision before the approval expired');
      },
    });
  } catch (err) {
    if (!isCancellation(err)) throw err;
    cancelledBy = err as Error;
    a.state = 'cancelled';
    a.cancelReason = 'cancelled by its parent process or an operator';
    a.event('cancelled', 'system', a.cancelReason);
  }

  const finalState: ApprovalState = a.state;
  if (finalState === 'approved' || finalState === 'rejected') a.event(finalState, 'system', `${finalState} (version ${a.version})`);
  const result: ApprovalResult = {
    approvalId: a.approvalId,
    status: finalState === 'approved' || finalState === 'rejected' || finalState === 'expired' ? finalState : 'cancelled',
    contentHash: a.contentHash,
    version: a.version,
    decisions: a.decisions,
    decidedAt: new Date().toISOString(),
  };
  await closing(() => a.close(result));
  if (cancelledBy) throw cancelledBy;
  return result;
}
