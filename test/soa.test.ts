/**
 * The Statement of Applicability and the risk register through the admin API, and the yearly
 * SoA review through its Temporal Schedule, against the real dev server, SMTP server and
 * ledger: edits as versions, the diff, the HTML and CSV exports, the review task and top
 * management's approval bound to the version's hash; and bad input refused naming the field or
 * the rule (an unknown control id, a level off the scales, an acceptance by someone who is not
 * top management or owns the risk), never a 5xx.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiInstance } from '../src/api/app.js';
import { approvalStatusQuery, decideUpdate } from '../src/approval/contract.js';
import { cycleScheduleId } from '../src/schedules/manage.js';
import type { ScheduledCycleResult } from '../src/schedules/schema.js';
import { soaReviewStatusQuery, type SoaReviewResult } from '../src/soa/contract.js';
import { completeTaskUpdate, taskStatusQuery } from '../src/task/contract.js';
import { runCli } from '../src/cli/index.js';
import { buildStackApp, TEST_ADMIN_HEADERS } from './helpers/browser.js';
import { recordHistory } from './helpers/histories.js';
import { headersOf } from './helpers/keys.js';
import { isNotification } from './helpers/smtp.js';
import { eventually, startTestStack, type TestStack } from './helpers/temporal.js';

let stack: TestStack;
let app: ApiInstance;
let apiUrl: string;
beforeAll(async () => {
  stack = await startTestStack();
  app = await buildStackApp(stack);
  apiUrl = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await stack?.client.schedule.getHandle(cycleScheduleId('soa-review', stack.taskQueue)).delete().catch(() => undefined);
  await app?.close();
  await stack?.stop();
});

/** The fields these tests read from the API's answers. */
interface Body {
  message: string;
  version: number;
  hash: string;
  controls: unknown[];
  changes: unknown[];
  approved: unknown;
  risk: { riskId: string; state: string; inherent: { level: string } };
  risks: Array<{ riskId: string }>;
  history: Array<{ kind: string }>;
  workflowId: string;
}

const call = (method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, payload?: object, headers: Record<string, string> = TEST_ADMIN_HEADERS) =>
  app.inject({ method, url, headers, ...(payload ? { payload } : {}) });

