/**
 * SMTP transport: a pooled nodemailer transport with short connection, greeting and socket
 * timeouts and an overall deadline per message, so a dead or stalling server fails a send
 * within seconds and the calling activity is retried by Temporal.
 */
import nodemailer from 'nodemailer';
import type { Logger } from '../logger.js';

export interface MailAddress {
  name: string;
  email: string;
}

export interface MailAttachment {
  filename: string;
  /** Text, or base64 text with `encoding: 'base64'`, or raw bytes. */
  content: string | Buffer;
  /** e.g. `text/calendar; method=REQUEST; charset=utf-8` for an invitation. */
  contentType: string;
  encoding?: 'base64' | 'utf-8';
}

export interface OutgoingMail {
  to: MailAddress[];
  cc?: MailAddress[];
  subject: string;
  text: string;
  html: string;
  /** Full Message-ID with angle brackets, e.g. `<abc@example.com>`; nodemailer generates one otherwise. */
  messageId?: string;
  /** Message-ID this mail answers; sets In-Reply-To and References so clients thread it. */
  inReplyTo?: string;
  headers?: Record<string, string>;
  attachments?: MailAttachment[];
}

export interface MailSendResult {
  messageId: string;
  /** Recipient addresses the server accepted. */
  accepted: string[];
  /** Recipient addresses the server refused (the others were delivered). */
  rejected: string[];
}

export interface MailTransport {
  send(message: OutgoingMail): Promise<MailSendResult>;
  /** Connects and greets the server once; throws MailTransportError when it cannot. */
  verify(): Promise<void>;
  /** Closes pooled connections. */
  close(): void;
}

export interface MailTimeouts {
  /** Opening the TCP connection. */
  connectionMs: number;
  /** Waiting for the server greeting after connecting. */
  greetingMs: number;
  /** Inactivity on an open connection. */
  socketMs: number;
  /** Overall deadline for one message, queueing included. */
  sendMs: number;
}

export interface MailTransportOptions {
  /** `smtp://user:pass@host:port` or `smtps://…`. */
  smtpUrl: string;
  /** The From header, e.g. `aimsflow <aimsflow@example.com>`. */
  from: string;
  logger: Logger;
  timeouts?: Partial<MailTimeouts>;
  /** Pooled connections; a small number is kind to the relay. */
  maxConnections?: number;
}

export const defaultMailTimeouts: MailTimeouts = {
  connectionMs: 10_000,
  greetingMs: 10_000,
  socketMs: 30_000,
  sendMs: 60_000,
};

/** A failed send or verify. `permanent` is true for a 5xx refusal from the server. */
export class MailTransportError extends Error {
  readonly code: string | undefined;
  readonly responseCode: number | undefined;
  readonly permanent: boolean;

  constructor(message: string, details: { code?: string; responseCode?: number; permanent?: boolean; cause?: unknown }) {
    super(message, { cause: details.cause });
    this.name = 'MailTransportError';
    this.code = details.code;
    this.responseCode = details.responseCode;
    this.permanent = details.permanent ?? false;
  }
}

function errorDetails(err: unknown): { code?: string; responseCode?: number; permanent?: boolean; message: string } {
  if (!(err instanceof Error)) return { message: String(err) };
  const e = err as Error & { code?: unknown; responseCode?: unknown; permanent?: unknown };
  return {
    message: e.message,
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.responseCode === 'number' ? { responseCode: e.responseCode } : {}),
    ...(typeof e.permanent === 'boolean' ? { permanent: e.permanent } : {}),
  };
}

const toNodemailerAddress = (a: MailAddress) => ({ name: a.name, address: a.email });

function addressList(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((entry: unknown) =>
    typeof entry === 'string' ? entry : String((entry as { address?: unknown } | null)?.address ?? entry),
  );
}

export function createMailTransport(options: MailTransportOptions): MailTransport {
  let server: URL;
  try {
    server = new URL(options.smtpUrl);
  } catch {
    throw new TypeError('smtpUrl: not a URL (expected smtp://host:port or smtps://host:port)');
  }
  if (server.protocol !== 'smtp:' && server.protocol !== 'smtps:') {
    throw new TypeError('smtpUrl: must start with smtp:// or smtps://');
  }
  if (typeof options.from !== 'string' || options.from.trim().length < 3) {
    throw new TypeError('from: must be an address such as "aimsflow <aimsflow@example.com>"');
  }
  const timeouts: MailTimeouts = { ...defaultMailTimeouts, ...options.timeouts };
  // Only host and port are ever logged or put into errors; the URL may carry credentials.
  const where = `${server.hostname}:${server.port || (server.protocol === 'smtps:' ? '465' : '587')}`;
  const logger = options.logger.child({ component: 'mail', smtp: where });

  const transporter = nodemailer.createTransport({
    url: options.smtpUrl,
    pool: true,
    maxConnections: options.maxConnections ?? 2,
    maxMessages: 100,
    connectionTimeout: timeouts.connectionMs,
    greetingTimeout: timeouts.greetingMs,
    socketTimeout: timeouts.socketMs,
    dnsTimeout: timeouts.connectionMs,
    disableFileAccess: true,
    disableUrlAccess: true,
  });

  return {
    async send(message) {
      const started = Date.now();
      try {
        const info = await transporter.sendMail({
          from: options.from,
          to: message.to.map(toNodemailerAddress),
          ...(message.cc && message.cc.length > 0 ? { cc: message.cc.map(toNodemailerAddress) } : {}),
          subject: message.subject,
          text: message.text,
          html: message.html,
          ...(message.messageId ? { messageId: message.messageId } : {}),
          ...(message.inReplyTo ? { inReplyTo: message.inReplyTo, references: [message.inReplyTo] } : {}),
          ...(message.headers ? { headers: message.headers } : {}),
          ...(message.attachments && message.attachments.length > 0
            ? {
                attachments: message.attachments.map((a) => ({
                  filename: a.filename,
                  content: a.content,
                  contentType: a.contentType,
                  ...(a.encoding ? { encoding: a.encoding } : {}),
                })),
              }
            : {}),
          signal: AbortSignal.timeout(timeouts.sendMs),
        });
        const result: MailSendResult = {
          messageId: info.messageId,
          accepted: addressList(info.accepted),
          rejected: addressList(info.rejected),
        };
        if (result.rejected.length > 0) {
          logger.warn({ messageId: result.messageId, rejected: result.rejected.length }, 'some recipients were refused');
        }
        logger.debug({ messageId: result.messageId, ms: Date.now() - started }, 'mail sent');
        return result;
      } catch (err) {
        const details = errorDetails(err);
        const aborted = details.code === 'EABORT';
        const reason = aborted ? `no answer within ${timeouts.sendMs} ms` : details.message;
        logger.warn({ code: details.code, responseCode: details.responseCode, ms: Date.now() - started }, 'mail send failed');
        throw new MailTransportError(`SMTP send via ${where} failed: ${reason}`, { ...details, cause: err });
      }
    },

    async verify() {
      try {
        await transporter.verify();
      } catch (err) {
        const details = errorDetails(err);
        throw new MailTransportError(`SMTP server ${where} is not usable: ${details.message}`, { ...details, cause: err });
      }
    },

    close() {
      transporter.close();
    },
  };
}
