/**
 * Pages after a worker crash: a worker in its own process runs a task and an approval, then is
 * killed (SIGKILL). The pages still answer within the request deadline, drawn from what the
 * work last published, with a "refreshing" note; a form sent then comes back with every answer
 * kept, "not saved yet", 503 and Retry-After. A new worker takes the work over, the pages are
 * live again and the answer is saved once; with no worker at all, a completed task shows its
 * answer from the ledger.
 *
 * Real parts throughout: the Temporal dev server, the API listening on a port (requests with a
 * deadline, as a browser would give up), a real SMTP server whose mails carry the links.
 */
import { TEST_API_KEYS } from './helpers/keys.js';
import { createHash, randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { createActivities } from '../activities/index.js';
import { freePort } from '../scripts/lib/wait.js';
import { buildApp, type ApiInstance } from '../src/api/app.js';
import { csrfToken } from '../src/api/csrf.js';
import { approvalStatusQuery } from '../src/approval/contract.js';
import { startApproval } from '../src/approval/start.js';
import { parseConfig, type Config } from '../src/config.js';
import { createLinkSigner } from '../src/links/signer.js';
import { formatDate } from '../src/mail/templates.js';
import { createMailTransport, type MailTransport } from '../src/mail/transport.js';
import type { Organization } from '../src/organization/schema.js';
import { IN_MEMORY, openRecordsStore } from '../src/records/store.js';
import type { RecordsStore } from '../src/records/types.js';
import { taskStatusQuery } from '../src/task/contract.js';
import { startHumanTask } from '../src/task/start.js';
import { createAimsWorker } from '../workers/worker.js';
import { linkIn } from './helpers/browser.js';
import { isNotification, startSmtpServer, type TestSmtpServer } from './helpers/smtp.js';
import { eventually, exampleOrganization, inMs } from './helpers/temporal.js';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process.js';
import { aimsDataConverter } from '../src/temporal/codec.js';

/** A person's browser gives up on a page after this long; every page must answer within it. */
const REQUEST_DEADLINE_MS = 5_000;

let config: Config;
let base: string;
let smtp: TestSmtpServer;
let records: RecordsStore;
let organization: Organization;
let connection: Connection;
let client: Client;
let app: ApiInstance;
let crashing: WorkerProcess | undefined;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  smtp = await startSmtpServer();
  config = parseConfig({
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: inject('temporalNamespace'),
    TEMPORAL_TASK_QUEUE: `test-fallback-${randomUUID()}`,
    SMTP_URL: smtp.url,
    MAIL_FROM: 'aimsflow <aimsflow@northwind.example>',
    PUBLIC_BASE_URL: base,
    LINK_SECRET: 'test-link-secret-0123456789abcdef0123456789',
    API_KEYS: TEST_API_KEYS,
    DATA_DIR: IN_MEMORY,
    LOG_LEVEL: 'silent',
  });
  organization = await exampleOrganization();
  records = await openRecordsStore({ dataDir: IN_MEMORY });
  connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: aimsDataConverter(config) });
  app = await buildApp({
    config,
    logger: false,
    records,
    temporal: client,
    readiness: { temporal: () => Promise.resolve() },
    organization: () => organization,
    links: createLinkSigner({ secret: config.LINK_SECRET, ttlHours: 24, baseUrl: config.PUBLIC_BASE_URL }),
  });
  await app.listen({ host: '127.0.0.1', port });
  crashing = await startWorkerProcess(config);
}, 180_000);

afterAll(async () => {
  await crashing?.kill();
  await app?.close();
  await connection?.close();
  await records?.close();
  await smtp?.stop();
});

const get = (link: string) => fetch(link, { headers: { accept: 'text/html' }, signal: AbortSignal.timeout(REQUEST_DEADLINE_MS) });

function post(link: string, fields: Array<[string, string]>) {
  return fetch(link, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', origin: base },
    body: new URLSearchParams(fields).toString(),
    signal: AbortSignal.timeout(REQUEST_DEADLINE_MS),
  });
}

