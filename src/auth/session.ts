/**
 * Sessions of people who signed in (OpenID Connect, src/auth/oidc.ts): one cookie,
 * `aimsflow_session`, encrypted and authenticated by @fastify/secure-session with a key
 * derived from `SESSION_SECRET`; HTTP-only, `SameSite=Lax` (the provider's redirect back is a
 * cross-site navigation that must carry it), `Secure` when the API is served over https. It
 * holds the person's id, when they signed in, when they were last seen and their ID token
 * (for logout at the provider); during sign-in, the state, nonce and PKCE verifier.
 *
 * The app-level hook `sessionPrincipal` reads it on every request: a session idle for
 * `SESSION_IDLE_MINUTES`, older than `SESSION_MAX_HOURS`, or whose person has left the
 * organization file is ended; otherwise `request.principal` becomes
 * `{ kind: 'person', id, via: 'session' }`, which the admin routes accept as they accept a key.
 *
 * Cross-site request forgery: a state-changing request (POST, PUT, PATCH, DELETE) to the admin
 * API or to /logout that a session would authenticate must come from this site: refused with
 * 403 when the browser reports `Sec-Fetch-Site` other than `same-origin` (or `none`), when its
 * `Origin` is another origin, or when its `Origin` is `null` (an opaque origin, e.g. a sandboxed
 * frame or a `no-referrer` form) without `Sec-Fetch-Site: same-origin`. Every current browser
 * sends one of the two on such requests; a client that sends neither is not a browser, and a
 * browser does not attach the cookie to a cross-site POST anyway (SameSite=Lax). API keys are
 * sent in a header no other site can set, so they need none of this.
 */
import { hkdfSync } from 'node:crypto';
import secureSession from '@fastify/secure-session';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { Organization } from '../organization/schema.js';
import { HttpError } from '../api/errors.js';
import type { PendingSignIn } from './oidc.js';
import './principal.js';
import '../api/deps.js';

declare module '@fastify/secure-session' {
  interface SessionData {
    /** A sign-in under way (between /login and the callback). */
    signIn: PendingSignIn;
    /** The signed-in person's id in the organization file. */
    person: string;
    /** Epoch milliseconds of the sign-in. */
    signedInAt: number;
    /** Epoch milliseconds of the last request seen with this session (refreshed at most once a minute). */
    seenAt: number;
    /** The provider's ID token, for `id_token_hint` at logout. */
    idToken: string;
  }
}

export const SESSION_COOKIE = 'aimsflow_session';

/** How often the last-seen time is written back (each write re-issues the cookie). */
const SEEN_RESOLUTION_MS = 60_000;

export interface SessionLimits {
  idleMs: number;
  maxMs: number;
}

export function sessionLimits(config: Config): SessionLimits {
  return { idleMs: config.SESSION_IDLE_MINUTES * 60_000, maxMs: config.SESSION_MAX_HOURS * 3600_000 };
}

/** Why a session is over at `now`, or undefined while it is valid. */
export function sessionEnded(
  session: { signedInAt?: number | undefined; seenAt?: number | undefined },
  limits: SessionLimits,
  now: number,
): 'idle' | 'expired' | undefined {
  const { signedInAt, seenAt } = session;
  if (typeof signedInAt !== 'number' || now - signedInAt >= limits.maxMs || signedInAt > now + 60_000) return 'expired';
  if (typeof seenAt !== 'number' || now - seenAt >= limits.idleMs) return 'idle';
  return undefined;
}

/** The 32-byte cookie key from SESSION_SECRET (HKDF-SHA256, so any 32+ character secret will do). */
export function sessionKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'aimsflow', 'session cookie v1', 32));
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Whether a state-changing request came from this site (see the module comment); the reason
 * names what gave it away.
 */
export function sameSiteRequest(request: FastifyRequest, publicBaseUrl: string): { ok: true } | { ok: false; reason: string } {
  const fetchSite = single(request.headers['sec-fetch-site'])?.toLowerCase();
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') {
    return { ok: false, reason: `the browser reports it as ${fetchSite} (Sec-Fetch-Site)` };
  }
  const origin = single(request.headers.origin);
  if (origin === undefined) return { ok: true };
  if (origin === 'null') {
    return fetchSite === 'same-origin' ? { ok: true } : { ok: false, reason: 'it comes from an opaque origin (Origin: null)' };
  }
  const expected = new URL(publicBaseUrl).origin;
  return origin === expected ? { ok: true } : { ok: false, reason: `it comes from ${origin}, not ${expected} (Origin)` };
}

/** Paths whose state-changing requests a session authenticates: the admin API and /logout. */
export function needsSameSite(request: FastifyRequest): boolean {
  if (!STATE_CHANGING.has(request.method)) return false;
  const path = request.url.split('?', 1)[0] ?? '/';
  return path === '/logout' || path === '/admin' || path.startsWith('/admin/');
}

/** The organization in force, or undefined when the API has none or it cannot be read right now. */
function organizationOrUndefined(app: FastifyInstance): Organization | undefined {
  try {
    return app.deps.organization?.();
  } catch {
    return undefined;
  }
}

/**
 * Registers the session cookie and the hook that turns a valid session into
 * `request.principal`. Call before the routes (hooks reach only routes registered after them).
 */
export async function registerSessions(app: FastifyInstance, config: Config): Promise<void> {
  if (config.SESSION_SECRET === undefined) throw new Error('registerSessions needs SESSION_SECRET');
  const limits = sessionLimits(config);
  await app.register(secureSession, {
    key: sessionKey(config.SESSION_SECRET),
    cookieName: SESSION_COOKIE,
    // The cookie's own limit: at most the absolute lifetime (the hook enforces both limits).
    expiry: Math.ceil(limits.maxMs / 1000),
    cookie: {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: config.PUBLIC_BASE_URL.startsWith('https://'),
      maxAge: Math.ceil(limits.maxMs / 1000),
    },
  });

  app.addHook('onRequest', async function sessionPrincipal(request) {
    const session = request.session;
    const person = session.get('person');
    if (person === undefined) return;
    const now = Date.now();
    const ended = sessionEnded({ signedInAt: session.get('signedInAt'), seenAt: session.get('seenAt') }, limits, now);
    if (ended) {
      request.log.info({ person, reason: ended }, 'session ended');
      session.delete();
      return;
    }
    const organization = organizationOrUndefined(app);
    if (organization && !organization.people.some((p) => p.id === person)) {
      request.log.info({ person }, 'session ended: the person is no longer in the organization file');
      session.delete();
      return;
    }
    if (needsSameSite(request)) {
      const verdict = sameSiteRequest(request, config.PUBLIC_BASE_URL);
      if (!verdict.ok) {
        request.log.warn({ person, reason: verdict.reason }, 'refused a cross-site request with a session cookie');
        throw new HttpError(403, `Refused: a signed-in request that changes something must come from this site, and ${verdict.reason}.`);
      }
    }
    request.principal = { kind: 'person', id: person, via: 'session' };
    const seenAt = session.get('seenAt') ?? 0;
    if (now - seenAt >= SEEN_RESOLUTION_MS) session.set('seenAt', now);
  });
}
