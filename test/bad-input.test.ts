/**
 * Bad input the API once answered with a 500, each now a 400 naming the field, on the real
 * stack (Temporal dev server, worker, PGlite records): the requests are the ones schemathesis
 * found (test/fuzz.test.ts), kept here so they stay fixed when the fuzzer is not installed.
 */
import { ServiceError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiInstance } from '../src/api/app.js';
import { sendToRunning, type FoundWorkflow } from '../src/api/gateway.js';
import { nulPaths } from '../src/api/plugins/input-guard.js';
import { canonicalTimeZone, timeZoneName } from '../src/common/dates.js';
import { durationString, parseDuration } from '../src/common/duration.js';
import { buildStackApp, TEST_ADMIN_HEADERS } from './helpers/browser.js';
import { startTestStack, type TestStack } from './helpers/temporal.js';

interface ErrorBody {
  message: string;
  issues?: Array<{ path: string; message: string }>;
}

let stack: TestStack;
let app: ApiInstance;

beforeAll(async () => {
  stack = await startTestStack({ randomNcNumbers: true });
  app = await buildStackApp(stack);
});
afterAll(async () => {
  await app?.close();
  await stack?.stop();
});

const send = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) =>
  app.inject({ method, url, headers: TEST_ADMIN_HEADERS, ...(payload === undefined ? {} : { payload: payload as object }) });

/** The paths of the issues of a 400 answer; fails on any other answer. */
async function refusedPaths(response: Awaited<ReturnType<typeof send>>): Promise<string[]> {
  expect(response.statusCode, response.body).toBe(400);
  const body = response.json<ErrorBody>();
  expect(body.issues?.length).toBeGreaterThan(0);
  return body.issues!.map((i) => i.path);
}

const DURATION_PROBLEM = 'must be a duration such as "7d", "12h", "30m" or "10s"';

