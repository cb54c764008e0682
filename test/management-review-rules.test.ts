/**
 * The rules the minutes of a management review keep (src/management-review/rules.ts), without
 * Temporal: recorded once the meeting has started, actions not due in the past, one decision
 * for each input missing from the pack.
 */
import { describe, expect, it } from 'vitest';
import { minutesActions, minutesProblems, resolveMissingInputs } from '../src/management-review/rules.js';
import { reviewMinutesSchema, type ReviewMinutesInput } from '../src/management-review/schema.js';
import { zodProblems } from '../src/common/schemas.js';

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
    expect(minutesProblems(minutes(), { nowMs, meetingStartMs, missing: [] })).toEqual([]);
    expect(minutesProblems(minutes(), { nowMs: meetingStartMs, meetingStartMs, missing: [] })).toEqual([]);
    expect(minutesProblems(minutes(), { nowMs: meetingStartMs - 1, meetingStartMs, missing: [] })).toEqual([
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
    expect(minutesProblems(m, { nowMs, meetingStartMs, missing: [] })).toEqual(['actions.1.dueDate: 2027-03-14 is in the past (rule action-due-not-in-the-past)']);
  });

  it('needs one decision for each missing input, and none for an input that was supplied', () => {
    const ctx = { nowMs, meetingStartMs, missing: ['b', 'd'] as const };
    const problems = minutesProblems(minutes(), ctx);
    expect(problems).toEqual([
      expect.stringMatching(/^missingInputs: input \(b\) is missing from the pack and has no decision: .* \(rule missing-input-decision\)$/),
      expect.stringMatching(/^missingInputs: input \(d\) is missing .* \(rule missing-input-decision\)$/),
    ]);
    const decided = minutes({
      missingInputs: [
        { input: 'b', decision: 'accepted', reason: 'No changes in external issues; the owner was on leave' },
        { input: 'd', decision: 'action', action: { title: 'Supply the objective figures', owner: 'marco.rossi', dueDate: '2027-04-15' } },
      ],
    });
    expect(minutesProblems(decided, ctx)).toEqual([]);

    const wrong = minutes({
      missingInputs: [
        { input: 'b', decision: 'accepted', reason: 'Nothing changed' },
        { input: 'c', decision: 'accepted', reason: 'Nothing changed' },
        { input: 'b', decision: 'accepted', reason: 'Twice' },
        { input: 'd', decision: 'action', action: 3 },
      ],
    });
    expect(minutesProblems(wrong, ctx)).toEqual([
      'missingInputs.1.input: input (c) is not missing from the pack; decide only on missing inputs (rule decision-on-missing-input-only)',
      'missingInputs.2.input: input (b) already has a decision in missingInputs.0 (rule one-decision-per-missing-input)',
      'missingInputs.3.action: there is no actions.3 (the minutes list 1 action(s)) (rule action-exists)',
    ]);
  });

  it('checks the action that supplies a missing input: it answers that input and is not due in the past', () => {
    const ctx = { nowMs, meetingStartMs, missing: ['d'] as const };
    expect(minutesProblems(minutes({ missingInputs: [{ input: 'd', decision: 'action', action: 0 }] }), ctx)).toEqual([
      'missingInputs.0.action: actions.0 answers input (e), not (d) (rule action-answers-the-input)',
    ]);
    const inline = minutes({
      missingInputs: [{ input: 'd', decision: 'action', action: { title: 'Supply the figures', owner: 'marco.rossi', dueDate: '2027-01-31', input: 'e' } }],
    });
    expect(minutesProblems(inline, ctx)).toEqual([
      'missingInputs.0.action.input: the action answers input (e), not (d) (rule action-answers-the-input)',
      'missingInputs.0.action.dueDate: 2027-01-31 is in the past (rule action-due-not-in-the-past)',
    ]);
  });

  it('numbers the actions written in missingInputs after the others, and resolves each decision to its action', () => {
    const m = minutes({
      actions: [
        { title: 'Automate the drift report', owner: 'tom.baker', dueDate: '2027-06-30', input: 'e' },
        { title: 'Collect the figures monthly', owner: 'marco.rossi', dueDate: '2027-06-30', input: 'd' },
      ],
      missingInputs: [
        { input: 'b', decision: 'action', action: { title: 'Write up the external issues', owner: 'priya.raman', dueDate: '2027-04-30' } },
        { input: 'c', decision: 'accepted', reason: 'No change in interested parties' },
        { input: 'd', decision: 'action', action: 1 },
      ],
    });
    expect(minutesActions(m).map((a) => [a.title, a.input])).toEqual([
      ['Automate the drift report', 'e'],
      ['Collect the figures monthly', 'd'],
      ['Write up the external issues', 'b'],
    ]);
    expect(resolveMissingInputs(m)).toMatchObject([
      { input: 'b', decision: 'action', n: 3, action: { title: 'Write up the external issues', input: 'b' } },
      { input: 'c', decision: 'accepted', reason: 'No change in interested parties' },
      { input: 'd', decision: 'action', n: 2, action: { title: 'Collect the figures monthly' } },
    ]);
  });

  it('refuses a malformed decision by field', () => {
    const parsed = reviewMinutesSchema.safeParse({
      by: 'priya.raman',
      attendees: ['hannah.okafor'],
      missingInputs: [
        { input: 'b', decision: 'accepted' },
        { input: 'c', decision: 'maybe' },
        { input: 'd', decision: 'action', action: 'soon' },
        { input: 'z', decision: 'action', action: { title: 'Figures', owner: 'marco.rossi', dueDate: '2027-02-30' } },
      ],
    });
    expect(parsed.success).toBe(false);
    const text = parsed.success ? '' : zodProblems(parsed.error);
    expect(text).toContain('missingInputs.0.reason');
    expect(text).toContain('missingInputs.1.decision: must be "accepted" (with a reason) or "action"');
    expect(text).toContain('missingInputs.2.action: must be the index of one of the actions');
    expect(text).toContain('missingInputs.3.input: must be one of a, b, c, d, e');
    expect(text).toContain('missingInputs.3.action.dueDate: must be a date as YYYY-MM-DD');
  });
});
