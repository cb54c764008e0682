/**
 * Activity stubs for workflow code, with timeouts and retry policies set once here, and the
 * one way a workflow sends mail it can do without.
 */
import { ActivityFailure, isCancellation, log, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import type { NotifyInput } from '../../activities/notifications.js';
import { MAIL_ACTIVITY_START_TO_CLOSE_MS, MAIL_RETRY_MAX_INTERVAL_MS } from '../../src/common/mail-timing.js';

const nonRetryableErrorTypes = ['InvalidInput', 'OrganizationLookupError', 'RecordValidationError', 'RecordConflictError'];

/** Look-ups and ledger writes: quick, retried for a while, then the failure surfaces. */
export const acts = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 30,
    nonRetryableErrorTypes,
  },
});

/**
 * Directory look-ups that only read the organization the worker holds in memory, run as local
 * activities: inside the workflow task that needs them, without a round trip through the server
 * (an activity task scheduled, polled and completed, then another workflow task), so the mail
 * that follows a look-up is scheduled with the same workflow task's commands.
 */
export const directory = proxyLocalActivities<Pick<Activities, 'resolveTaskPeople'>>({
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 30,
    nonRetryableErrorTypes,
  },
});

/**
 * Mail: retried for up to a day (an SMTP outage must not lose a notification), at least once a
 * minute, so mail follows a recovered SMTP server within about a minute. One attempt lasts just
 * longer than the transport's send deadline (src/common/mail-timing.ts), so the mail of a worker
 * that died mid-send is retried elsewhere within a minute.
 */
export const mail = proxyActivities<Activities>({
  startToCloseTimeout: MAIL_ACTIVITY_START_TO_CLOSE_MS,
  scheduleToCloseTimeout: '1 day',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: MAIL_RETRY_MAX_INTERVAL_MS,
    nonRetryableErrorTypes,
  },
});

/**
 * Runs a mail activity whose failure must not stop the process that sends it: a failure is
 * logged and reported as `false`; a cancellation still goes through.
 */
export async function bestEffort(what: string, send: () => Promise<unknown>, context: Record<string, unknown> = {}): Promise<boolean> {
  try {
    await send();
    return true;
  } catch (err) {
    if (!(err instanceof ActivityFailure) || isCancellation(err)) throw err;
    log.error(what, { ...context, error: err.cause?.message ?? err.message });
    return false;
  }
}

/** Sends a notification, best effort (see `bestEffort`). */
export function notify(input: NotifyInput): Promise<boolean> {
  return bestEffort('notification not sent', () => mail.notify(input), { notificationId: input.notificationId });
}
