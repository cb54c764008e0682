/**
 * Yearly Temporal Schedules for the recurring cycles (internal audit programme, management
 * review), managed by admins through the API and CLI. Every call is idempotent: `put` creates
 * the schedule or brings it to the given settings; pausing a paused schedule, or deleting a
 * deleted one, changes nothing.
 *
 * A schedule starts the `scheduledCycle` launcher, which starts the year's cycle under its
 * business id. The settings live in the action's memo so that what was put is what is read.
 */
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleOptionsStartWorkflowAction,
  type ScheduleSpec,
} from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  launcherInput,
  scheduleSettingsSchema,
  settingsProblems,
  type ScheduledCycleKind,
  type ScheduleSettings,
  type ScheduleSettingsInput,
} from './schema.js';
import { canonicalTimeZone } from '../common/dates.js';
import { DEFAULT_TASK_QUEUE, searchAttributes } from '../temporal/search-attributes.js';
import { consoleDetails, StartInputError } from '../temporal/start.js';
import { consolePaths } from '../console/paths.js';
import { SCHEDULED_CYCLE_WORKFLOW, type ScheduledCycleWorkflow } from './contract.js';


/** How often a put that races a delete is tried, and the pause before the next try (times the attempt). */
const WRITE_ATTEMPTS = 5;
const WRITE_RETRY_DELAY_MS = 200;

/** Runs missed while the server was down are made up within this window. */
const CATCHUP_WINDOW = '7 days';

/** `yearly/internal-audit-programme`; other task queues (other deployments) get their own. */
export function cycleScheduleId(kind: ScheduledCycleKind, taskQueue: string): string {
  return taskQueue === DEFAULT_TASK_QUEUE ? `yearly/${kind}` : `yearly/${kind}@${taskQueue}`;
}

export interface CycleScheduleView {
  kind: ScheduledCycleKind;
  scheduleId: string;
  settings: ScheduleSettings;
  paused: boolean;
  note?: string;
  /** The next times it fires (ISO instants). */
  nextRuns: string[];
  /** What it started recently: the launcher's workflow id per run. */
  recentRuns: { scheduledAt: string; takenAt: string; launcherWorkflowId: string }[];
  createdAt: string;
  updatedAt?: string;
}

function spec(settings: ScheduleSettings): ScheduleSpec {
  return {
    calendars: [
      {
        month: monthName(settings.month),
        dayOfMonth: settings.day,
        hour: settings.hour,
        minute: settings.minute,
        comment: `every year on ${settings.day} ${monthName(settings.month).toLowerCase()} at ${pad(settings.hour)}:${pad(settings.minute)}`,
      },
    ],
    // The server knows each zone by its tz database name, spelt exactly: send ICU's spelling.
    ...(settings.timezone ? { timezone: canonicalTimeZone(settings.timezone) ?? settings.timezone } : {}),
  };
}

const MONTHS = ['JANUARY', 'FEBRUARY', 'MARCH', 'APRIL', 'MAY', 'JUNE', 'JULY', 'AUGUST', 'SEPTEMBER', 'OCTOBER', 'NOVEMBER', 'DECEMBER'] as const;
const monthName = (month: number) => MONTHS[month - 1] ?? 'JANUARY';
const pad = (n: number) => String(n).padStart(2, '0');

function action(
  kind: ScheduledCycleKind,
  taskQueue: string,
  scheduleId: string,
  settings: ScheduleSettings,
  publicBaseUrl: string | undefined,
): ScheduleOptionsStartWorkflowAction<ScheduledCycleWorkflow> {
  return {
    type: 'startWorkflow',
    workflowType: SCHEDULED_CYCLE_WORKFLOW,
    // The scheduler appends the time it fired: `scheduled/internal-audit-programme-2027-01-05T08:00:00Z`.
    workflowId: `scheduled/${kind}`,
    taskQueue,
    args: [launcherInput(kind, settings)],
    memo: { kind: 'schedule-run', scheduleId, settings },
    staticSummary: `Yearly ${kind.replace(/-/g, ' ')}: start this year's cycle`,
    ...consoleDetails(publicBaseUrl, scheduleId, consolePaths.schedule(kind)),
    typedSearchAttributes: [{ key: searchAttributes.process, value: 'schedule' }],
  };
}

/** The settings as given, checked; throws StartInputError naming each bad field. */
export function parseScheduleSettings(kind: ScheduledCycleKind, input: unknown): ScheduleSettings {
  const parsed = scheduleSettingsSchema.safeParse(input);
  const issues = parsed.success
    ? settingsProblems(kind, input as ScheduleSettingsInput)
    : parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(input)', message: i.message }));
  if (!parsed.success || issues.length) throw new StartInputError(`${kind} schedule`, issues);
  return parsed.data;
}

