/**
 * The Temporal Schedules of the AI policy review and of competence renewals, created by every
 * worker at start from the organization file in force and brought to it when it differs:
 * `periodic/policy-review` runs `policyReview` every `aiPolicy.reviewEvery` (default yearly, the
 * planned interval of A.2.4), `daily/competence-renewals` runs `competenceRenewals` every
 * `competence.checkEvery`. Another task queue gets `...@<queue>`. Missed runs are made up within
 * a day; a run still going when the next is due makes the next one skip.
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { COMPETENCE_RENEWALS_WORKFLOW } from '../competence/contract.js';
import { COMPETENCE_PROCESS } from '../competence/rules.js';
import { durationMs } from '../common/duration.js';
import type { Organization } from '../organization/schema.js';
import { DEFAULT_TASK_QUEUE, searchAttributes } from '../temporal/search-attributes.js';
import { POLICY_REVIEW_WORKFLOW } from './contract.js';
import { POLICY_PROCESS } from './schema.js';
import { consolePaths } from '../console/paths.js';
import { consoleDetails } from '../temporal/start.js';

const scoped = (id: string, taskQueue: string) => (taskQueue === DEFAULT_TASK_QUEUE ? id : `${id}@${taskQueue}`);

export const policyReviewScheduleId = (taskQueue: string) => scoped('periodic/policy-review', taskQueue);
export const competenceRenewalsScheduleId = (taskQueue: string) => scoped('daily/competence-renewals', taskQueue);

interface IntervalSchedule {
  scheduleId: string;
  every: string;
  workflowType: string;
  workflowId: string;
  args: unknown[];
  summary: string;
  process: string;
  /** The console page its runs link to. */
  page: string;
}

async function ensure(client: Client, taskQueue: string, s: IntervalSchedule, publicBaseUrl: string | undefined): Promise<'created' | 'updated' | 'unchanged'> {
  const spec = { intervals: [{ every: durationMs(s.every) }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: s.workflowType,
    // The scheduler appends the time it fired.
    workflowId: s.workflowId,
    taskQueue,
    args: s.args,
    memo: { kind: 'schedule-run', every: s.every },
    staticSummary: s.summary,
    ...consoleDetails(publicBaseUrl, s.workflowId, s.page),
    typedSearchAttributes: [{ key: searchAttributes.process, value: s.process }],
  };
  try {
    await client.schedule.create({ scheduleId: s.scheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' } });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = client.schedule.getHandle(s.scheduleId);
  const current = await handle.describe();
  if ((current.action.memo as { every?: string } | undefined)?.every === s.every) return 'unchanged';
  await handle.update((previous) => ({ ...previous, spec, action }));
  return 'updated';
}

/** Ensures both schedules from the organization in force. */
export async function ensurePolicyAndCompetenceSchedules(
  deps: { client: Client; taskQueue: string; publicBaseUrl?: string | undefined },
  org: Organization,
): Promise<{ policyReview: string; competenceRenewals: string }> {
  const { client, taskQueue } = deps;
  const policyReview = await ensure(client, taskQueue, {
    scheduleId: policyReviewScheduleId(taskQueue),
    every: org.aiPolicy.reviewEvery,
    workflowType: POLICY_REVIEW_WORKFLOW,
    workflowId: taskQueue === DEFAULT_TASK_QUEUE ? 'policy-review/scheduled' : `policy-review/scheduled@${taskQueue}`,
    args: [{ trigger: 'schedule', requestedBy: 'system' }],
    summary: 'Review the AI policy at its planned interval (5.2, A.2.4)',
    process: POLICY_PROCESS,
    page: consolePaths.policy,
  }, deps.publicBaseUrl);
  const competenceRenewals = await ensure(client, taskQueue, {
    scheduleId: competenceRenewalsScheduleId(taskQueue),
    every: org.competence.checkEvery,
    workflowType: COMPETENCE_RENEWALS_WORKFLOW,
    workflowId: taskQueue === DEFAULT_TASK_QUEUE ? 'competence-renewals' : `competence-renewals@${taskQueue}`,
    args: [{ requestedBy: 'system' }],
    summary: 'Ask for the renewal of competence evidence close to its expiry (7.2)',
    process: COMPETENCE_PROCESS,
    page: consolePaths.evidenceUnder('competence'),
  }, deps.publicBaseUrl);
  return { policyReview, competenceRenewals };
}
