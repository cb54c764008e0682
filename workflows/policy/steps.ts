/**
 * The steps of an AI policy review (5.2, A.2.4) and of the awareness of its result (7.3): the
 * owner's review (no change, or a new version), the new version's text, its approval by top
 * management bound to the text's hash, and an acknowledgement task for everyone in scope.
 */
import { isCancellation } from '@temporalio/workflow';
import { AWARENESS_CLAUSES, POLICY_CLAUSES, POLICY_PROCESS, REVIEW_CHOICES, type PolicyVersion } from '../../src/policy/schema.js';
import { acts } from '../lib/activities.js';
import { runApproval, runStep, runTask } from '../lib/children.js';
import { StepCancelled } from '../lib/util.js';
import type { PolicyReview } from './state.js';

/** Drafts and approvals asked before the review ends as "not approved". */
const MAX_ROUNDS = 3;
const TEXT_IN_INSTRUCTIONS = 8000;

const due = (ms: number) => new Date(Date.now() + ms).toISOString();
const excerpt = (text: string) => (text.length > TEXT_IN_INSTRUCTIONS ? `${text.slice(0, TEXT_IN_INSTRUCTIONS)}\n[... shortened; the full text is in the ledger]` : text);

/** The owner's review of the version in force: `no change` or `new version` (a first version needs no review). */
export async function review(r: PolicyReview): Promise<{ choice: string; by: string; note: string }> {
  const setup = r.setup!;
  if (!setup.current) return { choice: 'new version', by: 'system', note: 'no version of the AI policy has been approved yet' };
  const step = await runStep('review', {
    title: `Review the AI policy (version ${setup.current.version})`,
    instructions: [
      `Review the AI policy at its planned interval (ISO/IEC 42001 5.2, A.2.4)${r.spec.reason ? `: ${r.spec.reason}` : ''}. Is it still appropriate to the organization's purpose, does it still provide the framework for the AI objectives and cover the commitments? Choose "no change" or "new version" and say why.`,
      `Version ${setup.current.version} (approved ${setup.current.approvedAt.slice(0, 10)}, sha256 ${setup.current.contentHash}):\n\n${excerpt(setup.current.text)}`,
    ].join('\n\n'),
    clauses: [...POLICY_CLAUSES],
    process: POLICY_PROCESS,
    assignee: { person: setup.ownerId },
    dueAt: due(setup.reviewDueMs),
    form: 'choice',
    choices: [...REVIEW_CHOICES],
    requestedBy: 'system',
    policy: r.spec.policy.tasks,
  });
  const data = step.data as { choice: string; note?: string };
  return { choice: data.choice, by: step.by, note: data.note ?? '' };
}

