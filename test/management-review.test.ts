import { randomInt } from 'node:crypto';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParsedMail } from 'mailparser';
import type { ManagementReviewInput, ManagementReviewResult, ManagementReviewStatus, ReviewMinutesInput } from '../src/management-review/schema.js';
import { INTERNAL_AUDIT_REPORTED } from '../src/internal-audit/schema.js';
import {
  cancelReviewUpdate,
  MANAGEMENT_REVIEW_WORKFLOW,
  managementReviewStatusQuery,
  managementReviewWorkflowId,
  recordMinutesUpdate,
} from '../src/management-review/contract.js';
import { renderPackHtml } from '../src/management-review/pack.js';
import { completedReviews } from '../src/management-review/summary.js';
import { ncStatusQuery } from '../src/corrective-action/contract.js';
import { approvalStatusQuery, decideUpdate } from '../src/approval/contract.js';
import { policyReviewStatusQuery, policyReviewWorkflowId } from '../src/policy/contract.js';
import { completeTaskUpdate, taskStatusQuery } from '../src/task/contract.js';
import { handoverUpdate } from '../src/common/messages.js';
import { recordHistory } from './helpers/histories.js';
import { isNotification } from './helpers/smtp.js';
import { eventually, startTestStack, updateRejection, type TestStack } from './helpers/temporal.js';
import { WorkflowFailedError } from '@temporalio/client';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ randomNcNumbers: true });
});
afterAll(async () => {
  await stack?.stop();
});

const quiet = { reminderOffsets: [], escalation: [] };
const today = () => new Date().toISOString().slice(0, 10);
const reviewId = () => `2027-t${randomInt(100_000, 999_999)}`;

function startReview(input: Partial<ManagementReviewInput> & { reviewId: string }) {
  const full: ManagementReviewInput = {
    meetingDate: today(),
    requestedBy: 'priya.raman',
    trigger: 'admin',
    policy: { inputsDue: '1h', meetingIn: '2h', approvalDue: '1h', tasks: quiet },
    ...input,
  };
  return stack.start<[ManagementReviewInput], ManagementReviewResult>(MANAGEMENT_REVIEW_WORKFLOW, [full], {
    workflowId: managementReviewWorkflowId(full.reviewId),
  });
}

type Review = Awaited<ReturnType<typeof startReview>>;

/** Completes input `key` of a review once its task is open. */
async function supply(review: Review, key: string, by: string, text: string) {
  const task = stack.client.workflow.getHandle(`${review.workflowId}/input-${key}`);
  await eventually(
    () => task.query(taskStatusQuery).catch(() => undefined),
    (s) => s?.state === 'open' && s.assignee.id !== '',
  );
  return task.executeUpdate(completeTaskUpdate, { args: [{ by, data: { text } }] });
}

async function decide(workflowId: string, by: string, decision: 'approve' | 'reject', comment?: string) {
  const approval = stack.client.workflow.getHandle(workflowId);
  const s = await eventually(
    () => approval.query(approvalStatusQuery).catch(() => undefined),
    (st) => (st?.state === 'pending' || st?.state === 'overdue') && st.approvers.length > 0,
  );
  return approval.executeUpdate(decideUpdate, { args: [{ by, decision, contentHash: s!.contentHash, ...(comment ? { comment } : {}) }] });
}

const statusOf = (review: Review) => review.query(managementReviewStatusQuery);
const attachment = (mail: ParsedMail, name: RegExp) => mail.attachments.find((a) => name.test(a.filename ?? ''));

const minutes = (overrides: Partial<ReviewMinutesInput> = {}): ReviewMinutesInput => ({
  by: 'priya.raman',
  attendees: ['hannah.okafor', 'david.chen', 'priya.raman', 'marco.rossi'],
  improvementDecisions: ['Automate the drift report for credit-scoring'],
  changeDecisions: ['Add a model-retirement step to the AI system life cycle procedure'],
  actions: [
    { title: 'Automate the monthly drift report', owner: 'tom.baker', dueDate: '2030-03-31', input: 'e' },
    {
      title: 'Unowned model alerts in fraud-detection',
      description: 'Model alerts of fraud-detection had no owner for two weeks.',
      owner: 'sofia.lind',
      dueDate: '2030-02-28',
      input: 'd',
      nonconformity: true,
      severity: 'minor',
    },
  ],
  notes: 'Meeting held in the London office.',
  ...overrides,
});

