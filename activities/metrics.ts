/**
 * The counters activities add to the worker's metrics, through the activity context's metric
 * meter: they land on the SDK runtime's Prometheus endpoint beside its own `temporal_*` metrics
 * (workers/runtime.ts), which appends `_total`, and carry the SDK's activity labels `namespace`,
 * `taskQueue` and `activityType` besides their own. Outside an activity (a test calling an
 * activity function directly) nothing is counted.
 *
 * Names match the API's counters (src/api/plugins/metrics.ts), so one query sums both.
 */
import { asyncLocalStorage } from '@temporalio/activity';
import type { MetricTags } from '@temporalio/common';

export const workerCounters = {
  mailsSent: { name: 'aimsflow_mails_sent', help: 'Mails handed to the SMTP server, by notification kind' },
  mailsFailed: {
    name: 'aimsflow_mails_failed',
    help: 'Mail sends that failed, by notification kind; retryable="true" ones are retried by Temporal, "false" ones (bad input) are not',
  },
  mailsRetried: { name: 'aimsflow_mails_retried', help: 'Mail sends made by a retried activity attempt (attempt > 1), sent or failed again' },
  ledgerAppends: { name: 'aimsflow_ledger_appends', help: 'Evidence records appended to the ledger, by record kind (a retried append of the same id counts again)' },
  ledgerAppendFailures: { name: 'aimsflow_ledger_append_failures', help: 'Ledger appends that failed, by record kind' },
} as const;

export type WorkerCounter = keyof typeof workerCounters;

/** Adds one to `counter` with `tags`, when running inside an activity. */
export function countInActivity(counter: WorkerCounter, tags: MetricTags = {}): void {
  const context = asyncLocalStorage.getStore();
  if (!context) return;
  const { name, help } = workerCounters[counter];
  context.metricMeter.createCounter(name, undefined, help).add(1, tags);
}

/** The current activity attempt (1 for the first), or undefined outside an activity. */
export function activityAttempt(): number | undefined {
  return asyncLocalStorage.getStore()?.info.attempt;
}