/** The new version's text from the owner, then top management's approval bound to its hash; rejected drafts go back with the comment. */
export async function reviseAndApprove(r: PolicyReview): Promise<PolicyVersion | undefined> {
  const setup = r.setup!;
  const version = (setup.current?.version ?? 0) + 1;
  let feedback = '';
  for (let round = 1; round <= MAX_ROUNDS; round += 1) {
    r.state = 'drafting';
    r.publish();
    const draft = await runStep(`draft-${round}`, {
      title: `Write version ${version} of the AI policy`,
      instructions: [
        'Enter the full text of the new version of the AI policy (5.2 a-d: appropriate to the purpose, a framework for AI objectives, the commitment to meet requirements and to continual improvement).',
        ...(feedback ? [`Top management sent the last draft back: ${feedback}`] : []),
        ...(setup.current ? [`The version in force (${setup.current.version}):\n\n${excerpt(setup.current.text)}`] : []),
      ].join('\n\n'),
      clauses: [...POLICY_CLAUSES],
      process: POLICY_PROCESS,
      assignee: { person: setup.ownerId },
      dueAt: due(setup.reviewDueMs),
      form: 'text',
      requestedBy: 'system',
      policy: r.spec.policy.tasks,
    });
    const text = String((draft.data as { text: string }).text);
    const title = `AI policy version ${version}`;
    const contentHash = await acts.contentHash({ title, version, text });
    r.event('drafted', draft.by, `version ${version} drafted (round ${round}, sha256 ${contentHash.slice(0, 12)})`, draft.workflowId);
    await r.recorder.append('policy.version-drafted', draft.by, { version, title, text, contentHash, round }, `drafted-${round}`);
    r.state = 'awaiting-approval';
    r.newVersion = { version, contentHash };
    r.publish();
    const approval = await runApproval(`approval-${round}`, {
      kind: 'ai-policy',
      title: `Approve ${title}`,
      summary: `${title} (sha256 ${contentHash}), drafted by ${draft.by}:\n\n${text}`.slice(0, 20000),
      contentHash,
      approvers: [{ role: 'top-management' }],
      rule: { type: 'all' },
      preparer: draft.by,
      process: POLICY_PROCESS,
      clauses: [...POLICY_CLAUSES],
      dueAt: due(setup.approvalDueMs),
      policy: r.spec.policy.tasks,
    });
    if (approval.status === 'approved') {
      const approvedBy = approval.decisions.filter((d) => !d.voided && d.decision === 'approve').map((d) => d.by);
      r.event('approved', approvedBy.join(', '), `version ${version} approved`, approval.approvalId);
      return { version, title, text, contentHash, owner: setup.ownerId, approvedBy, approvedAt: approval.decidedAt, approvalId: approval.approvalId, reviewRef: r.spec.reviewRef };
    }
    feedback = approval.decisions.filter((d) => d.decision === 'reject').map((d) => `${d.by}: ${d.comment ?? ''}`).join('; ') || approval.status;
    r.event('rejected', 'system', `version ${version} ${approval.status}: ${feedback}`, approval.approvalId);
  }
  return undefined;
}

/** An acknowledgement task for everyone in scope, all at once; each acknowledgement is recorded as it comes. */
export async function acknowledge(r: PolicyReview, approved: PolicyVersion): Promise<void> {
  const setup = r.setup!;
  r.state = 'acknowledging';
  const people = setup.inScope;
  for (const person of people) r.acknowledgements.push({ person, taskId: `${r.workflowId}/acknowledgement-${person}`, state: 'open' });
  r.event('acknowledgements-requested', 'system', `acknowledgement of version ${approved.version} asked of ${people.length} people`);
  r.publish();
  await r.recorder.append('policy.acknowledgements-requested', 'system', { version: approved.version, contentHash: approved.contentHash, approvedAt: approved.approvedAt, people }, 'acknowledgements-requested');
  await Promise.all(
    r.acknowledgements.map(async (ack) => {
      try {
        const result = await runTask(`acknowledgement-${ack.person}`, {
          title: `Read and acknowledge the AI policy, version ${approved.version}`,
          instructions: [
            `A new version of the AI policy was approved by top management on ${approved.approvedAt.slice(0, 10)}. Please read it and confirm that you have (ISO/IEC 42001 7.3).`,
            excerpt(approved.text),
            `sha256 ${approved.contentHash}`,
          ].join('\n\n'),
          clauses: [...AWARENESS_CLAUSES, '5.2'],
          process: POLICY_PROCESS,
          assignee: { person: ack.person },
          dueAt: due(setup.acknowledgementDueMs),
          form: 'acknowledgement',
          requestedBy: 'system',
          policy: r.spec.policy.acknowledgementTasks ?? r.spec.policy.tasks,
        });
        if (result.status !== 'completed') {
          ack.state = 'cancelled';
          return;
        }
        ack.state = 'acknowledged';
        ack.at = result.completedAt ?? new Date().toISOString();
        r.event('acknowledged', result.completedBy ?? ack.person, `version ${approved.version} acknowledged`, ack.taskId);
        r.publish();
        await r.recorder.append(
          'policy.acknowledged',
          result.completedBy ?? ack.person,
          { version: approved.version, contentHash: approved.contentHash, person: ack.person, at: ack.at, taskId: ack.taskId },
          `acknowledged-${ack.person}`,
        );
      } catch (err) {
        if (err instanceof StepCancelled || isCancellation(err)) {
          ack.state = 'cancelled';
          return;
        }
        throw err;
      }
    }),
  );
}
