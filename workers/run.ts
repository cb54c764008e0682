/**
 * Starts the aimsflow worker inside a process that already has its configuration, logger,
 * organization and records store (the worker entry point, or the single local process that
 * also serves the API when the records store is the embedded one).
 */
import type { Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { createLinkSigner } from '../src/links/signer.js';
import { createMailTransport } from '../src/mail/transport.js';
import { createTemporalClient } from '../src/temporal/client.js';
import { aimsDataConverter, developmentKeyWarning } from '../src/temporal/codec.js';
import type { ServiceDeps } from '../src/shutdown.js';
import type { Logger } from '../src/logger.js';
import { organizationInForce } from '../src/organization/in-force.js';
import type { OrganizationHolder } from '../src/organization/holder.js';
import type { Organization } from '../src/organization/schema.js';
import { applyOrganization } from '../src/people/change.js';
import type { RecordsStore } from '../src/records/types.js';
import { openRecordsStore } from '../src/records/store.js';
import { createAimsWorker } from './worker.js';
import { syncAiSystems } from '../src/ai-system/start.js';
import { syncObjectives } from '../src/objectives/start.js';
import { ensurePolicyAndCompetenceSchedules } from '../src/policy/schedule.js';
import { ensureLedgerAnchorSchedule } from '../src/ledger-anchor/schedule.js';

export interface RunningWorker {
  worker: Worker;
  /** The worker's Temporal client (for the work it starts at start-up). */
  client: Client;
  /** Resolves once the worker has stopped and its connections are closed. */
  done: Promise<void>;
  /** Stops polling, lets in-flight tasks finish, then resolves `done`. */
  shutdown(): void;
}

export async function startWorker(deps: ServiceDeps): Promise<RunningWorker> {
  const { config, logger } = deps;
  const transport = createMailTransport({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, logger });
  const links = createLinkSigner({ secret: config.LINK_SECRET, ttlHours: config.LINK_TTL_HOURS, baseUrl: config.PUBLIC_BASE_URL });
  // By path: the SDK reads it and, with the file's own name, uses its source map as it is.
  const workflowBundle = config.WORKFLOW_BUNDLE ? { codePath: config.WORKFLOW_BUNDLE } : undefined;
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const temporal = await createTemporalClient(config);
  let worker: Worker;
  try {
    worker = await createAimsWorker({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      dataConverter: aimsDataConverter(config),
      maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
      cacheMemoryMb: config.WORKER_CACHE_MEMORY_MB,
      ...(workflowBundle ? { workflowBundle } : {}),
      logger,
      activities: createActivities({
        organization: deps.organization,
        records: deps.records,
        transport,
        links,
        mailFrom: config.MAIL_FROM,
        logger,
        temporal: { client: temporal.client, taskQueue: config.TEMPORAL_TASK_QUEUE },
        alertEmail: config.ALERT_EMAIL,
      }),
    });
  } catch (err) {
    transport.close();
    await temporal.connection.close();
    await connection.close();
    throw err;
  }
  logger.info(
    {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      namespace: config.TEMPORAL_NAMESPACE,
      address: config.TEMPORAL_ADDRESS,
      workflowBundle: config.WORKFLOW_BUNDLE ?? 'bundled at start',
      maxCachedWorkflows: worker.options.maxCachedWorkflows,
      payloadKey: config.PAYLOAD_KEYS[0]?.id,
    },
    'worker started',
  );
  const warning = developmentKeyWarning(config);
  if (warning) logger.warn(warning);
  const done = worker.run().finally(async () => {
    transport.close();
    await temporal.connection.close();
    await connection.close();
  });
  return {
    worker,
    client: temporal.client,
    done,
    shutdown: () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
    },
  };
}

/**
 * Starts the parts every worker process has, in order, each registered to stop in reverse:
 * the records store, the organization in force, the worker. Then, in the background, puts the
 * organization file into force (checked against running work; see src/people/change.ts) and
 * ensures every AI system of the inventory has its workflow. Returns what an API in the same
 * process shares.
 */