/** Every listed input accepted as missing, with a reason. */
const acceptedMissing = (...keys: Array<'a' | 'b' | 'c' | 'd' | 'e'>) =>
  keys.map((input) => ({ input, decision: 'accepted' as const, reason: `Input (${input}) was discussed from the records at the meeting` }));

describe('management review', () => {
  it('runs a full cycle: inputs, automatic audit and NC figures, the pack, minutes, approval, actions; the next cycle starts from them', async () => {
    // An audit reported in the period: the pack collects it automatically from the ledger.
    await stack.records.append({
      id: `test/audit/${randomInt(1_000_000)}`,
      kind: INTERNAL_AUDIT_REPORTED,
      subject: 'internal-audit/2027/IA-2027-01',
      clauses: ['9.2'],
      actor: 'aisha.khan',
      occurredAt: new Date(Date.now() - 86_400_000).toISOString(),
      content: {
        auditId: 'IA-2027-01',
        workflowId: 'internal-audit/2027/IA-2027-01',
        title: 'Credit-scoring model operations',
        reportedAt: new Date(Date.now() - 86_400_000).toISOString(),
        findingCounts: { majorNc: 0, minorNc: 2, observation: 1, opportunity: 3 },
        ncIds: ['NC-2027-901', 'NC-2027-902'],
      },
    });

    const id = reviewId();
    // Inputs are due soon and the meeting follows: the pack is there before it, the minutes after it.
    const review = await startReview({ reviewId: id, policy: { inputsDue: '20s', meetingIn: '25s', approvalDue: '1h', tasks: quiet } });
    const described = await eventually(() => review.describe(), (d) => d.searchAttributes.AimsOwner !== undefined);
    expect(described.searchAttributes).toMatchObject({ AimsProcess: ['management-review'], AimsRef: [id], AimsState: ['collecting-inputs'], AimsOwner: ['priya.raman'] });

    // The invitation: every attendee, with a calendar invitation for the meeting.
    const invitation = await stack.smtp.waitFor((m) => isNotification(m, review.workflowId, 'management-review.invitation', 'hannah.okafor@northwind.example'), 20_000);
    const ics = attachment(invitation, /\.ics$/);
    expect(ics?.content.toString()).toContain(`UID:${review.workflowId}`);
    expect(ics?.content.toString()).toContain('SUMMARY:Management review');

    // The input of (d) goes to its owner from the organization file.
    const dTask = stack.client.workflow.getHandle(`${review.workflowId}/input-d`);
    const d = await eventually(() => dTask.query(taskStatusQuery).catch(() => undefined), (s) => s?.assignee.id === 'marco.rossi');
    expect(d!.title).toContain('performance');
    const aTask = await eventually(
      () => stack.client.workflow.getHandle(`${review.workflowId}/input-a`).query(taskStatusQuery).catch(() => undefined),
      (s) => s !== undefined,
    );
    expect(aTask!.instructions).toContain('No earlier management review');

    // Only the owner can supply an input.
    expect(await updateRejection(stack.client.workflow.getHandle(`${review.workflowId}/input-b`).executeUpdate(completeTaskUpdate, { args: [{ by: 'tom.baker', data: { text: 'x' } }] }))).toMatch(/assign|allowed|only/i);

    // Minutes before the pack is ready are refused.
    expect(await updateRejection(review.executeUpdate(recordMinutesUpdate, { args: [minutes() as never] }))).toContain('not ready');

    await supply(review, 'a', 'priya.raman', 'No earlier review: this is the first one.');
    await supply(review, 'b', 'priya.raman', 'EU AI Act obligations for high-risk credit scoring apply from August.');
    await supply(review, 'c', 'priya.raman', 'Regulator asks for explanations of automated credit decisions.');
    await supply(review, 'd', 'marco.rossi', 'Objective "drift detected within 24h": met 11 of 12 months.');
    await supply(review, 'e', 'priya.raman', 'Automate the drift report.');

    // Every input in: the pack is built before the meeting and sent to the attendees.
    const withPack = await eventually(() => statusOf(review), (s) => s.state === 'awaiting-minutes');
    const pack = withPack.pack!;
    expect(pack.inputs.map((i) => [i.key, i.state, i.suppliedBy])).toEqual([
      ['a', 'supplied', 'priya.raman'],
      ['b', 'supplied', 'priya.raman'],
      ['c', 'supplied', 'priya.raman'],
      ['d', 'supplied', 'marco.rossi'],
      ['e', 'supplied', 'priya.raman'],
    ]);
    expect(pack.automatic.audits).toMatchObject({ available: true, summary: { auditsReported: 1, findingsByType: { minorNc: 2, opportunity: 3 } } });
    expect(pack.automatic.nonconformities.available).toBe(true);
    expect(pack.automatic.previousActions).toMatchObject({ available: true, reviewId: null, actions: [] });
    // The minutes wait for the meeting: refused before it starts, so nothing goes to approval before it.
    const early = await updateRejection(review.executeUpdate(recordMinutesUpdate, { args: [minutes() as never] }));
    expect(early).toContain(`minutes: the meeting starts ${withPack.meetingStart!}`);
    expect(early).toContain('(rule minutes-after-meeting)');
    expect((await statusOf(review)).approval).toBeUndefined();
    const [packRecord] = await stack.records.list({ subject: review.workflowId, kind: 'management-review.pack' });
    expect(packRecord?.contentHash).toBe(pack.contentHash);

    const packMail = await stack.smtp.waitFor((m) => isNotification(m, review.workflowId, 'management-review.pack', 'david.chen@northwind.example'), 20_000);
    const html = attachment(packMail, /^review-pack-.*\.html$/)?.content.toString() ?? '';
    expect(html).toContain('EU AI Act obligations');
    expect(html).toContain('Supplied by Marco Rossi');
    expect(html).toContain(pack.contentHash);
    expect(html).toContain('IA-2027-01');
    expect(attachment(packMail, /\.ics$/)?.content.toString()).toContain('SEQUENCE:1');

    // The meeting has started. Minutes: only the AIMS manager; unknown people are refused by name.
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(withPack.meetingStart!) - Date.now() + 1000)));
    expect(await updateRejection(review.executeUpdate(recordMinutesUpdate, { args: [minutes({ by: 'tom.baker' }) as never] }))).toContain('only the AIMS manager');
    expect(await updateRejection(review.executeUpdate(recordMinutesUpdate, { args: [minutes({ attendees: ['zoe.nobody'] }) as never] }))).toContain('zoe.nobody');
    expect(await updateRejection(review.executeUpdate(recordMinutesUpdate, { args: [{ ...minutes(), attendees: [] } as never] }))).toContain('attendees');
    await review.executeUpdate(recordMinutesUpdate, { args: [minutes() as never] });

    // Top management approves under the organization's rule (all).
    const pending = await eventually(() => statusOf(review), (s) => s.approval?.workflowId !== undefined);
    const approvalId = pending.approval!.workflowId;
    const approvalStatus = await eventually(
      () => stack.client.workflow.getHandle(approvalId).query(approvalStatusQuery).catch(() => undefined),
      (s) => (s?.approvers.length ?? 0) > 0,
    );
    expect(approvalStatus!.contentHash).toBe(pending.approvalHash);
    expect(approvalStatus!.approvers.map((a) => a.id).sort()).toEqual(['david.chen', 'hannah.okafor']);
    expect(approvalStatus!.summary).toContain('Automate the monthly drift report');
    await decide(approvalId, 'hannah.okafor', 'approve');
    await decide(approvalId, 'david.chen', 'approve');

    const result = await review.result();
    expect(result.status).toBe('completed');
    await recordHistory('management-review', review.workflowId);
    expect(result.actions).toMatchObject([
      { n: 1, kind: 'task', workflowId: `${review.workflowId}/action-1`, owner: 'tom.baker' },
      { n: 2, kind: 'corrective-action', owner: 'sofia.lind' },
    ]);
    const actionTask = await stack.client.workflow.getHandle(`${review.workflowId}/action-1`).query(taskStatusQuery);
    expect(actionTask).toMatchObject({ state: 'open', assignee: { id: 'tom.baker' }, dueAt: '2030-03-31T23:59:59.000Z' });
    const nc = await eventually(
      () => stack.client.workflow.getHandle(result.actions[1]!.workflowId).query(ncStatusQuery).catch(() => undefined),
      (s) => s !== undefined,
    );
    expect(nc).toMatchObject({ ncId: result.actions[1]!.ncId, owner: 'sofia.lind', severity: 'minor', sourceRef: review.workflowId });

    const [completed] = await stack.records.list({ subject: review.workflowId, kind: 'management-review.completed' });
    expect(completed?.content).toMatchObject({ reviewId: id, packHash: pack.contentHash, minutesVersion: 1, improvementDecisions: ['Automate the drift report for credit-scoring'] });
    const done = await completedReviews(stack.records, { from: today(), to: today() });
    expect(done).toEqual([{ reviewId: id, workflowId: review.workflowId, meetingDate: today(), approvedAt: result.approvedAt, actions: 2 }]);
    expect((await review.describe()).searchAttributes.AimsState).toEqual(['completed']);

    // The next cycle: input (a) starts from these actions and their live state; nobody supplies
    // anything, so every input is missing at the meeting.
    const nextId = reviewId();
    const next = await startReview({ reviewId: nextId, policy: { inputsDue: '3s', meetingIn: '6s', tasks: quiet } });
    const nextA = await eventually(
      () => stack.client.workflow.getHandle(`${next.workflowId}/input-a`).query(taskStatusQuery).catch(() => undefined),
      (s) => s !== undefined,
    );
    expect(nextA!.instructions).toContain(`previous review (${id})`);
    expect(nextA!.instructions).toContain('Automate the monthly drift report (owner tom.baker, due 2030-03-31, input e): open');
    await stack.client.workflow.getHandle(`${review.workflowId}/action-1`).executeUpdate(completeTaskUpdate, {
      args: [{ by: 'tom.baker', data: { summary: 'Report runs monthly', links: ['https://wiki.northwind.example/drift'] } }],
    });

    const nextPack = (await eventually(() => statusOf(next), (s) => s.state === 'awaiting-minutes', { timeoutMs: 30_000 })).pack!;
    expect(nextPack.inputs.every((i) => i.state === 'missing')).toBe(true);
    expect(nextPack.automatic.previousActions).toMatchObject({
      available: true,
      reviewId: id,
      actions: [
        { n: 1, state: 'completed', stateSource: 'live' },
        { n: 2, kind: 'corrective-action', ncId: result.actions[1]!.ncId, state: 'containment', stateSource: 'live' },
      ],
    });
    expect(nextPack.automatic.nonconformities).toMatchObject({ available: true, summary: { visibility: { available: true } } });
    const missingTask = await stack.client.workflow.getHandle(`${next.workflowId}/input-b`).query(taskStatusQuery);
    expect(missingTask.state).toBe('cancelled');
    const nextMail = await stack.smtp.waitFor((m) => isNotification(m, next.workflowId, 'management-review.pack', 'hannah.okafor@northwind.example'), 20_000);
    const nextHtml = attachment(nextMail, /\.html$/)?.content.toString() ?? '';
    expect(nextHtml.match(/Missing: not supplied by the meeting/g)?.length).toBe(5);
    expect(nextHtml).toContain('Automate the monthly drift report');

    // The AIMS manager cancels it with a reason; the ledger keeps it.
    expect(await updateRejection(next.executeUpdate(cancelReviewUpdate, { args: [{ by: 'tom.baker', reason: 'no' }] }))).toContain('only the AIMS manager');
    await next.executeUpdate(cancelReviewUpdate, { args: [{ by: 'priya.raman', reason: 'Merged into the H2 review' }] });
    expect(await next.result()).toMatchObject({ status: 'cancelled' });
    const [cancelled] = await stack.records.list({ subject: next.workflowId, kind: 'management-review.cancelled' });
    expect(cancelled?.content).toMatchObject({ reason: 'Merged into the H2 review' });
    const withdrawn = await stack.smtp.waitFor((m) => isNotification(m, next.workflowId, 'management-review.cancelled', 'hannah.okafor@northwind.example'), 20_000);
    const cancelIcs = attachment(withdrawn, /\.ics$/)?.content.toString() ?? '';
    expect(cancelIcs).toContain('METHOD:CANCEL');
    expect(cancelIcs).toContain(`UID:${next.workflowId}`);
    expect(withdrawn.text).toContain('Merged into the H2 review');
  }, 120_000);

  it('reminds and escalates late inputs, marks missing ones in the pack, and asks again when the minutes change after an approval', async () => {
    const id = reviewId();
    const review = await startReview({
      reviewId: id,
      policy: {
        inputsDue: '6s',
        meetingIn: '10s',
        tasks: { reminderOffsets: ['4s'], escalation: [{ after: '1s', to: 'manager' }] },
      },
    });
    await supply(review, 'b', 'priya.raman', 'No change in external issues.');
    await supply(review, 'c', 'priya.raman', 'No change in interested parties.');
    await supply(review, 'e', 'priya.raman', 'None this time.');
    // (d) is late: its owner is reminded, then escalated to their manager.
    await stack.smtp.waitFor((m) => isNotification(m, `${review.workflowId}/input-d`, 'task.reminder', 'marco.rossi@northwind.example'), 20_000);
    await stack.smtp.waitFor((m) => isNotification(m, `${review.workflowId}/input-d`, 'task.escalated', 'david.chen@northwind.example'), 20_000);

    const s = await eventually(() => statusOf(review), (st) => st.state === 'awaiting-minutes', { timeoutMs: 30_000 });
    expect(s.pack!.inputs.map((i) => [i.key, i.state])).toEqual([
      ['a', 'missing'],
      ['b', 'supplied'],
      ['c', 'supplied'],
      ['d', 'missing'],
      ['e', 'supplied'],
    ]);
    expect(s.timeline.filter((e) => e.type === 'input-missing').map((e) => e.detail)).toEqual([
      'input (a) from priya.raman missing at the meeting',
      'input (d) from marco.rossi missing at the meeting',
    ]);

    // The minutes decide on each missing input: leaving (a) and (d) undecided, or deciding on (b),
    // which was supplied, is refused naming the field and the rule.
    const undecided = await updateRejection(review.executeUpdate(recordMinutesUpdate, { args: [minutes({ actions: [] }) as never] }));
    expect(undecided).toContain('missingInputs: input (a) is missing from the pack and has no decision');
    expect(undecided).toContain('missingInputs: input (d) is missing from the pack and has no decision');
    expect(undecided).toContain('(rule missing-input-decision)');
    const decisions = [
      { input: 'a' as const, decision: 'accepted' as const, reason: 'First review with the new AIMS manager: no earlier actions to report' },
      { input: 'd' as const, decision: 'action' as const, action: { title: 'Supply the AI objectives figures', owner: 'marco.rossi', dueDate: '2030-01-31' } },
    ];
    const onSupplied = minutes({ actions: [], missingInputs: [...decisions, ...acceptedMissing('b')] });
    expect(await updateRejection(review.executeUpdate(recordMinutesUpdate, { args: [onSupplied as never] }))).toContain(
      'missingInputs.2.input: input (b) is not missing from the pack; decide only on missing inputs (rule decision-on-missing-input-only)',
    );
    expect((await statusOf(review)).approval).toBeUndefined();

    await review.executeUpdate(recordMinutesUpdate, { args: [minutes({ actions: [], missingInputs: decisions }) as never] });
    const first = await eventually(() => statusOf(review), (st) => st.approval !== undefined);
    const approvalId = first.approval!.workflowId;
    // Top management reads the decisions on the missing inputs.
    const asked = await eventually(() => stack.client.workflow.getHandle(approvalId).query(approvalStatusQuery).catch(() => undefined), (a) => a !== undefined);
    expect(asked!.summary).toContain(
      [
        'Decisions on inputs missing from the pack:',
        '(a) Status of actions from previous management reviews: accepted as missing: First review with the new AIMS manager: no earlier actions to report',
        '(d) Information on the AI management system performance: action 1 supplies it: Supply the AI objectives figures (owner marco.rossi, due 2030-01-31)',
      ].join('\n'),
    );
    await decide(approvalId, 'hannah.okafor', 'approve');

    // The minutes change after Hannah approved: her decision is void and both are asked again.
    const edited = minutes({ actions: [], changeDecisions: ['Add a model-retirement step', 'Review the AI policy in Q3'], missingInputs: decisions });
    const ack = await review.executeUpdate(recordMinutesUpdate, { args: [edited as never] });
    expect(ack.message).toContain('version 2');
    const afterEdit = await eventually(
      () => stack.client.workflow.getHandle(approvalId).query(approvalStatusQuery),
      (a) => a.version === 2,
    );
    const second = await statusOf(review);
    expect(afterEdit.contentHash).toBe(second.approvalHash);
    expect(afterEdit.contentHash).not.toBe(first.approvalHash);
    expect(afterEdit.decisions).toMatchObject([{ by: 'hannah.okafor', voided: true }]);
    expect(afterEdit.pending.sort()).toEqual(['david.chen', 'hannah.okafor']);
    expect(second.timeline.some((e) => e.type === 'minutes-edited')).toBe(true);
    // An unchanged resubmission is refused.
    expect(await updateRejection(review.executeUpdate(recordMinutesUpdate, { args: [edited as never] }))).toContain('unchanged');

    await decide(approvalId, 'david.chen', 'approve');
    await decide(approvalId, 'hannah.okafor', 'approve');
    const result = await review.result();
    // The action decided to supply input (d) is raised like any other.
    expect(result).toMatchObject({
      status: 'completed',
      actions: [{ n: 1, kind: 'task', input: 'd', owner: 'marco.rossi', title: 'Supply the AI objectives figures', workflowId: `${review.workflowId}/action-1` }],
    });
    const [completed] = await stack.records.list({ subject: review.workflowId, kind: 'management-review.completed' });
    expect(completed?.content).toMatchObject({
      minutesVersion: 2,
      approvalHash: afterEdit.contentHash,
      changeDecisions: ['Add a model-retirement step', 'Review the AI policy in Q3'],
      inputs: [
        { key: 'a', state: 'missing' },
        { key: 'b', state: 'supplied' },
        { key: 'c', state: 'supplied' },
        { key: 'd', state: 'missing' },
        { key: 'e', state: 'supplied' },
      ],
      missingInputs: [
        { input: 'a', decision: 'accepted', reason: 'First review with the new AIMS manager: no earlier actions to report' },
        { input: 'd', decision: 'action', action: 1, title: 'Supply the AI objectives figures', workflowId: `${review.workflowId}/action-1` },
      ],
    });
    const minuteRecords = await stack.records.list({ subject: review.workflowId, kind: 'management-review.minutes' });
    expect(minuteRecords.map((r) => (r.content as { version: number }).version)).toEqual([1, 2]);
    const closed: ManagementReviewStatus = await statusOf(review);
    expect(closed).toMatchObject({ state: 'completed', approval: { round: 1, state: 'approved' }, minutes: { version: 2 } });
    // The pack with the minutes shows the decisions.
    const html = renderPackHtml(closed.pack!, closed);
    expect(html).toContain('accepted as missing: First review with the new AIMS manager');
    expect(html).toContain('action 1 supplies it: Supply the AI objectives figures (owner marco.rossi, due 2030-01-31)');
  });

  it('goes back to the AIMS manager when top management rejects the results, and asks again for the new minutes', async () => {
    const review = await startReview({ reviewId: reviewId(), policy: { inputsDue: '1h', meetingIn: '2s', tasks: quiet } });
    await eventually(() => statusOf(review), (s) => s.state === 'awaiting-minutes', { timeoutMs: 30_000 });
    // An action due in the past is refused naming its field and the rule.
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const backdated = minutes({ actions: [{ title: 'Backdated action', owner: 'tom.baker', dueDate: yesterday, input: 'e' }] });
    expect(await updateRejection(review.executeUpdate(recordMinutesUpdate, { args: [backdated as never] }))).toContain(
      `actions.0.dueDate: ${yesterday} is in the past (rule action-due-not-in-the-past)`,
    );
    await review.executeUpdate(recordMinutesUpdate, { args: [minutes({ actions: [], missingInputs: acceptedMissing('a', 'b', 'c', 'd', 'e') }) as never] });
    const first = await eventually(() => statusOf(review), (s) => s.approval?.round === 1);
    await decide(first.approval!.workflowId, 'david.chen', 'reject', 'The decisions do not address the missing inputs');
    const back = await eventually(() => statusOf(review), (s) => s.state === 'awaiting-minutes' && s.approval?.state === 'rejected');
    expect(back.timeline.at(-1)?.type).toBe('rejected');
    expect(back.timeline.at(-1)?.detail).toContain('The decisions do not address the missing inputs');
    // The AIMS manager got the rejection from the approval.
    await stack.smtp.waitFor((m) => isNotification(m, first.approval!.workflowId, 'approval.decided', 'priya.raman@northwind.example'), 20_000);

    await review.executeUpdate(recordMinutesUpdate, {
      args: [
        minutes({
          actions: [{ title: 'Collect the inputs four weeks before the meeting', owner: 'priya.raman', dueDate: '2030-01-31', input: 'a' }],
          changeDecisions: ['Collect the inputs four weeks before the meeting from now on'],
          // Input (a) is answered by the first action; the others are accepted as missing.
          missingInputs: [{ input: 'a', decision: 'action', action: 0 }, ...acceptedMissing('b', 'c', 'd', 'e')],
          reviewPolicy: 'The regulator published new guidance on automated credit decisions',
        }) as never,
      ],
    });
    const second = await eventually(() => statusOf(review), (s) => s.approval?.round === 2);
    expect(second.approval!.workflowId).toBe(`${review.workflowId}/approval-2`);
    expect(second.minutes!.version).toBe(2);
    await decide(second.approval!.workflowId, 'hannah.okafor', 'approve');
    await decide(second.approval!.workflowId, 'david.chen', 'approve');
    expect(await review.result()).toMatchObject({ status: 'completed' });
    // The decision to review the AI policy started its review, which outlives the management review.
    const policyReview = stack.client.workflow.getHandle(policyReviewWorkflowId(`mr-${review.workflowId.replace('management-review/', '')}`.toLowerCase()));
    const started = await eventually(() => policyReview.query(policyReviewStatusQuery).catch(() => undefined), (st) => st !== undefined && st.owner !== '', { timeoutMs: 30_000 });
    expect(started).toMatchObject({ trigger: 'management-review', owner: 'priya.raman' });
    expect(started!.history[0]!.detail).toContain('The regulator published new guidance on automated credit decisions');
    await policyReview.terminate('test finished');
  });

  it('is started by the yearly schedule launcher with its minimal input', async () => {
    const scheduleId = `test-mr-schedule-${randomInt(1_000_000)}`;
    const schedule = await stack.client.schedule.create({
      scheduleId,
      spec: { calendars: [{ month: 'JANUARY', dayOfMonth: 1, hour: 8 }] },
      action: { type: 'startWorkflow', workflowType: 'scheduledCycle', taskQueue: stack.taskQueue, args: [{ kind: 'management-review', meetingAfter: '30d' }] },
      policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL },
      state: { paused: true },
    });
    try {
      await schedule.trigger();
      const year = String(new Date().getUTCFullYear());
      const review = stack.client.workflow.getHandle(managementReviewWorkflowId(year));
      const s = await eventually(
        () => review.query(managementReviewStatusQuery).catch(() => undefined),
        (st) => st?.state === 'collecting-inputs' && st.inputs.length === 5,
        { timeoutMs: 30_000 },
      );
      expect(s).toMatchObject({ reviewId: year, trigger: 'schedule', requestedBy: 'system' });
      expect(Date.parse(s!.meetingStart!) - Date.now()).toBeGreaterThan(25 * 86_400_000);
      // Inputs are due 14 days before the meeting (organization default).
      expect(Date.parse(s!.meetingStart!) - Date.parse(s!.inputsDueAt!)).toBe(14 * 86_400_000);
      await review.executeUpdate(cancelReviewUpdate, { args: [{ by: 'system', reason: 'test schedule run' }] });
      expect(await review.result()).toMatchObject({ status: 'cancelled' });
    } finally {
      await schedule.delete();
    }
  });

  it('refuses a bad input naming the field', async () => {
    const review = await startReview({ reviewId: reviewId(), meetingDate: '2027-02-30' });
    // The failure's message is encrypted in the history (encoded failures); the client decodes it.
    const failure = await review.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause?.message).toContain('meetingDate: must be a date as YYYY-MM-DD');
  });
});

