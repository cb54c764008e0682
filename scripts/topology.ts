/**
 * Runs the production topology by hand (see scripts/lib/topology.ts): a Temporal server on
 * PostgreSQL with SQL visibility, two workers and two APIs on PostgreSQL records, and an SMTP
 * server that accepts and counts mail. Prints the addresses; Ctrl-C stops everything.
 *
 *   npx tsx scripts/topology.ts
 */
import { SMTPServer } from 'smtp-server';
import { startTopology, TOPOLOGY_ADMIN_KEY } from './lib/topology.js';
import { freePort } from './lib/wait.js';

const smtpPort = await freePort();
let received = 0;
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  onData(stream, _session, callback) {
    stream.resume();
    stream.on('end', () => {
      received += 1;
      callback();
    });
  },
});
await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));
const topology = await startTopology({ smtpUrl: `smtp://127.0.0.1:${smtpPort}`, log: (line) => process.stdout.write(`${line}\n`) });
process.stdout.write(
  [
    '',
    `Temporal    ${topology.temporalAddress} (namespace ${topology.namespace}, task queue ${topology.taskQueue})`,
    `PostgreSQL  ${topology.databaseUrl}`,
    ...topology.apis.map((a) => `API         ${a.url}`),
    `SMTP        127.0.0.1:${smtpPort}`,
    `API key     ${TOPOLOGY_ADMIN_KEY} (person priya.raman, the AIMS manager)`,
    '',
  ].join('\n'),
);
let stopping: Promise<void> | undefined;
const stop = () =>
  (stopping ??= (async () => {
    process.stdout.write(`stopping (${received} mail received)\n`);
    await topology.stop();
    smtp.close();
    process.exit(0);
  })());
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
