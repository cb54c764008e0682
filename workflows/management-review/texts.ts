/**
 * The words a management review puts in front of people: the meeting, the previous review's
 * actions (in the task for input a) and the minutes with their decisions on missing inputs
 * (in the approval's summary).
 */
import { minutesActions, missingInputDecisionText, resolveMissingInputs } from '../../src/management-review/rules.js';
import { reviewInputTitles, type AutomaticInputs, type ReviewMinutes } from '../../src/management-review/schema.js';
import { formatDay } from '../lib/util.js';

const hhmm = (ms: number) => {
  const d = new Date(ms);
  return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
};

/** `Tue 15 Dec 2026, 10:00 to 12:00 UTC`. */
export const meetingWords = (startMs: number, endMs: number): string => `${formatDay(startMs)}, ${hhmm(startMs)} to ${hhmm(endMs)} UTC`;

/** The previous review's actions with their state, or why there are none to show. */
export function previousActionsText(automatic: AutomaticInputs): string {
  const prev = automatic.previousActions;
  if (!prev.available) return `The previous review's actions could not be read: ${prev.reason}.`;
  if (!prev.reviewId) return 'No earlier management review was found in the records.';
  if (prev.actions.length === 0) return `The previous review (${prev.reviewId}) decided no actions.`;
  return [
    `Actions decided in the previous review (${prev.reviewId}):`,
    ...prev.actions.map(
      (a) =>
        `${a.n}. ${a.title} (owner ${a.owner}, due ${a.dueDate}, input ${a.input}${a.ncId ? `, ${a.ncId}` : ''}): ${a.state}${a.stateSource === 'ledger' ? ' (last known)' : ''}`,
    ),
  ].join('\n');
}

/** The improvement items still open, for input (e); nothing for packs from before items existed. */
export function improvementItemsText(automatic: AutomaticInputs): string[] {
  const found = automatic.improvements;
  if (!found) return [];
  if (!found.available) return [`The open improvement items could not be read: ${found.reason}.`];
  if (found.items.length === 0) return ['No improvement item is open.'];
  return [
    [
      'Improvement items still open (10.1), from audit observations and opportunities for improvement; say which the organization should take up:',
      ...found.items.map((i) => `- ${i.improvementId} (${i.type}, ${i.clauses.join(', ')}${i.sourceRef ? `, from ${i.sourceRef}` : ''}): ${i.statement}`),
    ].join('\n'),
  ];
}

/** Input (d)'s gathered objective figures, so its owner comments on the same numbers as the pack. */
export function objectiveFiguresText(automatic: AutomaticInputs): string[] {
  const found = automatic.objectives;
  if (!found) return [];
  if (!found.available) return [`AI objectives: not available (${found.reason}).`];
  if (found.objectives.length === 0) return ['AI objectives: no objective was measured in the period.'];
  return [
    [
      'AI objectives measured in the period (gathered into the pack):',
      ...found.objectives.map((o) => `- ${o.objectiveId}: latest ${o.latest.value} ${o.metric.unit} (${o.latest.evaluation}), target ${o.target} ${o.metric.unit}, ${o.trend}, ${o.misses} miss(es)`),
    ].join('\n'),
  ];
}

/** The minutes as top management reads them before approving. */
export function minutesText(minutes: ReviewMinutes): string {
  const list = (items: string[]) => (items.length ? items.map((d, i) => `${i + 1}. ${d}`).join('\n') : 'None.');
  return [
    `Attendees: ${minutes.attendees.join(', ')}`,
    `Decisions on opportunities for continual improvement:\n${list(minutes.improvementDecisions)}`,
    `Decisions on changes to the AI management system:\n${list(minutes.changeDecisions)}`,
    `Actions:\n${list(
      minutesActions(minutes).map(
        (a) => `${a.title} (owner ${a.owner}, due ${a.dueDate}, input ${a.input}${a.ncRef ? `, addresses ${a.ncRef}` : a.nonconformity ? ', nonconformity' : ''})`,
      ),
    )}`,
    ...(minutes.missingInputs.length ? [`Decisions on inputs missing from the pack:\n${missingInputsText(minutes)}`] : []),
    ...(minutes.reviewPolicy ? [`Decision to review the AI policy: ${minutes.reviewPolicy}`] : []),
    ...(minutes.notes ? [`Notes:\n${minutes.notes}`] : []),
  ].join('\n\n');
}

/** One line per decision on a missing input: `(b) Changes in ...: accepted as missing: <reason>`. */
function missingInputsText(minutes: ReviewMinutes): string {
  return resolveMissingInputs(minutes)
    .map((d) => `(${d.input}) ${reviewInputTitles[d.input]}: ${missingInputDecisionText(d)}`)
    .join('\n');
}
