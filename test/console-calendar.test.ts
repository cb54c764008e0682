/**
 * The AIMS calendar: the pure gathering of its items (every kind, the fallbacks when a plan
 * could not be read, what a role may see), the month arithmetic, and the personal iCalendar
 * feed's parts: tokens, issue and revoke in the ledger (latest wins), and the feed text as
 * ical.js parses it.
 */
import ICAL from 'ical.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permits } from '../src/auth/permissions.js';
import { feedCalendar, feedSubject, feedTokens, issueFeed, readFeedState, revokeFeed, tokenOfFile } from '../src/calendar/feed.js';
import {
  calendarItems,
  calendarKinds,
  dayIn,
  itemsInMonth,
  parseMonth,
  shiftMonth,
  visibleKinds,
  type CalendarSources,
} from '../src/calendar/items.js';
import { processQuery } from '../src/calendar/sources.js';
import { redactUrl } from '../src/api/logging.js';
import { IN_MEMORY, openRecordsStore } from '../src/records/store.js';
import type { RecordsStore } from '../src/records/types.js';
import { optionalPart } from '../scripts/lib/parts.js';
import { startCertificationCycle } from '../src/certification/start.js';
import { buildStackApp, TEST_ADMIN_HEADERS } from './helpers/browser.js';
import { axeViolations, consoleFetch, csrfIn, screenshots, signInJar, signInPage, startConsole, type ConsoleContext } from './helpers/console.js';
import { eventually } from './helpers/temporal.js';
import { headersOf } from './helpers/keys.js';

const chromium = optionalPart('Chromium');
if (!chromium.here) console.warn(`console calendar: browser checks skipped: ${chromium.skipReason}`);

const ALL = new Set(calendarKinds);

/** The VEVENTs of an iCalendar text, as ical.js parses them (throws on text that is not iCalendar). */
function parseEvents(text: string): ICAL.Event[] {
  const parsed = ICAL.parse(text) as unknown[];
  return new ICAL.Component(parsed).getAllSubcomponents('vevent').map((c) => new ICAL.Event(c));
}
const now = new Date('2027-03-10T12:00:00Z');

function sources(overrides: Partial<CalendarSources> = {}): CalendarSources {
  return {
    workflows: [
      { workflowId: 'internal-audit/2027/A-01', type: 'internalAudit', ref: 'IA-2027-A-01', state: 'planned', owner: 'aisha.khan', dueAt: '2027-04-06T00:00:00.000Z', memo: { auditId: 'A-01', title: 'Clause 8 operations' } },
      { workflowId: 'internal-audit-programme/2027', type: 'internalAuditProgramme', ref: 'IAP-2027', state: 'running', memo: {} },
      { workflowId: 'management-review/2027', type: 'managementReview', ref: '2027', state: 'collecting-inputs', dueAt: '2027-03-20T00:00:00.000Z', memo: { reviewId: '2027', meetingDate: '2027-04-15' } },
      { workflowId: 'certification/iso42001/CERT-1', type: 'certificationCycle', ref: 'CERT-1', state: 'valid', dueAt: '2027-05-10T00:00:00.000Z', memo: { certificateId: 'CERT-1', expiresOn: '2029-06-30' } },
      { workflowId: 'ai-system/credit-scoring', type: 'aiSystem', ref: 'credit-scoring', state: 'current', owner: 'tom.baker', dueAt: '2027-03-31T22:30:00.000Z', memo: { title: 'Credit scoring' } },
      { workflowId: 'ai-system/chatbot', type: 'aiSystem', ref: 'chatbot', state: 'in-progress', dueAt: '2027-03-01T00:00:00.000Z', memo: { title: 'Chatbot' } },
      { workflowId: 'impact-assessment/chatbot/2027-1', type: 'impactAssessment', ref: 'chatbot/2027-1', state: 'assessing', owner: 'tom.baker', dueAt: '2027-03-05T00:00:00.000Z', memo: { assessmentId: 'chatbot/2027-1' } },
      { workflowId: 'objective/OBJ-1', type: 'objectiveMeasurement', ref: 'OBJ-1', state: 'on-track', owner: 'tom.baker', dueAt: '2027-03-15T09:00:00.000Z', memo: { title: 'Fewer complaints' } },
    ],
    programmes: [],
    cycles: [],
    risks: [
      { riskId: 'R-001', title: 'Bias in scoring', owner: 'tom.baker', state: 'treated', reviewDueAt: '2027-03-12T00:00:00.000Z' },
      { riskId: 'R-002', title: 'Closed one', owner: 'tom.baker', state: 'closed', reviewDueAt: '2027-03-12T00:00:00.000Z' },
    ],
    own: [
      { id: 'human-task/x', kind: 'task', title: 'Plan the audit', dueAt: '2027-03-08T17:00:00.000Z', overdue: true, process: 'internal-audit', state: 'overdue' },
      { id: 'approval/y', kind: 'approval', title: 'Approve the minutes', dueAt: '2027-03-12T17:00:00.000Z', overdue: false, process: 'management-review', state: 'pending' },
      { id: 'human-task/z', kind: 'task', title: 'No due date', dueAt: undefined, overdue: false, process: undefined, state: 'open' },
    ],
    ...overrides,
  };
}

