/**
 * A review of the AI policy as a controlled document (ISO/IEC 42001 5.2, A.2.2-A.2.4), id
 * `policy-review/<ref>`, started by the yearly schedule, a management-review decision or an
 * admin: the owner reviews the version in force; "no change" is recorded; a new version is
 * written, approved by top management bound to its hash and recorded; then everyone in scope
 * acknowledges it (7.3), each acknowledgement recorded as it comes.
 */
import { setHandler, workflowInfo } from '@temporalio/workflow';
import { policyReviewStatusQuery } from '../../src/policy/contract.js';
import { policyReviewInputSchema, reviewRefOf, type PolicyReviewInput, type PolicyReviewResult } from '../../src/policy/schema.js';
import { acts } from '../lib/activities.js';
import { parseOrThrow, StepCancelled } from '../lib/util.js';
import { PolicyReview } from './state.js';
import { acknowledge, review, reviseAndApprove } from './steps.js';

export async function policyReview(rawInput: PolicyReviewInput): Promise<PolicyReviewResult> {
  const r = new PolicyReview(parseOrThrow(policyReviewInputSchema, { reviewRef: reviewRefOf(workflowInfo().workflowId), ...rawInput }, 'policy review input'));
  setHandler(policyReviewStatusQuery, () => r.status());
  const { spec } = r;
  r.publish();
  const setup = await acts.policySetup(spec.policy);
  r.setup = setup;
  r.event('started', spec.requestedBy, `review started (${spec.trigger})${spec.reason ? `: ${spec.reason}` : ''}; owner ${setup.ownerId}`);
  r.publish();
  const current = setup.current ? { version: setup.current.version, contentHash: setup.current.contentHash } : null;
  await r.recorder.append('policy.review-started', spec.requestedBy, { trigger: spec.trigger, reason: spec.reason ?? null, owner: setup.ownerId, current }, 'started');
  const end = async (outcome: PolicyReviewResult['outcome'], by: string, detail: Record<string, unknown>): Promise<PolicyReviewResult> => {
    r.event('ended', by, `review ended: ${outcome}`);
    r.publish();
    await r.recorder.append('policy.reviewed', by, { outcome, current, ...detail }, 'reviewed');
    const acknowledged = r.acknowledgements.filter((a) => a.state === 'acknowledged').length;
    return { reviewRef: spec.reviewRef, outcome, version: r.newVersion?.version ?? setup.current?.version ?? null, acknowledged, inScope: r.acknowledgements.length };
  };

  try {
    // The owner's review: no change is recorded and ends it.
    const decision = await review(r);
    r.event('reviewed', decision.by, `${decision.choice}${decision.note ? `: ${decision.note}` : ''}`);
    if (decision.choice === 'no change') {
      r.outcome = 'no change';
      r.state = 'no-change';
      return await end('no change', decision.by, { note: decision.note });
    }
    // A new version, approved by top management bound to its hash.
    const approved = await reviseAndApprove(r);
    if (!approved) {
      r.outcome = 'not approved';
      r.state = 'not-approved';
      return await end('not approved', 'system', { version: r.newVersion?.version ?? null });
    }
    r.outcome = 'new version';
    r.newVersion = { version: approved.version, contentHash: approved.contentHash, approvedAt: approved.approvedAt };
    await r.recorder.append('policy.version-approved', approved.approvedBy[0] ?? 'system', { ...approved }, 'version-approved');
    // Awareness: everyone in scope acknowledges the new version.
    await acknowledge(r, approved);
    r.state = 'completed';
    return await end('new version', 'system', { version: approved.version, contentHash: approved.contentHash, acknowledgementRate: r.rate() });
  } catch (err) {
    if (!(err instanceof StepCancelled)) throw err;
    r.state = 'cancelled';
    return await end('cancelled', err.by, { reason: err.reason });
  }
}
