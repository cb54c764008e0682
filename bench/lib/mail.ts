/**
 * The bench's SMTP server (the tests' in-process one, test/helpers/smtp.ts) with the arrival
 * time of every mail, its aimsflow kind and notification id, and the link it carries.
 */
import { notificationId, notificationKind, recipients, startSmtpServer, type ParsedMail, type TestSmtpServer } from '../../test/helpers/smtp.js';

export interface Arrival {
  /** When its DATA began at the SMTP server (ms since the epoch). */
  at: number;
  kind: string;
  notificationId: string;
  to: string[];
  /** The first link to a page of the API (`/t?token=`, `/a?token=`), if any. */
  actionUrl?: string;
}

export interface MailLog {
  url: string;
  smtp: TestSmtpServer;
  arrivals: Arrival[];
  /** Resolves once `count` arrivals satisfy `predicate`; rejects after `timeoutMs`. */
  waitForCount(predicate: (a: Arrival) => boolean, count: number, timeoutMs: number): Promise<Arrival[]>;
  stop(): Promise<void>;
}

/**
 * The workflow a notification came from: its id is `<workflow id>/<first run id>/<key>/<person>`
 * (workflows/lib/recorder.ts and activities/notifications.ts), e.g.
 * `task/adhoc/2027/k3m9x2qa/<run id>/1-task.assigned/sofia.lind` → `task/adhoc/2027/k3m9x2qa`.
 */
export function workflowIdOf(notificationId: string): string {
  return notificationId.split('/').slice(0, -3).join('/');
}

const PAGE_LINK = /https?:\/\/[^\s"'<>]+\/(?:t|a)\?token=[A-Za-z0-9._~%-]+/;

function arrivalOf(message: ParsedMail, at: number): Arrival {
  const link = PAGE_LINK.exec(message.text ?? '')?.[0];
  return { at, kind: notificationKind(message), notificationId: notificationId(message), to: recipients(message), ...(link ? { actionUrl: link } : {}) };
}

export async function startMailLog(): Promise<MailLog> {
  const arrivals: Arrival[] = [];
  const listeners = new Set<() => void>();
  const smtp = await startSmtpServer({
    onMessage(message, at) {
      arrivals.push(arrivalOf(message, at));
      // The parsed message is not needed any more: a bench receives thousands.
      smtp.messages.length = 0;
      for (const listener of listeners) listener();
    },
  });
  return {
    url: smtp.url,
    smtp,
    arrivals,
    waitForCount(predicate, count, timeoutMs) {
      // Each arrival is looked at once.
      const found: Arrival[] = [];
      let seen = 0;
      return new Promise((resolve, reject) => {
        const check = () => {
          for (; seen < arrivals.length; seen++) if (predicate(arrivals[seen]!)) found.push(arrivals[seen]!);
          if (found.length < count) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`${found.length} of ${count} mails arrived within ${Math.round(timeoutMs / 1000)} s`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    stop: () => smtp.stop(),
  };
}