function csrfOf(html: string): string {
  const value = /name="csrf" value="([0-9a-f]{64})"/.exec(html)?.[1];
  if (!value) throw new Error('no csrf field on the page');
  return value;
}

/** The csrf value the page of `link` would carry (for a page that shows no form right now). */
const csrfFor = (link: string) => csrfToken(config.LINK_SECRET, new URL(link).searchParams.get('token') ?? '');

const mailFor = (workflowId: string, kind: string, person: string) =>
  smtp.waitFor((m) => isNotification(m, workflowId, kind, `${person}@northwind.example`), 30_000);

const title = 'Contain the fraud-model drift incident';
const dueAt = inMs(3 * 24 * 3600_000);
const summary = 'Rolled the fraud model back to v12; the drift alert now pages the on-call.';
const evidence = 'https://tickets.northwind.example/INC-77';
let taskId: string;
let taskLink: string;
let approvalId: string;
let approvalLink: string;

describe('pages after the worker holding the work is killed', () => {
  it('opens live while the worker runs', async () => {
    const task = await startHumanTask(
      client,
      config.TEMPORAL_TASK_QUEUE,
      {
        title,
        instructions: 'Describe the containment and link the evidence.',
        clauses: ['10.2'],
        process: 'corrective-action',
        assignee: { person: 'priya.raman' },
        dueAt,
        form: 'evidence',
        policy: { reminderOffsets: [], escalation: [] },
      },
      { organization },
    );
    taskId = task.workflowId;
    const approval = await startApproval(
      client,
      config.TEMPORAL_TASK_QUEUE,
      {
        kind: 'risk-acceptance',
        title: 'Accept the residual drift risk',
        summary: 'Residual risk: a day of drift before the alert fires.',
        contentHash: createHash('sha256').update('drift risk v1').digest('hex'),
        approvers: [{ person: 'david.chen' }],
        preparer: 'priya.raman',
        process: 'ai-risk-management',
        dueAt: inMs(5 * 24 * 3600_000),
        policy: { reminderOffsets: [], escalation: [] },
      },
      { organization },
    );
    approvalId = approval.workflowId;
    taskLink = linkIn(await mailFor(taskId, 'task.assigned', 'priya.raman'), '/t');
    approvalLink = linkIn(await mailFor(approvalId, 'approval.requested', 'david.chen'), '/a');

    const page = await get(taskLink);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`<h1>${title}</h1>`);
    expect(html).not.toContain('Refreshing');
    const approvalPage = await get(approvalLink);
    expect(approvalPage.status).toBe(200);
    expect(await approvalPage.text()).toContain('value="approve">Approve</button>');
  }, 60_000);

  it('answers the task page from the last published state, with the form, after a kill -9', async () => {
    await crashing?.kill();
    crashing = undefined;

    const page = await get(taskLink);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<h2>Refreshing</h2>');
    expect(html).toContain('This page may be a moment behind');
    expect(html).toContain(`<h1>${title}</h1>`);
    expect(html).toContain(`Due <time datetime="${dueAt}">${formatDate(dueAt)}</time>`);
    expect(html).toContain('<dt>Assigned to</dt><dd>Priya Raman</dd>');
    expect(html).toContain('Describe the containment and link the evidence.');
    expect(html).toMatch(/<textarea id="f-summary" name="summary"/);

    // The form is checked without the workflow: a bad answer is named at once.
    const bad = await post(taskLink, [['csrf', csrfOf(html)], ['summary', ' '], ['links', evidence]]);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('The summary is required');
  });

  it('gives a sent answer back unsaved with every field kept (503, Retry-After), and the task stays open', async () => {
    const html = await (await get(taskLink)).text();
    const res = await post(taskLink, [['csrf', csrfOf(html)], ['summary', summary], ['links', evidence]]);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('10');
    const body = await res.text();
    expect(body).toContain('<h2>Not saved yet</h2>');
    expect(body).toContain('so it is not saved yet. Everything you entered is still below');
    expect(body).toContain(`${summary}</textarea>`);
    expect(body).toMatch(new RegExp(`name="links" value="${evidence.replace(/[.]/g, '\\.')}"`));
    const described = await client.workflow.getHandle(taskId).describe();
    expect(described.status.name).toBe('RUNNING');
    expect(await records.list({ subject: taskId })).toEqual([]);
  });

  it('answers the approval page with its published state and no decision form; a decision comes back unsaved', async () => {
    const page = await get(approvalLink);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<h1>Accept the residual drift risk</h1>');
    expect(html).toContain('This page may be a moment behind');
    expect(html).toContain('Waiting for decisions, decide by');
    expect(html).toContain('Your decision form shows again once the page is up to date');
    expect(html).not.toContain('name="decision"');

    const res = await post(approvalLink, [
      ['csrf', csrfFor(approvalLink)],
      ['decision', 'reject'],
      ['comment', 'Shorten the alert window to an hour first.'],
    ]);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('10');
    const body = await res.text();
    expect(body).toContain('so it is not saved yet');
    expect(body).toContain('Shorten the alert window to an hour first.');
  });
});

