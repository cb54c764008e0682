/**
 * What the API needs from the rest of the process. Route plugins reach it as `app.deps`.
 * Extend `AppDeps` here when a route needs a new collaborator.
 */
import type { Client } from '@temporalio/client';
import type { NotificationActivities } from '../../activities/notifications.js';
import type { Config } from '../config.js';
import type { Organization } from '../organization/schema.js';
import type { LinkSigner } from '../links/signer.js';
import type { Logger } from '../logger.js';
import type { RecordsStore } from '../records/types.js';

/** A readiness probe: resolves when its dependency answers, or rejects saying why. */
export type ReadinessProbe = () => Promise<void>;

/** A probe with its own deadline, or one that `/readyz` reports without failing on it. */
export interface ReadinessCheck {
  probe: ReadinessProbe;
  /** Deadline for this probe (default: `readinessTimeoutMs`). */
  timeoutMs?: number;
  /** Reported in the body, but never makes `/readyz` answer 503. */
  reportOnly?: boolean;
}

/** Readiness checks by name (the records store is always checked, and required). */
export interface ReadinessChecks {
  temporal: ReadinessProbe | ReadinessCheck;
  [name: string]: ReadinessProbe | ReadinessCheck;
}

export interface AppDeps {
  config: Config;
  /** The process logger; `false` silences the API (tests); omitted: a logger at `config.LOG_LEVEL`. */
  logger?: Logger | false;
  records: RecordsStore;
  readiness: ReadinessChecks;
  /** The Temporal client, for routes that start, signal or query workflows. */
  temporal?: Client;
  /** The organization file (people and roles), for names and e-mail addresses on pages. */
  organization?: () => Organization;
  /** Sends one notification e-mail at most once per notification id (e.g. a renewed link). */
  sendNotification?: NotificationActivities['sendNotification'];
  /** The link signer; built from the configuration when absent. */
  links?: LinkSigner;
  /** Per-check deadline for `/readyz`, in milliseconds (default 2000). */
  readinessTimeoutMs?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: AppDeps;
  }
}
