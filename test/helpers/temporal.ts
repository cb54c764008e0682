/**
 * A real aimsflow worker for tests: the shared Temporal dev server (started once by the global
 * setup), a unique task queue, real activities over an in-memory PGlite records store, a real
 * in-process SMTP server and a real link signer.
 */
import { TEST_API_KEYS } from './keys.js';
import { randomInt, randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { inject } from 'vitest';
import { Client, Connection, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { NativeConnection, type Worker, type WorkflowBundle } from '@temporalio/worker';
import { pino, type Logger } from 'pino';
import { createActivities } from '../../activities/index.js';
import { parseConfig, type Config } from '../../src/config.js';
import { ncSequenceScope } from '../../src/corrective-action/nc-id.js';
import type { Organization } from '../../src/organization/schema.js';
import { createLinkSigner, type LinkSigner } from '../../src/links/signer.js';
import { createMailTransport, type MailTransport } from '../../src/mail/transport.js';
import { parseOrganizationYaml } from '../../src/organization/load.js';
import { openRecordsStore } from '../../src/records/store.js';
import type { RecordsStore } from '../../src/records/types.js';
import { bundleWorkflows, createAimsWorker } from '../../workers/worker.js';
import { ensureSearchAttributes, listCustomSearchAttributes } from '../../scripts/lib/temporal-admin.js';
import { waitFor } from '../../scripts/lib/wait.js';
import { searchAttributeRegistrations } from '../../src/temporal/search-attributes.js';
import { startSmtpServer } from './smtp.js';
import { aimsDataConverter } from '../../src/temporal/codec.js';

export const exampleOrgFile = path.resolve(import.meta.dirname, '../../config/organization.example.yaml');

export async function exampleOrganization(): Promise<Organization> {
  return parseOrganizationYaml(await readFile(exampleOrgFile, 'utf8'), exampleOrgFile);
}

let bundle: Promise<WorkflowBundle> | undefined;
/** The workflow bundle built once per run by the global setup, or here when run without it. */
async function workflowBundle(): Promise<WorkflowBundle> {
  const bundlePath = inject('workflowBundlePath');
  bundle ??= bundlePath ? readFile(bundlePath, 'utf8').then((code) => ({ code })) : bundleWorkflows();
  return bundle;
}

export interface TestStack {
  config: Config;
  client: Client;
  connection: Connection;
  worker: Worker;
  taskQueue: string;
  records: RecordsStore;
  smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  links: LinkSigner;
  organization: Organization;
  /** The worker's SMTP transport (to the test SMTP server), e.g. for an API that sends mail too. */
  transport: MailTransport;
  /** Starts a workflow on this stack's task queue with a unique id under `prefix`. */
  start<A extends unknown[], R>(
    workflow: string,
    args: A,
    opts?: { workflowId?: string },
  ): Promise<WorkflowHandle<(...a: A) => Promise<R>>>;
  stop(): Promise<void>;
}

export async function startTestStack(
  opts: {
    organization?: Organization;
    /** PUBLIC_BASE_URL for links in mails (default `http://127.0.0.1:3999`), e.g. where a test API listens. */
    publicBaseUrl?: string;
    /**
     * Allocate NC numbers above a random six-digit offset (last, this and next year), so NC
     * ids, and with them corrective-action workflow ids, do not collide with those of other
     * test files on the shared dev server.
     */
    randomNcNumbers?: boolean;
    /** A namespace of the shared dev server other than the run's (see `createTestNamespace`). */
    namespace?: string;
    /** Where the worker's activities read the organization (default: `organization`, fixed). */
    organizationSource?: () => Organization;
    /** ALERT_EMAIL of the worker: where a failed workflow is reported. */
    alertEmail?: string;
    /** PAYLOAD_KEYS of the worker and the client (default: unset, the development key). */
    payloadKeys?: string;
    /** The task queue (default: a new one), e.g. to take over the workflows of a stopped stack. */
    taskQueue?: string;
    /** Another Temporal server than the run's shared dev server (its namespace `default` unless `namespace`). */
    address?: string;
  } = {},
): Promise<TestStack> {
  const address = opts.address ?? inject('temporalAddress');
  const namespace = opts.namespace ?? (opts.address ? 'default' : inject('temporalNamespace'));
  const taskQueue = opts.taskQueue ?? `test-${randomUUID()}`;
  const smtp = await startSmtpServer();
  const config = parseConfig({
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: namespace,
    TEMPORAL_TASK_QUEUE: taskQueue,
    SMTP_URL: smtp.url,
    MAIL_FROM: 'aimsflow <aimsflow@northwind.example>',
    PUBLIC_BASE_URL: opts.publicBaseUrl ?? 'http://127.0.0.1:3999',
    LINK_SECRET: 'test-link-secret-0123456789abcdef0123456789',
    API_KEYS: TEST_API_KEYS,
    DATA_DIR: 'memory://',
    LOG_LEVEL: 'warn',
    ...(opts.payloadKeys ? { PAYLOAD_KEYS: opts.payloadKeys } : {}),
  });
  const organization = opts.organization ?? (await exampleOrganization());
  const logger = pino({ level: 'warn' });
  const records = opts.randomNcNumbers ? await recordsWithRandomNcNumbers(logger) : await openRecordsStore({ dataDir: 'memory://', logger });
  const transport = createMailTransport({ smtpUrl: smtp.url, from: config.MAIL_FROM, logger });
  const links = createLinkSigner({ secret: config.LINK_SECRET, ttlHours: 24, baseUrl: config.PUBLIC_BASE_URL });
  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace, dataConverter: aimsDataConverter(config) });
  const worker = await createAimsWorker({
    connection: nativeConnection,
    namespace,
    taskQueue,
    dataConverter: aimsDataConverter(config),
    workflowBundle: await workflowBundle(),
    activities: createActivities({
      organization: opts.organizationSource ?? (() => organization),
      records,
      transport,
      links,
      mailFrom: config.MAIL_FROM,
      logger,
      temporal: { client, taskQueue },
      ...(opts.alertEmail ? { alertEmail: opts.alertEmail } : {}),
    }),
    shutdownGraceTime: '1s',
  });
  const running = worker.run();

  return {
    config,
    client,
    connection,
    worker,
    taskQueue,
    records,
    smtp,
    links,
    organization,
    transport,
    async start(workflow, args, startOpts) {
      return client.workflow.start(workflow, {
        taskQueue,
        workflowId: startOpts?.workflowId ?? `test/${workflow}/${randomUUID()}`,
        args,
      }) as never;
    },
    async stop() {
      worker.shutdown();
      await running.catch(() => undefined);
      await nativeConnection.close();
      await connection.close();
      transport.close();
      await records.close();
      await smtp.stop();
    },
  };
}

