/**
 * Starts the API inside a process that already has its configuration, logger, organization
 * and records store (the API entry point, or the single local process that also runs the
 * worker when the records store is the embedded one).
 */
import { createLinkSigner } from '../links/signer.js';
import { createNotificationSender } from '../mail/sender.js';
import { createMailTransport } from '../mail/transport.js';
import { createTemporalClient } from '../temporal/client.js';
import { developmentKeyWarning } from '../temporal/codec.js';
import type { ServiceDeps } from '../shutdown.js';
import { buildApp } from './app.js';
import { readinessChecks } from './routes/health.js';

export interface RunningApi {
  address: string;
  /** Stops accepting requests, lets in-flight ones finish, closes mail and Temporal connections. */
  close(): Promise<void>;
}

export async function startApi(deps: ServiceDeps): Promise<RunningApi> {
  const { config, logger, records } = deps;
  const temporal = await createTemporalClient(config);
  const transport = createMailTransport({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, logger });
  const notifications = createNotificationSender({
    transport,
    notifications: records.notifications,
    from: config.MAIL_FROM,
    logger,
  });
  const closeConnections = async () => {
    transport.close();
    await temporal.connection.close();
  };
  try {
    const app = await buildApp({
      config,
      logger,
      records,
      temporal: temporal.client,
      organization: deps.organization,
      links: createLinkSigner({ secret: config.LINK_SECRET, ttlHours: config.LINK_TTL_HOURS, baseUrl: config.PUBLIC_BASE_URL }),
      sendNotification: (input) => notifications.sendNotification(input),
      readiness: readinessChecks(config, temporal.connection, transport),
    });
    const address = await app.listen({ host: config.API_HOST, port: config.API_PORT });
    logger.info({ address, docs: `${address}/docs`, payloadKey: config.PAYLOAD_KEYS[0]?.id }, 'API listening');
    const warning = developmentKeyWarning(config);
    if (warning) logger.warn(warning);
    return {
      address,
      async close() {
        try {
          await app.close();
        } finally {
          await closeConnections();
        }
      },
    };
  } catch (err) {
    await closeConnections();
    throw err;
  }
}
