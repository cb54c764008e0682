/**
 * The Temporal Schedule that publishes the ledger head: `daily/ledger-anchor` (another task queue
 * gets `daily/ledger-anchor@<queue>`), created by every worker at start with the interval from
 * `LEDGER_ANCHOR_EVERY` and brought to it when it differs. Like the yearly schedules
 * (src/schedules/manage.ts): missed runs are made up within a day, and a run still going when
 * the next is due makes the next one skip.
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import { durationMs } from '../common/duration.js';
import { DEFAULT_TASK_QUEUE, searchAttributes } from '../temporal/search-attributes.js';
import { LEDGER_ANCHOR_PROCESS, LEDGER_ANCHOR_WORKFLOW, type LedgerAnchorWorkflow } from './contract.js';
import { consolePaths } from '../console/paths.js';
import { consoleDetails } from '../temporal/start.js';

const CATCHUP_WINDOW = '1 day';

export function ledgerAnchorScheduleId(taskQueue: string): string {
  return taskQueue === DEFAULT_TASK_QUEUE ? 'daily/ledger-anchor' : `daily/ledger-anchor@${taskQueue}`;
}

function action(taskQueue: string, every: string, publicBaseUrl: string | undefined): ScheduleOptionsStartWorkflowAction<LedgerAnchorWorkflow> {
  return {
    type: 'startWorkflow',
    workflowType: LEDGER_ANCHOR_WORKFLOW,
    // The scheduler appends the time it fired: `ledger-anchor-2027-01-05T00:00:00Z`.
    workflowId: taskQueue === DEFAULT_TASK_QUEUE ? 'ledger-anchor' : `ledger-anchor@${taskQueue}`,
    taskQueue,
    args: [{ requestedBy: 'system' }],
    memo: { kind: 'schedule-run', every },
    staticSummary: 'Publish the evidence ledger head outside the database (mail to the AIMS manager and the external auditors)',
    ...consoleDetails(publicBaseUrl, 'ledger-anchor', consolePaths.evidence),
    typedSearchAttributes: [{ key: searchAttributes.process, value: LEDGER_ANCHOR_PROCESS }],
  };
}

/**
 * Creates the schedule, or brings an existing one to `every` (its paused state and note are
 * left as operations set them). Returns what it did.
 */
export async function ensureLedgerAnchorSchedule(deps: { client: Client; taskQueue: string; publicBaseUrl?: string | undefined }, every: string): Promise<'created' | 'updated' | 'unchanged'> {
  const scheduleId = ledgerAnchorScheduleId(deps.taskQueue);
  const spec = { intervals: [{ every: durationMs(every) }] };
  try {
    await deps.client.schedule.create({
      scheduleId,
      spec,
      action: action(deps.taskQueue, every, deps.publicBaseUrl),
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: CATCHUP_WINDOW },
    });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = deps.client.schedule.getHandle(scheduleId);
  const current = await handle.describe();
  if ((current.action.memo as { every?: string } | undefined)?.every === every) return 'unchanged';
  await handle.update((previous) => ({ ...previous, spec, action: action(deps.taskQueue, every, deps.publicBaseUrl) }));
  return 'updated';
}

/** Runs the schedule now (as if it fired); false when there is none. */
export async function triggerLedgerAnchor(deps: { client: Client; taskQueue: string }): Promise<boolean> {
  try {
    await deps.client.schedule.getHandle(ledgerAnchorScheduleId(deps.taskQueue)).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}
