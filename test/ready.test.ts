/**
 * `/readyz` against real dependencies: the Temporal dev server, a real worker polling its task
 * queue, real SMTP servers (one up, one stopped) and the records store. Each reported state:
 * ready; degraded (200) when only a report-only check fails (no worker, SMTP down); unavailable
 * (503) when Temporal cannot be reached. And a mail activity on a worker whose SMTP server is
 * down fails naming what the socket said, then delivers once the server is back.
 */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../scripts/lib/wait.js';
import type { ApiInstance } from '../src/api/app.js';
import { cachedProbe, readinessChecks } from '../src/api/routes/health.js';
import { createMailTransport, type MailTransport } from '../src/mail/transport.js';
import { startHumanTask } from '../src/task/start.js';
import { createTemporalClient, type TemporalHandle } from '../src/temporal/client.js';
import { buildTestApp } from './helpers/api.js';
import { isNotification, startSmtpServer } from './helpers/smtp.js';
import { eventually, inMs, startTestStack, type TestStack } from './helpers/temporal.js';
import type { Payload } from '@temporalio/common';
import { AesGcmPayloadCodec } from '../src/temporal/codec.js';

interface ReadyBody {
  status: 'ready' | 'degraded' | 'unavailable';
  checks: Record<string, string>;
  reportOnly?: string[];
  message?: string;
}

const logger = pino({ level: 'silent' });
let stack: TestStack;
const opened: Array<{ close(): Promise<void> | void }> = [];

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  for (const o of opened.reverse()) await o.close();
  await stack?.stop();
});

/** An API whose /readyz checks Temporal at `address`, workers on `taskQueue` and SMTP at `smtpUrl`. */
async function apiWith(opts: { address?: string; taskQueue?: string; smtpUrl?: string } = {}): Promise<{ app: ApiInstance; temporal: TemporalHandle }> {
  const env = {
    TEMPORAL_ADDRESS: opts.address ?? stack.config.TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE: stack.config.TEMPORAL_NAMESPACE,
    TEMPORAL_TASK_QUEUE: opts.taskQueue ?? stack.taskQueue,
    SMTP_URL: opts.smtpUrl ?? stack.smtp.url,
    SMTP_CHECK_TIMEOUT_MS: '5000',
  };
  const temporal = await createTemporalClient({ TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE: env.TEMPORAL_NAMESPACE, PAYLOAD_KEYS: stack.config.PAYLOAD_KEYS });
  const transport: MailTransport = createMailTransport({ smtpUrl: env.SMTP_URL, from: stack.config.MAIL_FROM, logger });
  const t = await buildTestApp({
    env,
    records: stack.records,
    readiness: readinessChecks({ ...env, SMTP_CHECK_TIMEOUT_MS: 5000 }, temporal.connection, transport),
  });
  opened.push({
    async close() {
      await t.close();
      transport.close();
      await temporal.connection.close();
    },
  });
  return { app: t.app, temporal };
}

async function readyz(app: ApiInstance): Promise<{ statusCode: number; body: ReadyBody }> {
  const res = await app.inject({ method: 'GET', url: '/readyz' });
  return { statusCode: res.statusCode, body: res.json<ReadyBody>() };
}

