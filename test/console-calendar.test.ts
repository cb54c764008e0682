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
