/**
 * The rules the minutes of a management review (ISO/IEC 42001 9.3.3) keep, as pure functions:
 * they are recorded once the meeting has started, their actions are not due in the past, and
 * every input the pack marks missing has one decision (accepted as missing with a reason, or
 * an action to supply it). The workflow's update validator refuses minutes that break one,
 * each refusal naming the field and the rule. Workflow-safe.
 */
import { reviewInputKeys, type ReviewAction, type ReviewInputKey, type ReviewMinutes } from './schema.js';

/** What the minutes are checked against: now, the meeting's start and the inputs the pack marks missing. */
export interface MinutesContext {
  nowMs: number;
  meetingStartMs: number;
  missing: readonly ReviewInputKey[];
}

/** A decision on a missing input with its action resolved: `n` is the action's number (1 for the first) among `minutesActions`. */
export type ResolvedMissingInput =
  | { input: ReviewInputKey; decision: 'accepted'; reason: string }
  | { input: ReviewInputKey; decision: 'action'; n: number; action: ReviewAction | undefined };

/** The end of a calendar day (UTC), when an action due that day falls due. */
const dayEndMs = (date: string) => Date.parse(`${date}T23:59:59.999Z`);

const inlineActions = (minutes: ReviewMinutes): ReviewAction[] =>
  minutes.missingInputs.flatMap((d) => (d.decision === 'action' && typeof d.action !== 'number' ? [{ ...d.action, input: d.action.input ?? d.input }] : []));

/** Every action the minutes decide, in the order they are raised: `actions`, then those written in `missingInputs`. */
export function minutesActions(minutes: ReviewMinutes): ReviewAction[] {
  return [...minutes.actions, ...inlineActions(minutes)];
}

/** The decisions on missing inputs, each action resolved to its number among `minutesActions`. */
export function resolveMissingInputs(minutes: ReviewMinutes): ResolvedMissingInput[] {
  const all = minutesActions(minutes);
  let inline = minutes.actions.length;
  return minutes.missingInputs.map((d) => {
    if (d.decision === 'accepted') return { input: d.input, decision: 'accepted', reason: d.reason };
    const index = typeof d.action === 'number' ? d.action : inline++;
    return { input: d.input, decision: 'action', n: index + 1, action: all[index] };
  });
}

/** A decision in words: `accepted as missing: <reason>`, or `action 3 supplies it: <title> (owner tom.baker, due 2030-03-31)`. */
export function missingInputDecisionText(d: ResolvedMissingInput): string {
  if (d.decision === 'accepted') return `accepted as missing: ${d.reason}`;
  return `action ${d.n} supplies it${d.action ? `: ${d.action.title} (owner ${d.action.owner}, due ${d.action.dueDate})` : ''}`;
}

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

  const decided = new Map<ReviewInputKey, number>();
  minutes.missingInputs.forEach((d, j) => {
    const field = `missingInputs.${j}`;
    const earlier = decided.get(d.input);
    if (!ctx.missing.includes(d.input)) {
      problems.push(`${field}.input: input (${d.input}) is not missing from the pack; decide only on missing inputs (rule decision-on-missing-input-only)`);
    } else if (earlier !== undefined) {
      problems.push(`${field}.input: input (${d.input}) already has a decision in missingInputs.${earlier} (rule one-decision-per-missing-input)`);
    } else {
      decided.set(d.input, j);
    }
    if (d.decision !== 'action') return;
    if (typeof d.action !== 'number') {
      if (d.action.input && d.action.input !== d.input) problems.push(`${field}.action.input: the action answers input (${d.action.input}), not (${d.input}) (rule action-answers-the-input)`);
      notPast(`${field}.action.dueDate`, d.action.dueDate);
      return;
    }
    const action = minutes.actions[d.action];
    if (!action) problems.push(`${field}.action: there is no actions.${d.action} (the minutes list ${minutes.actions.length} action(s)) (rule action-exists)`);
    else if (action.input !== d.input) problems.push(`${field}.action: actions.${d.action} answers input (${action.input}), not (${d.input}) (rule action-answers-the-input)`);
  });
  for (const key of reviewInputKeys) {
    if (ctx.missing.includes(key) && !decided.has(key)) {
      problems.push(
        `missingInputs: input (${key}) is missing from the pack and has no decision: accept it as missing with a reason, or decide an action to supply it (rule missing-input-decision)`,
      );
    }
  }
  return problems;
}
