/**
 * `/healthz`: the process is up. `/readyz`: Temporal and the records store answer in time;
 * 503 names each failed check and why, in one line.
 */
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import '../deps.js';

export const DEFAULT_READINESS_TIMEOUT_MS = 2000;

const healthSchema = z.object({ status: z.literal('ok') });

const readySchema = z.object({
  status: z.enum(['ready', 'unavailable']),
  checks: z.record(z.string(), z.string()).describe('`ok`, or why the check failed'),
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
        summary: 'Readiness: Temporal and the records store answer',
        response: { 200: readySchema, 503: readySchema },
      },
    },
    async (request, reply) => {
      const { readiness, records, readinessTimeoutMs } = app.deps;
      const timeoutMs = readinessTimeoutMs ?? DEFAULT_READINESS_TIMEOUT_MS;
      const probes: Array<[string, () => Promise<void>]> = [
        ...Object.entries(readiness),
        ['records', () => records.ping()],
      ];
      const results = await Promise.all(probes.map(async ([name, probe]) => [name, await runCheck(probe, timeoutMs)] as const));
      const checks = Object.fromEntries(results);
      const failed = results.filter(([, result]) => result !== 'ok');
      if (failed.length === 0) return { status: 'ready' as const, checks };
      const message = failed.map(([name, result]) => `${name}: ${result}`).join('; ');
      request.log.warn({ checks }, 'not ready');
      return reply.code(503).send({ status: 'unavailable' as const, checks, message });
    },
  );
  done();
};
