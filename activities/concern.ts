/**
 * Activities for reported concerns (Annex A.3.3): tell the reporter a concern was rejected,
 * and merge a concern into an open nonconformity through its workflow's update (workflows
 * cannot send updates to each other, so the worker's client does it here).
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { type MergeConcern } from '../src/corrective-action/schema.js';
import { correctiveActionWorkflowId } from '../src/corrective-action/contract.js';
import { mergeConcernUpdate } from '../src/corrective-action/contract.js';
import { CORRECTIVE_ACTION_WORKFLOW } from '../src/corrective-action/contract.js';
import type { NotificationActivities } from './notifications.js';

export interface ConcernDeps {
  sendNotification: NotificationActivities['sendNotification'];
  organizationName: () => string;
}

export interface RejectedConcernMail {
  notificationId: string;
  reporter: { name?: string | undefined; email: string };
  /** A one-line summary of the concern. */
  title: string;
  reference: string;
  reportedAt: string;
  reason: string;
}

export function createConcernActivities({ sendNotification, organizationName }: ConcernDeps) {
  return {
    /** Mails the reporter why their concern was not taken up (once per notification id). */
    async notifyConcernRejected(input: RejectedConcernMail): Promise<void> {
      await sendNotification({
        notificationId: input.notificationId,
        kind: 'concern.rejected',
        to: [{ name: input.reporter.name ?? input.reporter.email, email: input.reporter.email }],
        data: {
          recipientName: input.reporter.name ?? 'there',
          organizationName: organizationName(),
          title: input.title,
          reference: input.reference,
          reportedAt: input.reportedAt,
          reason: input.reason,
        },
      });
    },

    /**
     * Attaches a concern to the running corrective action of `ncId`. A refusal (unknown or
     * closed NC, or the workflow's own reason) comes back as `{ ok: false, reason }`.
     */
    async mergeConcernIntoNc(input: MergeConcern & { ncId: string }): Promise<{ ok: true } | { ok: false; reason: string }> {
      const { ncId, ...merge } = input;
      const handle = Context.current().client.workflow.getHandle(correctiveActionWorkflowId(ncId));
      try {
        const description = await handle.describe();
        if (description.type !== CORRECTIVE_ACTION_WORKFLOW) return { ok: false, reason: `there is no nonconformity ${ncId}` };
        if (description.status.name !== 'RUNNING') return { ok: false, reason: `nonconformity ${ncId} is already closed` };
        await handle.executeUpdate(mergeConcernUpdate, { args: [merge] });
        return { ok: true };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return { ok: false, reason: `there is no nonconformity ${ncId}` };
        if (err instanceof WorkflowUpdateFailedError) return { ok: false, reason: err.cause?.message ?? err.message };
        throw err;
      }
    },
  };
}

export type ConcernActivities = ReturnType<typeof createConcernActivities>;
