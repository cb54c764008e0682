/**
 * Telling operations about a workflow that failed: an error log line always, and a mail to
 * ALERT_EMAIL when one is configured (once per failed run).
 */
import type { Logger } from '../src/logger.js';
import type { NotificationActivities } from './notifications.js';

export interface OperationsDeps {
  sendNotification: NotificationActivities['sendNotification'];
  organizationName: () => string;
  alertEmail: string | undefined;
  logger: Logger;
}

export interface WorkflowFailure {
  workflowId: string;
  runId: string;
  workflowType: string;
  failure: string;
}

export function createOperationsActivities({ sendNotification, organizationName, alertEmail, logger }: OperationsDeps) {
  return {
    async alertWorkflowFailed(input: WorkflowFailure): Promise<{ mailed: boolean }> {
      logger.error({ ...input, alert: 'workflow-failed' }, 'workflow failed');
      if (!alertEmail) return { mailed: false };
      await sendNotification({
        notificationId: `operations/workflow-failed/${input.workflowId}/${input.runId}`,
        kind: 'operations.workflow-failed',
        to: [{ name: 'Operations', email: alertEmail }],
        data: {
          recipientName: 'Operations',
          organizationName: organizationName(),
          title: `${input.workflowType} ${input.workflowId}`.slice(0, 300),
          workflowId: input.workflowId,
          workflowType: input.workflowType,
          runId: input.runId,
          failure: input.failure.slice(0, 5000),
        },
      });
      return { mailed: true };
    },
  };
}
