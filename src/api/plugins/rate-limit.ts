/**
 * Rate limits (@fastify/rate-limit, registered with `global: false`): routes opt in through
 * their `config`. Public token routes use `publicRateLimit()`:
 *
 *   app.get('/t/:token', { config: publicRateLimit() }, handler)
 *
 * Limits are per client IP and per route, kept in process memory (one counter per API
 * replica). With `trustProxy` off, the IP is the direct peer.
 */
import rateLimit, { type RateLimitOptions } from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';

/** Public pages reached from e-mailed links: 30 requests a minute per IP. */
export const PUBLIC_RATE_LIMIT = Object.freeze({ max: 30, timeWindow: 60_000 }) satisfies RateLimitOptions;

/** Unknown routes: generous for people, tight enough to slow down URL guessing. */
export const NOT_FOUND_RATE_LIMIT = Object.freeze({ max: 60, timeWindow: 60_000 }) satisfies RateLimitOptions;

/** Route `config` applying the public limit; `overrides` adjusts it for one route. */
export function publicRateLimit(overrides: Partial<RateLimitOptions> = {}): { rateLimit: RateLimitOptions } {
  return { rateLimit: { ...PUBLIC_RATE_LIMIT, ...overrides } };
}

export async function registerRateLimit(app: FastifyInstance): Promise<void> {
  await app.register(rateLimit, { global: false });
}
