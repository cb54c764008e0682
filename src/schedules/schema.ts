/**
 * Yearly cycles started by Temporal Schedules: which cycles can be scheduled, the settings an
 * admin gives for one (when in the year it fires), and what the schedule's launcher passes to
 * the cycle it starts. Workflow-safe (zod only).
 */
import { z } from 'zod';
import { timeZoneName } from '../common/dates.js';
import { durationString } from '../common/duration.js';

/** The cycles a yearly schedule can start. */
export const scheduledCycleKinds = ['internal-audit-programme', 'management-review', 'soa-review', 'risk-assessment'] as const;
export type ScheduledCycleKind = (typeof scheduledCycleKinds)[number];
export const scheduledCycleKindSchema = z.enum(scheduledCycleKinds, {
  message: `must be one of ${scheduledCycleKinds.join(', ')}`,
});

/** The launcher's input: fixed in the schedule's action; the year comes from when it fires. */
export const scheduledCycleInputSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('internal-audit-programme'),
      /** 0: the programme of the year the schedule fires in; 1: of the next year (a schedule in December). */
      yearOffset: z.number().int().min(0).max(1).default(0),
    }),
    /** The yearly review of the Statement of Applicability (6.1.3) of the year it fires in. */
    z.strictObject({ kind: z.literal('soa-review') }),
    /** The planned risk assessments (6.1.2, 8.2) of the year it fires in: the AIMS-wide one and one per AI system of the inventory. */
    z.strictObject({ kind: z.literal('risk-assessment') }),
    z.strictObject({
      kind: z.literal('management-review'),
      /** The meeting date: this long after the schedule fires (inputs are due before it). */
      meetingAfter: durationString.default('30d'),
    }),
  ],
  { error: `kind must be one of ${scheduledCycleKinds.join(', ')}` },
);
export type ScheduledCycleInput = z.input<typeof scheduledCycleInputSchema>;
export type ScheduledCycleSpec = z.output<typeof scheduledCycleInputSchema>;

export interface ScheduledCycleResult {
  kind: ScheduledCycleKind;
  /** When the schedule fired (or the backfilled time). */
  scheduledAt: string;
  /** The cycle's workflow id, e.g. `internal-audit-programme/2027`. */
  workflowId: string;
  /** false: that cycle had already been started (by an admin, or by an earlier run). */
  started: boolean;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** What an admin sets for a yearly schedule (PUT /admin/schedules/:kind). */
export const scheduleSettingsSchema = z
  .strictObject({
    month: z.number({ error: 'must be a month number 1-12' }).int().min(1, 'must be 1-12').max(12, 'must be 1-12'),
    day: z.number({ error: 'must be a day of the month' }).int().min(1, 'must be 1-31').max(31, 'must be 1-31'),
    hour: z.number().int().min(0, 'must be 0-23').max(23, 'must be 0-23').default(8),
    minute: z.number().int().min(0, 'must be 0-59').max(59, 'must be 0-59').default(0),
    /** IANA time zone the time is in; default the organization's. */
    timezone: timeZoneName.optional(),
    paused: z.boolean().default(false),
    /** Why it is paused, or anything operations should know; shown in the Temporal UI. */
    note: z.string().trim().max(500).optional(),
    /** Audit programme: 0 (default) for the year it fires in, 1 for the next year. */
    yearOffset: z.number().int().min(0, 'must be 0 or 1').max(1, 'must be 0 or 1').optional(),
    /** Management review: the meeting this long after the schedule fires (default 30d). */
    meetingAfter: durationString.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.day > (DAYS_IN_MONTH[s.month - 1] ?? 31)) {
      ctx.addIssue({ code: 'custom', path: ['day'], message: `month ${s.month} has no day ${s.day}` });
    } else if (s.month === 2 && s.day === 29) {
      ctx.addIssue({ code: 'custom', path: ['day'], message: '29 February exists only in leap years: choose 28 February or 1 March' });
    }
  });
export type ScheduleSettingsInput = z.input<typeof scheduleSettingsSchema>;
export type ScheduleSettings = z.output<typeof scheduleSettingsSchema>;

/** Settings that belong to the other kind are refused rather than ignored. */
export function settingsProblems(kind: ScheduledCycleKind, s: ScheduleSettingsInput): { path: string; message: string }[] {
  if (kind === 'internal-audit-programme' && s.meetingAfter !== undefined) {
    return [{ path: 'meetingAfter', message: 'applies to management-review schedules only' }];
  }
  if ((kind === 'soa-review' || kind === 'risk-assessment') && (s.yearOffset !== undefined || s.meetingAfter !== undefined)) {
    return [{ path: s.yearOffset !== undefined ? 'yearOffset' : 'meetingAfter', message: `applies to ${s.yearOffset !== undefined ? 'internal-audit-programme' : 'management-review'} schedules only` }];
  }
  if (kind === 'management-review' && s.yearOffset !== undefined) {
    return [{ path: 'yearOffset', message: 'applies to internal-audit-programme schedules only' }];
  }
  return [];
}

/** The launcher input a schedule of `kind` with these settings carries. */
export function launcherInput(kind: ScheduledCycleKind, s: ScheduleSettings): ScheduledCycleSpec {
  if (kind === 'soa-review' || kind === 'risk-assessment') return { kind };
  return kind === 'internal-audit-programme' ? { kind, yearOffset: s.yearOffset ?? 0 } : { kind, meetingAfter: s.meetingAfter ?? '30d' };
}
