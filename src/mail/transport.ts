/**
 * SMTP transport: a pooled nodemailer transport with short connection, greeting and socket
 * timeouts and an overall deadline per message, so a dead or stalling server fails a send
 * within seconds and the calling activity is retried by Temporal.
 *
 * A failure says what the server or the socket said: nodemailer's message, the SMTP response
 * and its code, the command that failed and the error code (`ESOCKET`, `ECONNECTION`,
 * `ETIMEDOUT`, `EPROTOCOL`, `EENVELOPE`, ...), in the error's message and in the log line.
 */
import nodemailer from 'nodemailer';
import { MAIL_SEND_TIMEOUT_MS } from '../common/mail-timing.js';
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
  socketMs: 20_000,
  sendMs: MAIL_SEND_TIMEOUT_MS,
};

/** What nodemailer tells about a failure. */
export interface SmtpErrorDetails {
  /** nodemailer's message (it includes the server's response when there was one). */
  message: string;
  /** nodemailer's error code, e.g. `ESOCKET`, `ECONNECTION`, `ETIMEDOUT`, `EPROTOCOL`, `EENVELOPE`, `EMESSAGE`. */
  code?: string;
  /** The system error underneath, e.g. `ECONNREFUSED`. */
  originalCode?: string;
  /** The server's response line, e.g. `421 4.3.2 Service not available`. */
  response?: string;
  responseCode?: number;
  /** The SMTP command that failed (`CONN` while connecting and greeting), e.g. `RCPT TO`. */
  command?: string;
  permanent?: boolean;
}

/** A failed send or verify. `permanent` is true for a 5xx refusal from the server. */
export class MailTransportError extends Error {
  readonly code: string | undefined;
  readonly originalCode: string | undefined;
  readonly response: string | undefined;
  readonly responseCode: number | undefined;
  readonly command: string | undefined;
  readonly permanent: boolean;

  constructor(message: string, details: Omit<SmtpErrorDetails, 'message'> & { cause?: unknown }) {
    super(message, { cause: details.cause });
    this.name = 'MailTransportError';
    this.code = details.code;
    this.originalCode = details.originalCode;
    this.response = details.response;
    this.responseCode = details.responseCode;
    this.command = details.command;
    this.permanent = details.permanent ?? false;
  }
}

const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

export function smtpErrorDetails(err: unknown): SmtpErrorDetails {
  if (!(err instanceof Error)) return { message: String(err) };
  const e = err as Error & { code?: unknown; originalCode?: unknown; response?: unknown; responseCode?: unknown; command?: unknown; permanent?: unknown };
  const details: SmtpErrorDetails = { message: text(e.message) ?? '' };
  const code = text(e.code);
  const originalCode = text(e.originalCode);
  const response = text(e.response);
  const command = text(e.command);
  if (code) details.code = code;
  if (originalCode) details.originalCode = originalCode;
  if (response) details.response = response;
  if (typeof e.responseCode === 'number') details.responseCode = e.responseCode;
  if (command) details.command = command;
  if (typeof e.permanent === 'boolean') details.permanent = e.permanent;
  return details;
}

/**
 * One line saying what went wrong: nodemailer's message, the server's response when the
 * message does not quote it, and the codes and command in brackets, e.g.
 * `connect ECONNREFUSED 127.0.0.1:1025 (ESOCKET, command CONN)`.
 */
export function describeSmtpError(details: SmtpErrorDetails): string {
  const { message, response, responseCode, command } = details;
  const said = response && !message.includes(response) ? `server said "${response}"` : undefined;
  const main = [message, said].filter(Boolean).join('; ') || 'no error text from the SMTP client';
  const codes = [...new Set([details.code, details.originalCode].filter((c) => c && !message.includes(c)))];
  const tags = [
    ...codes,
    ...(responseCode && !main.includes(String(responseCode)) ? [`SMTP ${responseCode}`] : []),
    ...(command ? [`command ${command}`] : []),
  ];
  return tags.length > 0 ? `${main} (${tags.join(', ')})` : main;
}

/** The fields of a failure for a log line (the message text included). */
const logFields = (details: SmtpErrorDetails) => ({
  error: details.message,
  code: details.code,
  originalCode: details.originalCode,
  response: details.response,
  responseCode: details.responseCode,
  command: details.command,
});

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
        const { message, ...details } = smtpErrorDetails(err);
        const aborted = details.code === 'EABORT';
        const reason = aborted ? `no answer within ${timeouts.sendMs} ms` : describeSmtpError({ message, ...details });
        logger.warn({ ...logFields({ message, ...details }), ms: Date.now() - started }, 'mail send failed');
        throw new MailTransportError(`SMTP send via ${where} failed: ${reason}`, { ...details, cause: err });
      }
    },

    async verify() {
      try {
        await transporter.verify();
      } catch (err) {
        const { message, ...details } = smtpErrorDetails(err);
        throw new MailTransportError(`SMTP server ${where} is not usable: ${describeSmtpError({ message, ...details })}`, { ...details, cause: err });
      }
    },

    close() {
      transporter.close();
    },
  };
}
