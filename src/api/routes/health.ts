/**
 * `/healthz`: the process is up. `/readyz`: every dependency, each with its own deadline,
 * reported in the body (`ok` or why not, in one line). The required ones (Temporal and the
 * records store) make it answer 503 `unavailable`; report-only ones (the SMTP server, a worker
 * polling the task queue) make it answer 200 `degraded`, because the API still serves pages and
 * takes answers without them: mail waits in the worker's retries, and pages show the last
 * published state until a worker answers.
 */
import type { Connection } from '@temporalio/client';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../config.js';
import type { MailTransport } from '../../mail/transport.js';
import { checkTemporal, checkWorkers } from '../../temporal/client.js';
import type { ReadinessCheck, ReadinessChecks, ReadinessProbe } from '../deps.js';
import '../deps.js';

export const DEFAULT_READINESS_TIMEOUT_MS = 2000;

/** The SMTP server is dialled for /readyz at most this often; probes in between report that result. */
export const SMTP_CHECK_INTERVAL_MS = 15_000;

const healthSchema = z.object({ status: z.literal('ok') });

const readySchema = z.object({
  status: z
    .enum(['ready', 'degraded', 'unavailable'])
    .describe('`ready`: every check ok (200); `degraded`: only report-only checks failed (200); `unavailable`: a required check failed (503)'),
  checks: z.record(z.string(), z.string()).describe('`ok`, or why the check failed'),
  reportOnly: z.array(z.string()).optional().describe('The checks that are reported but never make /readyz fail'),
  message: z.string().optional().describe('The failed checks, one line'),
});

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message || err.name : String(err);
  const line = text.replace(/\s+/g, ' ').trim() || 'failed';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/** Runs `probe` with a deadline; resolves `ok` or the reason it failed. */
export async function runCheck(probe: () => Promise<void>, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([Promise.resolve().then(probe), deadline]);
    return 'ok';
  } catch (err) {
    return oneLine(err);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A probe that runs `probe` at most once per `maxAgeMs` and answers with that run's outcome in
 * between (concurrent callers share one run), for dependencies that should not be dialled on
 * every readiness request (an SMTP server sees one connection per `maxAgeMs`, not one per probe).
 */
export function cachedProbe(probe: ReadinessProbe, maxAgeMs: number, now: () => number = Date.now): ReadinessProbe {
  let last: { at: number; run: Promise<void> } | undefined;
  return () => {
    if (!last || now() - last.at >= maxAgeMs) {
      const run = Promise.resolve().then(probe);
      run.catch(() => undefined);
      last = { at: now(), run };
    }
    return last.run;
  };
}

/**
 * The API's readiness checks: Temporal (required; the records store is always checked too),
 * a worker polling the task queue and the SMTP server (report-only, the SMTP server dialled at
 * most every SMTP_CHECK_INTERVAL_MS with its own deadline).
 */
export function readinessChecks(
  config: Pick<Config, 'TEMPORAL_NAMESPACE' | 'TEMPORAL_TASK_QUEUE' | 'SMTP_CHECK_TIMEOUT_MS'>,
  connection: Connection,
  transport: Pick<MailTransport, 'verify'>,
): ReadinessChecks {
  return {
    temporal: () => checkTemporal(connection),
    workers: { probe: () => checkWorkers(connection, config.TEMPORAL_NAMESPACE, config.TEMPORAL_TASK_QUEUE), reportOnly: true },
    smtp: { probe: cachedProbe(() => transport.verify(), SMTP_CHECK_INTERVAL_MS), timeoutMs: config.SMTP_CHECK_TIMEOUT_MS, reportOnly: true },
  };
}

const asCheck = (check: ReadinessProbe | ReadinessCheck): ReadinessCheck => (typeof check === 'function' ? { probe: check } : check);

export const healthRoutes: FastifyPluginCallbackZod = (app, _options, done) => {
  app.get(
    '/healthz',
    {
      logLevel: 'warn',
      schema: {
        tags: ['health'],
        summary: 'Liveness: the process is up',
        response: { 200: healthSchema },
      },
    },
    () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      logLevel: 'warn',
      schema: {
        tags: ['health'],
        summary: 'Readiness: Temporal and the records store answer (503 if not); SMTP and workers reported',
        response: { 200: readySchema, 503: readySchema },
      },
    },
    async (request, reply) => {
      const { readiness, records, readinessTimeoutMs } = app.deps;
      const defaultTimeoutMs = readinessTimeoutMs ?? DEFAULT_READINESS_TIMEOUT_MS;
      const checks: Array<[string, ReadinessCheck]> = [
        ...Object.entries(readiness).map(([name, check]) => [name, asCheck(check)] as [string, ReadinessCheck]),
        ['records', { probe: () => records.ping() }],
      ];
      const results = await Promise.all(
        checks.map(async ([name, check]) => ({ name, reportOnly: check.reportOnly === true, result: await runCheck(check.probe, check.timeoutMs ?? defaultTimeoutMs) })),
      );
      const failed = results.filter((r) => r.result !== 'ok');
      const reportOnly = results.filter((r) => r.reportOnly).map((r) => r.name);
      const body = {
        status: failed.some((r) => !r.reportOnly) ? ('unavailable' as const) : failed.length > 0 ? ('degraded' as const) : ('ready' as const),
        checks: Object.fromEntries(results.map((r) => [r.name, r.result])),
        ...(reportOnly.length > 0 ? { reportOnly } : {}),
        ...(failed.length > 0 ? { message: failed.map((r) => `${r.name}: ${r.result}`).join('; ') } : {}),
      };
      if (body.status === 'ready') return body;
      request.log.warn({ checks: body.checks }, body.status === 'unavailable' ? 'not ready' : 'ready, degraded');
      return reply.code(body.status === 'unavailable' ? 503 : 200).send(body);
    },
  );
  done();
};
