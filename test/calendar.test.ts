/**
 * Calendar invitations: the .ics text ical-generator builds for audits and meetings, and the
 * `notify` activity attaching it to every recipient's mail through a real SMTP server.
 */
import { ApplicationFailure } from '@temporalio/common';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotificationActivities } from '../activities/notifications.js';
import { createNotifyActivities } from '../activities/notifications.js';
import { createLinkSigner } from '../src/links/signer.js';
import { calendarAttachment, calendarText } from '../src/mail/calendar.js';
import { createMailTransport, type MailTransport } from '../src/mail/transport.js';
import { IN_MEMORY, openRecordsStore, type RecordsStore } from '../src/records/index.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.js';

const organizer = { name: 'Dana Novak', email: 'dana.novak@northwind.example' };
const attendees = [
  { name: 'Sofia Lind', email: 'sofia.lind@northwind.example' },
  { name: 'Omar Haddad', email: 'omar.haddad@northwind.example' },
];

/** Unfolds RFC 5545 continuation lines so properties can be matched whole. */
const unfold = (ics: string) => ics.replace(/\r?\n[ \t]/g, '');

describe('calendar text', () => {
  it('an audit window is an all-day event ending the day after its last day', () => {
    const ics = unfold(
      calendarText({ uid: 'internal-audit/2027/A-03', title: 'Internal audit A-03', start: '2027-03-01', end: '2027-03-05' }, { organizer, attendees }),
    );
    expect(ics).toContain('METHOD:REQUEST');
    expect(ics).toContain('UID:internal-audit/2027/A-03');
    expect(ics).toContain('SEQUENCE:0');
    expect(ics).toContain('DTSTART;VALUE=DATE:20270301');
    expect(ics).toContain('DTEND;VALUE=DATE:20270306');
    expect(ics).toContain('SUMMARY:Internal audit A-03');
    expect(ics).toContain('ORGANIZER;CN="Dana Novak":mailto:dana.novak@northwind.example');
    expect(ics.match(/^ATTENDEE;/gm)).toHaveLength(2);
    expect(ics.toLowerCase()).toContain('cn="omar haddad":mailto:omar.haddad@northwind.example');
  });

  it('a moved meeting keeps its UID with a higher sequence; a cancelled one says so', () => {
    const moved = unfold(
      calendarText(
        { uid: 'management-review/2027', title: 'Management review 2027', start: '2027-11-02T09:00:00Z', end: '2027-11-02T12:00:00Z', sequence: 2 },
        { organizer, attendees },
      ),
    );
    expect(moved).toContain('UID:management-review/2027');
    expect(moved).toContain('SEQUENCE:2');
    expect(moved).toMatch(/DTSTART(;TZID=UTC)?:20271102T090000Z?/);
    const cancelled = unfold(
      calendarText(
        { uid: 'management-review/2027', title: 'Management review 2027', start: '2027-11-02T09:00:00Z', end: '2027-11-02T12:00:00Z', sequence: 3, cancelled: true },
        { organizer, attendees },
      ),
    );
    expect(cancelled).toContain('METHOD:CANCEL');
    expect(cancelled).toContain('STATUS:CANCELLED');
    expect(calendarAttachment({ uid: 'x', title: 'x', start: '2027-01-01', end: '2027-01-01', cancelled: true }, { organizer, attendees }).contentType).toBe(
      'text/calendar; charset=utf-8; method=CANCEL',
    );
  });

  it('refuses an end before the start, or a date mixed with an instant, naming the field', () => {
    expect(() => calendarText({ uid: 'x', title: 'x', start: '2027-03-05', end: '2027-03-01' }, { organizer, attendees })).toThrow(/end[\s\S]*must be after start/);
    expect(() => calendarText({ uid: 'x', title: 'x', start: '2027-03-05', end: '2027-03-05T10:00:00Z' }, { organizer, attendees })).toThrow(
      /must be a date when start is a date/,
    );
  });
});

describe('notify with an invitation', () => {
  const logger = pino({ level: 'silent' });
  const from = 'aimsflow <aimsflow@northwind.example>';
  let smtp: TestSmtpServer;
  let store: RecordsStore;
  let transport: MailTransport;
  let notify: ReturnType<typeof createNotifyActivities>['notify'];

  beforeAll(async () => {
    smtp = await startSmtpServer();
    store = await openRecordsStore({ dataDir: IN_MEMORY });
    transport = createMailTransport({ smtpUrl: smtp.url, from, logger });
    const notifications = createNotificationActivities({ transport, notifications: store.notifications, from, logger });
    const activities = createNotifyActivities({
      sendNotification: (input) => notifications.sendNotification(input),
      links: createLinkSigner({ secret: 'calendar-test-secret-0123456789abcdefghij', ttlHours: 24, baseUrl: 'http://127.0.0.1:3000' }),
      organizationName: () => 'Northwind Analytics',
    });
    notify = (input) => activities.notify(input);
  });
  afterAll(async () => {
    transport.close();
    await smtp.stop();
    await store.close();
  });

  const people = [
    { id: 'sofia.lind', name: 'Sofia Lind', email: 'sofia.lind@northwind.example' },
    { id: 'omar.haddad', name: 'Omar Haddad', email: 'omar.haddad@northwind.example' },
  ];

  it('attaches the same invitation to each recipient’s mail, every recipient an attendee', async () => {
    const result = await notify({
      notificationId: 'test/calendar/invite-1',
      kind: 'task.assigned',
      to: people,
      data: { title: 'Internal audit A-03 of clause 9.2', actionUrl: 'http://127.0.0.1:3000/admin' },
      invite: { uid: 'internal-audit/2027/A-03', title: 'Internal audit A-03', start: '2027-03-01', end: '2027-03-05', organizer: { id: 'dana.novak', ...organizer } },
    });
    expect(result).toEqual({ sent: 2, alreadySent: 0, skipped: [] });
    for (const person of people) {
      const mail = await smtp.waitFor((m) => m.to !== undefined && JSON.stringify(m.to).includes(person.email) && m.subject?.includes('A-03') === true);
      const ics = mail.attachments.find((a) => a.contentType === 'text/calendar');
      expect(ics?.filename).toBe('invite.ics');
      const text = unfold(ics!.content.toString('utf8'));
      expect(text).toContain('UID:internal-audit/2027/A-03');
      expect(text.toLowerCase()).toContain('mailto:sofia.lind@northwind.example');
      expect(text.toLowerCase()).toContain('mailto:omar.haddad@northwind.example');
    }
  });

  it('a bad invitation fails without retry, naming the field, and sends nothing', async () => {
    const before = smtp.messages.length;
    const failure = await notify({
      notificationId: 'test/calendar/bad',
      kind: 'task.assigned',
      to: people,
      data: { title: 'Broken', actionUrl: 'http://127.0.0.1:3000/admin' },
      invite: { uid: 'x', title: 'x', start: '2027-03-05', end: '2027-03-01', organizer: { id: 'dana.novak', ...organizer } },
    }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).nonRetryable).toBe(true);
    expect((failure as ApplicationFailure).message).toBe('Invalid calendar invitation: invite.end: must be after start');
    expect(smtp.messages.length).toBe(before);
  });
});
