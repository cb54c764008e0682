/**
 * Entry of a worker process for tests (see worker-process.ts): a real aimsflow worker on the
 * task queue named by the environment, with real activities over its own in-memory records
 * store, mailing through the given SMTP server and signing links with the given secret. It
 * prints `worker running` once it polls, and runs until it is killed.
 */
import { readFile } from 'node:fs/promises';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { pino } from 'pino';
import { createActivities } from '../../activities/index.js';
import { createLinkSigner } from '../../src/links/signer.js';
import { createMailTransport } from '../../src/mail/transport.js';
import { parseOrganizationYaml } from '../../src/organization/load.js';
import { openRecordsStore } from '../../src/records/store.js';
import { createAimsWorker } from '../../workers/worker.js';
import { aimsDataConverter, payloadKeysFromEnv } from '../../src/temporal/codec.js';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`worker-child: ${name} is not set`);
  return value;
}

const address = required('TEMPORAL_ADDRESS');
const namespace = required('TEMPORAL_NAMESPACE');
const taskQueue = required('TEMPORAL_TASK_QUEUE');
const orgFile = required('ORG_FILE');
const mailFrom = required('MAIL_FROM');
const logger = pino({ level: 'warn' });
const organization = parseOrganizationYaml(await readFile(orgFile, 'utf8'), orgFile);
const records = await openRecordsStore({ dataDir: 'memory://', logger });
const transport = createMailTransport({ smtpUrl: required('SMTP_URL'), from: mailFrom, logger });
const links = createLinkSigner({ secret: required('LINK_SECRET'), ttlHours: 24, baseUrl: required('PUBLIC_BASE_URL') });
const dataConverter = aimsDataConverter(payloadKeysFromEnv());
const client = new Client({ connection: await Connection.connect({ address }), namespace, dataConverter });
const bundlePath = process.env.WORKFLOW_BUNDLE_PATH;
const worker = await createAimsWorker({
  connection: await NativeConnection.connect({ address }),
  namespace,
  taskQueue,
  dataConverter,
  ...(bundlePath ? { workflowBundle: { code: await readFile(bundlePath, 'utf8') } } : {}),
  activities: createActivities({ organization: () => organization, records, transport, links, mailFrom, logger, temporal: { client, taskQueue } }),
});
const running = worker.run();
process.stdout.write('worker running\n');
await running;
