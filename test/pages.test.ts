/**
 * The pages people open from e-mailed links, and the admin API for tasks and approvals,
 * against the real stack: the Temporal dev server, a real worker with real activities, the
 * real SMTP server (every link followed here comes from a received e-mail unless the test is
 * about a forged or expired one) and the real API (driven with inject).
 */
import { headersOf } from './helpers/keys.js';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalInput, ApprovalResult, ApprovalStatus } from '../src/approval/schema.js';
import type { HumanTaskInput, HumanTaskResult, TaskStatus } from '../src/task/schema.js';
import type { ApiInstance } from '../src/api/app.js';
import { csrfToken } from '../src/api/csrf.js';
import { formatDate } from '../src/mail/templates.js';
import { approvalStatusQuery, reviseUpdate } from '../src/approval/contract.js';
import { taskStatusQuery } from '../src/task/contract.js';
import { startApproval } from '../src/approval/start.js';
import { startHumanTask } from '../src/task/start.js';
import { buildTestApp } from './helpers/api.js';
import { buildStackApp, linkIn, TEST_ADMIN_HEADERS } from './helpers/browser.js';
import { isNotification, notificationId, recipients } from './helpers/smtp.js';
import { eventually, inMs, startTestStack, type TestStack } from './helpers/temporal.js';

let stack: TestStack;
let app: ApiInstance;

beforeAll(async () => {
  stack = await startTestStack();
  app = await buildStackApp(stack);
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await stack?.stop();
});

const BASE = 'http://127.0.0.1:3999';
const email = (person: string) => `${person}@northwind.example`;
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** Path and query of an absolute link, for inject. */
const local = (link: string) => {
  const url = new URL(link);
  return `${url.pathname}${url.search}`;
};

const get = (link: string) => app.inject({ method: 'GET', url: local(link), headers: { accept: 'text/html' } });

function post(link: string, fields: Array<[string, string]>, headers: Record<string, string> = { origin: BASE }) {
  return app.inject({
    method: 'POST',
    url: local(link),
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...headers },
    payload: new URLSearchParams(fields).toString(),
  });
}

/** The hidden csrf value of the (first) form on a page. */
function csrfOf(html: string): string {
  const value = /name="csrf" value="([0-9a-f]{64})"/.exec(html)?.[1];
  if (!value) throw new Error('no csrf field on the page');
  return value;
}

