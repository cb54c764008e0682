/**
 * `npm start`: the whole local stack in one command.
 *
 * Starts, in order, the Temporal dev server (state in <data>/temporal.db, custom search
 * attributes registered, Web UI), a mail inbox (maildev), a local OpenID provider for signing
 * in (scripts/oidc-provider.ts: the organization's people, any password; not started when
 * OIDC_ISSUER names a real provider), the worker and the API; waits for each to answer; prints
 * the URLs. Ctrl-C (SIGINT) or SIGTERM stops everything in reverse
 * order and exits 0.
 *
 * A part that dies on its own is restarted, alone, after a delay that starts at 1 s and doubles
 * up to 30 s (back to 1 s once it had been up a minute); every crash and restart is printed with
 * the new pid. The Temporal server keeps its state in its file and comes back on the same port;
 * the worker and the API reconnect to it by themselves. A part that crashes RESTART_MAX_CRASHES
 * times within RESTART_WINDOW_SECONDS is not restarted again: the rest is stopped, the reason
 * printed, and the exit is non-zero. Ordering matters only at first start.
 *
 * Ports and paths come from the environment (see `settingsSchema`); the worker and the API get
 * the project configuration (src/config.ts) in theirs. Development secrets are generated once
 * into <data>/dev-secrets.json; LINK_SECRET / API_KEYS / SESSION_SECRET / PAYLOAD_KEYS set by the
 * user win. The Temporal Web UI decodes payloads through the API's codec endpoint
 * (`--ui-codec-endpoint <PUBLIC_BASE_URL>/codec`; the API answers the UI's origin, TEMPORAL_UI_URL).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Connection } from '@temporalio/client';
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE, searchAttributeRegistrations } from '../src/temporal/search-attributes.js';
import { loadOrganization } from '../src/organization/load.js';
import { devKeyPrincipals, loadOrCreateDevSecrets, secretEnv } from './dev-secrets.js';
import { DEFAULT_RESTART_POLICY, Supervisor, type ChildSpec, type RestartPolicy, type SupervisedChild, type SupervisorEvent } from './lib/supervisor.js';
import { connectWhenReady, ensureSearchAttributes } from './lib/temporal-admin.js';
import { isPortFree, waitFor, waitForHttp } from './lib/wait.js';
import { ensureTemporalCli } from './temporal-cli.js';
import { WORKER_NODE_OPTIONS, WORKER_PROCESS_ENV } from '../workers/process-settings.js';

const run = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

const port = z.coerce.number().int().min(1).max(65535);

export const settingsSchema = z.object({
  DATA_DIR: z.string().min(1).default('./data'),
  TEMPORAL_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  MAIL_SMTP_PORT: port.default(1025),
  MAIL_WEB_PORT: port.default(1080),
  /** The local OpenID provider (unused when OIDC_ISSUER names another provider). */
  OIDC_PROVIDER_PORT: port.default(3100),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
  /** Deadline for each part to come up. */
  START_TIMEOUT_SECONDS: z.coerce.number().int().min(5).max(3600).default(180),
  /** How long each part may take to stop before it is killed. */
  STOP_GRACE_SECONDS: z.coerce.number().int().min(1).max(600).default(10),
  /** A part that crashes this many times within RESTART_WINDOW_SECONDS stops the stack. */
  RESTART_MAX_CRASHES: z.coerce.number().int().min(1).max(1000).default(DEFAULT_RESTART_POLICY.maxCrashes),
  RESTART_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(DEFAULT_RESTART_POLICY.windowMs / 1000),
  /**
   * Test only: the named part is replaced by a process that exits with code 3 at once, every
   * time it is started, to exercise the give-up rule.
   */
  START_CRASH_CHILD: z.enum(['temporal', 'mail', 'oidc', 'worker', 'api', 'aimsflow']).optional(),
});

type Settings = z.output<typeof settingsSchema>;

const PORT_VARIABLES = [
  ['TEMPORAL_PORT', 'Temporal gRPC'],
  ['TEMPORAL_UI_PORT', 'Temporal Web UI'],
  ['MAIL_SMTP_PORT', 'mail SMTP'],
  ['MAIL_WEB_PORT', 'mail inbox'],
  ['OIDC_PROVIDER_PORT', 'local OpenID provider'],
  ['API_PORT', 'API'],
] as const;

