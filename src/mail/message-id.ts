/**
 * Deterministic Message-IDs: the same notification id always yields the same Message-ID, so a
 * mail re-sent after a crash between "sent" and "remembered" can be recognized as a duplicate
 * by the receiving side.
 */
import { createHash } from 'node:crypto';
import addressparser from 'nodemailer/lib/addressparser';

const FALLBACK_DOMAIN = 'aimsflow.invalid';

/** The domain of the sender address (`aimsflow <aimsflow@example.com>` → `example.com`). */
export function senderDomain(from: string): string {
  const first = addressparser(from, { flatten: true })[0];
  const domain = first?.address.split('@')[1]?.toLowerCase() ?? '';
  return /^[a-z0-9.-]+$/.test(domain) && !domain.startsWith('.') && !domain.endsWith('.') ? domain : FALLBACK_DOMAIN;
}

/** `<{first 32 hex of sha256(notificationId)}.aimsflow@{sender domain}>`. */
export function notificationMessageId(notificationId: string, from: string): string {
  const digest = createHash('sha256').update(notificationId, 'utf8').digest('hex').slice(0, 32);
  return `<${digest}.aimsflow@${senderDomain(from)}>`;
}