const unescape = (html: string) => html.replace(/&amp;/g, '&').replace(/&#x3D;/g, '=').replace(/&quot;/g, '"').replace(/&#x27;/g, "'");

function taskInput(overrides: Partial<HumanTaskInput> = {}): HumanTaskInput {
  return {
    title: 'Contain the credit-scoring drift incident',
    instructions: 'Describe the containment.\n\nAttach links to the evidence: the rollback ticket and the monitoring change.',
    clauses: ['10.2', 'A.6.2.6'],
    process: 'corrective-action',
    assignee: { person: 'priya.raman' },
    dueAt: inMs(3 * 24 * 3600_000),
    form: 'evidence',
    policy: { reminderOffsets: [], escalation: [] },
    ...overrides,
  };
}

async function startTask(overrides: Partial<HumanTaskInput> = {}) {
  return startHumanTask(stack.client, stack.taskQueue, taskInput(overrides), { organization: stack.organization });
}

function mailFor(workflowId: string, kind: string, person: string) {
  return stack.smtp.waitFor((m) => isNotification(m, workflowId, kind, email(person)), 20_000);
}

const v1 = sha('AI risk acceptance v1');
const v2 = sha('AI risk acceptance v2');

function approvalInput(overrides: Partial<ApprovalInput> = {}): ApprovalInput {
  return {
    kind: 'risk-acceptance',
    title: 'Accept the residual risk of the fraud model',
    summary: 'Residual risk: false positives on small merchants.\n\nMitigation: weekly review of flagged merchants.',
    contentUrl: 'https://aims.northwind.example/risks/R-17',
    contentHash: v1,
    approvers: [{ role: 'top-management' }],
    rule: { type: 'all' },
    preparer: 'priya.raman',
    process: 'ai-risk-management',
    clauses: ['6.1.3'],
    dueAt: inMs(5 * 24 * 3600_000),
    policy: { reminderOffsets: [], escalation: [] },
    ...overrides,
  };
}

describe('task page', () => {
  it('opens from the e-mailed link, keeps values on errors, completes once, then says it is done', async () => {
    const handle = await startTask();
    const link = linkIn(await mailFor(handle.workflowId, 'task.assigned', 'priya.raman'), '/t');
    expect(link.startsWith(`${BASE}/t?token=`)).toBe(true);

    const page = await get(link);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['cache-control']).toBe('no-store');
    const html = page.body;
    expect(html).toContain('<h1>Contain the credit-scoring drift incident</h1>');
    expect(html).toContain('Attach links to the evidence');
    expect(html).toContain('<span class="ref">10.2</span> Nonconformity and corrective action');
    expect(html).toContain('<span class="ref">A.6.2.6</span> AI system operation and monitoring');
    const status = await handle.query(taskStatusQuery);
    expect(html).toContain(`Due <time datetime="${status.dueAt}">${formatDate(status.dueAt)}</time>`);
    expect(html).toContain('<dt>Assigned to</dt><dd>Priya Raman</dd>');
    expect(html).toMatch(/<textarea id="f-summary" name="summary"/);
    expect(html).toMatch(/<input type="url" id="f-links-0" name="links"/);
    expect(html).not.toContain('Overdue');
    const csrf = csrfOf(html);

    // Invalid: an empty summary and a link that is not http(s); both are shown back.
    const bad = await post(link, [
      ['csrf', csrf],
      ['summary', '  '],
      ['links', 'ftp://files.northwind.example/rollback.txt'],
    ]);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('Please check your answer');
    expect(bad.body).toContain('The summary is required');
    expect(bad.body).toContain('Link 1 must be an http(s) link');
    expect(bad.body).toMatch(/id="f-links-0" name="links" value="ftp:\/\/files\.northwind\.example\/rollback\.txt"/);
    expect(bad.body).toMatch(/id="f-links-0"[^>]*aria-invalid="true"/);

    // Invalid again: a summary but no link; the summary is kept.
    const summary = 'Model rolled back to v41 <b>within the hour</b>; alert threshold tuned.';
    const noLinks = await post(link, [['csrf', csrf], ['summary', summary], ['links', ''], ['links', '']]);
    expect(noLinks.statusCode).toBe(400);
    expect(noLinks.body).toContain('The evidence needs at least one evidence link');
    expect(noLinks.body).toContain('Model rolled back to v41 &lt;b&gt;within the hour&lt;/b&gt;; alert threshold tuned.</textarea>');
    expect((await handle.query(taskStatusQuery)).state).toBe('open');

    // Valid (as a browser sends it under Referrer-Policy no-referrer: Origin null, same-origin fetch).
    const links = ['https://tickets.northwind.example/INC-42', 'https://grafana.northwind.example/d/drift'];
    const done = await post(
      link,
      [['csrf', csrf], ['summary', summary], ['links', links[0]!], ['links', ''], ['links', links[1]!]],
      { origin: 'null', 'sec-fetch-site': 'same-origin' },
    );
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain('<h1>Thank you</h1>');
    expect(done.body).toContain('The task is complete.');
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'completed', completedBy: 'priya.raman', data: { summary, links } });

    const again = await post(link, [['csrf', csrf], ['summary', 'second try'], ['links', links[0]!]]);
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain('This task is already done');
    expect(again.body).toContain('nothing was changed');
    expect((await handle.query(taskStatusQuery)).completion?.data).toEqual({ summary, links });

    const after = await get(link);
    expect(after.statusCode).toBe(200);
    expect(after.body).toContain('Completed');
    expect(after.body).toContain('The answer given');
    expect(after.body).toContain(`<a href="${links[0]}" rel="noopener noreferrer">`);
    expect(after.body).not.toContain('<form');
  });

  it('renders each form key: text, yes-no, date and a choice list', async () => {
    const cases: Array<[Partial<HumanTaskInput>, RegExp[]]> = [
      [{ form: 'text' }, [/<textarea id="f-text" name="text"/]],
      [{ form: 'yes-no' }, [/type="radio" id="f-answer-0" name="answer" value="yes"/, /name="justification"/]],
      [{ form: 'date' }, [/<input type="date" id="f-date" name="date"/, /name="note"/]],
      [
        { form: 'choice', choices: ['Accept', 'Mitigate', 'Avoid'] },
        [/type="radio" id="f-choice-0" name="choice" value="Accept"/, /value="Avoid"/],
      ],
    ];
    for (const [overrides, patterns] of cases) {
      const handle = await startTask({ ...overrides, assignee: { person: 'sofia.lind' }, title: `Form ${overrides.form}` });
      const link = linkIn(await mailFor(handle.workflowId, 'task.assigned', 'sofia.lind'), '/t');
      const page = await get(link);
      expect(page.statusCode).toBe(200);
      for (const pattern of patterns) expect(page.body).toMatch(pattern);
      if (overrides.form === 'yes-no') {
        const csrf = csrfOf(page.body);
        const missing = await post(link, [['csrf', csrf], ['justification', 'Checked the logs']]);
        expect(missing.statusCode).toBe(400);
        expect(missing.body).toContain('Choose yes or no');
        expect(missing.body).toContain('Checked the logs</textarea>');
        const ok = await post(link, [['csrf', csrf], ['answer', 'no'], ['justification', 'Checked the logs']]);
        expect(ok.statusCode).toBe(200);
        expect((await handle.result()).data).toEqual({ answer: 'no', justification: 'Checked the logs' });
      } else {
        await stack.client.workflow.getHandle(handle.workflowId).executeUpdate('cancel', { args: [{ by: 'system', reason: 'test done' }] });
      }
    }
  });

  it('shows the task read-only to someone else (an escalation manager) and refuses their POST', async () => {
    const handle = await startTask({ assignee: { person: 'sofia.lind' } });
    await mailFor(handle.workflowId, 'task.assigned', 'sofia.lind');
    const token = await stack.links.sign({ wf: handle.workflowId, action: 'task.view', person: 'marco.rossi' });
    const link = stack.links.url('/t', token);
    const page = await get(link);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('You can read this task');
    expect(page.body).toContain('Only Sofia Lind can complete this task');
    expect(page.body).not.toContain('<form');
    const refused = await post(link, [
      ['csrf', csrfToken(stack.config.LINK_SECRET, token)],
      ['summary', 'done by the manager'],
      ['links', 'https://x.northwind.example/1'],
    ]);
    expect(refused.statusCode).toBe(403);
    expect(refused.body).toContain('Your answer was not saved');
    expect((await handle.query(taskStatusQuery)).state).toBe('open');
    await handle.executeUpdate('cancel', { args: [{ by: 'system', reason: 'test done' }] });
  });

  it('refuses forged and cross-site POSTs with a 403 page and leaves the task open', async () => {
    const handle = await startTask();
    const link = linkIn(await mailFor(handle.workflowId, 'task.assigned', 'priya.raman'), '/t');
    const csrf = csrfOf((await get(link)).body);
    const form: Array<[string, string]> = [['summary', 'forged'], ['links', 'https://evil.example/x']];

    const noCsrf = await post(link, form);
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.body).toContain('This form cannot be accepted');
    expect(noCsrf.body).toContain('missing its security field');

    const wrongCsrf = await post(link, [['csrf', 'a'.repeat(64)], ...form]);
    expect(wrongCsrf.statusCode).toBe(403);

    const foreign = await post(link, [['csrf', csrf], ...form], { origin: 'https://evil.example' });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.body).toContain('sent from another website');

    const foreignReferer = await post(link, [['csrf', csrf], ...form], { referer: 'https://evil.example/page' });
    expect(foreignReferer.statusCode).toBe(403);

    const crossSite = await post(link, [['csrf', csrf], ...form], { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.statusCode).toBe(403);

    expect((await handle.query(taskStatusQuery)).state).toBe('open');
    await handle.executeUpdate('cancel', { args: [{ by: 'system', reason: 'test done' }] });
  });

  it('explains bad links: tampered (400), for another page (400), expired (410 with a renew button), unknown (404)', async () => {
    const handle = await startTask({ assignee: { person: 'liam.walsh' } });
    const link = linkIn(await mailFor(handle.workflowId, 'task.assigned', 'liam.walsh'), '/t');
    const token = new URL(link).searchParams.get('token')!;

    const tampered = await get(stack.links.url('/t', `${token.slice(0, -3)}${token.endsWith('AAA') ? 'BBB' : 'AAA'}`));
    expect(tampered.statusCode).toBe(400);
    expect(tampered.body).toContain('This link does not work');
    const garbage = await get(`${BASE}/t?token=not-a-token`);
    expect(garbage.statusCode).toBe(400);
    const missing = await get(`${BASE}/t`);
    expect(missing.statusCode).toBe(400);

    const onApprovalPage = await get(stack.links.url('/a', token));
    expect(onApprovalPage.statusCode).toBe(400);
    expect(onApprovalPage.body).toContain('This link belongs to another page');
    expect(unescape(onApprovalPage.body)).toContain(`href="${link}"`);

    const unknown = await get(
      stack.links.url('/t', await stack.links.sign({ wf: 'task/adhoc/2020/gone0000', action: 'task.view', person: 'liam.walsh' })),
    );
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body).toContain('This task no longer exists');

    const expiredToken = await stack.links.sign(
      { wf: handle.workflowId, action: 'task.view', person: 'liam.walsh' },
      { ttlHours: 1, now: new Date(Date.now() - 2 * 3600_000) },
    );
    const expired = await get(stack.links.url('/t', expiredToken));
    expect(expired.statusCode).toBe(410);
    expect(expired.body).toContain('This link has expired');
    expect(expired.body).toContain(`action="${BASE}/renew"`);
    expect(expired.body).toContain('E-mail me a fresh link');
    // Submitting a filled form with the expired link: refused, and what was typed is shown back.
    const lateSubmit = await post(stack.links.url('/t', expiredToken), [
      ['csrf', csrfToken(stack.config.LINK_SECRET, expiredToken)],
      ['summary', 'Rolled back after two hours of drift'],
      ['links', 'https://tickets.northwind.example/INC-7'],
    ]);
    expect(lateSubmit.statusCode).toBe(410);
    expect(lateSubmit.body).toContain('What you entered');
    expect(lateSubmit.body).toContain('Rolled back after two hours of drift');
    expect(lateSubmit.body).toContain('https://tickets.northwind.example/INC-7');
    expect((await handle.query(taskStatusQuery)).state).toBe('open');
    const renewFields: Array<[string, string]> = [
      ['token', expiredToken],
      ['csrf', csrfOf(expired.body)],
    ];

    // A double click (two at once) and a later third click send one mail.
    const [first, second] = await Promise.all([post(`${BASE}/renew`, renewFields), post(`${BASE}/renew`, renewFields)]);
    expect(first.statusCode).toBe(200);
    expect(second.statusCode).toBe(200);
    expect(first.body).toContain('Check your e-mail');
    const third = await post(`${BASE}/renew`, renewFields);
    expect(third.statusCode).toBe(200);
    expect(third.body).toContain('We already sent a fresh link');
    const { jti } = await stack.links.verify(expiredToken).catch((err: { claims: { jti: string } }) => err.claims);
    const renewal = await stack.smtp.waitFor((m) => notificationId(m) === `link-renewal/${jti}`, 10_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(stack.smtp.messages.filter((m) => notificationId(m) === `link-renewal/${jti}`)).toHaveLength(1);
    expect(recipients(renewal)).toEqual([email('liam.walsh')]);
    expect(renewal.subject).toContain('Contain the credit-scoring drift incident');

    const fresh = linkIn(renewal, '/t');
    const freshClaims = await stack.links.verify(new URL(fresh).searchParams.get('token'), { action: 'task.view' });
    expect(freshClaims).toMatchObject({ wf: handle.workflowId, person: 'liam.walsh' });
    const reopened = await get(fresh);
    expect(reopened.statusCode).toBe(200);
    expect(reopened.body).toContain('name="summary"');

    // The renew form refuses a POST without its csrf field, and a forged token.
    expect((await post(`${BASE}/renew`, [['token', expiredToken]])).statusCode).toBe(403);
    expect((await post(`${BASE}/renew`, [['token', 'forged'], ['csrf', csrfToken(stack.config.LINK_SECRET, 'forged')]])).statusCode).toBe(400);

    // Cancelled: the page says so, with the reason.
    await handle.executeUpdate('cancel', { args: [{ by: 'system', reason: 'merged into NC-2027-004' }] });
    const cancelled = await get(link);
    expect(cancelled.statusCode).toBe(410);
    expect(cancelled.body).toContain('This task was cancelled');
    expect(cancelled.body).toContain('merged into NC-2027-004');
  });
});

