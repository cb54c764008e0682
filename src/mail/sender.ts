/**
 * The notification sender: renders a notification e-mail and sends it at most once per
 * notification id. Used by the mail activities and by the API (a fresh link on request).
 *
 * Exactly-once, as far as SMTP allows: the sent log is checked before sending and written
 * after; the Message-ID is derived from the notification id, so a mail re-sent after a crash
 * between the two carries the same Message-ID and the receiving side can drop the duplicate.
 */
import { z } from 'zod';
import type { Logger } from '../logger.js';
import type { RecordsStore } from '../records/types.js';
import { notificationMessageId } from './message-id.js';
import { NotificationKind, type NotificationContent } from './notification-data.js';
import { NotificationDataError, renderNotification } from './templates.js';
import type { MailAddress, MailAttachment, MailTransport } from './transport.js';

export const NOTIFICATION_ID_HEADER = 'X-Aimsflow-Notification-Id';
export const NOTIFICATION_KIND_HEADER = 'X-Aimsflow-Kind';

export interface NotificationSenderDeps {
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

/** A notification that cannot be sent as given; `issues` names each bad field. */
export class NotificationInputError extends Error {
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(message);
    this.name = 'NotificationInputError';
  }
}

function invalidInput(message: string, issues: { path: string; message: string }[]): NotificationInputError {
  return new NotificationInputError(message, issues);
}

export function createNotificationSender({ transport, notifications, from, logger }: NotificationSenderDeps) {
  const log = logger.child({ component: 'notifications' });

  return {
    /**
     * Sends the notification unless one with the same id was sent already. Bad input throws
     * NotificationInputError naming each field; SMTP and store failures throw as they come.
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

export type NotificationSender = ReturnType<typeof createNotificationSender>;