describe('calendar items', () => {
  it('gathers every kind from visibility, the register and the person’s own work, by start', () => {
    const items = calendarItems(sources(), { timeZone: 'UTC', now, kinds: ALL });
    const brief = items.map((i) => `${i.start} ${i.kind} ${i.title}${i.overdue ? ' !' : ''}`);
    expect(brief).toEqual([
      '2027-03-05 impact-assessment Impact assessment chatbot/2027-1 due !',
      '2027-03-08T17:00:00.000Z task Task due: Plan the audit !',
      '2027-03-12 risk-review Review of risk R-001: Bias in scoring',
      '2027-03-12T17:00:00.000Z approval Approval due: Approve the minutes',
      '2027-03-15 objective Measurement of objective OBJ-1 due',
      '2027-03-31 impact-assessment Impact assessment of Credit scoring due',
      '2027-04-05 internal-audit Internal audit A-01: Clause 8 operations (window ends)',
      '2027-04-15 management-review Management review 2027 meeting',
      '2027-05-10 external-audit CERT-1: next external audit',
      '2029-06-30 certificate CERT-1: certificate expires',
    ]);
    // A running assessment stands for its AI system's due date; a closed risk has no review; no due date, no item.
    expect(items.some((i) => i.workflowId === 'ai-system/chatbot')).toBe(false);
    expect(items.some((i) => i.title.includes('R-002') || i.title.includes('No due date'))).toBe(false);
    const task = items.find((i) => i.kind === 'task')!;
    expect(task).toMatchObject({ allDay: false, start: '2027-03-08T17:00:00.000Z', end: '2027-03-08T17:00:00.000Z', target: { console: '/console' } });
    expect(new Set(items.map((i) => i.uid)).size).toBe(items.length);
  });

  it('places instants on the day they fall on in the organization’s time zone', () => {
    const items = calendarItems(sources(), { timeZone: 'Europe/Berlin', now, kinds: ALL });
    // 2027-03-31T22:30Z is 1 April in Berlin.
    expect(items.find((i) => i.workflowId === 'ai-system/credit-scoring')?.start).toBe('2027-04-01');
    expect(dayIn('2027-03-31T22:30:00Z', 'America/New_York')).toBe('2027-03-31');
    expect(dayIn('2027-03-31', 'Asia/Tokyo')).toBe('2027-03-31');
  });

  it('uses the programme’s and the cycle’s full plans when they were read, instead of visibility’s next date', () => {
    const items = calendarItems(
      sources({
        own: [],
        programmes: [
          {
            year: 2027,
            workflowId: 'internal-audit-programme/2027',
            audits: [
              { auditId: 'A-01', title: 'Clause 8 operations', workflowId: 'internal-audit/2027/A-01', window: { start: '2027-04-01', end: '2027-04-05' }, state: 'planned', leadAuditor: 'aisha.khan', auditee: 'tom.baker' },
              { auditId: 'A-02', title: 'Dropped', workflowId: 'internal-audit/2027/A-02', window: { start: '2027-05-01', end: '2027-05-02' }, state: 'cancelled', leadAuditor: 'liam.walsh', auditee: 'tom.baker' },
            ],
          },
        ],
        cycles: [
          {
            certificateId: 'CERT-1',
            workflowId: 'certification/iso42001/CERT-1',
            plan: { stage1: '2026-01-10', stage2: '2026-02-10', surveillance1: '2027-01-20', surveillance2: '2028-01-20', recertification: '2028-12-01' },
            certificate: { decisionDate: '2026-03-01', expiresOn: '2029-02-28' },
            audits: [
              { audit: 'stage1', completedOn: '2026-01-10', missed: false },
              { audit: 'surveillance1', missed: true },
            ],
          },
        ],
      }),
      { timeZone: 'UTC', now, kinds: new Set(['internal-audit', 'external-audit', 'certificate']) },
    );
    expect(items.map((i) => `${i.start}..${i.end} ${i.title} (${i.detail})${i.overdue ? ' !' : ''}`)).toEqual([
      '2026-01-10..2026-01-10 CERT-1: Stage 1 audit (held on 2026-01-10)',
      '2026-02-10..2026-02-10 CERT-1: Stage 2 audit (planned)',
      '2026-03-01..2026-03-01 CERT-1: certificate granted (valid until 2029-02-28)',
      '2027-01-20..2027-01-20 CERT-1: Surveillance audit 1 (missed: no outcome recorded in its window) !',
      '2027-04-01..2027-04-05 Internal audit A-01: Clause 8 operations (planned; lead auditor aisha.khan, auditee tom.baker)',
      '2028-01-20..2028-01-20 CERT-1: Surveillance audit 2 (planned)',
      '2028-12-01..2028-12-01 CERT-1: Recertification audit (planned)',
      '2029-02-28..2029-02-28 CERT-1: certificate expires (granted 2026-03-01)',
    ]);
  });

  it('shows a person only the kinds their roles may read, and always their own work', () => {
    const ownerKinds = visibleKinds((p) => permits(['process-owner'], p));
    expect([...ownerKinds].sort()).toEqual(['approval', 'risk-review', 'task']);
    const items = calendarItems(sources(), { timeZone: 'UTC', now, kinds: ownerKinds });
    expect(new Set(items.map((i) => i.kind))).toEqual(new Set(['task', 'approval', 'risk-review']));
    expect(visibleKinds((p) => permits(['top-management'], p))).toEqual(ALL);
    // The visibility query asks only for the types those kinds come from.
    expect(processQuery('aimsflow', ownerKinds)).toBeUndefined();
    expect(processQuery('aimsflow', new Set(['objective']))).toBe(
      "ExecutionStatus = 'Running' AND TaskQueue = 'aimsflow' AND (WorkflowType = 'objectiveMeasurement')",
    );
  });

  it('selects a month’s items, an item begun earlier on the 1st, and does month arithmetic', () => {
    const items = calendarItems(
      sources({
        programmes: [
          {
            year: 2027,
            workflowId: 'internal-audit-programme/2027',
            audits: [{ auditId: 'A-01', title: 'Long', workflowId: 'internal-audit/2027/A-01', window: { start: '2027-02-20', end: '2027-03-03' }, state: 'in-progress', leadAuditor: 'aisha.khan', auditee: 'tom.baker' }],
          },
        ],
      }),
      { timeZone: 'UTC', now, kinds: ALL },
    );
    const march = itemsInMonth(items, { year: 2027, month: 3 }, 'UTC');
    expect(march.find((i) => i.kind === 'internal-audit')?.day).toBe('2027-03-01');
    expect(march.every((i) => i.day.startsWith('2027-03'))).toBe(true);
    expect(march.map((i) => i.kind)).not.toContain('management-review');
    expect(itemsInMonth(items, { year: 2027, month: 2 }, 'UTC').map((i) => i.day)).toEqual(['2027-02-20']);
    expect(parseMonth('2027-03')).toEqual({ year: 2027, month: 3 });
    for (const bad of ['2027-13', '2027-3', '27-03', '2027-00', 'march', '2027-03-01', '']) expect(parseMonth(bad)).toBeUndefined();
    expect(shiftMonth({ year: 2027, month: 1 }, -1)).toEqual({ year: 2026, month: 12 });
    expect(shiftMonth({ year: 2027, month: 12 }, 1)).toEqual({ year: 2028, month: 1 });
  });
});

