/**
 * End-to-end tests of `npm start` (scripts/start.ts) on free ports with temporary data
 * directories:
 * - everything comes up and answers, Ctrl-C (SIGINT) stops every part and frees every port with
 *   exit code 0, and a second start on the same data directory still has the Temporal state, the
 *   captured mail and the same development secrets;
 * - with PostgreSQL (worker and API as separate processes), a `kill -9` of each part in turn is
 *   followed by its restart alone, and within 30 s the stack serves again: `/readyz` ready and a
 *   task started through the admin API mails its assignee;
 * - a part that crashes at once every time stops the stack with the reason and a non-zero exit.
 * Also the restart policy on its own (backoff, reset, give-up) and the supervisor restarting a
 * real process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrashHistory, Supervisor, type RestartPolicy, type SupervisorEvent } from '../scripts/lib/supervisor.js';
import { freePorts, isPortFree, waitFor, waitForHttp } from '../scripts/lib/wait.js';
import { DEV_SECRETS_FILE } from '../scripts/dev-secrets.js';
import { signInOverHttp, whoIsSignedIn } from './helpers/oidc.js';
import { searchAttributes } from '../src/temporal/search-attributes.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { aimsDataConverter, payloadKeysFromEnv } from '../src/temporal/codec.js';

const repoRoot = path.resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const tsxLoader = pathToFileURL(require.resolve('tsx')).href;

const START_TIMEOUT_MS = 300_000;
const STOP_TIMEOUT_MS = 90_000;
/** After a part is killed, the stack must serve again within this. */
const HEAL_DEADLINE_MS = 30_000;

interface StackRun {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first match of `pattern` in the output; rejects if the process exits first. */
  waitForOutput: (pattern: RegExp, timeoutMs: number) => Promise<RegExpMatchArray>;
  /** pids of the parts `start.ts` reported starting or restarting. */
  childPids: () => number[];
  /** pid of the named part's current process, from the last "started"/"restarted" line naming it. */
  pidOf: (name: string) => number;
}

function launch(env: NodeJS.ProcessEnv): StackRun {
  const child = spawn(process.execPath, ['--import', tsxLoader, path.join(repoRoot, 'scripts/start.ts')], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  const exitController = new AbortController();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exitController.abort(new Error(`start.ts exited (code ${code}, signal ${signal})`));
      resolve({ code, signal });
    });
  });
  const tail = () => text.split('\n').slice(-60).join('\n');
  return {
    child,
    output: () => text,
    exited,
    childPids: () => [...text.matchAll(/started \S+ \(pid (\d+)\)/g)].map((m) => Number(m[1])),
    pidOf: (name) => {
      const lines = [...text.matchAll(/(?:re)?started (\S+) \(pid (\d+)\)/g)].filter((m) => m[1] === name);
      const last = lines.at(-1);
      if (!last) throw new Error(`start.ts reported no pid for ${name}\n${tail()}`);
      return Number(last[2]);
    },
    waitForOutput: async (pattern, timeoutMs) => {
      try {
        return await waitFor(
          `output ${pattern}`,
          () => Promise.resolve(text.match(pattern) ?? undefined),
          // Stop waiting as soon as start.ts exits.
          { timeoutMs, intervalMs: 250, signal: exitController.signal },
        );
      } catch (err) {
        throw new Error(`${(err as Error).message}\n--- start.ts output (tail) ---\n${tail()}`, { cause: err });
      }
    },
  };
}

async function stopWithSigint(run: StackRun): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  run.child.kill('SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    run.exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`start.ts did not exit within ${STOP_TIMEOUT_MS} ms after SIGINT\n${run.output()}`)),
        STOP_TIMEOUT_MS,
      );
    }),
  ]);
  clearTimeout(timer);
  return result;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.text() };
}

// A type literal (not an interface), so Object.entries() keeps the number type.
type Ports = { temporal: number; ui: number; smtp: number; mailWeb: number; oidc: number; api: number };

