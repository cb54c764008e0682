/**
 * End-to-end test of `npm start` (scripts/start.ts) on free ports with a temporary data
 * directory: everything comes up and answers, Ctrl-C (SIGINT) stops every part and frees every
 * port with exit code 0, and a second start on the same data directory still has the Temporal
 * state, the captured mail and the same development secrets.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts, isPortFree, waitFor } from '../scripts/lib/wait.js';
import { DEV_SECRETS_FILE } from '../scripts/dev-secrets.js';
import { searchAttributes } from '../src/temporal/search-attributes.js';

const repoRoot = path.resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const tsxLoader = pathToFileURL(require.resolve('tsx')).href;

const START_TIMEOUT_MS = 300_000;
const STOP_TIMEOUT_MS = 90_000;

interface StackRun {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first match of `pattern` in the output; rejects if the process exits first. */
  waitForOutput: (pattern: RegExp, timeoutMs: number) => Promise<RegExpMatchArray>;
  /** pids of the parts `start.ts` reported starting. */
  childPids: () => number[];
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

describe('npm start', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let ports: { temporal: number; ui: number; smtp: number; mailWeb: number; api: number };
  const runs: StackRun[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'aimsflow-start-'));
    const [temporal, ui, smtp, mailWeb, api] = await freePorts(5);
    ports = { temporal: temporal!, ui: ui!, smtp: smtp!, mailWeb: mailWeb!, api: api! };
    env = {
      ...process.env,
      DATA_DIR: dataDir,
      TEMPORAL_PORT: String(ports.temporal),
      TEMPORAL_UI_PORT: String(ports.ui),
      MAIL_SMTP_PORT: String(ports.smtp),
      MAIL_WEB_PORT: String(ports.mailWeb),
      API_PORT: String(ports.api),
      API_HOST: '127.0.0.1',
      NO_COLOR: '1',
    };
    // The stack must generate its own secrets and choose its own URLs.
    for (const name of ['LINK_SECRET', 'ADMIN_API_KEYS', 'PUBLIC_BASE_URL', 'TEMPORAL_ADDRESS', 'SMTP_URL']) {
      delete env[name];
    }
  });

  afterAll(async () => {
    for (const run of runs) {
      if (run.child.exitCode === null && run.child.signalCode === null) {
        run.child.kill('SIGTERM');
        await Promise.race([run.exited, new Promise((r) => setTimeout(r, 30_000))]);
      }
      for (const pid of run.childPids()) {
        if (isAlive(pid)) process.kill(-pid, 'SIGKILL');
      }
    }
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
      // Temporal, maildev, and the worker and API in one process (embedded records store).
      expect(first.childPids()).toHaveLength(3);

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
      const secrets = JSON.parse(secretsBefore) as { LINK_SECRET: string; ADMIN_API_KEY: string };
      expect(secrets.LINK_SECRET.length).toBeGreaterThanOrEqual(32);
      expect(secrets.ADMIN_API_KEY.length).toBeGreaterThanOrEqual(24);

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
      expect(first.output()).toMatch(/worker stopped[\s\S]*records store stopped/);
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

      // The task survived the restart, and the restarted worker serves it.
      const work = await fetch(`${apiUrl}/admin/work/${encodeURIComponent(workflowId)}`, { headers: admin });
      expect(work.status).toBe(200);
      const detail = (await work.json()) as { executionStatus: string; status: { state: string; assignee: { id: string } } };
      expect(detail.executionStatus).toBe('RUNNING');
      expect(detail.status).toMatchObject({ state: 'open', assignee: { id: 'priya.raman' } });
      const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}`, connectTimeout: 10_000 });
      const client = new Client({ connection, namespace: 'default' });
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

      const secondExit = await stopWithSigint(second);
      expect(secondExit).toEqual({ code: 0, signal: null });
      for (const pid of second.childPids()) expect(isAlive(pid), `pid ${pid} still running`).toBe(false);
    },
    2 * START_TIMEOUT_MS + 4 * STOP_TIMEOUT_MS,
  );
});
