/**
 * The notification activity: renders a notification e-mail and sends it at most once per
 * notification id.
 *
 * Exactly-once, as far as SMTP allows: the sent log is checked before sending and written
 * after; the Message-ID is derived from the notification id, so a mail re-sent after a crash
 * between the two carries the same Message-ID and the receiving side can drop the duplicate.
 */
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { Logger } from '../src/logger.js';
import type { RecordsStore } from '../src/records/types.js';
import { notificationMessageId } from '../src/mail/message-id.js';
import { NotificationKind, type NotificationContent } from '../src/mail/notification-data.js';
import { NotificationDataError, renderNotification } from '../src/mail/templates.js';
import type { MailAddress, MailAttachment, MailTransport } from '../src/mail/transport.js';
import type { LinkAction } from '../src/links/claims.js';
import { calendarAttachment, type CalendarInvite } from '../src/mail/calendar.js';
import type { LinkSigner } from '../src/links/signer.js';
import { linkPaths } from '../src/links/paths.js';
import type { PersonRef } from '../src/common/schemas.js';

export const NOTIFICATION_ID_HEADER = 'X-Aimsflow-Notification-Id';
export const NOTIFICATION_KIND_HEADER = 'X-Aimsflow-Kind';

export interface NotificationActivitiesDeps {
  transport: Pick<MailTransport, 'send'>;
  /** The send-once log. */
  notifications: RecordsStore['notifications'];
  /** The From address; its domain ends every Message-ID. */
  from: string;
  logger: Logger;
}

/** A calendar file or other attachment; content is text (or base64 with `encoding: 'base64'`). */
export interface NotificationAttachment {
  filename: string;
  content: string;
  contentType: string;
  encoding?: 'base64' | 'utf-8';
}

interface NotificationEnvelope {
  /**
   * Stable id chosen by the workflow, e.g. `${workflowId}/assigned/${attempt}`: the same id is
   * never sent twice.
   */
  notificationId: string;
  to: MailAddress[];
  cc?: MailAddress[];
  attachments?: NotificationAttachment[];
  /** The notification id of an earlier mail in the same conversation, so clients thread them. */
  threadWith?: string;
}

/** What a workflow passes; `data` is checked against `kind` by the compiler. */
export type SendNotificationInput = NotificationEnvelope & NotificationContent;

export interface SendNotificationResult {
  notificationId: string;
  messageId: string;
  status: 'sent' | 'already-sent';
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

const notificationId = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(512, 'must be at most 512 characters')
  .refine((s) => s.trim() === s, 'must not start or end with white space')
  .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters');

const address = z.object(
  {
    name: z
      .string({ error: 'must be a string' })
      .trim()
      .min(1, 'must not be empty')
      .max(200, 'must be at most 200 characters')
      .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters'),
    email: z.email({ error: 'must be an e-mail address' }),
  },
  { error: 'must be an object with name and email' },
);

const attachment = z.object(
  {
    filename: z
      .string({ error: 'must be a string' })
      .min(1, 'must not be empty')
      .max(200, 'must be at most 200 characters')
      .refine((s) => !/[/\\]/.test(s) && !CONTROL_CHARS.test(s), 'must be a plain file name'),
    content: z.string({ error: 'must be a string' }).max(5_000_000, 'must be at most 5 MB'),
    contentType: z
      .string({ error: 'must be a string' })
      .refine((s) => /^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/.test(s) && !CONTROL_CHARS.test(s), 'must be a MIME type, e.g. text/calendar'),
    encoding: z.enum(['base64', 'utf-8']).optional(),
  },
  { error: 'must be an object with filename, content and contentType' },
);

const inputSchema = z.object(
  {
    notificationId,
    kind: NotificationKind,
    to: z.array(address, { error: 'must be a list of recipients' }).min(1, 'needs at least one recipient').max(50),
    cc: z.array(address, { error: 'must be a list of recipients' }).max(50).optional(),
    data: z.unknown(),
    attachments: z.array(attachment, { error: 'must be a list of attachments' }).max(10).optional(),
    threadWith: notificationId.optional(),
  },
  { error: 'must be an object' },
);

function invalidInput(message: string, issues: { path: string; message: string }[]): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'InvalidInput', { issues });
}

export function createNotificationActivities({ transport, notifications, from, logger }: NotificationActivitiesDeps) {
  const log = logger.child({ component: 'notifications' });

  return {
    /**
     * Sends the notification unless one with the same id was sent already. Bad input fails
     * without retry (the error names the field); SMTP and store failures are retried.
     */
    async sendNotification(input: SendNotificationInput): Promise<SendNotificationResult> {
      const parsed = inputSchema.safeParse(input);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(input)', message: i.message }));
        throw invalidInput(`Invalid notification: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
      }
      const request = parsed.data;

      let rendered;
      try {
        rendered = renderNotification(request.kind, request.data);
      } catch (err) {
        if (err instanceof NotificationDataError) {
          const issues = err.issues.map((i) => ({
            path: i.path === 'kind' ? 'kind' : i.path === '(data)' ? 'data' : `data.${i.path}`,
            message: i.message,
          }));
          throw invalidInput(
            `Invalid ${request.kind} notification: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
            issues,
          );
        }
        throw err;
      }

      const previous = await notifications.find(request.notificationId);
      if (previous) {
        log.info({ notificationId: request.notificationId, messageId: previous.messageId }, 'notification already sent');
        return { notificationId: request.notificationId, messageId: previous.messageId, status: 'already-sent' };
      }

      const messageId = notificationMessageId(request.notificationId, from);
      const sent = await transport.send({
        to: request.to,
        ...(request.cc ? { cc: request.cc } : {}),
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        messageId,
        ...(request.threadWith ? { inReplyTo: notificationMessageId(request.threadWith, from) } : {}),
        headers: {
          [NOTIFICATION_ID_HEADER]: request.notificationId,
          [NOTIFICATION_KIND_HEADER]: request.kind,
          'Auto-Submitted': 'auto-generated',
        },
        ...(request.attachments ? { attachments: request.attachments satisfies MailAttachment[] } : {}),
      });

      await notifications.remember({
        notificationId: request.notificationId,
        messageId,
        recipients: sent.accepted,
        sentAt: new Date().toISOString(),
      });
      log.info(
        { notificationId: request.notificationId, kind: request.kind, messageId, recipients: sent.accepted.length },
        'notification sent',
      );
      return { notificationId: request.notificationId, messageId, status: 'sent' };
    },
  };
}

export type NotificationActivities = ReturnType<typeof createNotificationActivities>;

// Person-addressed notifications: each recipient gets their own mail with a link signed for them
// (and a link to their "my open tasks" page), under a notification id derived from the
// workflow's id so retries never send twice.

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
}

export function createNotifyActivities({ sendNotification, links, organizationName }: NotifyDeps) {
  return {
    async notify(input: NotifyInput): Promise<{ sent: number; alreadySent: number }> {
      let attachments;
      if (input.invite) {
        const { organizer, ...invite } = input.invite;
        try {
          attachments = [
            calendarAttachment(invite, {
              organizer: { name: organizer.name, email: organizer.email },
              attendees: input.to.map((p) => ({ name: p.name, email: p.email })),
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
      for (const person of input.to) {
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
      return { sent, alreadySent };
    },
  };
}

export type NotifyActivities = ReturnType<typeof createNotifyActivities>;
