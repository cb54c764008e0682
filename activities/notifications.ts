/**
 * The mail activities: `sendNotification` sends one notification at most once per id (bad
 * input fails without retry, naming the field; SMTP and store failures are retried), and
 * `notify` sends one mail per person, each with a link signed for them.
 */
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { LinkAction } from '../src/links/claims.js';
import { calendarAttachment, type CalendarInvite } from '../src/mail/calendar.js';
import type { LinkSigner } from '../src/links/signer.js';
import { NotificationKind } from '../src/mail/notification-data.js';
import { createNotificationSender, NotificationInputError, type NotificationSenderDeps, type SendNotificationInput, type SendNotificationResult } from '../src/mail/sender.js';
import { linkPaths } from '../src/links/paths.js';
import type { PersonRef } from '../src/common/schemas.js';
import type { Logger } from '../src/logger.js';
import { activityAttempt, countInActivity } from './metrics.js';

export { NOTIFICATION_ID_HEADER, NOTIFICATION_KIND_HEADER, type SendNotificationInput, type SendNotificationResult } from '../src/mail/sender.js';

export function createNotificationActivities(deps: NotificationSenderDeps) {
  const sender = createNotificationSender(deps);
  return {
    /** Counted in the worker's metrics: sent, failed (retryable or not) and sent by a retried attempt. */
    async sendNotification(input: SendNotificationInput): Promise<SendNotificationResult> {
      const tags = { kind: NotificationKind.safeParse(input?.kind).data ?? 'unknown' };
      const retried = (activityAttempt() ?? 1) > 1;
      try {
        const result = await sender.sendNotification(input);
        if (result.status === 'sent') {
          countInActivity('mailsSent', tags);
          if (retried) countInActivity('mailsRetried', tags);
        }
        return result;
      } catch (err) {
        const badInput = err instanceof NotificationInputError;
        countInActivity('mailsFailed', { ...tags, retryable: badInput ? 'false' : 'true' });
        if (retried) countInActivity('mailsRetried', tags);
        if (badInput) throw ApplicationFailure.nonRetryable(err.message, 'InvalidInput', { issues: err.issues });
        throw err;
      }
    },
  };
}

export type NotificationActivities = ReturnType<typeof createNotificationActivities>;

export { NotificationKind };

export interface NotifyInput {
  /** Stable id from the workflow; each recipient's mail gets `${notificationId}/${personId}`. */
  notificationId: string;
  kind: NotificationKind;
  to: PersonRef[];
  /** The page the button opens, signed for each recipient. */
  link?: { wf: string; task: string; action: Exclude<LinkAction, 'tasks.mine' | 'link.renew'> };
  /** Template data other than the recipient, organization and link fields. */
  data: Record<string, unknown>;
  /**
   * A calendar invitation attached to every recipient's mail (`invite.ics`); every recipient is
   * an attendee. Keep `uid` stable and raise `sequence` when the event moves.
   */
  invite?: CalendarInvite & { organizer: PersonRef };
}

export interface NotifyDeps {
  sendNotification: NotificationActivities['sendNotification'];
  links: LinkSigner;
  organizationName: () => string;
  /** Where recipients who cannot be mailed are reported. */
  logger?: Pick<Logger, 'warn'>;
}

/** Whether a person can be mailed: the directory answers people no longer in the organization without an address. */
const mailable = (p: PersonRef) => typeof p.email === 'string' && p.email.trim() !== '';

export function createNotifyActivities({ sendNotification, links, organizationName, logger }: NotifyDeps) {
  return {
    /**
     * Mails each recipient once. A recipient without an address (someone no longer in the
     * organization) is skipped and logged, never a failure; so is a calendar invitation whose
     * organizer has none (the mail goes without it).
     */
    async notify(input: NotifyInput): Promise<{ sent: number; alreadySent: number; skipped: string[] }> {
      const skipped = [...new Set(input.to.filter((p) => !mailable(p)).map((p) => p.id))];
      const to = input.to.filter(mailable);
      if (skipped.length) logger?.warn({ notificationId: input.notificationId, kind: input.kind, skipped }, 'recipients without an e-mail address skipped');
      let attachments;
      if (input.invite && !mailable(input.invite.organizer)) {
        logger?.warn({ notificationId: input.notificationId, organizer: input.invite.organizer.id }, 'calendar invitation left out: the organizer has no e-mail address');
      } else if (input.invite && to.length) {
        const { organizer, ...invite } = input.invite;
        try {
          attachments = [
            calendarAttachment(invite, {
              organizer: { name: organizer.name, email: organizer.email },
              attendees: to.map((p) => ({ name: p.name, email: p.email })),
            }),
          ];
        } catch (err) {
          if (!(err instanceof z.ZodError)) throw err;
          const problems = err.issues.map((i) => `invite.${i.path.map(String).join('.')}: ${i.message}`).join('; ');
          throw ApplicationFailure.nonRetryable(`Invalid calendar invitation: ${problems}`, 'InvalidInput');
        }
      }
      let sent = 0;
      let alreadySent = 0;
      const seen = new Set<string>();
      for (const person of to) {
        if (seen.has(person.id)) continue;
        seen.add(person.id);
        const myTasksToken = await links.sign({ wf: input.link?.wf ?? input.notificationId, action: 'tasks.mine', person: person.id });
        const actionUrl = input.link
          ? links.url(linkPaths[input.link.action], await links.sign({ ...input.link, person: person.id }))
          : undefined;
        const result = await sendNotification({
          notificationId: `${input.notificationId}/${person.id}`,
          kind: input.kind,
          to: [{ name: person.name, email: person.email }],
          ...(attachments ? { attachments } : {}),
          data: {
            ...input.data,
            recipientName: person.name,
            organizationName: organizationName(),
            myTasksUrl: links.url(linkPaths['tasks.mine'], myTasksToken),
            ...(actionUrl ? { actionUrl } : {}),
          },
        } as unknown as SendNotificationInput);
        if (result.status === 'sent') sent += 1;
        else alreadySent += 1;
      }
      return { sent, alreadySent, skipped };
    },
  };
}

export type NotifyActivities = ReturnType<typeof createNotifyActivities>;