describe('a new worker takes the work over', () => {
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let native: NativeConnection | undefined;
  let transport: MailTransport | undefined;

  beforeAll(async () => {
    native = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
    transport = createMailTransport({ smtpUrl: smtp.url, from: config.MAIL_FROM, logger: pino({ level: 'silent' }) });
    const bundlePath = inject('workflowBundlePath');
    worker = await createAimsWorker({
      connection: native,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      dataConverter: aimsDataConverter(config),
      ...(bundlePath ? { workflowBundle: { code: await readFile(bundlePath, 'utf8') } } : {}),
      activities: createActivities({
        organization: () => organization,
        records,
        transport,
        links: createLinkSigner({ secret: config.LINK_SECRET, ttlHours: 24, baseUrl: config.PUBLIC_BASE_URL }),
        mailFrom: config.MAIL_FROM,
        logger: pino({ level: 'silent' }),
        temporal: { client, taskQueue: config.TEMPORAL_TASK_QUEUE },
      }),
      shutdownGraceTime: '1s',
    });
    running = worker.run();
  }, 120_000);

  afterAll(async () => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await native?.close();
    transport?.close();
  });

  it('serves the live page again and saves the answer once', async () => {
    const live = await eventually(
      async () => (await get(taskLink)).text(),
      (html) => !html.includes('Refreshing'),
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const res = await post(taskLink, [['csrf', csrfOf(live)], ['summary', summary], ['links', evidence]]);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<h1>Thank you</h1>');
    const status = await client.workflow.getHandle(taskId).query(taskStatusQuery);
    expect(status.state).toBe('completed');
    expect(status.completion).toMatchObject({ by: 'priya.raman', data: { summary, links: [evidence] } });
    expect(status.history.filter((e) => e.type === 'completed')).toHaveLength(1);
    // The approval was never decided: the unsaved decision did not land later.
    expect((await client.workflow.getHandle(approvalId).query(approvalStatusQuery)).decisions).toEqual([]);
    await eventually(() => records.list({ subject: taskId, kind: 'task.completed' }), (r) => r.length === 1);
  }, 90_000);

  it('with no worker at all, shows a completed task with its answer from the ledger', async () => {
    worker?.shutdown();
    await running;
    const page = await get(taskLink);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('This page may be a moment behind');
    expect(html).toContain('<span class="badge badge-done">Completed</span>');
    expect(html).toContain('<h2>The answer given</h2>');
    expect(html).toContain('Completed by Priya Raman');
    expect(html).toContain(summary);
    expect(html).toContain(`<a href="${evidence}" rel="noopener noreferrer">`);
    expect(html).not.toContain('<form');


    const again = await post(taskLink, [['csrf', csrfFor(taskLink)], ['summary', 'again'], ['links', evidence]]);
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('This task is already done');
  });
});