/** A temporary data directory, free ports and the environment `start.ts` runs with. */
async function stackSetup(prefix: string): Promise<{ dataDir: string; ports: Ports; env: NodeJS.ProcessEnv }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const [temporal, ui, smtp, mailWeb, oidc, api] = await freePorts(6);
  const ports = { temporal: temporal!, ui: ui!, smtp: smtp!, mailWeb: mailWeb!, oidc: oidc!, api: api! };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    TEMPORAL_PORT: String(ports.temporal),
    TEMPORAL_UI_PORT: String(ports.ui),
    MAIL_SMTP_PORT: String(ports.smtp),
    MAIL_WEB_PORT: String(ports.mailWeb),
    OIDC_PROVIDER_PORT: String(ports.oidc),
    API_PORT: String(ports.api),
    API_HOST: '127.0.0.1',
    NO_COLOR: '1',
  };
  // The stack must generate its own secrets and choose its own URLs; no database unless a test sets one.
  for (const name of ['LINK_SECRET', 'API_KEYS', 'ADMIN_API_KEYS', 'SESSION_SECRET', 'PUBLIC_BASE_URL', 'TEMPORAL_ADDRESS', 'SMTP_URL', 'DATABASE_URL', 'START_CRASH_CHILD', 'OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_REDIRECT_URL', 'PAYLOAD_KEYS', 'TEMPORAL_UI_URL']) {
    delete env[name];
  }
  return { dataDir, ports, env };
}

/** Stops whatever a test left running: start.ts, then any part it reported. */
async function cleanUp(runs: StackRun[]): Promise<void> {
  for (const run of runs) {
    if (run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill('SIGTERM');
      await Promise.race([run.exited, new Promise((r) => setTimeout(r, 30_000))]);
    }
    for (const pid of run.childPids()) {
      if (isAlive(pid)) process.kill(-pid, 'SIGKILL');
    }
  }
}

