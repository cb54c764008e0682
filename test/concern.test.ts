/**
 * Reporting of concerns (Annex A.3.3) against the real stack: the public page (inject), the
 * concern workflow with its triage task for the AIMS manager (links from received mails), and
 * its three outcomes: accept raises a nonconformity, reject tells the reporter, merge attaches
 * the concern to an open nonconformity.
 */
import { TEST_ADMIN_KEY } from './helpers/keys.js';
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiInstance } from '../src/api/app.js';
import { issueFormToken } from '../src/api/csrf.js';
import type { ConcernInput, ConcernResult } from '../src/concern/schema.js';
import { ncStatusQuery } from '../src/corrective-action/contract.js';
import { completeTaskUpdate, delegateTaskUpdate, reassignTaskUpdate, taskStatusQuery } from '../src/task/contract.js';
import { startConcern } from '../src/concern/start.js';
import { startCorrectiveAction } from '../src/corrective-action/start.js';
import { buildStackApp, linkIn } from './helpers/browser.js';
import { isNotification } from './helpers/smtp.js';
import { eventually, startTestStack, updateRejection, type TestStack } from './helpers/temporal.js';

let stack: TestStack;
let app: ApiInstance;

beforeAll(async () => {
  stack = await startTestStack({ randomNcNumbers: true });
  app = await buildStackApp(stack);
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await stack?.stop();
});

const BASE = 'http://127.0.0.1:3999';
const quiet = { reminderOffsets: [], escalation: [] };
const local = (link: string) => {
  const url = new URL(link);
  return `${url.pathname}${url.search}`;
};
const unescape = (html: string) => html.replace(/&amp;/g, '&').replace(/&#x3D;/g, '=').replace(/&quot;/g, '"').replace(/&#x27;/g, "'");

function csrfOf(html: string): string {
  const value = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!value) throw new Error('no csrf field on the page');
  return unescape(value);
}

function postForm(url: string, fields: Array<[string, string]>, headers: Record<string, string> = { origin: BASE }) {
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...headers },
    payload: new URLSearchParams(fields).toString(),
  });
}

async function concernForm(): Promise<string> {
  const page = await app.inject({ method: 'GET', url: '/concern', headers: { accept: 'text/html' } });
  expect(page.statusCode).toBe(200);
  return csrfOf(page.body);
}

/** Reports a concern through the page; returns its reference (the workflow id). */
async function report(fields: Array<[string, string]>): Promise<string> {
  const res = await postForm('/concern', [['csrf', await concernForm()], ...fields]);
  expect(res.statusCode, res.body).toBe(200);
  const ref = /reference is (concern\/\d{4}\/[a-z0-9]{8})/.exec(res.body)?.[1];
  if (!ref) throw new Error(`no reference on the page: ${res.body}`);
  return ref;
}

/** Completes the triage task `key` of a concern as the AIMS manager. */
async function triage(ref: string, key: string, data: Record<string, unknown>) {
  const task = stack.client.workflow.getHandle(`${ref}/${key}`);
  await eventually(() => task.query(taskStatusQuery).catch(() => undefined), (s) => s?.state === 'open' && s.assignee.id !== '');
  return task.executeUpdate(completeTaskUpdate, { args: [{ by: 'priya.raman', data }] });
}

const result = (ref: string) => stack.client.workflow.getHandle(ref).result() as Promise<ConcernResult>;