export async function startWorkerParts(
  deps: Pick<ServiceDeps, 'config' | 'logger'>,
  onStop: (part: string, stop: () => Promise<void>) => void,
  whenEnded: (part: string, ended: Promise<unknown>) => void,
  workerLogger = deps.logger,
): Promise<ServiceDeps> {
  const { config, logger } = deps;
  const records = await openRecordsStore({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, logger });
  onStop('records store', () => records.close());
  const { file, holder } = await organizationInForce(config.ORG_FILE, records, logger);
  onStop('organization', async () => holder.stop());
  const shared: ServiceDeps = { config, logger, organization: holder.get, records };
  const worker = await startWorker({ ...shared, logger: workerLogger });
  onStop('worker', async () => {
    worker.shutdown();
    await worker.done;
  });
  whenEnded('worker', worker.done);
  void afterStart(worker.client, config.TEMPORAL_TASK_QUEUE, file, { records, holder, logger, anchorEvery: config.LEDGER_ANCHOR_EVERY, publicBaseUrl: config.PUBLIC_BASE_URL });
  return shared;
}

/**
 * The organization file put into force, then every AI system of the inventory in force ensured,
 * then the ledger anchor's schedule.
 */
async function afterStart(
  client: Client,
  taskQueue: string,
  file: Organization | undefined,
  { records, holder, logger, anchorEvery, publicBaseUrl }: { records: RecordsStore; holder: OrganizationHolder; logger: Logger; anchorEvery: string; publicBaseUrl: string },
): Promise<void> {
  if (file) {
    try {
      const outcome = await applyOrganization({ client, taskQueue, records }, file, { by: 'system', reason: 'the organization file at worker start' });
      if (outcome.status === 'refused') logger.error({ vacant: outcome.vacant }, `organization file not put into force: ${outcome.message}; the version in force stays`);
      else logger.info(outcome, 'organization file checked against running work');
      await holder.refresh();
    } catch (err) {
      logger.warn({ err }, 'the organization file could not be checked against running work; retry with POST /admin/organization/reload');
    }
  }
  // Every AI system of the inventory has its long-lived workflow; ensuring one that runs changes nothing.
  await syncAiSystems(client, taskQueue, holder.current(), { publicBaseUrl }).then(
    (r) => (r.failed.length ? logger.warn(r, 'some AI systems could not be ensured; retry with POST /admin/ai-systems/sync') : logger.info(r, 'AI systems ensured')),
    (err: unknown) => logger.warn({ err }, 'AI systems not ensured; retry with POST /admin/ai-systems/sync'),
  );
  // Every objective of the file is measured by its workflow; the policy review and competence renewals run on schedules.
  await syncObjectives(client, taskQueue, holder.current(), { publicBaseUrl }).then(
    (r) => (r.failed.length ? logger.warn(r, 'some objectives could not be ensured; retry with POST /admin/objectives/sync') : logger.info(r, 'objectives ensured')),
    (err: unknown) => logger.warn({ err }, 'objectives not ensured; retry with POST /admin/objectives/sync'),
  );
  await ensurePolicyAndCompetenceSchedules({ client, taskQueue, publicBaseUrl }, holder.current()).then(
    (outcome) => logger.info(outcome, 'policy review and competence renewal schedules ensured'),
    (err: unknown) => logger.warn({ err }, 'policy review and competence renewal schedules not ensured; they are ensured again at the next worker start'),
  );
  // The ledger head goes outside the database on a schedule; ensuring it again changes nothing.
  if (anchorEvery !== 'off') {
    await ensureLedgerAnchorSchedule({ client, taskQueue, publicBaseUrl }, anchorEvery).then(
      (outcome) => logger.info({ every: anchorEvery, outcome }, 'ledger anchor schedule ensured'),
      (err: unknown) => logger.warn({ err }, 'ledger anchor schedule not ensured; it is ensured again at the next worker start'),
    );
  }
}