describe('durations', () => {
  it('reads what people write and nothing else: empty, blank, negative, unreadable and over 100 years are refused', () => {
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration(' 90m ')).toBe(90 * 60_000);
    for (const bad of ['', '   ', '-1d', 'soon', '1e400d', 'x'.repeat(101)]) expect(parseDuration(bad), bad).toBeUndefined();
    expect(durationString.safeParse('').error?.issues.map((i) => i.message)).toEqual([DURATION_PROBLEM]);
    expect(durationString.safeParse('101y').error?.issues.map((i) => i.message)).toEqual(['must be at most 100 years']);
    expect(durationString.safeParse('100y').success).toBe(true);
  });

  // Each body is the one the fuzzer sent: an empty duration somewhere in `policy` made `ms` throw. The
  // actor fields name the key's person (priya.raman): a body naming anyone else is refused before validation.
  const emptyDurations: Array<[string, string, unknown, string[]]> = [
    [
      'POST',
      '/admin/ai-systems',
      { by: 'priya.raman', id: '0', impactTier: 'low', lifecycle: 'deployed', name: '0', owner: '0', purpose: '0', policy: { reassessEvery: '', startBefore: '', changeDebounce: '', firstAssessmentIn: '', retryAfter: '', continueAsNewAfter: 1, maxHistoryEvents: 100, assessment: { tasks: { escalation: [{ after: '' }] } } } },
      ['policy.reassessEvery', 'policy.startBefore', 'policy.changeDebounce', 'policy.firstAssessmentIn', 'policy.retryAfter', 'policy.assessment.tasks.escalation.0.after'],
    ],
    [
      'POST',
      '/admin/approvals',
      { kind: 'a0', title: '000', summary: '0', contentUrl: 'https://0.com', contentHash: '0'.repeat(64), approvers: [{ person: '0' }], rule: { type: 'all' }, preparer: '0', process: 'adhoc', clauses: [], dueAt: '0020-02-29T00:00:00Z', expireAfter: '14d', policy: { escalation: [{ after: '' }] } },
      ['policy.escalation.0.after'],
    ],
    [
      'POST',
      '/admin/certifications',
      { body: { name: '0' }, certificate: { decisionDate: '', expiresOn: '' }, certificateId: '000', plan: { recertification: '', surveillance1: '', surveillance2: '' }, policy: { correctiveAction: { stepDue: '', effectivenessWait: '', approvalDue: '', tasks: { reminderOffsets: [], escalation: [{ after: '' }] } } }, standard: 'iso42001', startedBy: 'priya.raman' },
      ['policy.correctiveAction.stepDue', 'policy.correctiveAction.effectivenessWait', 'policy.correctiveAction.approvalDue', 'policy.correctiveAction.tasks.escalation.0.after'],
    ],
    [
      'POST',
      '/admin/internal-audit-programmes',
      { audits: [{ auditId: 'A-0', auditee: '0', leadAuditor: '0', scope: {}, title: '000', window: { end: '', start: '' } }], policy: { stepDue: '', approvalDue: '', tasks: {}, reminderBefore: '', planDue: '', yearEndAt: '' }, requestedBy: 'priya.raman', year: 2000 },
      ['policy.stepDue', 'policy.approvalDue', 'policy.reminderBefore', 'policy.planDue'],
    ],
    [
      'POST',
      '/admin/management-reviews',
      { meetingDate: '', periodFrom: '', policy: { inputsDue: '', meetingIn: '', approvalDue: '', approvalExpireAfter: '', tasks: { escalation: [{ after: '' }] } }, requestedBy: 'priya.raman', reviewId: '0000', trigger: 'admin', triggerRef: '0' },
      ['policy.inputsDue', 'policy.meetingIn', 'policy.approvalDue', 'policy.approvalExpireAfter', 'policy.tasks.escalation.0.after'],
    ],
    [
      'POST',
      '/admin/nonconformities',
      { aiSystem: '0', clauses: [], description: '0', owner: '0', policy: { tasks: { escalation: [{ after: '' }] } }, raisedAt: '2000-01-01T00:00:00Z', raisedBy: 'priya.raman', severity: 'major', source: 'admin', sourceRef: '0', title: '000' },
      ['policy.tasks.escalation.0.after'],
    ],
    [
      'POST',
      '/admin/tasks',
      { title: '000', instructions: '0', clauses: [], process: 'adhoc', aiSystem: '', assignee: { person: '0' }, dueAt: '0020-02-29T00:00:00Z', form: 'text', choices: [], requestedBy: 'priya.raman', policy: { escalation: [{ after: '' }] } },
      ['policy.escalation.0.after'],
    ],
  ];

  it.each(emptyDurations)('%s %s: an empty duration in the policy is a 400 naming it', async (method, url, body, durationFields) => {
    const response = await send(method as 'POST', url, body);
    const paths = await refusedPaths(response);
    expect(paths).toEqual(expect.arrayContaining(durationFields));
    for (const field of durationFields) {
      expect(response.json<ErrorBody>().issues).toContainEqual({ path: field, message: DURATION_PROBLEM });
    }
  });

  it('a duration over 100 years is refused, naming the field', async () => {
    const response = await send('POST', '/admin/tasks', {
      title: 'Too patient',
      instructions: 'Remind a century early.',
      clauses: [],
      process: 'adhoc',
      assignee: { person: 'sofia.lind' },
      dueAt: new Date(Date.now() + 86_400_000).toISOString(),
      form: 'text',
      policy: { reminderOffsets: ['99999999999999999999y'], escalation: [] },
    });
    expect(await refusedPaths(response)).toEqual(['policy.reminderOffsets.0']);
    expect(response.json<ErrorBody>().issues?.[0]?.message).toBe('must be at most 100 years');
  });

  it('a task for a person it names as conflicting, or conflicts naming an unknown person, is a 400 naming the field and the rule', async () => {
    const task = {
      title: 'Record the findings',
      instructions: 'Record each finding.',
      clauses: [],
      process: 'adhoc',
      assignee: { person: 'sofia.lind' },
      dueAt: new Date(Date.now() + 86_400_000).toISOString(),
      form: 'text',
      policy: { reminderOffsets: [], escalation: [] },
      conflicts: [{ person: 'sofia.lind', rule: 'impartiality: auditor is the auditee', reason: 'sofia.lind is the auditee' }],
    };
    const refused = await send('POST', '/admin/tasks', task);
    expect(await refusedPaths(refused)).toEqual(['assignee.person']);
    expect(refused.json<ErrorBody>().issues?.[0]?.message).toBe('may not hold this task: sofia.lind is the auditee [impartiality: auditor is the auditee]');
    const unknown = await send('POST', '/admin/tasks', { ...task, assignee: { person: 'aisha.khan' }, conflicts: [{ ...task.conflicts[0], person: 'zoe.nobody' }] });
    expect(await refusedPaths(unknown)).toEqual(['conflicts.0.person']);
  });
});

