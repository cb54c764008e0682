/**
 * Activity stubs for workflow code, with timeouts and retry policies set once here.
 */
import { ActivityFailure, log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import type { NotifyInput } from '../../activities/notify.js';

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

/** Mail: retried for up to a day (an SMTP outage must not lose a notification). */
export const mail = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '1 day',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '15 minutes',
    nonRetryableErrorTypes,
  },
});

/**
 * Sends a notification; a notification that cannot be sent is logged and reported back
 * rather than failing the workflow that sent it.
 */
export async function notify(input: NotifyInput): Promise<boolean> {
  try {
    await mail.notify(input);
    return true;
  } catch (err) {
    if (err instanceof ActivityFailure) {
      log.error('notification not sent', { notificationId: input.notificationId, error: err.cause?.message ?? err.message });
      return false;
    }
    throw err;
  }
}
