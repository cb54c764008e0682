/**
 * The rules the minutes of a management review keep (src/management-review/rules.ts), without
 * Temporal: recorded once the meeting has started, actions not due in the past.
 */
import { describe, expect, it } from 'vitest';
import { minutesProblems } from '../src/management-review/rules.js';
import { reviewMinutesSchema, type ReviewMinutesInput } from '../src/management-review/schema.js';

const nowMs = Date.parse('2027-03-15T12:00:00Z');
const meetingStartMs = Date.parse('2027-03-15T10:00:00Z');

const minutes = (overrides: Partial<ReviewMinutesInput> = {}) =>
  reviewMinutesSchema.parse({
    by: 'priya.raman',
    attendees: ['hannah.okafor'],
    actions: [{ title: 'Automate the drift report', owner: 'tom.baker', dueDate: '2027-06-30', input: 'e' }],
    ...overrides,
  });

describe('management review minutes rules', () => {
  it('refuses minutes before the meeting has started, naming the rule', () => {
    expect(minutesProblems(minutes(), { nowMs, meetingStartMs })).toEqual([]);
    expect(minutesProblems(minutes(), { nowMs: meetingStartMs, meetingStartMs })).toEqual([]);
    expect(minutesProblems(minutes(), { nowMs: meetingStartMs - 1, meetingStartMs })).toEqual([
      'minutes: the meeting starts 2027-03-15T10:00:00.000Z; minutes are recorded (and sent for approval) once it has started (rule minutes-after-meeting)',
    ]);
  });

  it('refuses actions due in the past, naming actions.<i>.dueDate; due today is allowed', () => {
    const m = minutes({
      actions: [
        { title: 'Due today', owner: 'tom.baker', dueDate: '2027-03-15', input: 'e' },
        { title: 'Due yesterday', owner: 'tom.baker', dueDate: '2027-03-14', input: 'd' },
      ],
    });
    expect(minutesProblems(m, { nowMs, meetingStartMs })).toEqual(['actions.1.dueDate: 2027-03-14 is in the past (rule action-due-not-in-the-past)']);
  });
});