function view(kind: ScheduledCycleKind, d: ScheduleDescription): CycleScheduleView {
  const memo = d.action.memo as { settings?: ScheduleSettings } | undefined;
  const settings = scheduleSettingsSchema.parse(memo?.settings ?? {});
  return {
    kind,
    scheduleId: d.scheduleId,
    settings: { ...settings, paused: d.state.paused },
    paused: d.state.paused,
    ...(d.state.note ? { note: d.state.note } : {}),
    nextRuns: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
    recentRuns: d.info.recentActions.map((a) => ({
      scheduledAt: a.scheduledAt.toISOString(),
      takenAt: a.takenAt.toISOString(),
      launcherWorkflowId: a.action.workflow.workflowId,
    })),
    createdAt: d.info.createdAt.toISOString(),
    ...(d.info.lastUpdatedAt ? { updatedAt: d.info.lastUpdatedAt.toISOString() } : {}),
  };
}

export interface ScheduleDeps {
  client: Client;
  taskQueue: string;
  /** Time zone used when the settings name none (the organization's). */
  defaultTimezone: string;
  /** The API's public base URL: each run links to the console page of what it starts. */
  publicBaseUrl?: string | undefined;
}

/**
 * Creates the yearly schedule of `kind` or brings the existing one to `settings` (spec,
 * action and paused state). Returns whether it was created.
 */
export async function putCycleSchedule(
  deps: ScheduleDeps,
  kind: ScheduledCycleKind,
  input: unknown,
): Promise<{ created: boolean; schedule: CycleScheduleView }> {
  const given = parseScheduleSettings(kind, input);
  const settings: ScheduleSettings = { ...given, timezone: given.timezone ?? deps.defaultTimezone };
  const scheduleId = cycleScheduleId(kind, deps.taskQueue);
  const note = settings.note ?? (settings.paused ? 'paused by an admin' : undefined);
  const options = {
    scheduleId,
    spec: spec(settings),
    action: action(kind, deps.taskQueue, scheduleId, settings, deps.publicBaseUrl),
    state: { paused: settings.paused, ...(note ? { note } : {}) },
  };
  // A schedule deleted meanwhile (by a concurrent request) is still "running" for a moment
  // when created, and already gone when updated: try again, a few times.
  for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
    let created = true;
    try {
      await deps.client.schedule.create({ ...options, policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: CATCHUP_WINDOW } });
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      created = false;
      try {
        await deps.client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, ...options }));
      } catch (updateErr) {
        if (!(updateErr instanceof ScheduleNotFoundError)) throw updateErr;
        await sleep(WRITE_RETRY_DELAY_MS * attempt);
        continue;
      }
    }
    const schedule = await getCycleSchedule(deps, kind);
    if (!schedule) throw new ScheduleWriteConflict(scheduleId, 'it was deleted right after it was written');
    return { created, schedule };
  }
  throw new ScheduleWriteConflict(scheduleId, 'it was being deleted while it was written');
}

/** A put that lost a race with a delete of the same schedule; sending it again settles it. */
export class ScheduleWriteConflict extends Error {
  constructor(
    readonly scheduleId: string,
    why: string,
  ) {
    super(`Schedule ${scheduleId} was not written: ${why}; send the request again.`);
    this.name = 'ScheduleWriteConflict';
  }
}

/** The schedule of `kind`, or undefined when there is none. */
export async function getCycleSchedule(deps: Pick<ScheduleDeps, 'client' | 'taskQueue'>, kind: ScheduledCycleKind): Promise<CycleScheduleView | undefined> {
  try {
    return view(kind, await deps.client.schedule.getHandle(cycleScheduleId(kind, deps.taskQueue)).describe());
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}

/** Pauses or resumes it; returns undefined when there is no such schedule. */
export async function setCycleSchedulePaused(
  deps: Pick<ScheduleDeps, 'client' | 'taskQueue'>,
  kind: ScheduledCycleKind,
  paused: boolean,
  note?: string,
): Promise<CycleScheduleView | undefined> {
  const handle = deps.client.schedule.getHandle(cycleScheduleId(kind, deps.taskQueue));
  try {
    const current = await handle.describe();
    if (current.state.paused !== paused || (note !== undefined && current.state.note !== note)) {
      if (paused) await handle.pause(note ?? 'paused by an admin');
      else await handle.unpause(note ?? 'resumed by an admin');
    }
    return view(kind, await handle.describe());
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}

/** Runs it now (as if it fired at this moment); false when there is no such schedule. */
export async function triggerCycleSchedule(deps: Pick<ScheduleDeps, 'client' | 'taskQueue'>, kind: ScheduledCycleKind): Promise<boolean> {
  try {
    await deps.client.schedule.getHandle(cycleScheduleId(kind, deps.taskQueue)).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

/** Deletes it (cycles it started keep running); false when there was none. */
export async function deleteCycleSchedule(deps: Pick<ScheduleDeps, 'client' | 'taskQueue'>, kind: ScheduledCycleKind): Promise<boolean> {
  try {
    await deps.client.schedule.getHandle(cycleScheduleId(kind, deps.taskQueue)).delete();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}