describe('calendar feed parts', () => {
  let records: RecordsStore;
  beforeAll(async () => {
    records = await openRecordsStore({ dataDir: IN_MEMORY });
  });
  afterAll(async () => {
    await records.close();
  });

  it('signs a token per person and feed, the same each time, that no other secret or shape passes', async () => {
    const tokens = feedTokens('a-link-secret-of-at-least-32-characters!!');
    const token = await tokens.sign('priya.raman', 'AAAAAAAAAAAAAAAAAAAAAA');
    expect(await tokens.sign('priya.raman', 'AAAAAAAAAAAAAAAAAAAAAA')).toBe(token);
    expect(await tokens.verify(token)).toEqual({ person: 'priya.raman', feedId: 'AAAAAAAAAAAAAAAAAAAAAA' });
    expect(await feedTokens('another-secret-of-at-least-32-characters').verify(token)).toBeUndefined();
    const [h, p, s] = token.split('.');
    const altered = `${h}.${Buffer.from(JSON.stringify({ fid: 'AAAAAAAAAAAAAAAAAAAAAA', iss: 'aimsflow', aud: 'calendar.feed', sub: 'hannah.okafor' })).toString('base64url')}.${s}`;
    expect(await tokens.verify(altered)).toBeUndefined();
    expect(p).toBeTruthy();
    expect(await tokens.verify('not-a-token')).toBeUndefined();
    expect(tokenOfFile(`${token}.ics`)).toBe(token);
    expect(tokenOfFile(token)).toBeUndefined();
    // Request logs never show a feed's token.
    expect(redactUrl(`/calendar/${token}.ics`)).toBe('/calendar/[redacted]');
  });

  it('issues, replaces and revokes a feed in the ledger, the latest record winning', async () => {
    const person = 'david.chen';
    expect((await readFeedState(records, person)).active).toBeUndefined();
    const first = await issueFeed(records, person, person, new Date('2027-03-01T10:00:00Z'));
    expect((await readFeedState(records, person)).active).toEqual(first);
    const second = await issueFeed(records, person, person, new Date('2027-03-02T10:00:00Z'));
    let state = await readFeedState(records, person);
    expect(state.active?.feedId).toBe(second.feedId);
    expect(state.history.get(first.feedId)?.ended).toMatchObject({ how: 'replaced', at: '2027-03-02T10:00:00.000Z' });
    const revoked = await revokeFeed(records, person, 'priya.raman', new Date('2027-03-03T10:00:00Z'));
    expect(revoked?.feedId).toBe(second.feedId);
    state = await readFeedState(records, person);
    expect(state.active).toBeUndefined();
    expect(state.ended).toMatchObject({ feedId: second.feedId, how: 'revoked', by: 'priya.raman' });
    expect(await revokeFeed(records, person, person)).toBeUndefined();
    const ledger = await records.list({ subject: feedSubject(person) });
    expect(ledger.map((r) => [r.kind, r.actor])).toEqual([
      ['calendar-feed.issued', person],
      ['calendar-feed.issued', person],
      ['calendar-feed.revoked', 'priya.raman'],
    ]);
    expect((await records.verify()).ok).toBe(true);
  });

  it('writes a feed that parses as iCalendar: all-day and timed events with stable UIDs, DTSTAMP and URLs', () => {
    const items = calendarItems(sources(), { timeZone: 'UTC', now, kinds: ALL });
    const text = feedCalendar(items, { name: 'aimsflow: Priya Raman', host: 'aims.example.com', urlOf: (i) => `https://aims.example.com/console/calendar?uid=${encodeURIComponent(i.uid)}`, now });
    const again = feedCalendar(items, { name: 'aimsflow: Priya Raman', host: 'aims.example.com', urlOf: () => undefined, now: new Date('2027-03-11T00:00:00Z') });
    const events = parseEvents(text);
    expect(events).toHaveLength(items.length);
    const uids = events.map((e) => e.uid);
    expect(uids).toEqual(items.map((i) => `${i.uid}@aims.example.com`));
    const againUids = parseEvents(again).map((e) => e.uid);
    expect(againUids).toEqual(uids);
    const review = events.find((e) => e.summary === 'Management review 2027 meeting')!;
    expect(review.startDate.isDate).toBe(true);
    expect(review.startDate.toString()).toBe('2027-04-15');
    expect(review.endDate.toString()).toBe('2027-04-16');
    const task = events.find((e) => e.summary === 'Task due: Plan the audit')!;
    expect(task.startDate.isDate).toBe(false);
    expect(task.startDate.toJSDate().toISOString()).toBe('2027-03-08T17:00:00.000Z');
    expect(task.component.getFirstPropertyValue('dtstamp')?.toString()).toBe('2027-03-10T12:00:00Z');
    expect(String(task.component.getFirstPropertyValue('url'))).toContain('https://aims.example.com/console/calendar?uid=');
    expect(task.description).toContain('(overdue)');
  });
});