describe('approval page', () => {
  it('approve; reject needs a comment; a content change between GET and POST is refused and shows the new version', async () => {
    const handle = await startApproval(stack.client, stack.taskQueue, approvalInput(), { organization: stack.organization });
    const hannahLink = linkIn(await mailFor(handle.workflowId, 'approval.requested', 'hannah.okafor'), '/a');
    const davidLink = linkIn(await mailFor(handle.workflowId, 'approval.requested', 'david.chen'), '/a');

    const page = await get(hannahLink);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<h1>Accept the residual risk of the fraud model</h1>');
    expect(page.body).toContain('Residual risk: false positives on small merchants.');
    expect(page.body).toContain(v1);
    expect(page.body).toContain('href="https://aims.northwind.example/risks/R-17"');
    expect(page.body).toContain('All 2 approvers must approve');
    expect(page.body).toContain('0 of 2 approvals so far');
    expect(page.body).toContain('<dt>Prepared by</dt><dd>Priya Raman</dd>');
    expect(page.body).toContain('<span class="ref">6.1.3</span> AI risk treatment');
    expect(page.body).toContain(`<input type="hidden" name="contentHash" value="${v1}">`);
    expect(page.body).toContain('value="approve">Approve</button>');
    expect(page.body).toContain('value="reject" class="button-danger">Reject</button>');

    // Reject without a comment: refused, nothing recorded.
    const noComment = await post(hannahLink, [['csrf', csrfOf(page.body)], ['contentHash', v1], ['decision', 'reject'], ['comment', '  ']]);
    expect(noComment.statusCode).toBe(400);
    expect(noComment.body).toContain('A comment is required to reject');
    expect(noComment.body).toMatch(/<textarea id="comment"[^>]*aria-invalid="true">/);
    expect((await handle.query(approvalStatusQuery)).decisions).toHaveLength(0);

    const approved = await post(hannahLink, [['csrf', csrfOf(page.body)], ['contentHash', v1], ['decision', 'approve'], ['comment', '']]);
    expect(approved.statusCode).toBe(200);
    expect(approved.body).toContain('Your approval is recorded.');
    expect(approved.body).toContain('still waiting for other approvers');
    const twice = await post(hannahLink, [['csrf', csrfOf(page.body)], ['contentHash', v1], ['decision', 'approve'], ['comment', '']]);
    expect(twice.statusCode).toBe(409);
    expect(twice.body).toContain('You have already decided');
    // One decision, made from the e-mailed link, and recorded so.
    expect((await handle.query(approvalStatusQuery)).decisions).toMatchObject([{ by: 'hannah.okafor', decision: 'approve', via: 'link' }]);
    const hannahAgain = await get(hannahLink);
    expect(hannahAgain.body).toContain('You approved this version');
    expect(hannahAgain.body).not.toContain('<form');

    // David opens the page, then the preparer revises the content before he submits.
    const davidPage = await get(davidLink);
    expect(davidPage.body).toContain('1 of 2 approvals so far');
    await handle.executeUpdate(reviseUpdate, {
      args: [{ by: 'priya.raman', contentHash: v2, summary: 'Residual risk now also covers card-not-present fraud.', note: 'scope widened' }],
    });
    const stale = await post(davidLink, [['csrf', csrfOf(davidPage.body)], ['contentHash', v1], ['decision', 'approve'], ['comment', 'Agreed, with the weekly review.']]);
    expect(stale.statusCode).toBe(409);
    expect(stale.body).toContain('The content changed since you opened this page');
    expect(stale.body).toContain('This is version 2');
    expect(stale.body).toContain('Residual risk now also covers card-not-present fraud.');
    expect(stale.body).toContain(`<input type="hidden" name="contentHash" value="${v2}">`);
    expect(stale.body).toContain('Agreed, with the weekly review.</textarea>');
    expect((await handle.query(approvalStatusQuery)).decisions.filter((d) => !d.voided)).toHaveLength(0);

    const fresh = await post(davidLink, [['csrf', csrfOf(stale.body)], ['contentHash', v2], ['decision', 'approve'], ['comment', 'Agreed, with the weekly review.']]);
    expect(fresh.statusCode).toBe(200);

    // Hannah's approval of version 1 is void: she is asked again, and rejects with a comment.
    const hannahV2 = await get(hannahLink);
    expect(hannahV2.body).toContain('an earlier version (no longer counts)');
    const rejected = await post(hannahLink, [['csrf', csrfOf(hannahV2.body)], ['contentHash', v2], ['decision', 'reject'], ['comment', 'Quantify the exposure first.']]);
    expect(rejected.statusCode).toBe(200);
    expect(rejected.body).toContain('is now rejected');
    const result: ApprovalResult = await handle.result();
    expect(result.status).toBe('rejected');
    expect(result.decisions.filter((d) => !d.voided).map((d) => [d.by, d.decision, d.contentHash, d.comment])).toEqual([
      ['david.chen', 'approve', v2, 'Agreed, with the weekly review.'],
      ['hannah.okafor', 'reject', v2, 'Quantify the exposure first.'],
    ]);

    const closed = await post(hannahLink, [['csrf', csrfOf(hannahV2.body)], ['contentHash', v2], ['decision', 'approve'], ['comment', '']]);
    expect(closed.statusCode).toBe(409);
    expect(closed.body).toContain('This approval is already closed');
  });

  it('shows the preparer the page without the decision form (separation of duties)', async () => {
    const handle = await startApproval(stack.client, stack.taskQueue, approvalInput({ approvers: [{ person: 'david.chen' }] }));
    await mailFor(handle.workflowId, 'approval.requested', 'david.chen');
    const link = stack.links.url('/a', await stack.links.sign({ wf: handle.workflowId, action: 'approval.decide', person: 'priya.raman' }));
    const page = await get(link);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('separation of duties');
    expect(page.body).not.toContain('name="decision"');
    await handle.executeUpdate('cancel', { args: [{ by: 'system', reason: 'test done' }] });
  });
});