describe('Statement of Applicability', () => {
  it('versions every edit, shows the diff, exports HTML and CSV, and refuses bad edits naming the field', async () => {
    const v0 = await call('GET', '/admin/soa');
    expect(v0.statusCode).toBe(200);
    expect(v0.json<Body>()).toMatchObject({ version: 0, approved: null });
    expect(v0.json<Body>().controls).toHaveLength(38);

    const unknown = await call('PUT', '/admin/soa', { changes: [{ control: 'A.99.1', included: true }], reason: 'typo' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json<Body>().message).toContain('changes.0.control');
    expect(unknown.json<Body>().message).toContain('unknown Annex A control id');
    const noWhy = await call('PUT', '/admin/soa', { changes: [{ control: 'A.8.3', included: false }], reason: 'no duty' });
    expect(noWhy.statusCode).toBe(400);
    expect(noWhy.json<Body>().message).toContain('changes.0.justification');
    const nobody = await call('PUT', '/admin/soa', { changes: [{ control: 'A.8.3', owner: 'nobody' }], reason: 'owner' });
    expect(nobody.statusCode).toBe(400);
    expect(nobody.json<Body>().message).toContain('changes.0.owner: unknown person "nobody"');
    expect((await call('PUT', '/admin/soa', { changes: [{ control: 'A.8.3', included: true }], reason: 'x' }, headersOf('tom.baker'))).statusCode).toBe(403);

    const edited = await call('PUT', '/admin/soa', {
      changes: [
        { control: 'A.8.3', included: false, justification: 'Northwind has no external reporting duty for its AI systems.' },
        { control: 'A.6.2.8', implementation: 'implemented', addEvidence: ['https://wiki.northwind.example/ml/event-logs'] },
      ],
      reason: 'scope review',
    });
    expect(edited.statusCode).toBe(200);
    const version = edited.json<Body>().version;
    expect(version).toBeGreaterThanOrEqual(1);

    const diff = await call('GET', `/admin/soa/diff?from=${version - 1}&to=${version}`);
    expect(diff.statusCode).toBe(200);
    expect(diff.json<Body>().changes).toEqual([
      { control: 'A.6.2.8', field: 'implementation', from: 'planned', to: 'implemented' },
      { control: 'A.6.2.8', field: 'evidence', from: [], to: ['https://wiki.northwind.example/ml/event-logs'] },
      { control: 'A.8.3', field: 'included', from: true, to: false },
      { control: 'A.8.3', field: 'justification', from: 'applicable in the AIMS scope (organization file)', to: 'Northwind has no external reporting duty for its AI systems.' },
      { control: 'A.8.3', field: 'implementation', from: 'planned', to: null },
    ]);
    expect((await call('GET', `/admin/soa/diff?from=0&to=${version + 5}`)).statusCode).toBe(404);
    expect((await call('GET', '/admin/soa/diff?from=x&to=1')).statusCode).toBe(400);

    const csv = await call('GET', `/admin/soa/export.csv?version=${version}`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.trimEnd().split('\r\n');
    expect(lines).toHaveLength(39);
    expect(lines[0]).toBe('"control","title","included","justification","implementation","owner","evidence","risks"');
    expect(lines.find((l) => l.startsWith('"A.8.3"'))).toBe('"A.8.3","External reporting","no","Northwind has no external reporting duty for its AI systems.","","tom.baker","",""');
    const html = await call('GET', '/admin/soa/export.html');
    expect(html.statusCode).toBe(200);
    expect(html.headers['content-type']).toContain('text/html');
    expect(html.body).toContain(`version ${version}`);
    expect(html.body).toContain('<td>A.6.2.8</td><td>AI system recording of event logs</td><td>Included</td>');
    expect(html.body).toContain('<a href="https://wiki.northwind.example/ml/event-logs">');
    expect((await call('GET', '/admin/soa/export.pdf')).statusCode).toBe(400);
  });

  it('runs the yearly review from its schedule: the AIMS manager reviews, top management approves the version bound to its hash', { timeout: 90_000 }, async () => {
    expect((await call('PUT', '/admin/schedules/soa-review', { month: 2, day: 1, hour: 9, timezone: 'UTC' })).statusCode).toBe(201);
    expect((await call('PUT', '/admin/schedules/soa-review', { month: 2, day: 1, meetingAfter: '30d' })).statusCode).toBe(400);
    const handle = stack.client.schedule.getHandle(cycleScheduleId('soa-review', stack.taskQueue));
    await handle.backfill({ start: new Date('2012-02-01T00:00:00Z'), end: new Date('2012-02-01T23:59:59Z') });
    const described = await eventually(() => handle.describe(), (d) => d.info.recentActions.some((a) => a.scheduledAt.toISOString().startsWith('2012-02-01')));
    const launcher = described.info.recentActions.find((a) => a.scheduledAt.toISOString().startsWith('2012-02-01'))!;
    const fired = (await stack.client.workflow.getHandle(launcher.action.workflow.workflowId).result()) as ScheduledCycleResult;
    expect(fired).toMatchObject({ kind: 'soa-review', workflowId: 'soa-review/2012', started: true });
    const review = stack.client.workflow.getHandle('soa-review/2012');

    await stack.smtp.waitFor((m) => isNotification(m, 'soa-review/2012/review-1', 'task.assigned', 'priya.raman@northwind.example'), 20_000);
    const task = stack.client.workflow.getHandle('soa-review/2012/review-1');
    await eventually(() => task.query(taskStatusQuery).catch(() => undefined), (t) => t?.state === 'open' && t.assignee.id !== '');
    await task.executeUpdate(completeTaskUpdate, { args: [{ by: 'priya.raman', data: { choice: 'no change', note: 'Checked against the risk treatments.' } }] });

    const approval = stack.client.workflow.getHandle('soa-review/2012/approval-1');
    const shown = await eventually(() => approval.query(approvalStatusQuery).catch(() => undefined), (s) => s?.state === 'pending' && s.approvers.length > 0);
    const current = (await call('GET', '/admin/soa')).json<Body>();
    expect(shown!.contentHash).toBe(current.hash);
    expect(shown!.approvers.map((a) => a.id).sort()).toEqual(['david.chen', 'hannah.okafor']);
    await approval.executeUpdate(decideUpdate, { args: [{ by: 'hannah.okafor', decision: 'approve', contentHash: shown!.contentHash }] });

    const result = (await review.result()) as SoaReviewResult;
    expect(result).toMatchObject({ status: 'approved', version: current.version, hash: current.hash, changed: false });
    expect((await review.query(soaReviewStatusQuery)).approvedBy).toBe('hannah.okafor');
    const approved = (await call('GET', `/admin/soa?version=${current.version}`)).json<Body>();
    expect(approved.approved).toMatchObject({ by: 'hannah.okafor', approvalId: 'soa-review/2012/approval-1' });
    expect((await stack.records.list({ subject: 'soa-review/2012' })).map((r) => r.kind)).toEqual(['soa-review.started', 'soa-review.completed']);
    const rerun = await call('POST', '/admin/soa/reviews', { year: 2012 });
    expect(rerun.statusCode).toBe(409);
    await recordHistory('soa-review', 'soa-review/2012');
  });
});

describe('planned risk assessments', () => {
  it('the yearly schedule starts the AIMS-wide assessment and one per AI system, once a year', { timeout: 60_000 }, async () => {
    expect((await call('PUT', '/admin/schedules/risk-assessment', { month: 1, day: 15, hour: 6, timezone: 'UTC' })).statusCode).toBe(201);
    const handle = stack.client.schedule.getHandle(cycleScheduleId('risk-assessment', stack.taskQueue));
    const fire = async () => {
      await handle.backfill({ start: new Date('2013-01-15T00:00:00Z'), end: new Date('2013-01-15T23:59:59Z') });
      const d = await eventually(() => handle.describe(), (x) => x.info.recentActions.some((a) => a.scheduledAt.toISOString().startsWith('2013-01-15')));
      const run = d.info.recentActions.filter((a) => a.scheduledAt.toISOString().startsWith('2013-01-15')).at(-1)!;
      return (await stack.client.workflow.getHandle(run.action.workflow.workflowId).result()) as ScheduledCycleResult;
    };
    expect(await fire()).toMatchObject({ kind: 'risk-assessment', workflowId: 'risk-assessment/aims/2013-1', started: true });
    const ids = ['aims', 'credit-scoring', 'fraud-detection', 'support-assistant'].map((scope) => `risk-assessment/${scope}/2013-1`);
    for (const id of ids) expect((await stack.client.workflow.getHandle(id).describe()).type).toBe('riskAssessment');
    const identify = stack.client.workflow.getHandle('risk-assessment/fraud-detection/2013-1/identify');
    const t = await eventually(() => identify.query(taskStatusQuery).catch(() => undefined), (x) => x?.state === 'open' && x.assignee.id !== '');
    expect(t!.assignee.id).toBe('sofia.lind');
    // Fired again for the same year: the same ids, nothing started twice.
    expect(await fire()).toMatchObject({ workflowId: 'risk-assessment/aims/2013-1', started: false });
    for (const id of ids) await stack.client.workflow.getHandle(id).terminate('end of test');
    await stack.client.schedule.getHandle(cycleScheduleId('risk-assessment', stack.taskQueue)).delete();
  });
});

describe('risk register through the admin API', () => {
  it('adds, lists, changes and accepts risks, refusing bad input naming the field or the rule', async () => {
    const offScale = await call('POST', '/admin/risks', { title: 'Drift', description: 'The model drifts.', categories: ['robustness'], owner: 'marco.rossi', aiSystems: ['credit-scoring'], inherent: { likelihood: 'often', consequence: 'major' } });
    expect(offScale.statusCode).toBe(400);
    expect(offScale.json<Body>().message).toContain('inherent.likelihood: "often" is not on the likelihood scale');
    const badSystem = await call('POST', '/admin/risks', { title: 'Drift', description: 'x', categories: ['robustness'], owner: 'ghost', aiSystems: ['nope'] });
    expect(badSystem.statusCode).toBe(400);
    expect(badSystem.json<Body>().message).toContain('owner: unknown person "ghost"');
    expect(badSystem.json<Body>().message).toContain('aiSystems.0: unknown AI system "nope"');
    const badCategory = await call('POST', '/admin/risks', { title: 'Drift', description: 'x', categories: ['vibes'], owner: 'marco.rossi' });
    expect(badCategory.statusCode).toBe(400);
    expect(badCategory.json<Body>().message).toContain('categories.0');

    const created = await call('POST', '/admin/risks', {
      title: 'Model drift after a market shock',
      description: 'Scores lose calibration when unemployment moves fast.',
      categories: ['robustness'],
      owner: 'david.chen',
      aiSystems: ['credit-scoring'],
      inherent: { likelihood: 'likely', consequence: 'severe' },
    });
    expect(created.statusCode).toBe(201);
    const risk = created.json<Body>().risk;
    expect(risk).toMatchObject({ state: 'assessed', inherent: { level: 'critical' } });

    const badControl = await call('PATCH', `/admin/risks/${risk.riskId}`, { controls: ['A.6.2.6', 'A.42.1'], reason: 'controls' });
    expect(badControl.statusCode).toBe(400);
    expect(badControl.json<Body>().message).toContain('controls.1: unknown Annex A control "A.42.1"');
    const changed = await call('PATCH', `/admin/risks/${risk.riskId}`, { controls: ['A.6.2.6'], residual: { likelihood: 'possible', consequence: 'major' }, reason: 'monitoring in place' });
    expect(changed.statusCode).toBe(200);

    // Acceptance: the AIMS manager is not top management; david.chen owns it; hannah.okafor accepts.
    const notTop = await call('POST', `/admin/risks/${risk.riskId}/accept`, { comment: 'fine' });
    expect(notTop.statusCode).toBe(403);
    expect(notTop.json<Body>().message).toContain('[separation of duties: residual risk accepted below top management]');
    const owner = await call('POST', `/admin/risks/${risk.riskId}/accept`, { comment: 'fine' }, headersOf('david.chen'));
    expect(owner.statusCode).toBe(403);
    expect(owner.json<Body>().message).toContain('[separation of duties: risk owner accepts their residual risk]');
    const byOther = await call('POST', `/admin/risks/${risk.riskId}/accept`, { comment: 'fine' }, headersOf('sofia.lind'));
    expect(byOther.statusCode).toBe(403);
    const accepted = await call('POST', `/admin/risks/${risk.riskId}/accept`, { comment: 'Monitoring covers it until the Q3 retrain.' }, headersOf('hannah.okafor'));
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json<Body>().risk).toMatchObject({ state: 'accepted', residual: { level: 'high' }, acceptance: { by: 'hannah.okafor', role: 'top-management' } });

    const list = await call('GET', '/admin/risks?scope=credit-scoring&state=accepted');
    expect(list.json<Body>().risks.map((r) => r.riskId)).toContain(risk.riskId);
    expect((await call('GET', '/admin/risks?state=nonsense')).statusCode).toBe(400);
    const detail = await call('GET', `/admin/risks/${risk.riskId}`);
    expect(detail.json<Body>().history.map((h) => h.kind)).toEqual(['risk.identified', 'risk.updated', 'risk.accepted']);
    expect((await call('GET', '/admin/risks/R-999999')).statusCode).toBe(404);
    expect((await call('GET', '/admin/risks/nope')).statusCode).toBe(400);

    const start = await call('POST', '/admin/risk-assessments', { scope: 'atlantis' });
    expect(start.statusCode).toBe(400);
    expect(start.json<Body>().message).toContain('scope: unknown AI system "atlantis"');
    const aims = await call('POST', '/admin/risk-assessments', { scope: 'aims', reason: 'yearly AIMS-wide assessment' });
    expect(aims.statusCode).toBe(201);
    const identify = stack.client.workflow.getHandle(`${aims.json<Body>().workflowId}/identify`);
    const t = await eventually(() => identify.query(taskStatusQuery).catch(() => undefined), (x) => x?.state === 'open' && x.assignee.id !== '');
    // The owner of ai-risk-management assesses the AIMS-wide risks.
    expect(t!.assignee.id).toBe('david.chen');
    const shown = await call('GET', `/admin/${aims.json<Body>().workflowId.replace('risk-assessment/', 'risk-assessments/')}`);
    expect(shown.statusCode).toBe(200);
    expect(shown.json<{ status: { state: string }; records: Array<{ kind: string }> }>()).toMatchObject({ status: { state: 'identify' }, records: [{ kind: 'risk-assessment.started' }] });
    expect((await call('GET', '/admin/risk-assessments/aims/1999-1')).statusCode).toBe(404);
    expect((await call('GET', '/admin/risk-assessments/aims/latest')).statusCode).toBe(400);
    await stack.client.workflow.getHandle(aims.json<Body>().workflowId).terminate('end of test');
  });
});

describe('the admin CLI for risks and the SoA', () => {
  const cli = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, { env: { AIMSFLOW_API_URL: apiUrl, AIMSFLOW_ADMIN_KEY: 'test-admin-key-0123456789abcdef' }, out: (l) => out.push(l), err: (l) => err.push(l), stdin: async () => input });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  let input = '';

  it('adds and lists risks, shows and diffs the SoA, and prints refusals naming the field', async () => {
    input = JSON.stringify({ title: 'Prompt injection in support drafts', description: 'Customer e-mails steer the drafted replies.', categories: ['security'], owner: 'tom.baker', aiSystems: ['support-assistant'] });
    const added = await cli('risks', 'add', '--file', '-');
    expect(added.code, added.err).toBe(0);
    const riskId = /^(R-\d+) added/.exec(added.out)?.[1];
    expect(riskId).toBeDefined();
    const listed = await cli('risks', 'list', '--scope', 'support-assistant');
    expect(listed.out).toContain(`${riskId}  identified`);
    expect((await cli('risks', 'show', riskId!)).out).toContain('risk.identified');
    input = JSON.stringify({ changes: [{ control: 'A.99.9', included: true }], reason: 'typo' });
    const refused = await cli('soa', 'edit', '--file', '-');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('changes.0.control');
    const shown = await cli('soa', 'show');
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/^version \d+ /);
    expect(shown.out).toContain('A.10.4   excluded');
    const diff = await cli('soa', 'diff', '--from', '0', '--to', '0');
    expect(diff.out).toBe('No change.');
  });
});
