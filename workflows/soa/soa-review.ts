/**
 * The yearly review of the Statement of Applicability (ISO/IEC 42001 6.1.3), id
 * `soa-review/<year>`, started by its Temporal Schedule (`yearly/soa-review`) or an admin: the
 * AIMS manager reviews the SoA (editing it through the admin API when it must change) and
 * completes the review task; top management then approves the version in force, bound to its
 * content hash; a rejection asks for another review. The approval goes to the ledger
 * (`soa.approved`, which the SoA's versions show) with `soa-review.completed`.
 */
import { CancellationScope, setHandler } from '@temporalio/workflow';
import { approvalOutcome } from '../../src/approval/schema.js';
import { durationMs } from '../../src/common/duration.js';
import { approverConflicts } from '../../src/people/duties.js';
import { soaReviewInputSchema, soaReviewStatusQuery, type SoaReviewInput, type SoaReviewResult, type SoaReviewStatus } from '../../src/soa/contract.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { acts } from '../lib/activities.js';
import { runApproval, runStep } from '../lib/children.js';
import { closing, runLifecycle } from '../lib/lifecycle.js';
import { Recorder } from '../lib/recorder.js';
import { parseOrThrow } from '../lib/util.js';

export async function soaReview(rawInput: SoaReviewInput): Promise<SoaReviewResult> {
  const spec = parseOrThrow(soaReviewInputSchema, rawInput, 'SoA review input');
  const status: Omit<SoaReviewStatus, 'timeline' | 'workflowId'> = { year: spec.year, state: 'review', round: 0 };
  const recorder: Recorder = new Recorder({
    clauses: ['6.1.3'],
    identity: () => ({ year: spec.year }),
    view: () => ({
      attributes: [
        { key: searchAttributes.process, value: 'soa-review' },
        { key: searchAttributes.state, value: status.state },
        { key: searchAttributes.ref, value: `SOA-${spec.year}` },
        { key: searchAttributes.clauses, value: ['6.1.3'] },
      ],
      memo: { kind: 'soa-review', year: spec.year, state: status.state },
      details: `**SoA review ${spec.year}** · ${status.state}${status.version !== undefined ? ` · version ${status.version}` : ''}`,
    }),
  });
  setHandler(soaReviewStatusQuery, () => ({ ...status, workflowId: recorder.workflowId, timeline: recorder.timeline }));
  const { aimsManagerId } = await acts.soaReviewSettings();
  recorder.publish();
  await recorder.append('soa-review.started', spec.requestedBy, { trigger: spec.trigger }, 'started');
  const dueIn = (d: string) => new Date(Date.now() + durationMs(d)).toISOString();

  let changed = false;
  const ending = await runLifecycle(
    new CancellationScope(),
    async () => {
      let feedback = '';
      for (;;) {
        status.round += 1;
        status.state = 'review';
        recorder.publish();
        const before = await acts.currentSoa();
        // 1. The AIMS manager reviews the SoA (and edits it through PUT /admin/soa when it must change).
        const reviewed = await runStep(`review-${status.round}`, {
          title: `Review the Statement of Applicability ${spec.year}`,
          instructions: `Review every Annex A control of the Statement of Applicability (version ${before.version}): included or excluded, the justification, the implementation state, the owner and the evidence. Change it with PUT /admin/soa (aimsflow soa edit) where it must change, then answer "no change" or "changed". Top management then approves the version in force.${feedback}\n\n${before.text}`.slice(0, 10000),
          clauses: ['6.1.3'],
          process: 'soa-review',
          assignee: { person: aimsManagerId },
          dueAt: dueIn(spec.policy.reviewDue),
          form: 'choice',
          choices: ['no change', 'changed'],
          requestedBy: 'system',
          policy: spec.policy.tasks,
        });
        const soa = await acts.currentSoa();
        changed ||= soa.version !== before.version;
        status.state = 'approval';
        status.version = soa.version;
        status.hash = soa.hash;
        recorder.event('reviewed', reviewed.by, `reviewed (${String(reviewed.data.choice)}); version ${soa.version} sent for approval`, { workflowId: reviewed.workflowId });
        recorder.publish();
        // 2. Top management approves the version in force, bound to its hash.
        const decision = await runApproval(`approval-${status.round}`, {
          kind: 'soa',
          title: `Statement of Applicability ${spec.year}, version ${soa.version}`,
          summary: soa.text.slice(0, 20000),
          contentHash: soa.hash,
          approvers: [{ role: 'top-management' }],
          rule: { type: 'any' },
          preparer: reviewed.by === 'system' ? aimsManagerId : reviewed.by,
          conflicts: approverConflicts({ preparedBy: [reviewed.by] }),
          process: 'soa-review',
          clauses: ['6.1.3'],
          dueAt: dueIn(spec.policy.approvalDue),
          policy: spec.policy.tasks,
        });
        const outcome = approvalOutcome(decision);
        if (outcome.approved) {
          status.approvedBy = outcome.approvedBy[0] ?? 'system';
          await acts.recordSoaApproval({ id: `${recorder.base}/approved-${status.round}`, version: soa.version, hash: soa.hash, approvalId: decision.approvalId, approvedBy: status.approvedBy, review: recorder.workflowId, at: decision.decidedAt });
          recorder.event('approved', status.approvedBy, `version ${soa.version} approved`, { workflowId: decision.approvalId });
          return;
        }
        if (decision.status === 'cancelled') throw new Error('the SoA approval was cancelled');
        recorder.event('rejected', outcome.rejectedBy ?? 'system', `version ${soa.version} not approved: ${outcome.reason}`, { workflowId: decision.approvalId });
        feedback = `\n\nTop management did not approve version ${soa.version}: ${outcome.reason}`;
      }
    },
    () => false,
  );

  return closing(async () => {
    status.state = ending.kind === 'done' ? 'approved' : 'cancelled';
    recorder.publish();
    if (ending.kind !== 'done') {
      await recorder.append('soa-review.cancelled', 'system', { round: status.round }, 'cancelled');
      return { workflowId: recorder.workflowId, status: 'cancelled', reason: ending.kind === 'step-cancelled' ? ending.reason : 'cancelled' };
    }
    await recorder.append('soa-review.completed', status.approvedBy ?? 'system', { version: status.version, hash: status.hash, changed, rounds: status.round, timeline: recorder.timeline }, 'completed');
    return { workflowId: recorder.workflowId, status: 'approved', version: status.version!, hash: status.hash!, changed };
  });
}