describe('time zones', () => {
  it('are tz database names in any spelling ICU knows; offsets and other text are not', () => {
    expect(canonicalTimeZone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(canonicalTimeZone('europe/berlin')).toBe('Europe/Berlin');
    expect(canonicalTimeZone('UTC')).toBe('UTC');
    expect(canonicalTimeZone('Etc/GMT+1')).toBe('Etc/GMT+1');
    for (const bad of ['0', '', '+01:00', 'GMT+1', 'Mars/Olympus', 'Local', 'Europe/Berlin\u0000']) {
      expect(canonicalTimeZone(bad), bad).toBeUndefined();
      expect(timeZoneName.safeParse(bad).success, bad).toBe(false);
    }
  });
});

describe('text the ledger cannot store', () => {
  it('finds NUL characters in values and keys at any depth, without recursion', () => {
    expect(nulPaths({ a: 'ok', b: ['x', 'y\u0000'], c: { 'k\u0000': 1, d: { e: '\u0000' } } })).toEqual(['b.1', 'c.k\\u0000', 'c.d.e']);
    expect(nulPaths('\u0000')).toEqual(['']);
    let deep: unknown = 'bottom\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(nulPaths(deep)).toHaveLength(1);
    expect(nulPaths({ ok: [1, true, null, 'text'] })).toEqual([]);
  });

  it('refuses a NUL in a body, a query or a path with a 400 naming the field, and starts nothing', async () => {
    const title = 'Model card missing\u0000';
    const raised = await send('POST', '/admin/nonconformities', {
      title,
      description: 'The credit model has no model card.',
      severity: 'minor',
      source: 'admin',
      clauses: ['A.6.2.7'],
      owner: 'sofia.lind',
      raisedBy: 'priya.raman',
    });
    expect(await refusedPaths(raised)).toEqual(['title']);
    expect(raised.json<ErrorBody>().message).toBe('Invalid body: title: must not contain NUL characters (U+0000)');
    const listed = await send('GET', '/admin/nonconformities?limit=500');
    expect(listed.statusCode).toBe(200);
    expect(listed.json<{ items: Array<{ title: string }> }>().items.map((i) => i.title)).not.toContain(title);

    expect(await refusedPaths(await send('GET', '/admin/records?kind=task%00'))).toEqual(['kind']);
    expect(await refusedPaths(await send('GET', '/admin/work/task%2F%00'))).toEqual(['id']);
  });
});

describe('query parameters compared with each other', () => {
  it('a `from` that is no date is a 400 naming it, not a comparison that throws', async () => {
    // The fuzzer's request: `from` and `to` of random characters.
    const paths = await refusedPaths(await send('GET', '/admin/improvements?to=%C2%9E%C3%A5(l&state=actioned&from=%C3%80%C3%B4v'));
    expect(paths).toEqual(expect.arrayContaining(['from', 'to']));
    expect(await refusedPaths(await send('GET', '/admin/improvements?from=2027-02-01&to=2027-01-01'))).toEqual(['from']);
    expect((await send('GET', '/admin/improvements?from=2027-01-01&to=2027-02-01')).statusCode).toBe(200);
  });
});

describe('the OpenAPI document', () => {
  type Responses = Record<string, { content?: Record<string, unknown> }>;
  const responsesOf = async (path: string, method: string): Promise<Responses> => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, Record<string, { responses: Responses }>> }>();
    return doc.paths[path]![method]!.responses;
  };

  it('declares the answers routes really give: JSON errors beside an HTML pack, 404 and 409 for schedules', async () => {
    const pack = await responsesOf('/admin/management-reviews/{reviewId}/pack', 'get');
    expect(Object.keys(pack['200']!.content!)).toEqual(['text/html']);
    for (const status of ['400', '401', '404', '409', '503']) expect(Object.keys(pack[status]!.content!), status).toEqual(['application/json']);
    const unauthorized = await app.inject({ method: 'GET', url: '/admin/management-reviews/2027/pack' });
    expect(unauthorized.statusCode).toBe(401);
    expect(unauthorized.headers['content-type']).toMatch(/^application\/json/);

    for (const [path, method] of [
      ['/admin/schedules/{kind}', 'get'],
      ['/admin/schedules/{kind}', 'delete'],
      ['/admin/schedules/{kind}/pause', 'post'],
      ['/admin/schedules/{kind}/resume', 'post'],
      ['/admin/schedules/{kind}/run', 'post'],
    ] as const) {
      expect(Object.keys(await responsesOf(path, method)), `${method} ${path}`).toContain('404');
    }
    expect(Object.keys(await responsesOf('/admin/schedules/{kind}', 'put'))).toContain('409');
  });
});

