/**
 * What people can do to a running approval: decide on the version they were shown, revise the
 * content (voiding earlier decisions), comment and cancel.
 */
import { setHandler } from '@temporalio/workflow';
import { approvalStatusQuery, decideUpdate, reviseUpdate } from '../../src/approval/contract.js';
import { APPROVER_PREPARED, conflictOf, conflictText } from '../../src/people/duties.js';
import { decideSchema, reviseSchema, tally } from '../../src/approval/schema.js';
import type { UpdateAck } from '../../src/common/messages.js';
import { onCancel, onComment, onUpdate } from '../lib/handlers.js';
import { reject } from '../lib/util.js';
import { registerApprovalHandover } from './handover.js';
import type { Approval } from './state.js';

export function registerApprovalHandlers(approval: Approval): void {
  const ack = (message: string): UpdateAck => ({ ok: true, state: approval.state, message });
  const ready = () => approval.people !== undefined;

  setHandler(approvalStatusQuery, () => approval.status());

  onUpdate(decideUpdate, {
    schema: decideSchema,
    ready,
    check: (input) => {
      approval.ensureOpen();
      if (input.by === approval.preparer.id) reject(`the preparer cannot approve their own content [${APPROVER_PREPARED}]`);
      const conflict = conflictOf(approval.spec.conflicts, input.by);
      if (conflict) reject(`you cannot decide on this item: ${conflictText(conflict)}`);
      if (!approval.approvers.some((a) => a.id === input.by)) reject('you are not one of the approvers of this item');
      if (input.contentHash !== approval.contentHash) reject('the content changed since you opened it; reload the page and review the current version');
      if (approval.current().some((d) => d.by === input.by)) reject('you have already decided on this version');
    },
    apply: (input) => {
      approval.decisions.push({
        by: input.by,
        decision: input.decision,
        ...(input.comment ? { comment: input.comment } : {}),
        at: new Date().toISOString(),
        contentHash: approval.contentHash,
        voided: false,
        ...(input.via ? { via: input.via } : {}),
      });
      const verb = input.decision === 'approve' ? 'approved' : 'rejected';
      approval.event('decided', input.by, `${approval.nameOf(input.by)} ${verb} version ${approval.version}${input.comment ? `: ${input.comment}` : ''}`);
      const outcome = tally(approval.decisions, approval.approvers.length, approval.required);
      if (outcome !== 'pending') approval.state = outcome;
      approval.timeline.touch();
      approval.publish();
      return ack(input.decision === 'approve' ? 'Your approval is recorded.' : 'Your rejection and comment are recorded.');
    },
  });

  onUpdate(reviseUpdate, {
    schema: reviseSchema,
    ready,
    check: (input) => {
      approval.ensureOpen();
      if (!['system', approval.preparer.id].includes(input.by)) reject('only the preparer can revise the content');
      if (input.contentHash === approval.contentHash) reject('the content hash is unchanged; nothing to revise');
    },
    apply: async (input) => {
      approval.contentHash = input.contentHash;
      approval.title = input.title ?? approval.title;
      approval.summary = input.summary ?? approval.summary;
      approval.contentUrl = input.contentUrl ?? approval.contentUrl;
      approval.version += 1;
      const voided = approval.current().length;
      for (const d of approval.decisions) d.voided = true;
      approval.event('revised', input.by, `version ${approval.version}${input.note ? `: ${input.note}` : ''}; ${voided} earlier decision(s) void`);
      approval.timeline.touch();
      approval.publish();
      await approval.send('approval.requested', approval.approvers, {
        rule: approval.ruleText(),
        reason: `Version ${approval.version} replaces the earlier content; earlier decisions are void${input.note ? `: ${input.note}` : ''}.`,
      });
      return ack(`Version ${approval.version} is out for approval again.`);
    },
  });

  const involved = () => ['system', approval.preparer.id, approval.ensureOpen().aimsManagerId, ...approval.approvers.map((a) => a.id)];
  onComment({ ready, allowed: involved, refusal: 'only people involved in this approval can comment on it' }, (input) => approval.event('commented', input.by, input.text), ack);

  registerApprovalHandover(approval);

  onCancel(
    {
      ready,
      ensureOpen: () => approval.ensureOpen(),
      allowed: () => ['system', approval.preparer.id, approval.ensureOpen().aimsManagerId],
      refusal: 'only the preparer or the AIMS manager can cancel this approval',
    },
    (input) => {
      approval.state = 'cancelled';
      approval.cancelReason = input.reason;
      approval.event('cancelled', input.by, `cancelled: ${input.reason}`);
    },
    ack,
    'The approval is cancelled.',
  );
}