describe('console calendar and feed', () => {
  let ctx: ConsoleContext;
  const DAY = 86_400_000;
  const now = Date.now();
  const meeting = new Date(now + 10 * DAY).toISOString().slice(0, 10);
  const meetingMonth = meeting.slice(0, 7);
  // iCalendar times are whole seconds.
  const taskDue = new Date(Math.floor((now + 12 * DAY) / 1000) * 1000);
  const reviewId = `2099-extra-${Math.floor(Math.random() * 1e6)}`;
  const cert = `CERT-C${Math.floor(Math.random() * 1e6)}`;
  const quiet = { reminderOffsets: [], escalation: [] };

  beforeAll(async () => {
    ctx = await startConsole({ config: { LINK_FAILURE_LIMIT_PER_ADDRESS: 12 } });
    const review = await ctx.app.inject({
      method: 'POST',
      url: '/admin/management-reviews',
      headers: TEST_ADMIN_HEADERS,
      payload: { reviewId, meetingDate: meeting, policy: { tasks: quiet } },
    });
    expect(review.statusCode, review.body).toBe(201);
    const task = await ctx.app.inject({
      method: 'POST',
      url: '/admin/tasks',
      headers: TEST_ADMIN_HEADERS,
      payload: { title: 'Prepare the audit evidence folder', instructions: 'Collect the links.', clauses: ['9.2'], process: 'internal-audit', assignee: { person: 'priya.raman' }, dueAt: taskDue.toISOString(), form: 'evidence', policy: quiet },
    });
    expect(task.statusCode, task.body).toBe(201);
    await startCertificationCycle(
      ctx.stack.client,
      ctx.stack.taskQueue,
      {
        certificateId: cert,
        plan: { surveillance1: meeting, surveillance2: new Date(now + 300 * DAY).toISOString().slice(0, 10), recertification: new Date(now + 700 * DAY).toISOString().slice(0, 10) },
        certificate: { decisionDate: new Date(now - 60 * DAY).toISOString().slice(0, 10), expiresOn: new Date(now + 1000 * DAY).toISOString().slice(0, 10) },
        policy: { reminderOffsets: [], readinessChecks: [], auditWindow: '30d' },
        startedBy: 'priya.raman',
      },
      { organization: ctx.stack.organization },
    );
  });
  afterAll(async () => {
    if (ctx) {
      for await (const info of ctx.stack.client.workflow.list({ query: `ExecutionStatus = 'Running' AND TaskQueue = '${ctx.stack.taskQueue}'` })) {
        await ctx.stack.client.workflow.getHandle(info.workflowId).terminate('test finished').catch(() => undefined);
      }
    }
    await ctx?.close();
  });

  const plain = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

  it('shows the month with the review meeting, the external audit and the person’s task, linked to their workflows', async () => {
    const jar = await signInJar(ctx, 'priya.raman');
    const html = await eventually(
      async () => (await consoleFetch(ctx, jar, `/console/calendar?month=${meetingMonth}`)).text(),
      (body) => body.includes(`Management review ${reviewId} meeting`) && body.includes('Prepare the audit evidence folder'),
      { timeoutMs: 30_000 },
    );
    expect(html).toContain('<h1>Calendar</h1>');
    expect(html).toContain(`${cert}: Surveillance audit 1`);
    expect(html).toContain(`href="http://localhost:8233/namespaces/default/workflows/management-review%2F${encodeURIComponent(reviewId)}"`);
    expect(html).toContain('aria-current="page">Calendar</a>');
    // The list view of the same month, and links to the months around it.
    const list = (await (await consoleFetch(ctx, jar, `/console/calendar?month=${meetingMonth}&view=list`)).text()).replaceAll("&#x3D;", "=");
    expect(plain(list)).toMatch(new RegExp(`Management review ${reviewId} meeting Management review`));
    expect(list).toContain('<caption>');
    expect(list).toMatch(/Task due: Prepare the audit evidence folder/);
    const next = shiftMonth(parseMonth(meetingMonth)!, 1);
    expect(list).toContain(`href="/console/calendar?month=${next.year}-${String(next.month).padStart(2, '0')}&amp;view=list"`);
  });

  it('shows a process owner only their own work, and refuses a bad month or view with 400 naming the parameter', async () => {
    const jar = await signInJar(ctx, 'tom.baker');
    const html = await (await consoleFetch(ctx, jar, `/console/calendar?month=${meetingMonth}`)).text();
    expect(html).not.toContain(`Management review ${reviewId} meeting`);
    expect(html).not.toContain(cert);
    for (const [query, named] of [['month=2027-13', 'month'], ['month=March', 'month'], ['view=grid', 'view'], ['month=2027-01&month=2027-02', 'month']] as const) {
      const res = await consoleFetch(ctx, jar, `/console/calendar?${query}`);
      expect(res.status, query).toBe(400);
      expect(await res.text(), query).toContain(`The parameter ${named} `);
    }
  });

  it('issues a feed only by POST with the CSRF field; the feed parses as iCalendar; revoked, its address answers 410; forged, 404', async () => {
    const jar = await signInJar(ctx, 'priya.raman');
    const before = await ctx.stack.records.head();
    const page = await consoleFetch(ctx, jar, '/console/calendar/feed');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('No address yet');
    expect((await ctx.stack.records.head()).seq).toBe(before.seq);
    // Without the CSRF field: refused, nothing recorded.
    const refused = await consoleFetch(ctx, jar, '/console/calendar/feed', { form: { action: 'issue' } });
    expect(refused.status).toBe(403);
    expect((await ctx.stack.records.head()).seq).toBe(before.seq);
    const issued = await consoleFetch(ctx, jar, '/console/calendar/feed', { form: { action: 'issue', csrf: csrfIn(html) } });
    expect(issued.status).toBe(303);
    expect(issued.headers.get('location')).toBe('/console/calendar/feed?done=issued');
    const shown = await (await consoleFetch(ctx, jar, '/console/calendar/feed?done=issued')).text();
    const url = /value="(http:\/\/127\.0\.0\.1:\d+\/calendar\/[^"]+\.ics)"/.exec(shown)?.[1];
    expect(url, shown).toBeDefined();
    expect(shown).toContain('webcal://127.0.0.1');
    // The same address on every read (nothing stored but the ledger record).
    expect(await (await consoleFetch(ctx, jar, '/console/calendar/feed')).text()).toContain(url!);
    const [record] = await ctx.stack.records.list({ subject: 'calendar-feed/priya.raman' });
    expect(record).toMatchObject({ kind: 'calendar-feed.issued', actor: 'priya.raman', clauses: ['7.4'] });

    const feed = await eventually(
      () => fetch(url!).then(async (r) => ({ status: r.status, type: r.headers.get('content-type'), text: await r.text() })),
      (r) => r.status === 200 && r.text.includes('Prepare the audit evidence folder'),
      { timeoutMs: 20_000 },
    );
    expect(feed.type).toBe('text/calendar; charset=utf-8');
    const events = parseEvents(feed.text);
    const meetingEvent = events.find((e) => e.summary === `Management review ${reviewId} meeting`);
    expect(meetingEvent?.startDate.toString()).toBe(meeting);
    expect(meetingEvent?.startDate.isDate).toBe(true);
    expect(meetingEvent?.uid).toBe(`management-review/${reviewId}/meeting@127.0.0.1`);
    const taskEvent = events.find((e) => e.summary === 'Task due: Prepare the audit evidence folder');
    expect(taskEvent?.startDate.toJSDate().toISOString()).toBe(taskDue.toISOString());
    expect(events.some((e) => e.summary === `${cert}: certificate expires`)).toBe(true);
    expect(String(meetingEvent?.component.getFirstPropertyValue('url'))).toContain('/workflows/management-review%2F');
    // A forged token (another person's name under the same signature), and a cut address.
    const token = /\/calendar\/([^/]+)\.ics$/.exec(url!)![1]!;
    const [h, , sig] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ fid: 'A'.repeat(22), iss: 'aimsflow', aud: 'calendar.feed', sub: 'hannah.okafor' })).toString('base64url')}.${sig}`;
    for (const bad of [`${ctx.base}/calendar/${forged}.ics`, `${ctx.base}/calendar/${token.slice(0, -3)}.ics`, `${ctx.base}/calendar/${token}`]) {
      const res = await fetch(bad);
      expect(res.status, bad).toBe(404);
      expect(await res.text()).toContain('There is no calendar feed at this address');
    }

    // Revoked: the old address answers 410, saying so, on this API and after a restart (the ledger holds it).
    const csrf = csrfIn(shown);
    const revoked = await consoleFetch(ctx, jar, '/console/calendar/feed', { form: { action: 'revoke', csrf } });
    expect(revoked.status).toBe(303);
    const gone = await fetch(url!);
    expect(gone.status).toBe(410);
    expect(await gone.text()).toMatch(/This calendar feed was revoked on \d{4}-\d{2}-\d{2} by priya\.raman and no longer works/);
    // Another API replica on the same records store (or this one after a restart) refuses it too.
    const replica = await buildStackApp(ctx.stack, { config: { PUBLIC_BASE_URL: ctx.base } });
    try {
      const elsewhere = await replica.inject({ method: 'GET', url: new URL(url!).pathname });
      expect(elsewhere.statusCode).toBe(410);
    } finally {
      await replica.close();
    }
    const again = await consoleFetch(ctx, jar, '/console/calendar/feed', { form: { action: 'revoke', csrf } });
    expect(again.status).toBe(409);
    // A new address works; the revoked one stays gone.
    await consoleFetch(ctx, jar, '/console/calendar/feed', { form: { action: 'issue', csrf } });
    const newUrl = /value="(http:\/\/127\.0\.0\.1:\d+\/calendar\/[^"]+\.ics)"/.exec(await (await consoleFetch(ctx, jar, '/console/calendar/feed')).text())?.[1];
    expect(newUrl).toBeDefined();
    expect(newUrl).not.toBe(url);
    expect((await fetch(newUrl!)).status).toBe(200);
    expect((await fetch(url!)).status).toBe(410);
    expect((await ctx.stack.records.list({ subject: 'calendar-feed/priya.raman' })).map((r) => r.kind)).toEqual(['calendar-feed.issued', 'calendar-feed.revoked', 'calendar-feed.issued']);
    // A service key has no feed.
    const service = await fetch(`${ctx.base}/console/calendar/feed`, { headers: headersOf('operations') });
    expect(service.status).toBe(403);
  });

  it.skipIf(!chromium.here)('has no serious or critical accessibility finding on the calendar and the feed page, and gives the calendar screenshots', async () => {
    for (const viewport of ['desktop', 'phone'] as const) {
      const page = await signInPage(ctx, 'priya.raman', viewport, '/console/calendar');
      await page.goto(`${ctx.base}/console/calendar?month=${meetingMonth}`);
      expect(await page.getByRole('heading', { level: 1 }).allTextContents()).toEqual(['Calendar']);
      // On a phone the grid gives way to a list of the days that have dates.
      const grid = page.locator('table.month');
      expect(await grid.isVisible()).toBe(viewport === 'desktop');
      expect(await page.locator('.month-list').isVisible()).toBe(viewport === 'phone');
      expect(await axeViolations(page)).toEqual([]);
      if (viewport === 'desktop') await screenshots(page, 'calendar');
      await page.goto(`${ctx.base}/console/calendar?month=${meetingMonth}&view=list`);
      expect(await axeViolations(page)).toEqual([]);
      await page.goto(`${ctx.base}/console/calendar/feed`);
      expect(await page.getByRole('heading', { level: 1 }).allTextContents()).toEqual(['Calendar subscription']);
      expect(await axeViolations(page)).toEqual([]);
      await page.context().close();
    }
  });

  it('limits the feed route like the link pages: forged addresses from one client get 429 once over the limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) statuses.push((await fetch(`${ctx.base}/calendar/eyJhbGciOiJIUzI1NiJ9.e30.${'x'.repeat(10 + i)}.ics`)).status);
    expect(statuses).toContain(404);
    expect(statuses.at(-1)).toBe(429);
  });
});