/**
 * A new namespace on the shared dev server with the project's search attributes, for a test
 * whose workflow ids are not its own to choose (a fuzzer's): nothing it starts can collide
 * with the ids other test files use in the run's namespace.
 */
export async function createTestNamespace(prefix: string): Promise<string> {
  const address = inject('temporalAddress');
  const namespace = `${prefix}-${randomUUID()}`;
  const connection = await Connection.connect({ address });
  try {
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    await waitFor(`namespace ${namespace}`, () => connection.workflowService.describeNamespace({ namespace }), { timeoutMs: 30_000, intervalMs: 250 });
    await ensureSearchAttributes(connection, namespace);
    const wanted = searchAttributeRegistrations().map((r) => r.name);
    await waitFor(
      `the search attributes of ${namespace}`,
      async () => {
        const known = await listCustomSearchAttributes(connection, namespace);
        return wanted.every((name) => known.has(name)) ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    return namespace;
  } finally {
    await connection.close();
  }
}

/** An in-memory records store whose NC numbers start above a random six-digit offset. */
async function recordsWithRandomNcNumbers(logger: Logger): Promise<RecordsStore> {
  const pglite = await PGlite.create('memory://');
  const store = await openRecordsStore({ dataDir: 'memory://', pglite, logger });
  const offset = randomInt(100_000, 900_000);
  const year = new Date().getUTCFullYear();
  for (const y of [year - 1, year, year + 1]) {
    await pglite.query('INSERT INTO sequence_allocations (scope, key, value) VALUES ($1, $2, $3)', [ncSequenceScope(y), 'test-offset', offset]);
  }
  const closeStore = store.close.bind(store);
  return Object.assign(store, {
    async close() {
      await closeStore();
      await pglite.close();
    },
  });
}

/** An ISO instant `ms` milliseconds from now. */
export function inMs(ms: number): string {
  return new Date(Date.now() + ms).toISOString();
}

/** Polls a query until the predicate holds (workflows react asynchronously). */
export async function eventually<T>(
  read: () => Promise<T>,
  predicate: (value: T) => boolean,
  { timeoutMs = 20_000, intervalMs = 100 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (predicate(last)) return last;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)?.slice(0, 2000)}`);
}

/** The reason a workflow update was rejected with; fails when the update succeeds or fails otherwise. */
export async function updateRejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) return err.cause?.message ?? '';
    throw err;
  }
  throw new Error('expected the update to be rejected');
}

/**
 * The first argument a workflow was started with, read from its history and decoded with the
 * client's data converter (payloads are encrypted in Temporal).
 */
export async function startInputOf(client: Client, handle: WorkflowHandle): Promise<unknown> {
  const history = await handle.fetchHistory();
  let payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
  const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
  for (const codec of [...payloadCodecs].reverse()) payloads = await codec.decode(payloads);
  return payloads[0] ? payloadConverter.fromPayload(payloads[0]) : undefined;
}
