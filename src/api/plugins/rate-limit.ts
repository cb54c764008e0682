/**
 * Rate limits (@fastify/rate-limit, registered with `global: false`) that slow down guessing
 * and flooding without ever locking out people who hold a working link.
 *
 * Pages reached from e-mailed links are limited by what their link proves, never by address
 * alone (`linkRateLimit`, a preHandler, after the body is parsed so a POSTed token counts):
 *
 * - a link that checks out names its person: at most `LINK_LIMIT_PER_PERSON` requests a minute
 *   per person, from whatever address;
 * - a link that does not (forged, altered, expired, malformed, missing): at most
 *   `LINK_FAILURE_LIMIT_PER_ADDRESS` failed checks a minute per client address. An address
 *   over it gets 429 for every further link it cannot prove, while a working link from the
 *   same address still opens its page.
 *
 * Forms without a link token (the concern form) and unknown routes keep per-address limits
 * through route `config` (`publicRateLimit()`, `NOT_FOUND_RATE_LIMIT`).
 *
 * The client address is the direct peer, or with `TRUST_PROXY` the one the trusted proxies
 * report (Fastify's `request.ip`); IPv6 addresses count per /64. Counters live in process memory
 * (one set per API replica, each an LRU of 5000 keys), in one-minute windows.
 */
import rateLimit, { type RateLimitOptions } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from '../errors.js';
import type { RateLimitReason } from './metrics.js';

/** The window of every limit here. */
export const RATE_LIMIT_WINDOW_MS = 60_000;

/**
 * The concern form (no link token), per client address and route. Generous: without
 * `TRUST_PROXY`, everyone behind the organization's proxy shares one address, and people open
 * and send the form a few times a day; a script is slowed to one report a second.
 */
export const PUBLIC_RATE_LIMIT = Object.freeze({ max: 60, timeWindow: RATE_LIMIT_WINDOW_MS }) satisfies RateLimitOptions;

/** Unknown routes: generous for people, tight enough to slow down URL guessing. */
export const NOT_FOUND_RATE_LIMIT = Object.freeze({ max: 60, timeWindow: RATE_LIMIT_WINDOW_MS }) satisfies RateLimitOptions;

/** Route `config` applying the per-address public limit; `overrides` adjusts it for one route. */
export function publicRateLimit(overrides: Partial<RateLimitOptions> = {}): { rateLimit: RateLimitOptions } {
  return { rateLimit: { ...PUBLIC_RATE_LIMIT, ...overrides } };
}

export async function registerRateLimit(app: FastifyInstance): Promise<void> {
  await app.register(rateLimit, { global: false, onExceeded: () => app.metrics.rateLimited('address') });
}

export interface LinkLimits {
  /** Requests a minute with a valid link, per person the link names. */
  perPerson: number;
  /** Failed link checks a minute per client address. */
  failuresPerAddress: number;
}

/**
 * Checks the request's link (once: the page reuses the answer) and returns the person it
 * proves, or undefined when it proves nobody.
 */
export type ProveLink = (request: FastifyRequest) => Promise<string | undefined>;

const messages: Record<Exclude<RateLimitReason, 'address'>, (seconds: number) => string> = {
  'failed-token': (seconds) =>
    `Too many links that do not work came from your network in the last minute. Please wait ${seconds} seconds, then open the link exactly as it appears in your e-mail.`,
  subject: (seconds) => `This person's links were opened too often in the last minute. Please wait ${seconds} seconds and open the link again.`,
};

function tooManyRequests(reason: Exclude<RateLimitReason, 'address'>, ttlInSeconds: number): HttpError {
  const seconds = Math.max(1, ttlInSeconds);
  return new HttpError(429, messages[reason](seconds), { headers: { 'retry-after': String(seconds) } });
}

/**
 * Builds the link limits of one app; call `guard(prove)` for each link route's preHandler.
 * A refusal is a 429 (a small page for browsers, JSON otherwise) with Retry-After, counted in
 * `aimsflow_rate_limited_total{reason}`.
 */
export function linkRateLimit(app: FastifyInstance, limits: LinkLimits): { guard: (prove: ProveLink) => (request: FastifyRequest) => Promise<void> } {
  const proven = new WeakMap<FastifyRequest, string>();
  const perPerson = app.createRateLimit({
    max: limits.perPerson,
    timeWindow: RATE_LIMIT_WINDOW_MS,
    keyGenerator: (request) => `person:${proven.get(request) ?? ''}`,
  });
  const failures = app.createRateLimit({ max: limits.failuresPerAddress, timeWindow: RATE_LIMIT_WINDOW_MS });

  const refuse = (reason: Exclude<RateLimitReason, 'address'>, limit: Awaited<ReturnType<typeof failures>>): void => {
    if (limit.isAllowed || !limit.isExceeded) return;
    app.metrics.rateLimited(reason);
    throw tooManyRequests(reason, limit.ttlInSeconds);
  };

  return {
    guard: (prove) => async (request) => {
      const person = await prove(request);
      if (person === undefined) return refuse('failed-token', await failures(request));
      proven.set(request, person);
      refuse('subject', await perPerson(request));
    },
  };
}