describe('my open tasks', () => {
  it("lists the person's open task and approval from visibility, overdue first, each with a working link", async () => {
    const late = await startTask({ assignee: { person: 'elena.petrova' }, title: 'Overdue DPIA update', dueAt: inMs(-3600_000) });
    const soon = await startApproval(
      stack.client,
      stack.taskQueue,
      approvalInput({ approvers: [{ person: 'elena.petrova' }], title: 'Approve the data retention rule' }),
    );
    const mail = await mailFor(soon.workflowId, 'approval.requested', 'elena.petrova');
    const mine = linkIn(mail, '/me');
    const page = await eventually(
      () => get(mine),
      (res) => res.body.includes('Overdue DPIA update') && res.body.includes('Approve the data retention rule'),
      { timeoutMs: 20_000, intervalMs: 1000 },
    );
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Hello Elena Petrova');
    expect(page.body.indexOf('Overdue DPIA update')).toBeLessThan(page.body.indexOf('Approve the data retention rule'));
    expect(page.body).toMatch(/Overdue DPIA update<\/a>\s*<span class="meta">Task · due/);
    expect(page.body).toContain('<span class="badge badge-overdue">Overdue</span>');

    const approvalLink = unescape(/<a href="([^"]+)">Approve the data retention rule/.exec(page.body)?.[1] ?? '');
    expect(approvalLink.startsWith(`${BASE}/a?token=`)).toBe(true);
    const claims = await stack.links.verify(new URL(approvalLink).searchParams.get('token'), { action: 'approval.decide' });
    expect(claims).toMatchObject({ wf: soon.workflowId, person: 'elena.petrova' });
    const approvalPage = await get(approvalLink);
    expect(approvalPage.statusCode).toBe(200);
    expect(approvalPage.body).toContain('name="decision"');

    // Someone else's list does not show Elena's work.
    const other = stack.links.url('/me', await stack.links.sign({ wf: late.workflowId, action: 'tasks.mine', person: 'tom.baker' }));
    const otherPage = await get(other);
    expect(otherPage.statusCode).toBe(200);
    expect(otherPage.body).not.toContain('Overdue DPIA update');

    await late.executeUpdate('cancel', { args: [{ by: 'system', reason: 'test done' }] });
    await soon.executeUpdate('cancel', { args: [{ by: 'system', reason: 'test done' }] });
  });
});