describe('/readyz reports every dependency', () => {
  it('is ready when Temporal, the records store, a worker and the SMTP server all answer', async () => {
    const { app } = await apiWith();
    // The stack's worker polls its queue from its start; Temporal lists it once a poll arrived.
    const { statusCode, body } = await eventually(() => readyz(app), (r) => r.body.checks.workers === 'ok', { timeoutMs: 30_000, intervalMs: 250 });
    expect(statusCode).toBe(200);
    expect(body).toEqual({
      status: 'ready',
      checks: { temporal: 'ok', workers: 'ok', smtp: 'ok', records: 'ok' },
      reportOnly: ['workers', 'smtp'],
    });
  });

  it('is degraded (200) when no worker polls the task queue, saying so', async () => {
    const lonely = `nobody-polls-${randomUUID()}`;
    const { app } = await apiWith({ taskQueue: lonely });
    const { statusCode, body } = await readyz(app);
    expect(statusCode).toBe(200);
    expect(body.status).toBe('degraded');
    expect(body.checks).toEqual({ temporal: 'ok', workers: `no worker has polled task queue "${lonely}" in the last 90 s`, smtp: 'ok', records: 'ok' });
    expect(body.message).toBe(`workers: no worker has polled task queue "${lonely}" in the last 90 s`);
  });

  it('is degraded (200) when the SMTP server is down, naming what the socket said', async () => {
    const gone = await startSmtpServer();
    await gone.stop();
    const { app } = await apiWith({ smtpUrl: gone.url });
    const { statusCode, body } = await eventually(() => readyz(app), (r) => r.body.checks.workers === 'ok', { timeoutMs: 30_000, intervalMs: 250 });
    expect(statusCode).toBe(200);
    expect(body.status).toBe('degraded');
    expect(body.checks.temporal).toBe('ok');
    expect(body.checks.records).toBe('ok');
    expect(body.checks.smtp).toBe(`SMTP server 127.0.0.1:${gone.port} is not usable: connect ECONNREFUSED 127.0.0.1:${gone.port} (ESOCKET, command CONN)`);
    expect(body.message).toBe(`smtp: ${body.checks.smtp}`);
  });

  it('is unavailable (503) when Temporal cannot be reached; the report-only checks fail too but do not decide', async () => {
    const port = await freePort();
    const { app } = await apiWith({ address: `127.0.0.1:${port}` });
    const { statusCode, body } = await readyz(app);
    expect(statusCode).toBe(503);
    expect(body.status).toBe('unavailable');
    expect(body.checks.temporal).toMatch(/UNAVAILABLE|ECONNREFUSED|Deadline|timed out/i);
    expect(body.checks.workers).not.toBe('ok');
    expect(body.checks.smtp).toBe('ok');
    expect(body.checks.records).toBe('ok');
    expect(body.message).toMatch(/^temporal: /);
  });

  it('dials the SMTP server at most once per interval, sharing one check among concurrent probes', async () => {
    let dialled = 0;
    let clock = 0;
    let fail = false;
    const probe = cachedProbe(
      async () => {
        dialled += 1;
        if (fail) throw new Error('connect ECONNREFUSED');
      },
      15_000,
      () => clock,
    );
    await Promise.all([probe(), probe(), probe()]);
    expect(dialled).toBe(1);
    fail = true;
    clock = 14_999;
    await expect(probe()).resolves.toBeUndefined();
    clock = 15_000;
    await expect(probe()).rejects.toThrow(/ECONNREFUSED/);
    expect(dialled).toBe(2);
  });
});

describe('a mail activity while the SMTP server is down', () => {
  it('fails naming the SMTP error, and the mail goes out once the server is back', async () => {
    const { port } = stack.smtp;
    await stack.smtp.stop();
    const handle = await startHumanTask(
      stack.client,
      stack.taskQueue,
      {
        title: 'Confirm the model card is current',
        instructions: 'Check the model card against the release notes.',
        assignee: { person: 'priya.raman' },
        dueAt: inMs(3 * 24 * 3600_000),
        policy: { reminderOffsets: [], escalation: [] },
      },
      { organization: stack.organization },
    );
    const failure = await eventually(
      async () => (await handle.describe()).raw.pendingActivities?.find((a) => a.lastFailure)?.lastFailure,
      (f) => f !== undefined,
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    // Temporal holds the message encrypted (encoded failures); the payload keys read it.
    expect(failure?.message).toBe('Encoded failure');
    const [attributes] = await new AesGcmPayloadCodec(stack.config.PAYLOAD_KEYS).decode([failure!.encodedAttributes as Payload]);
    expect((JSON.parse(Buffer.from(attributes!.data!).toString()) as { message: string }).message).toBe(
      `SMTP send via 127.0.0.1:${port} failed: connect ECONNREFUSED 127.0.0.1:${port} (ESOCKET, command CONN)`,
    );
    expect(failure?.applicationFailureInfo?.type).toBe('MailTransportError');

    // The server comes back where the worker looks; the next attempt (at most a minute later) delivers.
    await stack.smtp.restart();
    const mail = await stack.smtp.waitFor((m) => isNotification(m, handle.workflowId, 'task.assigned', 'priya.raman@northwind.example'), 75_000);
    expect(mail.subject).toContain('Confirm the model card is current');
  }, 120_000);
});