/** The API's client id at the local OpenID provider. */
const LOCAL_CLIENT_ID = 'aimsflow-local';

/** True when the user points sign-in at a provider of their own: no local provider then. */
const ownProvider = (env: NodeJS.ProcessEnv) => Boolean(env.OIDC_ISSUER?.trim());

/** All local services listen on the loopback interface only. */
const BIND = '127.0.0.1';

const useColor = process.stdout.isTTY === true && !process.env.NO_COLOR;

function say(message: string): void {
  const label = 'start'.padEnd(8);
  const prefix = useColor ? `\u001b[1m${label}|\u001b[0m ` : `${label}| `;
  process.stdout.write(
    message
      .split('\n')
      .map((line) => `${prefix}${line}\n`)
      .join(''),
  );
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function parseSettings(env: NodeJS.ProcessEnv): Settings {
  const result = settingsSchema.safeParse(env);
  if (!result.success) {
    fail(
      'Invalid settings:\n' +
        result.error.issues.map((i) => `  ${String(i.path[0])}: ${i.message}`).join('\n'),
    );
  }
  return result.data;
}

function portVariables(): ReadonlyArray<(typeof PORT_VARIABLES)[number]> {
  return ownProvider(process.env) ? PORT_VARIABLES.filter(([variable]) => variable !== 'OIDC_PROVIDER_PORT') : PORT_VARIABLES;
}

async function checkPortsFree(settings: Settings): Promise<void> {
  const ports = new Map<number, string>();
  for (const [variable, label] of portVariables()) {
    const value = settings[variable];
    const clash = ports.get(value);
    if (clash) fail(`${variable}=${value} (${label}) is also used for ${clash}; choose distinct ports.`);
    ports.set(value, `${variable} (${label})`);
  }
  const busy: string[] = [];
  for (const [variable, label] of portVariables()) {
    const value = settings[variable];
    const host = variable === 'API_PORT' ? settings.API_HOST : BIND;
    if (!(await isPortFree(value, host))) busy.push(`  ${label}: port ${value} is in use (set ${variable} to another port)`);
  }
  if (busy.length > 0) {
    fail(`Cannot start: ports already taken (is another \`npm start\` running?)\n${busy.join('\n')}`);
  }
}

/** "1 s", "2 min": a whole number of the largest unit that fits. */
function humanDuration(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function restartRule(policy: RestartPolicy): string {
  return (
    `a part that dies restarts after ${humanDuration(policy.initialDelayMs)}, doubling to ${humanDuration(policy.maxDelayMs)} ` +
    `(back to ${humanDuration(policy.initialDelayMs)} once it was up ${humanDuration(policy.resetAfterMs)}); ` +
    `${policy.maxCrashes} crashes of one part within ${humanDuration(policy.windowMs)} stop the stack`
  );
}

function describeEvent(event: SupervisorEvent, policy: RestartPolicy): string {
  const { child } = event;
  const window = humanDuration(policy.windowMs);
  switch (event.kind) {
    case 'crashed':
      return (
        `${child.name} exited unexpectedly (${event.exit}); restarting it in ${humanDuration(event.delayMs)} ` +
        `(crash ${event.crashesInWindow} within ${window}; at ${policy.maxCrashes} the stack stops)`
      );
    case 'restarted':
      return `restarted ${child.name} (pid ${child.pid})`;
    case 'gave-up':
      return (
        `${child.name} crashed ${event.crashesInWindow} times within ${window} (last: ${event.exit}); ` +
        'giving up on it and stopping the rest.'
      );
  }
}

function requireEntryPoint(relative: string, owner: string): string {
  const file = path.join(repoRoot, relative);
  if (!existsSync(file)) fail(`${relative} is missing; it is the ${owner} entry point.`);
  return file;
}

async function main(): Promise<void> {
  const settings = parseSettings(process.env);
  const dataDir = path.resolve(settings.DATA_DIR);
  // The embedded records database (PGlite) serves one process: without DATABASE_URL the worker
  // and the API share one process; with PostgreSQL they run apart, as in production.
  const separate = Boolean(process.env.DATABASE_URL);
  const workerEntry = requireEntryPoint('workers/main.ts', 'worker');
  const apiEntry = requireEntryPoint('src/api/server.ts', 'API');
  const localEntry = requireEntryPoint('workers/local.ts', 'combined worker and API');
  const providerEntry = requireEntryPoint('scripts/oidc-provider.ts', 'local OpenID provider');
  await checkPortsFree(settings);

  const temporalCli = await ensureTemporalCli(say);
  await mkdir(dataDir, { recursive: true });
  const { secrets, file: secretsFile, created } = await loadOrCreateDevSecrets(dataDir);
  if (created) say(`generated development secrets in ${secretsFile}`);
  // The AIMS manager's dev key belongs to the AIMS manager of the organization file in use.
  const aimsManager = (await loadOrganization(path.resolve(process.env.ORG_FILE || './config/organization.example.yaml'))).roles.aimsManager;
  const secretVars = secretEnv(secrets, process.env, aimsManager);

  const startTimeoutMs = settings.START_TIMEOUT_SECONDS * 1000;
  const temporalAddress = `${BIND}:${settings.TEMPORAL_PORT}`;
  const apiCheckHost = settings.API_HOST === '0.0.0.0' || settings.API_HOST === '::' ? BIND : settings.API_HOST;
  const apiLocalUrl = `http://${apiCheckHost.includes(':') ? `[${apiCheckHost}]` : apiCheckHost}:${settings.API_PORT}`;
  const apiPublicUrl = `http://localhost:${settings.API_PORT}`;
  const publicBaseUrl = process.env.PUBLIC_BASE_URL || apiPublicUrl;
  const localIssuer = ownProvider(process.env) ? undefined : `http://${BIND}:${settings.OIDC_PROVIDER_PORT}`;
  const uiUrl = `http://localhost:${settings.TEMPORAL_UI_PORT}`;
  // The UI calls the codec from the browser: at the API's public address, with the session cookie.
  const codecEndpoint = `${publicBaseUrl}/codec`;
  const tsxLoader = pathToFileURL(require.resolve('tsx')).href;

  const restartPolicy: RestartPolicy = {
    ...DEFAULT_RESTART_POLICY,
    maxCrashes: settings.RESTART_MAX_CRASHES,
    windowMs: settings.RESTART_WINDOW_SECONDS * 1000,
  };
  let stopping: Promise<void> | undefined;
  // Aborted once the stack is stopping, so the start-up waits end with it.
  const stopController = new AbortController();
  const supervisor = new Supervisor({
    write: (text) => process.stdout.write(text),
    graceMs: settings.STOP_GRACE_SECONDS * 1000,
    color: useColor,
    prettyJson: process.stdout.isTTY === true,
    restart: restartPolicy,
    onEvent: (event) => {
      if (event.kind === 'gave-up') void shutdown(1, describeEvent(event, restartPolicy));
      else say(describeEvent(event, restartPolicy));
    },
  });
  const supervise = (spec: ChildSpec): SupervisedChild => {
    if (spec.name !== settings.START_CRASH_CHILD) return supervisor.start(spec);
    const crash = `console.error('START_CRASH_CHILD=${spec.name}: crashing on purpose (a test setting)'); process.exit(3);`;
    return supervisor.start({ ...spec, command: process.execPath, args: ['-e', crash] });
  };

  const shutdown = (code: number, reason: string): Promise<void> => {
    if (stopping) return stopping;
    stopController.abort(new Error(reason));
    (code === 0 ? say : (m: string) => process.stderr.write(`${m}\n`))(reason);
    stopping = supervisor.stopAll().then(() => {
      say(code === 0 ? 'all stopped.' : 'all stopped after a failure.');
      process.exit(code);
    });
    return stopping;
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      say(`${signal} again: killing everything now.`);
      supervisor.killAll();
      process.exit(1);
    }
    void shutdown(0, `${signal} received: stopping (again to force).`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const started = (child: SupervisedChild) => say(`started ${child.name} (pid ${child.pid})`);

  // The workflow bundle is built once per `npm start`, beside the other parts coming up, so a
  // restarted worker starts from it in seconds instead of bundling again.
  const workflowBundle = process.env.WORKFLOW_BUNDLE || path.join(dataDir, 'workflow-bundle.js');
  const bundled = process.env.WORKFLOW_BUNDLE
    ? Promise.resolve()
    : run(process.execPath, ['--import', pathToFileURL(require.resolve('tsx')).href, 'scripts/bundle-workflows.ts', workflowBundle], {
        cwd: repoRoot,
        timeout: startTimeoutMs,
      }).then(() => undefined);
  bundled.catch(() => undefined);

  let connection: Connection | undefined;
  try {
    // 1. Temporal dev server with persistent state and the project's search attributes.
    const temporal = supervise({
      name: 'temporal',
      command: temporalCli,
      args: [
        'server',
        'start-dev',
        '--db-filename',
        path.join(dataDir, 'temporal.db'),
        '--ip',
        BIND,
        '--port',
        String(settings.TEMPORAL_PORT),
        '--ui-port',
        String(settings.TEMPORAL_UI_PORT),
        '--ui-codec-endpoint',
        codecEndpoint,
        '--log-level',
        'warn',
        ...(settings.TEMPORAL_NAMESPACE === 'default' ? [] : ['--namespace', settings.TEMPORAL_NAMESPACE]),
        ...searchAttributeRegistrations().flatMap(({ name, type }) => ['--search-attribute', `${name}=${type}`]),
      ],
      env: process.env,
      cwd: repoRoot,
      quietWhileStopping: true,
    });
    started(temporal);
    connection = await connectWhenReady(temporalAddress, settings.TEMPORAL_NAMESPACE, {
      timeoutMs: startTimeoutMs,
      signal: stopController.signal,
    });
    const added = await ensureSearchAttributes(connection, settings.TEMPORAL_NAMESPACE);
    if (added.length > 0) say(`registered search attributes: ${added.join(', ')}`);
    await waitForHttp(`http://${BIND}:${settings.TEMPORAL_UI_PORT}/`, {
      timeoutMs: startTimeoutMs,
      signal: stopController.signal,
    });

    // 2. Mail capture with a web inbox; mails persist in the data directory.
    const maildev = supervise({
      name: 'mail',
      command: process.execPath,
      args: [
        path.join(path.dirname(require.resolve('maildev/package.json')), 'bin', 'maildev'),
        '--smtp',
        String(settings.MAIL_SMTP_PORT),
        '--web',
        String(settings.MAIL_WEB_PORT),
        '--ip',
        BIND,
        '--web-ip',
        BIND,
        '--mail-directory',
        path.join(dataDir, 'mail'),
      ],
      env: process.env,
      cwd: repoRoot,
    });
    started(maildev);
    await waitForHttp(`http://${BIND}:${settings.MAIL_WEB_PORT}/email`, {
      timeoutMs: startTimeoutMs,
      signal: stopController.signal,
    });

    // 3. The local OpenID provider: the organization's people sign in with any password.
    if (localIssuer) {
      const provider = supervise({
        name: 'oidc',
        command: process.execPath,
        args: ['--import', tsxLoader, providerEntry],
        env: {
          ...process.env,
          OIDC_PROVIDER_PORT: String(settings.OIDC_PROVIDER_PORT),
          OIDC_CLIENT_ID: LOCAL_CLIENT_ID,
          OIDC_CLIENT_SECRET: secrets.OIDC_CLIENT_SECRET,
          OIDC_PROVIDER_COOKIE_SECRET: secrets.OIDC_PROVIDER_COOKIE_SECRET,
          PUBLIC_BASE_URL: publicBaseUrl,
          DATA_DIR: dataDir,
        },
        cwd: repoRoot,
      });
      started(provider);
      await waitForHttp(`${localIssuer}/.well-known/openid-configuration`, {
        timeoutMs: startTimeoutMs,
        signal: stopController.signal,
      });
    }

    // 4. Worker and API with the project configuration.
    const signIn: NodeJS.ProcessEnv = localIssuer
      ? { OIDC_ISSUER: localIssuer, OIDC_CLIENT_ID: LOCAL_CLIENT_ID, OIDC_CLIENT_SECRET: secrets.OIDC_CLIENT_SECRET }
      : {};
    const appEnv: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: settings.TEMPORAL_NAMESPACE,
      TEMPORAL_TASK_QUEUE: settings.TEMPORAL_TASK_QUEUE,
      SMTP_URL: `smtp://${BIND}:${settings.MAIL_SMTP_PORT}`,
      PUBLIC_BASE_URL: publicBaseUrl,
      LINK_SECRET: secretVars.LINK_SECRET,
      API_KEYS: secretVars.API_KEYS,
      SESSION_SECRET: secretVars.SESSION_SECRET,
      PAYLOAD_KEYS: secretVars.PAYLOAD_KEYS,
      TEMPORAL_UI_URL: process.env.TEMPORAL_UI_URL || uiUrl,
      ...signIn,
      DATA_DIR: dataDir,
      API_HOST: settings.API_HOST,
      API_PORT: String(settings.API_PORT),
      WORKFLOW_BUNDLE: workflowBundle,
    };
    // Processes that run the worker run as the Docker image runs it (workers/process-settings.ts),
    // unless the environment says otherwise.
    const workerEnv: NodeJS.ProcessEnv = { ...WORKER_PROCESS_ENV, ...appEnv };
    await bundled;

    const launch = (name: string, entry: string, runsWorker: boolean) => {
      const child = supervise({
        name,
        command: process.execPath,
        args: [...(runsWorker ? WORKER_NODE_OPTIONS : []), '--import', tsxLoader, entry],
        env: runsWorker ? workerEnv : appEnv,
        cwd: repoRoot,
      });
      started(child);
      return child;
    };
    if (separate) {
      launch('worker', workerEntry, true);
      launch('api', apiEntry, false);
    } else {
      launch('aimsflow', localEntry, true);
    }

    const tq = connection;
    await Promise.all([
      waitForHttp(`${apiLocalUrl}/healthz`, { timeoutMs: startTimeoutMs, signal: stopController.signal }),
      waitFor(
        `the worker to poll task queue ${settings.TEMPORAL_TASK_QUEUE}`,
        async () => {
          const res = await tq.withDeadline(Date.now() + 5_000, () =>
            tq.workflowService.describeTaskQueue({
              namespace: settings.TEMPORAL_NAMESPACE,
              taskQueue: { name: settings.TEMPORAL_TASK_QUEUE },
              // TASK_QUEUE_TYPE_WORKFLOW
              taskQueueType: 1,
            }),
          );
          return (res.pollers?.length ?? 0) > 0 ? true : undefined;
        },
        { timeoutMs: startTimeoutMs, intervalMs: 500, signal: stopController.signal },
      ),
    ]);
  } catch (err) {
    await connection?.close().catch(() => undefined);
    if (stopping) return;
    const message = err instanceof Error ? err.message : String(err);
    await shutdown(1, `start-up failed: ${message}`);
    return;
  }
  await connection.close().catch(() => undefined);
  if (stopping) return;

  const principals = devKeyPrincipals(aimsManager);
  const adminKeyNote = secretVars.fromFile.includes('API_KEYS')
    ? `ADMIN_API_KEY in ${secretsFile}: ${principals.ADMIN_API_KEY}; OPERATIONS_API_KEY: ${principals.OPERATIONS_API_KEY}`
    : 'from API_KEYS in your environment';
  say(
    [
      '',
      'aimsflow is running. Press Ctrl-C to stop.',
      `  Temporal gRPC     ${temporalAddress}  (namespace ${settings.TEMPORAL_NAMESPACE})`,
      `  Temporal Web UI   ${uiUrl}  (payloads decoded by ${codecEndpoint} for a signed-in operations admin; in the UI's codec settings, include cross-origin credentials)`,
      `  API               ${apiPublicUrl}`,
      `  API docs          ${apiPublicUrl}/docs`,
      `  Mail inbox        http://localhost:${settings.MAIL_WEB_PORT}  (SMTP ${BIND}:${settings.MAIL_SMTP_PORT})`,
      localIssuer
        ? `  Sign in           ${publicBaseUrl}/login  (local OpenID provider ${localIssuer}: the organization's people, ANY password, development only)`
        : `  Sign in           ${publicBaseUrl}/login  (OpenID provider ${process.env.OIDC_ISSUER?.trim() ?? ''})`,
      `  Data directory    ${dataDir}`,
      `  API keys          ${adminKeyNote}`,
      `  Payload keys      ${secretVars.fromFile.includes('PAYLOAD_KEYS') ? `PAYLOAD_KEYS in ${secretsFile}` : 'from PAYLOAD_KEYS in your environment'}`,
      `  Restarts          ${restartRule(restartPolicy)}`,
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => fail(`npm start failed: ${err instanceof Error ? err.message : String(err)}`));
