/**
 * Calendar invitations (.ics, RFC 5545) for audits, reviews and external audits, built with
 * ical-generator. An invitation keeps its UID across updates and raises SEQUENCE, so a moved
 * audit window replaces the event in the recipient's calendar instead of adding a second one.
 */
import ical, { ICalAttendeeRole, ICalAttendeeStatus, ICalCalendarMethod, ICalEventStatus } from 'ical-generator';
import { z } from 'zod';

const instantOrDate = z.union([
  z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD or an ISO instant'),
  z.iso.datetime({ offset: true }),
]);

export const calendarInviteSchema = z
  .object({
    /** Stable across updates of the same event, e.g. the workflow id. */
    uid: z.string().min(1).max(255),
    title: z.string().min(1).max(300),
    description: z.string().max(10_000).optional(),
    location: z.string().max(500).optional(),
    /** A date (`2027-03-01`, all-day from that day) or an instant. */
    start: instantOrDate,
    /** A date (inclusive last day of an all-day event) or an instant. */
    end: instantOrDate,
    /** Raised on every change of the same event; 0 for the first invitation. */
    sequence: z.number().int().min(0).default(0),
    /** A cancelled event (the audit or meeting no longer takes place). */
    cancelled: z.boolean().default(false),
    url: z.url().optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    const allDay = v.start.length === 10;
    if (allDay !== (v.end.length === 10)) {
      ctx.addIssue({ code: 'custom', path: ['end'], message: 'must be a date when start is a date, an instant when start is one' });
    } else if (Date.parse(v.end) < Date.parse(v.start) || (!allDay && Date.parse(v.end) === Date.parse(v.start))) {
      ctx.addIssue({ code: 'custom', path: ['end'], message: 'must be after start' });
    }
  });
export type CalendarInvite = z.input<typeof calendarInviteSchema>;

const DAY_MS = 86_400_000;

/** The .ics text of one event, from the organizer to the attendees. */
export function calendarText(
  input: CalendarInvite,
  people: { organizer: { name: string; email: string }; attendees: { name: string; email: string }[] },
  productName = 'aimsflow',
): string {
  const invite = calendarInviteSchema.parse(input);
  const allDay = invite.start.length === 10;
  const calendar = ical({
    prodId: { company: 'aimsflow', product: productName, language: 'EN' },
    method: invite.cancelled ? ICalCalendarMethod.CANCEL : ICalCalendarMethod.REQUEST,
  });
  calendar.createEvent({
    id: invite.uid,
    sequence: invite.sequence,
    summary: invite.title,
    ...(invite.description ? { description: invite.description } : {}),
    ...(invite.location ? { location: invite.location } : {}),
    ...(invite.url ? { url: invite.url } : {}),
    allDay,
    start: new Date(Date.parse(invite.start)),
    // An all-day event's DTEND is the day after its last day.
    end: new Date(Date.parse(invite.end) + (allDay ? DAY_MS : 0)),
    timezone: allDay ? null : 'UTC',
    stamp: new Date(),
    organizer: { name: people.organizer.name, email: people.organizer.email },
    attendees: people.attendees.map((a) => ({
      name: a.name,
      email: a.email,
      role: ICalAttendeeRole.REQ,
      status: ICalAttendeeStatus.NEEDSACTION,
      rsvp: false,
    })),
    status: invite.cancelled ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
  });
  return calendar.toString();
}

/** The invitation as a mail attachment (`invite.ics`, text/calendar with its method). */
export function calendarAttachment(
  input: CalendarInvite,
  people: { organizer: { name: string; email: string }; attendees: { name: string; email: string }[] },
): { filename: string; content: string; contentType: string; encoding: 'utf-8' } {
  const method = input.cancelled ? 'CANCEL' : 'REQUEST';
  return {
    filename: 'invite.ics',
    content: calendarText(input, people),
    contentType: `text/calendar; charset=utf-8; method=${method}`,
    encoding: 'utf-8',
  };
}
