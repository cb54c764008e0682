/**
 * The rules the minutes of a management review (ISO/IEC 42001 9.3.3) keep, as pure functions:
 * they are recorded once the meeting has started, and their actions are not due in the past.
 * The workflow's update validator refuses minutes that break one, each refusal naming the
 * field and the rule. Workflow-safe.
 */
import type { ReviewMinutes } from './schema.js';

/** What the minutes are checked against: now and the meeting's start. */
export interface MinutesContext {
  nowMs: number;
  meetingStartMs: number;
}

/** The end of a calendar day (UTC), when an action due that day falls due. */
const dayEndMs = (date: string) => Date.parse(`${date}T23:59:59.999Z`);

/** Why the minutes cannot be recorded, each naming its field and rule; empty when they keep every rule. */
export function minutesProblems(minutes: ReviewMinutes, ctx: MinutesContext): string[] {
  const problems: string[] = [];
  if (ctx.nowMs < ctx.meetingStartMs) {
    problems.push(
      `minutes: the meeting starts ${new Date(ctx.meetingStartMs).toISOString()}; minutes are recorded (and sent for approval) once it has started (rule minutes-after-meeting)`,
    );
  }
  const notPast = (field: string, dueDate: string) => {
    if (dayEndMs(dueDate) <= ctx.nowMs) problems.push(`${field}: ${dueDate} is in the past (rule action-due-not-in-the-past)`);
  };
  minutes.actions.forEach((a, i) => notPast(`actions.${i}.dueDate`, a.dueDate));
  return problems;
}
