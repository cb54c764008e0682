/**
 * API entry point: configuration, logger, records store, Temporal client, then listen.
 * SIGINT/SIGTERM close the API (in-flight requests finish), then the store, then the
 * Temporal connection; a second signal, or a shutdown that takes too long, exits at once.
 */
import { createNotificationActivities } from '../../activities/notifications.js';
import { configOrExit } from '../config.js';
import { createLinkSigner } from '../links.js';
import { createLogger, type Logger } from '../logger.js';
import { createMailTransport, type MailTransport } from '../mail/transport.js';
import { loadOrganizationOrExit } from '../organization.js';
import { openRecordsStore } from '../records/store.js';
import type { RecordsStore } from '../records/types.js';
import { checkTemporal, createTemporalClient, type TemporalHandle } from '../temporal/client.js';
import { buildApp, type ApiInstance } from './app.js';

/** How long a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 15_000;

const config = configOrExit();
const logger: Logger = createLogger(config.LOG_LEVEL, 'api');

let app: ApiInstance | undefined;
let records: RecordsStore | undefined;
let temporal: TemporalHandle | undefined;
let transport: MailTransport | undefined;
let shuttingDown = false;

/** Closes whatever is open, in order; safe to call again (closed parts are forgotten). */
async function closeAll(): Promise<void> {
  const steps: Array<[string, (() => Promise<void>) | undefined]> = [];
  if (app) {
    const closing = app;
    steps.push(['api', () => closing.close()]);
    app = undefined;
  }
  if (records) {
    const closing = records;
    steps.push(['records store', () => closing.close()]);
    records = undefined;
  }
  if (transport) {
    const closing = transport;
    steps.push(['mail transport', () => Promise.resolve(closing.close())]);
    transport = undefined;
  }
  if (temporal) {
    const closing = temporal.connection;
    steps.push(['temporal connection', () => closing.close()]);
    temporal = undefined;
  }
  for (const [name, close] of steps) {
    if (!close) continue;
    try {
      await close();
      logger.info(`${name} closed`);
    } catch (err) {
      logger.error({ err }, `closing the ${name} failed`);
      process.exitCode = 1;
    }
  }
}

function shutdown(reason: string, exitCode: number): void {
  if (shuttingDown) {
    logger.warn({ reason }, 'second shutdown request; exiting now');
    process.exit(1);
  }
  shuttingDown = true;
  process.exitCode = exitCode;
  logger.info({ reason }, 'shutting down');
  setTimeout(() => {
    logger.error(`shutdown did not finish within ${SHUTDOWN_TIMEOUT_MS} ms; exiting`);
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS).unref();
  void closeAll().then(() => logger.info('stopped'));
}

process.on('SIGINT', () => shutdown('SIGINT', 0));
process.on('SIGTERM', () => shutdown('SIGTERM', 0));
process.on('unhandledRejection', (err) => {
  logger.fatal({ err }, 'unhandled promise rejection');
  shutdown('unhandledRejection', 1);
});

async function main(): Promise<void> {
  const org = await loadOrganizationOrExit(config.ORG_FILE);
  const store = await openRecordsStore({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, logger });
  records = store;
  if (shuttingDown) return closeAll();
  const handle = await createTemporalClient(config);
  temporal = handle;
  if (shuttingDown) return closeAll();
  const mail = createMailTransport({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, logger });
  transport = mail;
  const notifications = createNotificationActivities({
    transport: mail,
    notifications: store.notifications,
    from: config.MAIL_FROM,
    logger,
  });
  app = await buildApp({
    config,
    logger,
    records: store,
    temporal: handle.client,
    organization: () => org,
    links: createLinkSigner({ secret: config.LINK_SECRET, ttlHours: config.LINK_TTL_HOURS, baseUrl: config.PUBLIC_BASE_URL }),
    sendNotification: (input) => notifications.sendNotification(input),
    readiness: { temporal: () => checkTemporal(handle.connection) },
  });
  if (shuttingDown) return closeAll();
  const address = await app.listen({ host: config.API_HOST, port: config.API_PORT });
  logger.info({ address, docs: `${address}/docs` }, 'API listening');
}

main().catch((err: unknown) => {
  logger.fatal({ err }, 'API failed to start');
  shutdown('startup failure', 1);
});