describe('admin API for tasks and approvals', () => {
  const admin = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    app.inject({ method, url, headers: { ...TEST_ADMIN_HEADERS }, ...(payload === undefined ? {} : { payload: payload as object }) });

  it('needs the API key', async () => {
    expect((await app.inject({ method: 'GET', url: '/admin/work' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/admin/tasks', payload: taskInput() })).statusCode).toBe(401);
  });

  it('starts a task (201; the assignee gets the mail) and refuses bad input naming the fields (400)', async () => {
    const res = await admin('POST', '/admin/tasks', taskInput({ assignee: { person: 'tom.baker' }, title: 'Review the support assistant prompts' }));
    expect(res.statusCode).toBe(201);
    const body = res.json<{ workflowId: string; runId: string; links: { status: string; cancel: string } }>();
    expect(body.workflowId).toMatch(new RegExp(`^task/adhoc/${new Date().getUTCFullYear()}/[a-z2-9]{8}$`));
    expect(body.links.status).toBe(`${BASE}/admin/work/${encodeURIComponent(body.workflowId)}`);
    const mail = await mailFor(body.workflowId, 'task.assigned', 'tom.baker');
    expect(mail.subject).toContain('Review the support assistant prompts');
    const described = await stack.client.workflow.getHandle(body.workflowId).describe();
    expect(await described.staticSummary()).toBe('Review the support assistant prompts');
    expect(described.runId).toBe(body.runId);
    expect(described.searchAttributes.AimsProcess).toEqual(['corrective-action']);

    const bad = await admin('POST', '/admin/tasks', { ...taskInput(), title: 'x', dueAt: 'next week' });
    expect(bad.statusCode).toBe(400);
    const issues = bad.json<{ issues: Array<{ path: string }> }>().issues.map((i) => i.path);
    expect(issues).toEqual(expect.arrayContaining(['title', 'dueAt']));

    const unknownPerson = await admin('POST', '/admin/tasks', taskInput({ assignee: { person: 'nobody.here' } }));
    expect(unknownPerson.statusCode).toBe(400);
    expect(unknownPerson.json()).toMatchObject({ issues: [{ path: 'assignee.person', message: 'unknown person "nobody.here"' }] });

    await stack.client.workflow.getHandle(body.workflowId).executeUpdate('cancel', { args: [{ by: 'system', reason: 'test done' }] });
  });

  it('starts an approval (201) and refuses one whose only approver is the preparer (400)', async () => {
    const res = await admin('POST', '/admin/approvals', approvalInput({ approvers: [{ person: 'aisha.khan' }] }));
    expect(res.statusCode).toBe(201);
    const { workflowId } = res.json<{ workflowId: string }>();
    expect(workflowId).toMatch(/^approval\/adhoc\/\d{4}\/[a-z2-9]{8}$/);
    await mailFor(workflowId, 'approval.requested', 'aisha.khan');

    const selfApproval = await admin('POST', '/admin/approvals', approvalInput({ approvers: [{ person: 'priya.raman' }] }));
    expect(selfApproval.statusCode).toBe(400);
    const [issue] = selfApproval.json<{ issues: Array<{ path: string; message: string }> }>().issues;
    expect(issue?.path).toBe('approvers');
    expect(issue?.message).toContain('other than the preparer');
    const badHash = await admin('POST', '/admin/approvals', { ...approvalInput(), contentHash: 'abc' });
    expect(badHash.statusCode).toBe(400);
    expect(badHash.json<{ issues: Array<{ path: string }> }>().issues.map((i) => i.path)).toContain('contentHash');
    await stack.client.workflow.getHandle(workflowId).executeUpdate('cancel', { args: [{ by: 'system', reason: 'test done' }] });
  });

  it('lists open work with filters (owner, process, kind, state, overdue), gets one, and cancels one with a reason', async () => {
    const overdueTask = (await startTask({ assignee: { person: 'aisha.khan' }, process: 'internal-audit', dueAt: inMs(-60_000), title: 'Overdue audit evidence' })).workflowId;
    const laterTask = (await startTask({ assignee: { person: 'aisha.khan' }, process: 'internal-audit', title: 'Audit plan draft' })).workflowId;
    const approvalId = (
      await startApproval(stack.client, stack.taskQueue, approvalInput({ approvers: [{ person: 'aisha.khan' }], process: 'internal-audit' }))
    ).workflowId;

    type Item = { id: string; kind: string; title: string; state: string; owner?: string; assignees: string[]; dueAt?: string; overdue: boolean };
    const list = async (query: string) => {
      const res = await admin('GET', `/admin/work?${query}`);
      expect(res.statusCode).toBe(200);
      return res.json<{ items: Item[] }>().items;
    };
    const ids = (items: Item[]) => items.map((i) => i.id);

    const mine = await eventually(
      () => list('owner=aisha.khan'),
      (items) => [overdueTask, laterTask, approvalId].every((id) => ids(items).includes(id)),
    );
    expect(ids(mine)[0]).toBe(overdueTask);
    const first = mine.find((i) => i.id === overdueTask);
    expect(first).toMatchObject({ kind: 'task', title: 'Overdue audit evidence', owner: 'aisha.khan', assignees: ['aisha.khan'], overdue: true });
    expect(mine.find((i) => i.id === approvalId)).toMatchObject({ kind: 'approval', owner: 'priya.raman', assignees: ['aisha.khan'] });

    const overdue = await eventually(() => list('owner=aisha.khan&overdue=true'), (items) => ids(items).includes(overdueTask));
    expect(ids(overdue)).not.toContain(laterTask);
    const approvals = await list('owner=aisha.khan&kind=approval');
    expect(ids(approvals)).toEqual([approvalId]);
    const byProcess = await list('process=internal-audit&kind=task');
    expect(ids(byProcess)).toEqual(expect.arrayContaining([overdueTask, laterTask]));
    expect(ids(byProcess)).not.toContain(approvalId);
    const pending = await list('owner=aisha.khan&state=pending');
    expect(ids(pending)).toEqual([approvalId]);
    const badFilter = await admin('GET', '/admin/work?overdue=yes&kind=audit');
    expect(badFilter.statusCode).toBe(400);
    expect(badFilter.json<{ issues: Array<{ path: string }> }>().issues.map((i) => i.path).sort()).toEqual(['kind', 'overdue']);

    const one = await admin('GET', `/admin/work/${encodeURIComponent(laterTask)}`);
    expect(one.statusCode).toBe(200);
    const detail = one.json<{ id: string; kind: string; executionStatus: string; status: TaskStatus }>();
    expect(detail).toMatchObject({ id: laterTask, kind: 'task', executionStatus: 'RUNNING' });
    expect(detail.status).toMatchObject({ title: 'Audit plan draft', state: 'open', assignee: { id: 'aisha.khan' } });
    expect(detail.status.history.map((e) => e.type)).toEqual(expect.arrayContaining(['created']));
    const approvalDetail = (await admin('GET', `/admin/work/${encodeURIComponent(approvalId)}`)).json<{ status: ApprovalStatus }>();
    expect(approvalDetail.status).toMatchObject({ state: 'pending', pending: ['aisha.khan'] });
    expect((await admin('GET', `/admin/work/${encodeURIComponent('task/adhoc/2020/missing0')}`)).statusCode).toBe(404);

    // Cancel: the workflow decides who may; the reason is required.
    const noReason = await admin('POST', `/admin/work/${encodeURIComponent(laterTask)}/cancel`, {});
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json<{ issues: Array<{ path: string }> }>().issues.map((i) => i.path)).toEqual(['reason']);
    const notManager = await app.inject({ method: 'POST', url: `/admin/work/${encodeURIComponent(laterTask)}/cancel`, headers: headersOf('tom.baker'), payload: { reason: 'duplicate' } });
    expect(notManager.statusCode).toBe(403);
    expect(notManager.json<{ message: string }>().message).toContain('person tom.baker (key test-tom.baker)');
    expect(notManager.json<{ message: string }>().message).toContain('(permission tasks.cancel)');
    const cancelled = await admin('POST', `/admin/work/${encodeURIComponent(laterTask)}/cancel`, { reason: 'duplicate of the audit plan', by: 'priya.raman' });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ id: laterTask, ok: true, state: 'cancelled' });
    const result = await stack.client.workflow.getHandle<(input: HumanTaskInput) => Promise<HumanTaskResult>>(laterTask).result();
    expect(result).toMatchObject({ status: 'cancelled', cancellation: { by: 'priya.raman', reason: 'duplicate of the audit plan' } });
    await mailFor(laterTask, 'task.cancelled', 'aisha.khan');
    const closed = (await admin('GET', `/admin/work/${encodeURIComponent(laterTask)}`)).json<{ executionStatus: string; status: TaskStatus }>();
    expect(closed).toMatchObject({ executionStatus: 'COMPLETED', status: { state: 'cancelled' } });
    const twice = await admin('POST', `/admin/work/${encodeURIComponent(laterTask)}/cancel`, { reason: 'again' });
    expect(twice.statusCode).toBe(409);
    expect(twice.json<{ message: string }>().message).toContain('already closed');
    await eventually(() => list('owner=aisha.khan'), (items) => !ids(items).includes(laterTask));

    for (const id of [overdueTask, approvalId]) {
      await admin('POST', `/admin/work/${encodeURIComponent(id)}/cancel`, { reason: 'test done' });
    }
  });

  it('answers 503 naming the cause when the API has no Temporal client', async () => {
    const bare = await buildTestApp();
    try {
      const res = await bare.app.inject({ method: 'GET', url: '/admin/work', headers: bare.adminHeaders });
      expect(res.statusCode).toBe(503);
      expect(res.json<{ message: string }>().message).toContain('Temporal is not configured');
      const page = await bare.app.inject({
        method: 'GET',
        url: `/t?token=${await stack.links.sign({ wf: 'task/x', action: 'task.view', person: 'tom.baker' })}`,
      });
      expect(page.statusCode).toBe(503);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
    } finally {
      await bare.close();
    }
  });

  it('publishes the admin routes in the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/admin/tasks', '/admin/approvals', '/admin/work', '/admin/work/{id}', '/admin/work/{id}/cancel']),
    );
    expect(Object.keys(doc.paths)).not.toContain('/t');
  });
});
