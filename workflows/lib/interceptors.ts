/**
 * Workflow interceptors bundled with every workflow. A workflow that fails (an error that
 * fails the execution, not a cancellation or a continue-as-new) tells operations before it
 * fails: an alert activity logs it and mails ALERT_EMAIL. The failure itself is unchanged.
 */
import {
  CancellationScope,
  isCancellation,
  patched,
  proxyActivities,
  TemporalFailure,
  workflowInfo,
  type Next,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';

const alerts = proxyActivities<Pick<Activities, 'alertWorkflowFailed'>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 10 },
});

class AlertOnFailure implements WorkflowInboundCallsInterceptor {
  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    try {
      return await next(input);
    } catch (err) {
      // Only failures that fail the execution; runs recorded before the alert existed fail as they did.
      if (err instanceof TemporalFailure && !isCancellation(err) && patched('alert-on-workflow-failure')) {
        const info = workflowInfo();
        await CancellationScope.nonCancellable(() =>
          alerts.alertWorkflowFailed({ workflowId: info.workflowId, runId: info.runId, workflowType: info.workflowType, failure: err.message }),
        ).catch(() => undefined);
      }
      throw err;
    }
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({ inbound: [new AlertOnFailure()] });
