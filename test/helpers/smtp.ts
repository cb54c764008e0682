/**
 * A real SMTP server for tests: smtp-server on 127.0.0.1 (free port, no TLS, any or no
 * authentication) that parses every message with mailparser and keeps it in `messages`.
 * A message is in `messages` before the sender's DATA command is answered.
 */
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export type { ParsedMail };

export interface TestSmtpServer {
  /** `smtp://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Every message received so far, oldest first. */
  messages: ParsedMail[];
  /** The first message (already received or still to come) for which `predicate` holds. */
  waitFor(predicate: (message: ParsedMail) => boolean, timeoutMs?: number): Promise<ParsedMail>;
  /**
   * Refuse recipients for which `predicate` holds with a 550 (no argument: accept everyone
   * again), to test refusals and retries.
   */
  rejectRecipients(predicate?: (address: string) => boolean): void;
  clear(): void;
  stop(): Promise<void>;
  /** Listens again on the same port after `stop()` (an SMTP outage ends), keeping `messages`. */
  restart(): Promise<void>;
}

export interface SmtpServerOptions {
  /** Called with every message as it is kept, and the time its DATA began (ms since the epoch). */
  onMessage?: (message: ParsedMail, receivedAt: number) => void;
}

export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const messages: ParsedMail[] = [];
  const arrivals = new EventEmitter();
  arrivals.setMaxListeners(100);
  let refuse: ((address: string) => boolean) | undefined;

  const create = () =>
    new SMTPServer({
      secure: false,
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      logger: false,
      closeTimeout: 100,
      size: 25 * 1024 * 1024,
      onAuth(_auth, _session, callback) {
        callback(null, { user: 'test' });
      },
      onRcptTo(address, _session, callback) {
        if (refuse?.(address.address)) {
          const err = new Error(`Mailbox ${address.address} refused by the test server`) as Error & { responseCode: number };
          err.responseCode = 550;
          callback(err);
          return;
        }
        callback();
      },
      onData(stream, _session, callback) {
        const receivedAt = Date.now();
        simpleParser(stream)
          .then((parsed) => {
            messages.push(parsed);
            options.onMessage?.(parsed, receivedAt);
            arrivals.emit('message', parsed);
            callback();
          })
          .catch((err: unknown) => callback(err instanceof Error ? err : new Error(String(err))));
      },
    });

  const listen = (server: SMTPServer, onPort: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(onPort, '127.0.0.1', () => {
        server.off('error', reject);
        // Errors on a client connection (e.g. a client that hangs up) must not crash the test run.
        server.on('error', () => undefined);
        resolve();
      });
    });
  let server = create();
  await listen(server, 0);
  const { port } = server.server.address() as AddressInfo;

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    waitFor(predicate, timeoutMs = 5000) {
      const found = messages.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise<ParsedMail>((resolve, reject) => {
        const onMessage = (message: ParsedMail) => {
          if (!predicate(message)) return;
          clearTimeout(timer);
          arrivals.off('message', onMessage);
          resolve(message);
        };
        const timer = setTimeout(() => {
          arrivals.off('message', onMessage);
          const seen = messages.map((m) => JSON.stringify(m.subject ?? '')).join(', ') || 'none';
          reject(new Error(`no matching message within ${timeoutMs} ms; received: ${seen}`));
        }, timeoutMs);
        arrivals.on('message', onMessage);
      });
    },
    rejectRecipients(predicate) {
      refuse = predicate;
    },
    clear() {
      messages.length = 0;
    },
    stop() {
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async restart() {
      server = create();
      await listen(server, port);
    },
  };
}

/** The aimsflow notification id a received message carries (empty when none). */
export function notificationId(message: ParsedMail): string {
  const value = message.headers.get('x-aimsflow-notification-id');
  return typeof value === 'string' ? value : '';
}

/** The notification kind a received message carries (empty when none). */
export function notificationKind(message: ParsedMail): string {
  const value = message.headers.get('x-aimsflow-kind');
  return typeof value === 'string' ? value : '';
}

/** The addresses a received message was sent to. */
export function recipients(message: ParsedMail): string[] {
  const to = message.to;
  const lists = to === undefined ? [] : Array.isArray(to) ? to : [to];
  return lists.flatMap((list) => list.value.map((a) => a.address ?? ''));
}

/** A received aimsflow notification of `kind`, for `workflowId`, addressed to `email`. */
export function isNotification(message: ParsedMail, workflowId: string, kind: string, email?: string): boolean {
  return (
    notificationKind(message) === kind &&
    notificationId(message).startsWith(`${workflowId}/`) &&
    (email === undefined || recipients(message).includes(email))
  );
}