describe('report a concern', () => {
  it('shows an accessible form with the AI systems and a note that the e-mail address is optional', async () => {
    const page = await app.inject({ method: 'GET', url: '/concern', headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain('<h1>Report a concern</h1>');
    expect(page.body).toContain('Your name and e-mail address are optional.');
    expect(page.body).toMatch(/<label for="f-description">What happened<\/label>/);
    expect(page.body).toMatch(/<select id="f-aiSystem" name="aiSystem"/);
    expect(page.body).toContain('<option value="credit-scoring">Consumer credit scoring model</option>');
    expect(page.body).toMatch(/<input type="email" id="f-reporterEmail" name="reporterEmail"/);
  });

  it('accept: the AIMS manager gets the triage mail, completes it on the task page, and a nonconformity runs with source concern', async () => {
    const description = 'The support assistant told a customer their loan was refused because of their postcode.';
    const ref = await report([
      ['description', description],
      ['aiSystem', 'support-assistant'],
      ['reporterName', ''],
      ['reporterEmail', ''],
    ]);
    const mail = await stack.smtp.waitFor((m) => isNotification(m, `${ref}/triage-1`, 'task.assigned', 'priya.raman@northwind.example'), 20_000);
    const link = linkIn(mail, '/t');
    const page = await app.inject({ method: 'GET', url: local(link), headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('someone who stayed anonymous');
    expect(page.body).toMatch(/<fieldset id="f-decision"/);
    const csrf = /name="csrf" value="([0-9a-f]{64})"/.exec(page.body)?.[1] ?? '';

    // Accept without a severity: re-rendered with the error and the choice kept.
    const bad = await postForm(local(link), [['csrf', csrf], ['decision', 'accept'], ['note', 'Clearly unfair']]);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('Choose the severity (is required to accept)');
    expect(bad.body).toMatch(/id="f-decision-0" name="decision" value="accept" checked/);

    const ok = await postForm(local(link), [['csrf', csrf], ['decision', 'accept'], ['severity', 'major'], ['owner', 'tom.baker']]);
    expect(ok.statusCode, ok.body).toBe(200);

    const outcome = await result(ref);
    expect(outcome).toMatchObject({ concernId: ref, outcome: 'accept', by: 'priya.raman' });
    expect(outcome.ncId).toMatch(/^NC-\d{4}-\d{6}$/);
    const nc = stack.client.workflow.getHandle(`corrective-action/${outcome.ncId}`);
    const status = await eventually(() => nc.query(ncStatusQuery), (s) => s.currentStep?.key === 'containment');
    expect(status).toMatchObject({ source: 'concern', sourceRef: ref, severity: 'major', owner: 'tom.baker', raisedBy: 'priya.raman', description, aiSystem: 'support-assistant' });
    expect((await nc.describe()).status.name).toBe('RUNNING');

    const [triaged] = await stack.records.list({ subject: ref, kind: 'concern.triaged' });
    expect(triaged).toMatchObject({ actor: 'priya.raman', clauses: ['A.3.3'], content: { outcome: 'accept', ncId: outcome.ncId, reporterIdentified: false } });
  });

  it('reject: the reporter who left an e-mail address is told the reason', async () => {
    const ref = await report([
      ['description', 'The credit-scoring model seems slower on Mondays, which worries me.'],
      ['reporterName', 'Ada Meyer'],
      ['reporterEmail', 'ada.meyer@example.org'],
    ]);
    await triage(ref, 'triage-1', { decision: 'reject', note: 'Monday latency comes from batch jobs and does not affect decisions.' });
    const outcome = await result(ref);
    expect(outcome).toMatchObject({ outcome: 'reject', note: 'Monday latency comes from batch jobs and does not affect decisions.' });

    const mail = await stack.smtp.waitFor((m) => isNotification(m, ref, 'concern.rejected', 'ada.meyer@example.org'), 20_000);
    expect(mail.subject).toBe(`Your reported concern ${ref}: The credit-scoring model seems slower on Mondays, which worries me.`);
    expect(mail.text).toContain('Hello Ada Meyer,');
    expect(mail.text).toContain('Reason: Monday latency comes from batch jobs and does not affect decisions.');
    expect(mail.text).not.toContain('Open your tasks');
    const [triaged] = await stack.records.list({ subject: ref, kind: 'concern.triaged' });
    expect(triaged?.content).toMatchObject({ outcome: 'reject', reporterTold: true, reporterIdentified: true });
    expect(JSON.stringify(triaged?.content)).not.toContain('ada.meyer');
  });

  it('a triage task that fails is asked again, in the ledger; one that fails every time ends the concern as cancelled, never failed', async () => {
    const terminate = async (id: string) => {
      const task = stack.client.workflow.getHandle(id);
      await eventually(() => task.describe().catch(() => undefined), (d) => d?.status.name === 'RUNNING');
      await task.terminate('the worker lost it');
    };
    const ref = await report([['description', 'The support assistant drafted a reply with another customer’s address.']]);
    await terminate(`${ref}/triage-1`);
    await triage(ref, 'triage-1-r2', { decision: 'reject', note: 'A test message from the vendor sandbox.' });
    expect(await result(ref)).toMatchObject({ outcome: 'reject' });
    const [failed] = await stack.records.list({ subject: ref, kind: 'concern.step-failed' });
    expect(failed?.content).toMatchObject({ step: 'triage-1', reason: 'it was terminated', failures: 1, askedAgain: true });

    const other = await report([['description', 'The fraud model flagged every card from one bank today.']]);
    for (const key of ['triage-1', 'triage-1-r2', 'triage-1-r3']) await terminate(`${other}/${key}`);
    expect(await result(other)).toMatchObject({ outcome: 'cancelled', by: 'system', note: 'the step "Triage a reported concern: The fraud model flagged every card from one bank today." failed 3 time(s); the last time it was terminated' });
    const [triaged] = await stack.records.list({ subject: other, kind: 'concern.triaged' });
    expect(triaged?.content).toMatchObject({ outcome: 'cancelled' });
  });

  it('merge: an unknown NC asks the triage again with the reason; a running NC gets the concern on its timeline', async () => {
    const ncId = `NC-2027-${randomInt(100_000, 999_999)}`;
    const nc = await startCorrectiveAction(stack.client, stack.taskQueue, {
      ncId,
      title: 'Fraud model flags small merchants unfairly',
      description: 'Found in the Q1 internal audit.',
      severity: 'minor',
      source: 'internal-audit',
      owner: 'sofia.lind',
      policy: { stepDue: '1h', tasks: quiet },
    });
    const input: ConcernInput = {
      description: 'My shop keeps getting its card payments blocked by the fraud check.',
      aiSystem: 'fraud-detection',
      reportedAt: new Date().toISOString(),
      policy: { tasks: quiet },
    };
    const handle = await startConcern(stack.client, stack.taskQueue, input, { organization: stack.organization });
    expect(handle.workflowId).toMatch(/^concern\/\d{4}\/[a-z2-9]{8}$/);

    await triage(handle.workflowId, 'triage-1', { decision: 'merge', ncId: 'NC-1999-999' });
    const second = stack.client.workflow.getHandle(`${handle.workflowId}/triage-2`);
    const task = await eventually(() => second.query(taskStatusQuery).catch(() => undefined), (s) => s !== undefined);
    expect(task!.instructions).toContain('could not be merged into NC-1999-999: there is no nonconformity NC-1999-999');

    // The second round goes through the admin API, which finds the open triage task.
    const url = `/admin/concerns/${handle.workflowId.slice('concern/'.length)}/triage`;
    const admin = { authorization: `Bearer ${TEST_ADMIN_KEY}` };
    const incomplete = await app.inject({ method: 'POST', url, headers: admin, payload: { triage: { decision: 'merge' } } });
    expect(incomplete.statusCode).toBe(400);
    expect(incomplete.json<{ issues: { path: string; message: string }[] }>().issues).toContainEqual({
      path: 'triage.ncId',
      message: 'is required to merge',
    });
    const merge = await app.inject({
      method: 'POST',
      url,
      headers: admin,
      payload: { triage: { decision: 'merge', ncId, note: 'Same pattern as the audit finding' } },
    });
    expect(merge.statusCode, merge.body).toBe(200);
    expect(merge.json()).toMatchObject({ concernId: handle.workflowId, taskId: `${handle.workflowId}/triage-2`, state: 'completed' });
    expect(await handle.result()).toMatchObject({ outcome: 'merge', ncId });
    const again = await app.inject({ method: 'POST', url, headers: admin, payload: { triage: { decision: 'reject', note: 'x' } } });
    expect(again.statusCode).toBe(409);
    expect(again.json<{ message: string }>().message).toMatch(/has no open triage/);
    const status = await nc.query(ncStatusQuery);
    expect(status.mergedConcerns).toEqual([handle.workflowId]);
    const merged = status.timeline.find((e) => e.type === 'concern-merged');
    expect(merged).toMatchObject({ by: 'priya.raman', detail: `concern ${handle.workflowId} merged: Same pattern as the audit finding` });
    expect(merged?.data).toMatchObject({ summary: input.description });
  });

  it('about the AIMS manager: top management triages it, the AIMS manager cannot take the task over, and the report stays anonymous', async () => {
    const form = await app.inject({ method: 'GET', url: '/concern', headers: { accept: 'text/html' } });
    expect(form.body).toMatch(/<select id="f-about" name="about"/);
    const description = 'The AIMS manager told the team to skip the impact assessment of the support assistant.';
    const ref = await report([
      ['description', description],
      ['about', 'aims-manager'],
      ['reporterName', ''],
      ['reporterEmail', ''],
    ]);
    const task = stack.client.workflow.getHandle(`${ref}/triage-1`);
    const open = await eventually(() => task.query(taskStatusQuery).catch(() => undefined), (s) => s?.state === 'open' && s.assignee.id !== '');
    expect(open!.assignee.id).toBe('hannah.okafor');
    expect(open!.instructions).toContain('about the AIMS manager');
    await stack.smtp.waitFor((m) => isNotification(m, `${ref}/triage-1`, 'task.assigned', 'hannah.okafor@northwind.example'), 20_000);
    expect(stack.smtp.messages.some((m) => isNotification(m, `${ref}/triage-1`, 'task.assigned', 'priya.raman@northwind.example'))).toBe(false);

    const rule = '[separation of duties: concern about the AIMS manager]';
    expect(await updateRejection(task.executeUpdate(reassignTaskUpdate, { args: [{ by: 'system', to: 'priya.raman', reason: 'She knows the team' }] }))).toContain(rule);
    expect(await updateRejection(task.executeUpdate(delegateTaskUpdate, { args: [{ by: 'hannah.okafor', to: 'priya.raman' }] }))).toContain(rule);
    expect(await updateRejection(task.executeUpdate(completeTaskUpdate, { args: [{ by: 'priya.raman', data: { decision: 'reject', note: 'Not a concern' } }] }))).toBe(
      'only Hannah Okafor can complete this task: the concern is about the AIMS manager [separation of duties: concern about the AIMS manager]',
    );

    await task.executeUpdate(completeTaskUpdate, { args: [{ by: 'hannah.okafor', data: { decision: 'reject', note: 'Checked: the assessment ran on time.' } }] });
    expect(await result(ref)).toMatchObject({ outcome: 'reject', by: 'hannah.okafor' });
    const [reported] = await stack.records.list({ subject: ref, kind: 'concern.reported' });
    expect(reported!.content).toMatchObject({ description, aboutAimsManager: true });
    expect(JSON.stringify(reported!.content)).not.toContain('priya');
  });

  it('refuses an unknown answer to "about the AIMS manager"', async () => {
    const res = await postForm('/concern', [
      ['csrf', await concernForm()],
      ['description', 'Something worrying happened with the credit model.'],
      ['about', 'marco.rossi'],
    ]);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('Is it about the AIMS manager?: is not one of the listed answers');
  });

  it('re-renders bad input with a message beside each field and the typed values kept', async () => {
    const res = await postForm('/concern', [
      ['csrf', await concernForm()],
      ['description', 'Too short'],
      ['aiSystem', 'mind-reader'],
      ['reporterName', 'Bo <b>Lund</b>'],
      ['reporterEmail', 'not-an-address'],
    ]);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('Please check your answer');
    expect(res.body).toContain('What happened: must be at least 10 characters');
    expect(res.body).toContain('Your e-mail address: must be an e-mail address such as name@example.com');
    expect(res.body).toContain('Which AI system: is not one of the listed systems');
    expect(res.body).toContain('>Too short</textarea>');
    expect(res.body).toContain('value="Bo &lt;b&gt;Lund&lt;/b&gt;"');
    expect(res.body).toContain('value="not-an-address"');
    expect(res.body).toMatch(/id="f-description"[^>]*aria-invalid="true"/);
  });

  it('refuses a post without, with a forged or with a foreign form token, or from another site, with 403', async () => {
    const fields: Array<[string, string]> = [['description', 'Something worrying happened with the assistant.']];
    expect((await postForm('/concern', fields)).statusCode).toBe(403);
    const forged = `${Date.now().toString(36)}-${'ab'.repeat(12)}.${'0'.repeat(64)}`;
    expect((await postForm('/concern', [['csrf', forged], ...fields])).statusCode).toBe(403);
    const otherSecret = issueFormToken('another-secret-0123456789abcdef0123456789', 'concern');
    expect((await postForm('/concern', [['csrf', otherSecret], ...fields])).statusCode).toBe(403);
    const old = issueFormToken(stack.config.LINK_SECRET, 'concern', Date.now() - 2 * 24 * 3600_000);
    expect((await postForm('/concern', [['csrf', old], ...fields])).statusCode).toBe(403);
    const crossSite = await postForm('/concern', [['csrf', await concernForm()], ...fields], { origin: 'https://evil.example' });
    expect(crossSite.statusCode).toBe(403);
    expect(crossSite.body).toContain('The form was sent from another website.');
    expect(crossSite.body).toContain('Something worrying happened with the assistant.');
  });
});