/** People change and steps fail while reviews run (issue #21). */
describe('management review when people change or steps fail', () => {
  const handover = (review: Review, from: string, to: string) =>
    review.executeUpdate(handoverUpdate, { args: [{ by: 'system', from, to, reason: `${from} left the company`, ref: 'org-change-13' }] });

  it('hands over an input owner and an attendee; the new attendee is invited; twice moves nothing', async () => {
    const review = await startReview({ reviewId: reviewId() });
    await eventually(() => statusOf(review), (s) => s.inputs.length === 5 && s.attendees.includes('marco.rossi'));
    const ack = await handover(review, 'marco.rossi', 'tom.baker');
    expect(ack).toMatchObject({ moved: true, parts: [{ part: 'input-owner', to: 'tom.baker' }, { part: 'attendee', to: 'tom.baker' }] });
    expect(await handover(review, 'marco.rossi', 'tom.baker')).toMatchObject({ moved: false });
    const invited = await stack.smtp.waitFor((m) => isNotification(m, review.workflowId, 'management-review.invitation', 'tom.baker@northwind.example'), 20_000);
    expect(attachment(invited, /\.ics$/)).toBeDefined();
    const s = await statusOf(review);
    expect(s.inputs.find((i) => i.key === 'd')?.owner).toBe('tom.baker');
    expect(s.attendees).toContain('tom.baker');
    expect(s.attendees).not.toContain('marco.rossi');
    const records = await stack.records.list({ subject: review.workflowId, kind: 'handover' });
    expect(records.map((r) => (r.content as { part: string }).part)).toEqual(['input-owner', 'attendee']);
    await stack.smtp.waitFor((m) => isNotification(m, review.workflowId, 'work.handed-over', 'tom.baker@northwind.example'), 20_000);
    await review.executeUpdate(cancelReviewUpdate, { args: [{ by: 'system', reason: 'test done' }] });
    await review.result();
    await recordHistory('management-review-handover', review.workflowId);
  });

  it('a failed input task and a failed approval are asked again; the timeline and the ledger say why', async () => {
    const review = await startReview({ reviewId: reviewId(), policy: { inputsDue: '1h', meetingIn: '4s', tasks: quiet } });
    const inputB = stack.client.workflow.getHandle(`${review.workflowId}/input-b`);
    await eventually(() => inputB.describe().catch(() => undefined), (d) => d?.status.name === 'RUNNING');
    await inputB.terminate('the worker lost it');
    await supply(review, 'b-r2', 'priya.raman', 'Regulation on AI credit scoring changed in the UK.');
    const supplied = await eventually(() => statusOf(review), (s) => s.inputs.find((i) => i.key === 'b')?.state === 'supplied');
    expect(supplied.inputs.find((i) => i.key === 'b')?.taskWorkflowId).toBe(`${review.workflowId}/input-b-r2`);
    expect(supplied.timeline.find((e) => e.type === 'step-failed')?.detail).toBe('input (b): it was terminated; asked again');

    await eventually(() => statusOf(review), (s) => s.state === 'awaiting-minutes', { timeoutMs: 30_000 });
    await review.executeUpdate(recordMinutesUpdate, { args: [minutes({ actions: [], missingInputs: acceptedMissing('a', 'c', 'd', 'e') }) as never] });
    const first = await eventually(() => statusOf(review), (s) => s.approval?.round === 1);
    const approval = stack.client.workflow.getHandle(first.approval!.workflowId);
    await eventually(() => approval.describe().catch(() => undefined), (d) => d?.status.name === 'RUNNING');
    await approval.terminate('the worker lost it');
    const again = await eventually(() => statusOf(review), (s) => s.approval?.workflowId === `${review.workflowId}/approval-1-r2`);
    expect(again.state).toBe('awaiting-approval');
    await decide(again.approval!.workflowId, 'hannah.okafor', 'approve');
    await decide(again.approval!.workflowId, 'david.chen', 'approve');
    expect(await review.result()).toMatchObject({ status: 'completed' });
    const failed = await stack.records.list({ subject: review.workflowId, kind: 'management-review.step-failed' });
    expect(failed.map((r) => (r.content as { step: string }).step)).toEqual(['input-b', 'approval-1']);
  });
});
