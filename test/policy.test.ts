/**
 * The AI policy as a controlled document (5.2, A.2.4) and its awareness (7.3), against the real
 * dev server, SMTP server and ledger: a review that makes a new version, approved by top
 * management bound to its hash; acknowledgements by three people with reminders and the
 * completion rate; a later review with "no change" recorded; and the management-review pack
 * built from the same ledger, showing the objectives' gathered values with a chart and the
 * acknowledgement rate in its printable HTML.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManagementReviewActivities } from '../activities/management-review.js';
import { approvalStatusQuery, decideUpdate } from '../src/approval/contract.js';
import { contentHashOf } from '../src/records/hash.js';
import { renderPackHtml } from '../src/management-review/pack.js';
import type { ReviewPack } from '../src/management-review/schema.js';
import { objectiveStatusQuery } from '../src/objectives/contract.js';
import { ensureObjective } from '../src/objectives/start.js';
import { POLICY_REVIEW_WORKFLOW, policyReviewStatusQuery, policyReviewWorkflowId, type PolicyReviewWorkflow } from '../src/policy/contract.js';
import { acknowledgementsOf, policyDiff, policyVersions } from '../src/policy/versions.js';
import { competenceRenewalsScheduleId, ensurePolicyAndCompetenceSchedules, policyReviewScheduleId } from '../src/policy/schedule.js';
import { completeTaskUpdate, taskStatusQuery } from '../src/task/contract.js';
import { buildStackApp, TEST_ADMIN_HEADERS } from './helpers/browser.js';
import { recordHistory } from './helpers/histories.js';
import { isNotification } from './helpers/smtp.js';
import { eventually, exampleOrganization, startTestStack, type TestStack } from './helpers/temporal.js';

let stack: TestStack;
beforeAll(async () => {
  const org = await exampleOrganization();
  stack = await startTestStack({ organization: { ...org, aiPolicy: { ...org.aiPolicy, acknowledgedBy: ['sofia.lind', 'tom.baker', 'liam.walsh'] } } });
});
afterAll(async () => {
  await stack?.stop();
});

const quiet = { reminderOffsets: [], escalation: [] };
const POLICY_V1 = 'Northwind Lending AI policy\n1. AI systems serve our customers fairly.\n2. AI systems perform as intended and are monitored.\n3. We meet legal and contractual requirements.\n4. We improve the AI management system continually.';

async function complete(taskId: string, by: string, data: Record<string, unknown>) {
  const task = stack.client.workflow.getHandle(taskId);
  await eventually(() => task.query(taskStatusQuery).catch(() => undefined), (s) => s?.state === 'open' && s.assignee.id !== '', { timeoutMs: 30_000 });
  return task.executeUpdate(completeTaskUpdate, { args: [{ by, data }] });
}

async function approve(approvalId: string, by: string) {
  const approval = stack.client.workflow.getHandle(approvalId);
  const s = await eventually(() => approval.query(approvalStatusQuery).catch(() => undefined), (st) => st?.state === 'pending' && st.approvers.length > 0, { timeoutMs: 30_000 });
  await approval.executeUpdate(decideUpdate, { args: [{ by, decision: 'approve', contentHash: s!.contentHash }] });
  return s!;
}

function startReview(reviewRef: string, extra: Record<string, unknown> = {}) {
  return stack.client.workflow.start<PolicyReviewWorkflow>(POLICY_REVIEW_WORKFLOW, {
    taskQueue: stack.taskQueue,
    workflowId: policyReviewWorkflowId(reviewRef),
    args: [{ reviewRef, trigger: 'admin', requestedBy: 'priya.raman', policy: { tasks: quiet, acknowledgementDue: '4s', acknowledgementTasks: { reminderOffsets: ['3s'], escalation: [] } }, ...extra }],
  });
}

describe('AI policy review and awareness', () => {
  it('approves a new version bound to its hash, collects three acknowledgements with reminders and the rate, then records a review with no change', async () => {
    const ref = `t${randomBytes(4).toString('hex')}`;
    const h = await startReview(ref);
    const id = h.workflowId;
    // No version in force: the owner (the AIMS manager) writes the first one.
    await complete(`${id}/draft-1`, 'priya.raman', { text: POLICY_V1 });
    const shown = await approve(`${id}/approval-1`, 'hannah.okafor');
    expect(shown.contentHash).toBe(contentHashOf({ title: 'AI policy version 1', version: 1, text: POLICY_V1 }));
    await approve(`${id}/approval-1`, 'david.chen');

    // Everyone in scope gets an acknowledgement task with the policy.
    const ackTask = await eventually(
      () => stack.client.workflow.getHandle(`${id}/acknowledgement-tom.baker`).query(taskStatusQuery).catch(() => undefined),
      (t) => t?.state === 'open' && t.assignee.id !== '',
      { timeoutMs: 30_000 },
    );
    expect(ackTask).toMatchObject({ form: 'acknowledgement', clauses: ['7.3', '5.2'] });
    expect(ackTask!.instructions).toContain('2. AI systems perform as intended and are monitored.');
    await complete(`${id}/acknowledgement-sofia.lind`, 'sofia.lind', { acknowledged: 'yes' });
    const partial = await eventually(() => h.query(policyReviewStatusQuery), (s) => s.acknowledgements.filter((a) => a.state === 'acknowledged').length === 1);
    expect(partial.acknowledgementRate).toBeCloseTo(1 / 3);
    expect(partial.state).toBe('acknowledging');
    // The two still open are reminded like any task.
    const reminder = await stack.smtp.waitFor((m) => isNotification(m, `${id}/acknowledgement-liam.walsh`, 'task.reminder'), 30_000);
    expect(reminder.subject).toContain('Read and acknowledge the AI policy, version 1');
    await complete(`${id}/acknowledgement-tom.baker`, 'tom.baker', { acknowledged: 'yes', comment: 'Read it.' });
    await eventually(async () => (await acknowledgementsOf(stack.records, 1))?.acknowledged.length, (n) => n === 2);
    // Who has and has not acknowledged, from the ledger.
    expect((await acknowledgementsOf(stack.records, 1))?.pending).toEqual(['liam.walsh']);
    await complete(`${id}/acknowledgement-liam.walsh`, 'liam.walsh', { acknowledged: 'yes' });
    const result = await h.result();
    expect(result).toEqual({ reviewRef: ref, outcome: 'new version', version: 1, acknowledged: 3, inScope: 3 });
    const acks = await acknowledgementsOf(stack.records, 1);
    expect(acks).toMatchObject({ version: 1, pending: [], rate: 1 });
    expect(acks!.acknowledged.map((a) => a.person).sort()).toEqual(['liam.walsh', 'sofia.lind', 'tom.baker']);
    const versions = await policyVersions(stack.records);
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatchObject({ version: 1, owner: 'priya.raman', approvedBy: ['hannah.okafor', 'david.chen'], contentHash: shown.contentHash });
    await recordHistory('policy-review', id);

    // The next review: the owner reviews version 1 and keeps it; "no change" is recorded.
    const again = await startReview(`${ref}-2`, { trigger: 'management-review', reason: 'decided by management review 2027' });
    const reviewTask = await eventually(
      () => stack.client.workflow.getHandle(`${again.workflowId}/review`).query(taskStatusQuery).catch(() => undefined),
      (t) => t?.state === 'open' && t.assignee.id !== '',
      { timeoutMs: 30_000 },
    );
    expect(reviewTask).toMatchObject({ form: 'choice', choices: ['no change', 'new version'], assignee: { id: 'priya.raman' } });
    expect(reviewTask!.instructions).toContain('decided by management review 2027');
    await complete(`${again.workflowId}/review`, 'priya.raman', { choice: 'no change', note: 'Still fits our purpose.' });
    expect(await again.result()).toMatchObject({ outcome: 'no change', version: 1, inScope: 0 });
    const reviewed = await stack.records.list({ kind: 'policy.reviewed', subject: again.workflowId });
    expect(reviewed[0]!.content).toMatchObject({ outcome: 'no change', note: 'Still fits our purpose.', current: { version: 1 } });
  });

  it('diffs two versions line by line', () => {
    const v2 = POLICY_V1.replace('2. AI systems perform as intended and are monitored.', '2. AI systems perform as intended, are monitored and explained.') + '\n5. We listen to concerns.';
    const diff = policyDiff(POLICY_V1, v2);
    expect(diff.filter((d) => d.op !== ' ')).toEqual([
      { op: '-', line: '2. AI systems perform as intended and are monitored.' },
      { op: '+', line: '2. AI systems perform as intended, are monitored and explained.' },
      { op: '+', line: '5. We listen to concerns.' },
    ]);
    expect(diff.filter((d) => d.op === ' ')).toHaveLength(4);
  });

  it('builds the management-review pack with the objectives\' gathered values, a chart each, and the acknowledgement rate', async () => {
    // An objective measured twice by its workflow, into the same ledger.
    const objectiveId = `fairness-${randomBytes(4).toString('hex')}`;
    const ensured = await ensureObjective(
      stack.client,
      stack.taskQueue,
      {
        objectiveId,
        definition: {
          id: objectiveId,
          statement: 'Keep the approval-rate gap between age groups small.',
          owner: 'marco.rossi',
          serves: 'Commitment 1: AI systems serve our customers fairly',
          metric: { name: 'Approval-rate gap', unit: 'pp', direction: 'lower-is-better', target: 2, atRisk: 4 },
          measurement: { method: 'Monthly fairness report' },
        },
        policy: { every: '1s', firstIn: '1s', dueIn: '1h', tasks: quiet },
      },
      { organization: stack.organization },
    );
    await complete(`${ensured.workflowId}/measurement-1`, 'marco.rossi', { value: 3.1, method: 'Fairness report, March' });
    await complete(`${ensured.workflowId}/measurement-2`, 'marco.rossi', { value: 1.8, method: 'Fairness report, April' });
    await eventually(() => stack.client.workflow.getHandle(ensured.workflowId).query(objectiveStatusQuery), (s) => s.series.length === 2);
    await eventually(() => stack.records.list({ kind: 'objective.measured', subject: ensured.workflowId }), (r) => r.length === 2);

    const activities = createManagementReviewActivities({
      organization: () => stack.organization,
      records: stack.records,
      temporal: { client: stack.client, taskQueue: stack.taskQueue },
      sendNotification: () => Promise.reject(new Error('not used')),
      links: stack.links,
    });
    const today = new Date().toISOString().slice(0, 10);
    const automatic = await activities.collectManagementReviewSources({ workflowId: 'management-review/pack-test', meetingDate: today, period: { from: '2000-01-01', to: today } });
    expect(automatic.objectives).toMatchObject({ available: true });
    const figure = automatic.objectives!.available ? automatic.objectives!.objectives.find((o) => o.objectiveId === objectiveId) : undefined;
    expect(figure).toMatchObject({ latest: { value: 1.8, evaluation: 'on-target' }, target: 2, atRisk: 4, trend: 'improving', measurements: 2, misses: 1, missesInRow: 0 });
    expect(automatic.awareness).toMatchObject({ available: true, figure: { version: 1, inScope: 3, acknowledged: 3, rate: 1 } });

    const body: Omit<ReviewPack, 'contentHash'> = {
      reviewId: 'pack-test',
      workflowId: 'management-review/pack-test',
      organizationName: stack.organization.organization.name,
      meetingDate: today,
      meetingStart: `${today}T10:00:00.000Z`,
      meetingEnd: `${today}T12:00:00.000Z`,
      builtAt: new Date().toISOString(),
      inputs: [{ key: 'd', title: 'Information on the AI management system performance', owner: 'priya.raman', taskWorkflowId: 'management-review/pack-test/input-d', dueAt: `${today}T09:00:00.000Z`, state: 'missing' }],
      automatic,
    };
    const html = renderPackHtml({ ...body, contentHash: contentHashOf(body) });
    const row = new RegExp(`<tr class="objective" id="objective-${objectiveId}"><td><strong>${objectiveId}</strong>: Keep the approval-rate gap between age groups small.<br>Approval-rate gap</td><td>1.8 pp \\(on target, ${today}\\)</td><td>2 pp</td><td>4 pp</td><td>improving over 2 measurement\\(s\\)</td><td>1 in the period, 0 in a row</td></tr>`);
    expect(html).toMatch(row);
    const chart = html.slice(html.indexOf(`id="objective-${objectiveId}"`)).match(/<svg[\s\S]*?<\/svg>/)![0];
    expect(chart.match(/<circle /g)).toHaveLength(2);
    expect(chart).toContain('3.1 pp (off target)');
    expect(html).toContain('Awareness of the AI policy (7.3)');
    expect(html).toMatch(/<tr><th>Acknowledged<\/th><td>3 of 3 \(100 %\)<\/td><\/tr>/);

    // The console pages: the register, the objective with its chart and series, the policy's versions and acknowledgements.
    const app = await buildStackApp(stack);
    try {
      const get = (url: string) => app.inject({ method: 'GET', url, headers: TEST_ADMIN_HEADERS });
      const register = await get('/console/objectives');
      expect(register.statusCode).toBe(200);
      expect(register.headers['content-type']).toContain('text/html');
      expect(register.body).toContain(`<a href="/console/objectives/${objectiveId}">${objectiveId}</a>`);
      const page = await get(`/console/objectives/${objectiveId}`);
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('Approval-rate gap: target 2 pp, at risk past 4 pp (lower is better)');
      expect(page.body.match(/<circle /g)).toHaveLength(2);
      expect(page.body).toMatch(/<td>2<\/td><td>[\d-]+<\/td><td>1.8<\/td><td>on target<\/td>/);
      expect((await get('/console/objectives/no-such-objective')).statusCode).toBe(404);
      const versions = await get('/console/policy');
      expect(versions.body).toContain('<a href="/console/policy/1">1</a>');
      const v1 = await get('/console/policy/1');
      expect(v1.body).toContain('2. AI systems perform as intended and are monitored.');
      expect(v1.body).toContain('3 of 3 acknowledged (100 %)');
      expect(v1.body).toContain('<td>liam.walsh</td>');
      expect((await get('/console/policy/9')).statusCode).toBe(404);
      expect((await get('/console/policy/nine')).statusCode).toBe(400);
      // The pages moved into the console; the admin API no longer serves them.
      expect((await get('/admin/console/objectives')).statusCode).toBe(404);
    } finally {
      await app.close();
    }
  });

  it('reviews the policy at its planned interval from a schedule every worker ensures, and asks for competence renewals daily', async () => {
    const deps = { client: stack.client, taskQueue: stack.taskQueue };
    expect(await ensurePolicyAndCompetenceSchedules(deps, stack.organization)).toEqual({ policyReview: 'created', competenceRenewals: 'created' });
    expect(await ensurePolicyAndCompetenceSchedules(deps, stack.organization)).toEqual({ policyReview: 'unchanged', competenceRenewals: 'unchanged' });
    const schedule = stack.client.schedule.getHandle(policyReviewScheduleId(stack.taskQueue));
    try {
      const described = await schedule.describe();
      expect(described.spec.intervals?.[0]?.every).toBe(365 * 86_400_000);
      await schedule.trigger();
      const run = await eventually(() => schedule.describe(), (d) => d.info.recentActions.length > 0, { timeoutMs: 30_000 });
      const workflowId = run.info.recentActions[0]!.action.workflow.workflowId;
      expect(workflowId).toMatch(new RegExp(`^policy-review/scheduled@${stack.taskQueue}-`));
      const review = await eventually(
        () => stack.client.workflow.getHandle(`${workflowId}/review`).query(taskStatusQuery).catch(() => undefined),
        (t) => t?.state === 'open' && t.assignee.id !== '',
        { timeoutMs: 30_000 },
      );
      expect(review).toMatchObject({ title: 'Review the AI policy (version 1)', assignee: { id: 'priya.raman' } });
      await complete(`${workflowId}/review`, 'priya.raman', { choice: 'no change' });
      expect(await stack.client.workflow.getHandle(workflowId).result()).toMatchObject({ outcome: 'no change', version: 1 });
      const started = await stack.records.list({ kind: 'policy.review-started', subject: workflowId });
      expect(started[0]!.content).toMatchObject({ trigger: 'schedule' });
    } finally {
      await schedule.delete().catch(() => undefined);
      await stack.client.schedule.getHandle(competenceRenewalsScheduleId(stack.taskQueue)).delete().catch(() => undefined);
    }
  });
});
