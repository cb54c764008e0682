/**
 * The API's Prometheus metrics at `GET /metrics` (text format), from prom-client.
 *
 * Each app has its own registry (tests build several apps in one process; the global default
 * registry is never used): request latency by method, route template and status code, link
 * refusals by reason, 429 refusals by the limit they were over, ledger appends and mails sent by
 * this API. The process's default metrics (CPU, memory, event loop, GC) are collected once per
 * process and served by every app in it.
 *
 * Access: open on the API port unless METRICS_TOKEN is set, then `Authorization: Bearer
 * <METRICS_TOKEN>` (Prometheus sends it with `authorization.credentials` in its scrape config).
 * The figures hold no personal data and no URLs (routes are templates, never raw paths), so an
 * API reached only from inside its network can leave them open; one reachable from the internet
 * sets the token, a credential that reads metrics and nothing else.
 *
 * `/metrics` is hidden from the OpenAPI document and logs only warnings and errors.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { LinkErrorCode } from '../../links/claims.js';
import type { RecordsStore } from '../../records/types.js';
import type { AppDeps } from '../deps.js';
import { HttpError } from '../errors.js';

export const METRICS_PATH = '/metrics';

/** The `route` label of requests that matched no route (one label, whatever the URL). */
export const UNMATCHED_ROUTE = 'unmatched';

/** Latency buckets in seconds, up to the API's 30 s request timeout. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

let processRegistry: Registry | undefined;

/** The process's default metrics, collected once per process (not in the global registry). */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * Which limit a 429 came from: `failed-token` the client address's failed link checks,
 * `subject` the requests of the person a valid link names, `address` a per-address limit
 * (the concern form, unknown routes).
 */
export type RateLimitReason = 'failed-token' | 'subject' | 'address';

export interface ApiMetrics {
  requests: Histogram<'method' | 'route' | 'status_code'>;
  linkRefusals: Counter<'reason'>;
  rateLimits: Counter<'reason'>;
  ledgerAppends: Counter<'kind'>;
  ledgerAppendFailures: Counter<'kind'>;
  mailsSent: Counter<'kind'>;
  mailsFailed: Counter<'kind'>;
  /** Counts a signed link refused by a page. */
  linkRefused(reason: LinkErrorCode): void;
  /** Counts a request refused with 429, by the limit it was over. */
  rateLimited(reason: RateLimitReason): void;
  /** The deps with the records store and the mail sender counted. */
  instrument(deps: AppDeps): AppDeps;
  /** The Prometheus text of this app's metrics and the process's; `contentType` to send with it. */
  render(): Promise<string>;
  contentType: string;
}

export function createApiMetrics(): ApiMetrics {
  const registry = new Registry();
  const registers = [registry];
  const requests = new Histogram({
    name: 'aimsflow_http_request_duration_seconds',
    help: `API request latency by method, route template (${UNMATCHED_ROUTE}: no route) and status code`,
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const linkRefusals = new Counter({
    name: 'aimsflow_link_refusals_total',
    help: 'Signed links refused by the pages, by reason: expired, invalid, wrong-action, wrong-person',
    labelNames: ['reason'] as const,
    registers,
  });
  const rateLimits = new Counter({
    name: 'aimsflow_rate_limited_total',
    help: 'Requests refused with 429, by the limit they were over: failed-token (failed link checks of the client address), subject (requests of the person a valid link names), address (per-address limits)',
    labelNames: ['reason'] as const,
    registers,
  });
  const ledgerAppends = new Counter({
    name: 'aimsflow_ledger_appends_total',
    help: 'Evidence records appended to the ledger by this API, by record kind (a repeated append of the same id counts again)',
    labelNames: ['kind'] as const,
    registers,
  });
  const ledgerAppendFailures = new Counter({
    name: 'aimsflow_ledger_append_failures_total',
    help: 'Ledger appends by this API that failed, by record kind',
    labelNames: ['kind'] as const,
    registers,
  });
  const mailsSent = new Counter({
    name: 'aimsflow_mails_sent_total',
    help: 'Mails this API handed to the SMTP server (fresh links), by notification kind',
    labelNames: ['kind'] as const,
    registers,
  });
  const mailsFailed = new Counter({
    name: 'aimsflow_mails_failed_total',
    help: 'Mail sends by this API that failed, by notification kind',
    labelNames: ['kind'] as const,
    registers,
  });

  /** The store with `append` counted; every other member is the store's own. */
  const countedRecords = (records: RecordsStore): RecordsStore => {
    const append: RecordsStore['append'] = async (record) => {
      const kind = typeof record?.kind === 'string' ? record.kind : 'unknown';
      try {
        const stored = await records.append(record);
        ledgerAppends.inc({ kind });
        return stored;
      } catch (err) {
        ledgerAppendFailures.inc({ kind });
        throw err;
      }
    };
    return new Proxy(records, {
      get(target, property) {
        if (property === 'append') return append;
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  };

  const countedSender = (send: NonNullable<AppDeps['sendNotification']>): NonNullable<AppDeps['sendNotification']> =>
    async (input) => {
      const kind = typeof input?.kind === 'string' ? input.kind : 'unknown';
      try {
        const result = await send(input);
        if (result.status === 'sent') mailsSent.inc({ kind });
        return result;
      } catch (err) {
        mailsFailed.inc({ kind });
        throw err;
      }
    };

  return {
    requests,
    linkRefusals,
    rateLimits,
    ledgerAppends,
    ledgerAppendFailures,
    mailsSent,
    mailsFailed,
    linkRefused: (reason) => linkRefusals.inc({ reason }),
    rateLimited: (reason) => rateLimits.inc({ reason }),
    instrument: (deps) => ({
      ...deps,
      records: countedRecords(deps.records),
      ...(deps.sendNotification ? { sendNotification: countedSender(deps.sendNotification) } : {}),
    }),
    render: () => Registry.merge([processMetrics(), registry]).metrics(),
    contentType: registry.contentType,
  };
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Refuses a scrape without the token (compared by digest, in constant time). */
function checkToken(token: string): (authorization: string | undefined) => void {
  const expected = digest(token);
  return (authorization) => {
    const presented = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '')?.[1];
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) return;
    throw new HttpError(
      401,
      presented === undefined ? 'Metrics need a token: send Authorization: Bearer <METRICS_TOKEN>.' : 'The metrics token is not valid.',
      { headers: { 'www-authenticate': `Bearer realm="aimsflow metrics"${presented === undefined ? '' : ', error="invalid_token"'}` } },
    );
  };
}

/**
 * Times every request (on the root instance, so every route and the not-found handler are
 * counted) and serves `/metrics`. Call before the routes are registered.
 */
export function registerMetrics(app: FastifyInstance, metrics: ApiMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.requests.observe(
      { method: request.method, route: request.routeOptions.url ?? UNMATCHED_ROUTE, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  const token = app.deps.config.METRICS_TOKEN;
  const authorize = token ? checkToken(token) : undefined;
  app.get(METRICS_PATH, { logLevel: 'warn', schema: { hide: true } }, async (request, reply) => {
    authorize?.(request.headers.authorization);
    const text = await metrics.render();
    return reply.header('cache-control', 'no-store').type(metrics.contentType).send(text);
  });
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ApiMetrics;
  }
}