describe('an update lost with a failed workflow task', () => {
  // The server's answer when the workflow task carrying an update failed (seen under the fuzzer
  // when an update met a review being cancelled): the update had no effect.
  const lost = () =>
    new ServiceError('Workflow Update failed', {
      cause: Object.assign(new Error('9 FAILED_PRECONDITION: Unable to perform workflow execution update due to unexpected workflow task failure.'), {
        code: 9,
        details: 'Unable to perform workflow execution update due to unexpected workflow task failure.',
      }),
    });
  const workflow = (statuses: string[]) => {
    const handle = { describe: () => Promise.resolve({ status: { name: statuses.shift() ?? 'RUNNING' } }) };
    return { workflowId: 'task/x', handle, description: { status: { name: 'RUNNING' } }, running: true } as unknown as FoundWorkflow;
  };

  it('is sent again while the workflow runs, and answered as closed once it has closed', async () => {
    let sends = 0;
    const flaky = () => (++sends === 1 ? Promise.reject(lost()) : Promise.resolve('ack'));
    await expect(sendToRunning(workflow(['RUNNING']), flaky)).resolves.toEqual({ kind: 'ok', result: 'ack' });
    expect(sends).toBe(2);
    await expect(sendToRunning(workflow(['CANCELLED']), () => Promise.reject(lost()))).resolves.toEqual({ kind: 'closed', status: 'cancelled' });
    await expect(sendToRunning(workflow([]), () => Promise.reject(lost()))).rejects.toThrow('Workflow Update failed');
    await expect(sendToRunning(workflow([]), () => Promise.reject(new ServiceError('unavailable')))).rejects.toThrow('unavailable');
  });
});

describe('titles and names shown as one line', () => {
  it('a line break in a title or a name is a 400 naming it: the mail layer would refuse the notification', async () => {
    const task = await send('POST', '/admin/tasks', {
      title: 'Evidence for\nthe review',
      instructions: 'Two\nlines are fine here.',
      clauses: [],
      process: 'adhoc',
      assignee: { person: 'sofia.lind' },
      dueAt: new Date(Date.now() + 86_400_000).toISOString(),
      form: 'text',
      policy: { reminderOffsets: [], escalation: [] },
    });
    expect(await refusedPaths(task)).toEqual(['title']);
    expect(task.json<ErrorBody>().issues?.[0]?.message).toBe('must be a single line without control characters');

    // The fuzzer's finding: a system registered with a tab in its name got assessment tasks that were never mailed.
    const system = await send('POST', '/admin/ai-systems', {
      id: 'fuzz-tabbed',
      name: 'Churn\tmodel',
      owner: 'marco.rossi',
      purpose: 'Predicts churn.',
      impactTier: 'low',
      lifecycle: 'deployed',
    });
    expect(await refusedPaths(system)).toEqual(['name']);

    const nc = await send('POST', '/admin/nonconformities', {
      title: 'Model card\r\nmissing',
      description: 'The credit model has no model card.',
      severity: 'minor',
      source: 'admin',
      clauses: ['A.6.2.7'],
      owner: 'sofia.lind',
      raisedBy: 'priya.raman',
    });
    expect(await refusedPaths(nc)).toEqual(['title']);
  });
});

describe('clause references', () => {
  it('are refused at the start when the ledger would refuse them: the NC would fail at its first record', async () => {
    const nc = await send('POST', '/admin/nonconformities', {
      title: 'Model card missing',
      description: 'The credit model has no model card.',
      severity: 'minor',
      source: 'admin',
      clauses: ['A.6.2.7', '4.100', '10.1.1.1.1', 'A.123.4'],
      owner: 'sofia.lind',
      raisedBy: 'priya.raman',
    });
    expect(await refusedPaths(nc)).toEqual(['clauses.1', 'clauses.2', 'clauses.3']);
    const task = await send('POST', '/admin/tasks', {
      title: 'Evidence',
      instructions: 'Link it.',
      clauses: ['9.2', 'A.10.4', '6.1.4', 'A.6.2.8'],
      process: 'adhoc',
      assignee: { person: 'sofia.lind' },
      dueAt: new Date(Date.now() + 86_400_000).toISOString(),
      form: 'text',
      policy: { reminderOffsets: [], escalation: [] },
    });
    expect(task.statusCode, task.body).toBe(201);
  });
});