describe('npm start', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let ports: Ports;
  const runs: StackRun[] = [];

  beforeAll(async () => {
    ({ dataDir, env, ports } = await stackSetup('aimsflow-start-'));
  });

  afterAll(async () => {
    await cleanUp(runs);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 120_000);

  it(
    'starts the whole stack, stops it on SIGINT, and keeps its state across a restart',
    async () => {
      const subject = `start test ${Date.now()}`;
      const apiUrl = `http://127.0.0.1:${ports.api}`;
      const mailUrl = `http://127.0.0.1:${ports.mailWeb}`;

      // --- first start on an empty data directory ---
      const first = launch(env);
      runs.push(first);
      await first.waitForOutput(/aimsflow is running/, START_TIMEOUT_MS);
      const banner = first.output();
      expect(banner).toContain(`127.0.0.1:${ports.temporal}`);
      expect(banner).toContain(`http://localhost:${ports.ui}`);
      expect(banner).toContain(`http://localhost:${ports.api}`);
      expect(banner).toContain(`http://localhost:${ports.api}/docs`);
      expect(banner).toContain(`http://localhost:${ports.mailWeb}`);
      expect(banner).toContain(path.join(dataDir, DEV_SECRETS_FILE));
      expect(banner).toMatch(/generated development secrets/);
      expect(banner).toContain(`http://localhost:${ports.api}/login  (local OpenID provider http://127.0.0.1:${ports.oidc}`);
      // Whose each dev key is.
      expect(banner).toContain('person priya.raman (the AIMS manager)');
      expect(banner).toContain('service operations (role operations-admin)');
      // Temporal, maildev, the local OpenID provider, and the worker and API in one process (embedded records store).
      expect(first.childPids()).toHaveLength(4);

      expect((await get(`${apiUrl}/healthz`)).status).toBe(200);
      expect((await get(`${apiUrl}/readyz`)).status).toBe(200);
      expect((await get(`http://127.0.0.1:${ports.ui}/`)).status).toBe(200);
      expect((await get(`${mailUrl}/`)).status).toBe(200);
      const inbox = await get(`${mailUrl}/email`);
      expect(inbox.status).toBe(200);
      expect(JSON.parse(inbox.body)).toEqual([]);

      const secretsPath = path.join(dataDir, DEV_SECRETS_FILE);
      const secretsBefore = await readFile(secretsPath, 'utf8');
      expect((await stat(secretsPath)).mode & 0o777).toBe(0o600);
      const secrets = JSON.parse(secretsBefore) as { LINK_SECRET: string; ADMIN_API_KEY: string; OPERATIONS_API_KEY: string; SESSION_SECRET: string; OIDC_CLIENT_SECRET: string; PAYLOAD_KEYS: string };
      expect(secrets.PAYLOAD_KEYS).toMatch(/^dev-\d{8}:[A-Za-z0-9+/]{43}=$/);
      expect(secrets.LINK_SECRET.length).toBeGreaterThanOrEqual(32);
      expect(secrets.ADMIN_API_KEY.length).toBeGreaterThanOrEqual(24);
      expect(secrets.SESSION_SECRET.length).toBeGreaterThanOrEqual(32);
      expect(secrets.OIDC_CLIENT_SECRET.length).toBeGreaterThanOrEqual(24);
      // The operations key reads and manages schedules but starts no work.
      const ops = { authorization: `Bearer ${secrets.OPERATIONS_API_KEY}`, 'content-type': 'application/json' };
      expect((await fetch(`${apiUrl}/admin/schedules`, { headers: ops })).status).toBe(200);
      const opsTask = await fetch(`${apiUrl}/admin/tasks`, { method: 'POST', headers: ops, body: '{}' });
      expect(opsTask.status).toBe(403);
      expect(await opsTask.text()).toContain('service operations (key dev-operations)');

      // The Web UI is configured with the API's codec endpoint, which answers the UI's origin.
      const uiSettings = await get(`http://127.0.0.1:${ports.ui}/api/v1/settings`);
      expect(uiSettings.body).toContain(`http://localhost:${ports.api}/codec`);
      const codec = await fetch(`${apiUrl}/codec/encode`, {
        method: 'POST',
        headers: { ...ops, origin: `http://localhost:${ports.ui}`, 'x-namespace': 'default' },
        body: JSON.stringify({ payloads: [{ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"x"').toString('base64') }] }),
      });
      expect(codec.status).toBe(200);
      expect(codec.headers.get('access-control-allow-origin')).toBe(`http://localhost:${ports.ui}`);

      // Sign-in through the local provider works out of the box.
      const signedIn = await signInOverHttp(`http://localhost:${ports.api}`, 'priya.raman');
      expect(signedIn.principal).toEqual({ kind: 'person', id: 'priya.raman', via: 'session' });

      // A mail through the captured SMTP port.
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: ports.smtp,
        secure: false,
        ignoreTLS: true,
        connectionTimeout: 10_000,
        socketTimeout: 10_000,
      });
      await transport.sendMail({ from: 'a@example.test', to: 'b@example.test', subject, text: 'kept?' });
      transport.close();
      await waitFor(
        'the mail to show in the inbox',
        async () => ((await get(`${mailUrl}/email`)).body.includes(subject) ? true : undefined),
        { timeoutMs: 10_000 },
      );

      // A real task through the admin API: the worker resolves the role and mails the assignee.
      const admin = { authorization: `Bearer ${secrets.ADMIN_API_KEY}`, 'content-type': 'application/json' };
      const startedTask = await fetch(`${apiUrl}/admin/tasks`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({
          title: `Review the AI policy (${subject})`,
          instructions: 'Read the AI policy and confirm it is still adequate.',
          clauses: ['5.2', 'A.2.4'],
          process: 'ai-policy',
          assignee: { role: 'process-owner', of: 'ai-policy' },
          dueAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
          form: 'yes-no',
        }),
      });
      expect(startedTask.status).toBe(201);
      const { workflowId } = (await startedTask.json()) as { workflowId: string };
      await waitFor(
        'the assignment mail to reach the inbox',
        async () => {
          const mails = JSON.parse((await get(`${mailUrl}/email`)).body) as { subject: string; to: { address: string }[] }[];
          return mails.some((m) => m.subject.includes('Review the AI policy') && m.to.some((t) => t.address === 'priya.raman@northwind.example'))
            ? true
            : undefined;
        },
        { timeoutMs: 30_000 },
      );

      // --- Ctrl-C ---
      const pids = first.childPids();
      const firstExit = await stopWithSigint(first);
      expect(firstExit).toEqual({ code: 0, signal: null });
      expect(first.output()).toContain('all stopped.');
      // Nothing logged an error or a fatal on the way up or down (pino levels 50 and 60).
      expect(first.output()).not.toMatch(/"level":(50|60)/);
      // The worker stops before the records store it writes to (by the time each line was logged:
      // the lines of one process may reach the supervisor's output out of order).
      const loggedAt = (msg: string) => {
        const line = first.output().split('\n').find((l) => l.includes(`"msg":"${msg}"`));
        return Number(/"time":(\d+)/.exec(line ?? '')?.[1] ?? Number.NaN);
      };
      expect(loggedAt('worker stopped')).toBeLessThanOrEqual(loggedAt('records store stopped'));
      for (const pid of pids) expect(isAlive(pid), `pid ${pid} still running`).toBe(false);
      for (const [name, port] of Object.entries(ports)) {
        expect(await isPortFree(port), `${name} port ${port} still taken`).toBe(true);
      }

      // --- second start on the same data directory ---
      const second = launch(env);
      runs.push(second);
      await second.waitForOutput(/aimsflow is running/, START_TIMEOUT_MS);
      expect(second.output()).not.toMatch(/generated development secrets/);
      expect(await readFile(secretsPath, 'utf8')).toBe(secretsBefore);
      expect((await get(`${apiUrl}/healthz`)).status).toBe(200);
      expect((await get(`${mailUrl}/email`)).body).toContain(subject);
      // The session cookie from before the restart still holds (its key is a kept secret).
      expect(await whoIsSignedIn(`http://localhost:${ports.api}`, signedIn.jar)).toEqual({ kind: 'person', id: 'priya.raman', via: 'session' });

      // The task survived the restart, and the restarted worker serves it.
      const work = await fetch(`${apiUrl}/admin/work/${encodeURIComponent(workflowId)}`, { headers: admin });
      expect(work.status).toBe(200);
      const detail = (await work.json()) as { executionStatus: string; status: { state: string; assignee: { id: string } } };
      expect(detail.executionStatus).toBe('RUNNING');
      expect(detail.status).toMatchObject({ state: 'open', assignee: { id: 'priya.raman' } });
      const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}`, connectTimeout: 10_000 });
      const client = new Client({ connection, namespace: 'default', dataConverter: aimsDataConverter(payloadKeysFromEnv({ PAYLOAD_KEYS: secrets.PAYLOAD_KEYS })) });
      const description = await client.workflow.getHandle(workflowId).describe();
      expect(description.typedSearchAttributes.get(searchAttributes.process)).toBe('ai-policy');
      await connection.close();

      // Closing it writes evidence to the embedded ledger, which verifies.
      const cancelled = await fetch(`${apiUrl}/admin/work/${encodeURIComponent(workflowId)}/cancel`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ reason: 'start test finished' }),
      });
      expect(cancelled.status).toBe(200);
      await waitFor(
        'the cancellation record in the ledger',
        async () => {
          const res = await fetch(`${apiUrl}/admin/records?subject=${encodeURIComponent(workflowId)}`, { headers: admin });
          const body = (await res.json()) as { records: { kind: string }[] };
          return body.records.some((r) => r.kind === 'task.cancelled') ? true : undefined;
        },
        { timeoutMs: 30_000 },
      );
      const verify = (await (await fetch(`${apiUrl}/admin/records/verify`, { headers: admin })).json()) as { ok: boolean };
      expect(verify.ok).toBe(true);

      // kill -9 of the combined worker and API: restarted alone, the embedded store recovers,
      // and within 30 s the stack serves again with its ledger intact.
      const combinedPid = second.pidOf('aimsflow');
      const otherPids = [second.pidOf('temporal'), second.pidOf('mail')];
      process.kill(combinedPid, 'SIGKILL');
      const killedAt = Date.now();
      const remaining = () => Math.max(1, killedAt + HEAL_DEADLINE_MS - Date.now());
      await second.waitForOutput(/aimsflow exited unexpectedly \(killed by SIGKILL\); restarting it in 1 s/, remaining());
      await second.waitForOutput(/restarted aimsflow \(pid \d+\)/, remaining());
      expect(second.pidOf('aimsflow')).not.toBe(combinedPid);
      await waitReady(apiUrl, remaining());
      await taskRoundTrip({ api: apiUrl, mail: mailUrl }, secrets.ADMIN_API_KEY, `After killing the combined process ${Date.now()}`, remaining());
      console.info(`kill -9 aimsflow (worker and API on PGlite): mail of a new task in the inbox after ${Date.now() - killedAt} ms`);
      expect([second.pidOf('temporal'), second.pidOf('mail')]).toEqual(otherPids);
      const verifyAfter = (await (await fetch(`${apiUrl}/admin/records/verify`, { headers: admin })).json()) as { ok: boolean };
      expect(verifyAfter.ok).toBe(true);

      const secondExit = await stopWithSigint(second);
      expect(secondExit).toEqual({ code: 0, signal: null });
      for (const pid of second.childPids()) expect(isAlive(pid), `pid ${pid} still running`).toBe(false);
    },
    2 * START_TIMEOUT_MS + 4 * STOP_TIMEOUT_MS,
  );
});

const adminHeaders = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

/**
 * A real round trip through the stack: starts a task through the admin API (again while it
 * answers anything but 201) and waits for its assignment mail in the mail inbox. The worker
 * resolves the role and sends the mail, so this needs the API, Temporal, the worker and the
 * mail server. Returns the task's workflow id.
 */
async function taskRoundTrip(urls: { api: string; mail: string }, adminKey: string, title: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const remaining = () => Math.max(1, deadline - Date.now());
  const { workflowId } = await waitFor(
    `POST /admin/tasks to answer 201 (${title})`,
    async (signal) => {
      const res = await fetch(`${urls.api}/admin/tasks`, {
        method: 'POST',
        headers: adminHeaders(adminKey),
        signal,
        body: JSON.stringify({
          title,
          instructions: 'Read the AI policy and confirm it is still adequate.',
          clauses: ['5.2', 'A.2.4'],
          process: 'ai-policy',
          assignee: { role: 'process-owner', of: 'ai-policy' },
          dueAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
          form: 'yes-no',
        }),
      });
      const body = await res.text();
      if (res.status !== 201) throw new Error(`HTTP ${res.status}: ${body.slice(0, 300)}`);
      return JSON.parse(body) as { workflowId: string };
    },
    { timeoutMs: remaining(), intervalMs: 500 },
  );
  await waitFor(
    `the assignment mail "${title}" to reach the inbox`,
    async (signal) => {
      const res = await fetch(`${urls.mail}/email`, { signal });
      const mails = (await res.json()) as { subject: string; to: { address: string }[] }[];
      return mails.some((m) => m.subject.includes(title) && m.to.some((t) => t.address === 'priya.raman@northwind.example'))
        ? true
        : undefined;
    },
    { timeoutMs: remaining(), intervalMs: 500 },
  );
  return workflowId;
}

/** `/readyz` answers 200 within the time left. */
async function waitReady(apiUrl: string, timeoutMs: number): Promise<void> {
  await waitFor(
    `${apiUrl}/readyz to answer 200`,
    async (signal) => {
      const res = await fetch(`${apiUrl}/readyz`, { signal });
      const body = await res.text();
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${body.slice(0, 300)}`);
      return true;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

const count = (text: string, pattern: RegExp) => [...text.matchAll(new RegExp(pattern.source, 'g'))].length;

describe('npm start heals', () => {
  let postgres: TestPostgres | undefined;
  const dataDirs: string[] = [];
  const runs: StackRun[] = [];

  beforeAll(async () => {
    postgres = await startPostgres();
  });

  afterAll(async () => {
    await cleanUp(runs);
    await postgres?.stop();
    for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it(
    'restarts each part killed with SIGKILL, alone, and serves again within 30 s',
    async () => {
      // PostgreSQL is a required part of the test run (scripts/lib/parts.ts).
      if (!postgres) throw new Error('no PostgreSQL: install postgresql (Debian) or set TEST_DATABASE_URL');
      const { dataDir, ports, env } = await stackSetup('aimsflow-heal-');
      dataDirs.push(dataDir);
      env.DATABASE_URL = postgres.url;
      const urls = { api: `http://127.0.0.1:${ports.api}`, mail: `http://127.0.0.1:${ports.mailWeb}` };

      const run = launch(env);
      runs.push(run);
      await run.waitForOutput(/aimsflow is running/, START_TIMEOUT_MS);
      expect(run.output()).toMatch(/Restarts +a part that dies restarts after 1 s, doubling to 30 s .*5 crashes of one part within 5 min stop the stack/);
      const names = ['worker', 'api', 'mail', 'oidc', 'temporal'];
      for (const name of names) expect(run.pidOf(name)).toBeGreaterThan(0);
      const { ADMIN_API_KEY: adminKey } = JSON.parse(await readFile(path.join(dataDir, DEV_SECRETS_FILE), 'utf8')) as { ADMIN_API_KEY: string };
      await waitReady(urls.api, 30_000);
      const tasks = [await taskRoundTrip(urls, adminKey, `Heal test before any kill ${Date.now()}`, 60_000)];

      for (const name of names) {
        const pid = run.pidOf(name);
        const others = Object.fromEntries(names.filter((n) => n !== name).map((n) => [n, run.pidOf(n)]));
        process.kill(pid, 'SIGKILL');
        const killedAt = Date.now();
        const remaining = () => Math.max(1, killedAt + HEAL_DEADLINE_MS - Date.now());

        // The supervisor says what happened and restarts the part on a new pid.
        await run.waitForOutput(new RegExp(`${name} exited unexpectedly \\(killed by SIGKILL\\); restarting it in 1 s`), remaining());
        const [, newPid] = await run.waitForOutput(new RegExp(`restarted ${name} \\(pid (\\d+)\\)`), remaining());
        expect(Number(newPid)).not.toBe(pid);
        expect(run.pidOf(name)).toBe(Number(newPid));
        expect(isAlive(pid)).toBe(false);

        // The stack serves again: ready, and a task started through the API mails its assignee.
        await waitReady(urls.api, remaining());
        const readyAfterMs = Date.now() - killedAt;
        tasks.push(await taskRoundTrip(urls, adminKey, `Heal test after killing ${name} ${Date.now()}`, remaining()));
        // People sign in again through the restarted provider (its signing key is kept in the data directory).
        if (name === 'oidc') {
          await waitForHttp(`http://127.0.0.1:${ports.oidc}/.well-known/openid-configuration`, { timeoutMs: remaining() });
          expect((await signInOverHttp(urls.api, 'priya.raman')).principal).toMatchObject({ id: 'priya.raman', via: 'session' });
        }
        console.info(`kill -9 ${name}: /readyz ready after ${readyAfterMs} ms, mail of a new task in the inbox after ${Date.now() - killedAt} ms`);

        // Only the killed part was restarted; the others (the worker and the API across a
        // Temporal restart too) kept running and reconnected by themselves.
        for (const [other, otherPid] of Object.entries(others)) {
          expect(run.pidOf(other), `${other} was restarted when ${name} was killed`).toBe(otherPid);
          expect(isAlive(otherPid), `${other} (pid ${otherPid}) is gone`).toBe(true);
        }
      }
      const output = run.output();
      for (const name of names) expect(count(output, new RegExp(`restarted ${name} \\(pid`)), `${name} restarts`).toBe(1);
      expect(output).not.toMatch(/giving up/);
      // Every task survived every restart (the Temporal server's too: its state is in its file).
      for (const workflowId of tasks) {
        const res = await fetch(`${urls.api}/admin/work/${encodeURIComponent(workflowId)}`, { headers: adminHeaders(adminKey) });
        expect(res.status).toBe(200);
        const detail = (await res.json()) as { executionStatus: string; status: { state: string } };
        expect({ workflowId, executionStatus: detail.executionStatus, state: detail.status.state }).toEqual({ workflowId, executionStatus: 'RUNNING', state: 'open' });
      }

      const pids = run.childPids();
      expect(pids).toHaveLength(10);
      expect(await stopWithSigint(run)).toEqual({ code: 0, signal: null });
      expect(run.output()).toContain('all stopped.');
      for (const pid of pids) expect(isAlive(pid), `pid ${pid} still running`).toBe(false);
      for (const [name, port] of Object.entries(ports)) {
        expect(await isPortFree(port), `${name} port ${port} still taken`).toBe(true);
      }
    },
    START_TIMEOUT_MS + 5 * (HEAL_DEADLINE_MS + 10_000) + 60_000 + STOP_TIMEOUT_MS,
  );

  it(
    'stops the stack with the reason and a non-zero exit when a part keeps crashing',
    async () => {
      const { dataDir, ports, env } = await stackSetup('aimsflow-giveup-');
      dataDirs.push(dataDir);
      env.START_CRASH_CHILD = 'mail';
      env.RESTART_MAX_CRASHES = '4';
      env.RESTART_WINDOW_SECONDS = '120';

      const run = launch(env);
      runs.push(run);
      let timer: NodeJS.Timeout | undefined;
      const exit = await Promise.race([
        run.exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`start.ts did not give up\n${run.output()}`)), START_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
      const output = run.output();
      expect(exit).toEqual({ code: 1, signal: null });
      expect(output).not.toMatch(/aimsflow is running/);
      // Each crash is reported with a growing delay before the next start...
      expect(output).toContain('START_CRASH_CHILD=mail: crashing on purpose');
      const delays = [...output.matchAll(/mail exited unexpectedly \(exit code 3\); restarting it in (\d+) s \(crash (\d) within 2 min; at 4 the stack stops\)/g)];
      expect(delays.map((m) => [Number(m[1]), Number(m[2])])).toEqual([
        [1, 1],
        [2, 2],
        [4, 3],
      ]);
      expect(count(output, /restarted mail \(pid \d+\)/)).toBe(3);
      // ...then the rule that gave up, the rest stopped, and nothing left behind.
      expect(output).toContain('mail crashed 4 times within 2 min (last: exit code 3); giving up on it and stopping the rest.');
      expect(output).toContain('all stopped after a failure.');
      for (const pid of run.childPids()) expect(isAlive(pid), `pid ${pid} still running`).toBe(false);
      for (const [name, port] of Object.entries(ports)) {
        expect(await isPortFree(port), `${name} port ${port} still taken`).toBe(true);
      }
    },
    START_TIMEOUT_MS + 60_000,
  );
});

describe('restart policy', () => {
  const policy: RestartPolicy = { initialDelayMs: 1_000, maxDelayMs: 8_000, resetAfterMs: 60_000, maxCrashes: 6, windowMs: 300_000 };

  it('doubles the delay up to its cap, and starts again from the first delay after a long enough run', () => {
    const history = new CrashHistory({ ...policy, maxCrashes: 100 });
    let now = 0;
    const crash = (upMs: number) => {
      now += upMs;
      const decision = history.crashed(now, upMs);
      if (!decision.restart) throw new Error('gave up');
      now += decision.delayMs;
      return decision.delayMs;
    };
    expect([crash(100), crash(100), crash(100), crash(100), crash(100)]).toEqual([1_000, 2_000, 4_000, 8_000, 8_000]);
    // Up a minute: healthy, so the next crash restarts quickly again; then it grows anew.
    expect([crash(60_000), crash(100), crash(59_999)]).toEqual([1_000, 2_000, 4_000]);
  });

  it('gives up at the N-th crash within the window, and forgets crashes older than the window', () => {
    const history = new CrashHistory(policy);
    const at = (minutes: number) => history.crashed(minutes * 60_000, 1_000);
    expect([at(0), at(1), at(2), at(3), at(4)].map((d) => d.restart)).toEqual([true, true, true, true, true]);
    // The crash at minute 0 has left the 5-minute window: still 5 within it.
    expect(at(5.5)).toMatchObject({ restart: true, crashesInWindow: 5 });
    expect(at(5.6)).toEqual({ restart: false, crashesInWindow: 6 });
  });
});

describe('Supervisor', () => {
  it('restarts a crashed process with growing delays, resets them after a long run, and gives up at the limit', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'aimsflow-supervisor-'));
    const stayUp = path.join(dir, 'stay-up');
    const events: SupervisorEvent[] = [];
    const lines: string[] = [];
    const supervisor = new Supervisor({
      write: (text) => lines.push(text),
      graceMs: 5_000,
      restart: { initialDelayMs: 50, maxDelayMs: 200, resetAfterMs: 1_000, maxCrashes: 6, windowMs: 60_000 },
      onEvent: (event) => events.push(event),
    });
    // Exits with code 7 at once, unless the flag file exists: then it runs until killed.
    const script = `const fs = require('node:fs'); console.log('up ' + process.pid); if (!fs.existsSync(${JSON.stringify(stayUp)})) process.exit(7); setInterval(() => {}, 1000);`;
    const waitEvents = (n: number) =>
      waitFor(`${n} supervisor events`, () => Promise.resolve(events.length >= n ? true : undefined), { timeoutMs: 30_000, intervalMs: 10 });
    try {
      const child = supervisor.start({ name: 'flaky', command: process.execPath, args: ['-e', script] });
      const firstPid = child.pid;
      // Three crashes: delays 50, 100, 200 ms, each followed by a restart on a new pid.
      await waitEvents(6);
      await writeFile(stayUp, '');
      const summary = events.map((e) => (e.kind === 'crashed' ? `crashed ${e.exit} +${e.delayMs}` : e.kind));
      expect(summary.slice(0, 6)).toEqual([
        'crashed exit code 7 +50',
        'restarted',
        'crashed exit code 7 +100',
        'restarted',
        'crashed exit code 7 +200',
        'restarted',
      ]);
      // The fourth run may still have crashed before the flag file appeared; wait for one that stays up.
      await waitFor('a run that stays up', () => Promise.resolve(child.isRunning() && lines.some((l) => l.includes(`up ${child.pid}`)) ? true : undefined), {
        timeoutMs: 30_000,
        intervalMs: 20,
      });
      expect(child.pid).not.toBe(firstPid);
      expect(child.restarts).toBe(events.filter((e) => e.kind === 'restarted').length);
      expect(lines.join('')).toMatch(/^flaky {3}\| up \d+$/m);
      // Up longer than resetAfterMs, then killed: the next restart comes after the first delay again.
      await new Promise((r) => setTimeout(r, 1_200));
      const before = events.length;
      const longRunPid = child.pid;
      process.kill(longRunPid, 'SIGKILL');
      await waitEvents(before + 2);
      expect(events[before]).toMatchObject({ kind: 'crashed', exit: 'killed by SIGKILL', delayMs: 50 });
      expect(events[before + 1]).toMatchObject({ kind: 'restarted' });
      expect(child.pid).not.toBe(longRunPid);

      // Crashing at once again until the limit: six crashes within the window, then it stays down.
      await rm(stayUp);
      await waitFor('the supervisor to give up', () => Promise.resolve(events.some((e) => e.kind === 'gave-up') ? true : undefined), {
        timeoutMs: 30_000,
        intervalMs: 20,
      });
      const crashes = events.filter((e) => e.kind === 'crashed' || e.kind === 'gave-up');
      expect(crashes).toHaveLength(6);
      expect(events.at(-1)).toMatchObject({ kind: 'gave-up', crashesInWindow: 6 });
      expect(child.isRunning()).toBe(false);
      const restartsAtGiveUp = child.restarts;
      await new Promise((r) => setTimeout(r, 500));
      expect(child.restarts).toBe(restartsAtGiveUp);
    } finally {
      await supervisor.stopAll();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('restarts nothing once asked to stop', async () => {
    const events: SupervisorEvent[] = [];
    const supervisor = new Supervisor({ write: () => undefined, graceMs: 5_000, onEvent: (e) => events.push(e) });
    const child = supervisor.start({ name: 'steady', command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] });
    const pid = child.pid;
    expect(isAlive(pid)).toBe(true);
    await supervisor.stopAll();
    expect(isAlive(pid)).toBe(false);
    expect(child.isRunning()).toBe(false);
    expect(events).toEqual([]);
  });
});
