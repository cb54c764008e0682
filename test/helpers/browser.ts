/**
 * Helpers for page tests: the real API wired to a test stack (its Temporal client and task
 * queue, its records store, organization, link signer and SMTP server), the link found in a
 * received e-mail, and a headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core; no browser download).
 */
import type { Browser } from 'playwright-core';
import { pino } from 'pino';
import { CHROMIUM_PATH } from '../../scripts/lib/parts.js';
import { createNotificationActivities } from '../../activities/notifications.js';
import { buildApp, type ApiInstance } from '../../src/api/app.js';
import type { Logger } from '../../src/logger.js';
import type { Config } from '../../src/config.js';
import type { Organization } from '../../src/organization/schema.js';
import type { ParsedMail } from './smtp.js';
import type { TestStack } from './temporal.js';
import { TEST_ADMIN_KEY } from './keys.js';


export { CHROMIUM_PATH };

/** Headers with the API key of the example organization's AIMS manager (priya.raman). */
export const TEST_ADMIN_HEADERS = { authorization: `Bearer ${TEST_ADMIN_KEY}` } as const;

/** The API on the stack: pages and admin routes act on the stack's workflows. Silent unless given a logger. */
export async function buildStackApp(
  stack: TestStack,
  options: { logger?: Logger; config?: Partial<Config>; organization?: () => Organization } = {},
): Promise<ApiInstance> {
  const notifications = createNotificationActivities({
    transport: stack.transport,
    notifications: stack.records.notifications,
    from: stack.config.MAIL_FROM,
    logger: pino({ level: 'silent' }),
  });
  return buildApp({
    config: options.config ? { ...stack.config, ...options.config } : stack.config,
    logger: options.logger ?? false,
    records: stack.records,
    temporal: stack.client,
    readiness: { temporal: () => Promise.resolve() },
    organization: options.organization ?? (() => stack.organization),
    links: stack.links,
    sendNotification: (input) => notifications.sendNotification(input),
  });
}

/** The first link to `path` (e.g. `/t`) in a received mail's text part. */
export function linkIn(mail: ParsedMail, path: string): string {
  const escaped = path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const match = new RegExp(`https?://[^\\s"<>]+${escaped}\\?token=[\\w.-]+`).exec(mail.text ?? '');
  if (!match) throw new Error(`no ${path} link in the mail "${mail.subject ?? ''}"`);
  return match[0];
}

/** A headless Chromium with a fresh temporary profile; close it when done. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
