/**
 * Sign-in pages (OpenID Connect, src/auth/oidc.ts; sessions in src/auth/session.ts):
 *
 *   GET  /login?returnTo=/path   start signing in: off → 404 page; provider down or slow → 503 page
 *   GET  /auth/callback          the provider sends the browser back here: exchange, validate,
 *                                map the person (`OIDC_PERSON_CLAIM`); unknown person → 403 page
 *   POST /logout                 end the session, then logout at the provider when it offers it
 *   GET  /auth/session           who is signed in (a page, or JSON for `Accept: application/json`)
 *
 * Every refusal is a readable page with a 4xx status (503 when the provider cannot be reached),
 * never a 5xx crash. `returnTo` must be a path on this site.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../api/errors.js';
import { pageContext, sendMessage, type MessageModel, type PageContext } from '../api/pages/common.js';
import { publicRateLimit } from '../api/plugins/rate-limit.js';
import { helmetOptions, pageCspDirectives } from '../api/plugins/security.js';
import { aimsManagerName, type Organization, type Person } from '../organization/schema.js';
import { CALLBACK_PATH, ProviderUnavailable, RelyingParty, SignInRefused, signInSettings, type SignInSettings } from './oidc.js';
import { needsSameSite, sameSiteRequest, sessionLimits } from './session.js';
import '../api/deps.js';

export const LOGIN_PATH = '/login';
export const LOGOUT_PATH = '/logout';
export const SESSION_PATH = '/auth/session';

/** Where a sign-in without `returnTo` ends. */
const DEFAULT_RETURN_TO = SESSION_PATH;

/** How long a started sign-in may take before the callback is refused. */
export const SIGN_IN_MAX_AGE_MS = 10 * 60_000;

const RETRY_AFTER_SECONDS = 30;

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** `returnTo` as a same-origin path (with its query), or an error message for the person. */
export function safeReturnTo(value: unknown, publicBaseUrl: string): { ok: true; path: string } | { ok: false; message: string } {
  if (value === undefined || value === '') return { ok: true, path: DEFAULT_RETURN_TO };
  const refuse = { ok: false as const, message: 'returnTo must be a path on this site, such as /auth/session.' };
  if (typeof value !== 'string' || value.length > 2048) return refuse;
  // Not `//host` or `/\host` (another site to a browser), no control characters or backslashes.
  if (!value.startsWith('/') || value.startsWith('//') || value.includes('\\') || hasControlCharacter(value)) return refuse;
  const base = new URL(publicBaseUrl);
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    return refuse;
  }
  if (url.origin !== base.origin) return refuse;
  return { ok: true, path: `${url.pathname}${url.search}${url.hash}` };
}

function queryOf(request: FastifyRequest): Record<string, unknown> {
  return (request.query as Record<string, unknown> | undefined) ?? {};
}

function personFor(org: Organization | undefined, settings: SignInSettings, claims: Record<string, unknown>): { person?: Person; shown: string } {
  const value = claims[settings.personClaim];
  const shown = typeof value === 'string' ? value : String(claims.sub);
  if (typeof value !== 'string' || value === '' || !org) return { shown };
  if (settings.personClaim === 'sub') return { person: org.people.find((p) => p.id === value), shown };
  const email = value.toLowerCase();
  return { person: org.people.find((p) => p.email.toLowerCase() === email), shown };
}

function organizationOf(ctx: PageContext): Organization | undefined {
  try {
    return ctx.organization?.();
  } catch {
    return undefined;
  }
}


const signInAgain = { url: LOGIN_PATH, label: 'Sign in again' };

export async function authRoutes(app: FastifyInstance): Promise<void> {
  const { config } = app.deps;
  const ctx = pageContext(app);
  const settings = signInSettings(config);
  const rp = settings ? new RelyingParty(settings) : undefined;
  const limits = sessionLimits(config);
  const page = { config: publicRateLimit(), schema: { hide: true } };

  const message = (request: FastifyRequest, reply: FastifyReply, status: number, model: MessageModel) =>
    sendMessage(ctx, request, reply, status, model);

  const signInOff = (request: FastifyRequest, reply: FastifyReply) =>
    message(request, reply, 404, {
      heading: 'Sign-in is not set up',
      paragraphs: [
        'This server has no OpenID Connect provider configured (OIDC_ISSUER), so nobody signs in here.',
        'The admin API still takes API keys; the pages behind e-mailed links work as before.',
      ],
    });

  const unavailable = (request: FastifyRequest, reply: FastifyReply, err: ProviderUnavailable) => {
    request.log.warn({ reason: err.message }, 'sign-in provider unavailable');
    reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    return message(request, reply, 503, {
      heading: 'Sign-in is unavailable right now',
      paragraphs: [err.message, 'Please try again in a minute. API keys and e-mailed links still work.'],
      link: signInAgain,
    });
  };

  app.get(LOGIN_PATH, page, async (request, reply) => {
    if (!rp) return signInOff(request, reply);
    const returnTo = safeReturnTo(queryOf(request).returnTo, config.PUBLIC_BASE_URL);
    if (!returnTo.ok) {
      return message(request, reply, 400, { heading: 'This sign-in link is not valid', paragraphs: [returnTo.message], link: { url: LOGIN_PATH, label: 'Sign in' } });
    }
    try {
      const { url, pending } = await rp.begin(returnTo.path);
      request.session.set('signIn', pending);
      return reply.header('cache-control', 'no-store').redirect(url.href, 303);
    } catch (err) {
      if (err instanceof ProviderUnavailable) return unavailable(request, reply, err);
      throw err;
    }
  });

  app.get(CALLBACK_PATH, page, async (request, reply) => {
    if (!rp || !settings) return signInOff(request, reply);
    const pending = request.session.get('signIn');
    const state = queryOf(request).state;
    if (!pending || Date.now() - pending.startedAt > SIGN_IN_MAX_AGE_MS || typeof state !== 'string' || state !== pending.state) {
      request.log.info({ started: Boolean(pending) }, 'sign-in callback refused: unknown or stale state');
      request.session.set('signIn', undefined);
      return message(request, reply, 400, {
        heading: 'This sign-in cannot be finished',
        paragraphs: [
          'It was not started in this browser, it was already used, or it took longer than ten minutes (the state does not match).',
          'Start again: it takes a moment.',
        ],
        link: signInAgain,
      });
    }
    request.session.set('signIn', undefined);
    let signedIn;
    try {
      signedIn = await rp.finish(new URL(request.url, config.PUBLIC_BASE_URL), pending);
    } catch (err) {
      if (err instanceof ProviderUnavailable) return unavailable(request, reply, err);
      if (err instanceof SignInRefused) {
        request.log.info({ reason: err.message, kind: err.kind }, 'sign-in refused');
        return message(request, reply, err.kind === 'denied' ? 401 : 400, {
          heading: 'You are not signed in',
          paragraphs: [err.message],
          link: signInAgain,
        });
      }
      throw err;
    }
    const org = organizationOf(ctx);
    const claims = signedIn.claims as Record<string, unknown>;
    const { person, shown } = personFor(org, settings, claims);
    if (settings.personClaim === 'email' && claims.email_verified === false) {
      request.log.info({ email: shown }, 'sign-in refused: e-mail address not verified');
      return message(request, reply, 403, {
        heading: 'Your e-mail address is not verified',
        paragraphs: [`The sign-in service says ${shown} is not verified, so it cannot name you here. Verify it there, then sign in again.`],
        link: signInAgain,
      });
    }
    if (!person) {
      request.log.info({ [settings.personClaim]: shown }, 'sign-in refused: not in the organization file');
      return message(request, reply, 403, {
        heading: 'You are not in the organization file',
        paragraphs: [
          `You signed in as ${shown}, who is not in the organization file; ask ${aimsManagerName(org)} to add you.`,
          'People who act from e-mailed links need no account; signing in is for the admin console.',
        ],
      });
    }
    const now = Date.now();
    request.session.set('person', person.id);
    request.session.set('signedInAt', now);
    request.session.set('seenAt', now);
    request.session.set('idToken', signedIn.idToken);
    request.log.info({ person: person.id }, 'signed in');
    return reply.header('cache-control', 'no-store').redirect(pending.returnTo, 303);
  });

  app.post(LOGOUT_PATH, { schema: { hide: true } }, async (request, reply) => {
    if (needsSameSite(request)) {
      const verdict = sameSiteRequest(request, config.PUBLIC_BASE_URL);
      if (!verdict.ok) throw new HttpError(403, `Refused: signing out must be asked from this site, and ${verdict.reason}.`);
    }
    const session = rp ? request.session : undefined;
    const person = session?.get('person');
    const idToken = session?.get('idToken');
    session?.delete();
    if (person) request.log.info({ person }, 'signed out');
    const signedOut = `${config.PUBLIC_BASE_URL}${SESSION_PATH}`;
    const atProvider = rp && person ? await rp.endSessionUrl(idToken, signedOut) : undefined;
    return reply.header('cache-control', 'no-store').redirect(atProvider?.href ?? SESSION_PATH, 303);
  });

  // The sign-out form posts here and is redirected on to the provider's logout, which the
  // page's form-action must allow.
  const sessionPage = {
    schema: { hide: true },
    ...(settings
      ? {
          helmet: {
            ...helmetOptions(config),
            contentSecurityPolicy: {
              useDefaults: false,
              directives: { ...pageCspDirectives(config), formAction: ["'self'", new URL(settings.issuer).origin] },
            },
          },
        }
      : {}),
  };

  app.get(SESSION_PATH, sessionPage, async (request, reply) => {
    const principal = request.principal?.via === 'session' ? request.principal : undefined;
    const org = organizationOf(ctx);
    const person = principal ? org?.people.find((p) => p.id === principal.id) : undefined;
    const wantsJson = /application\/json/i.test(request.headers.accept ?? '') && !/text\/html/i.test(request.headers.accept ?? '');
    reply.header('cache-control', 'no-store');
    if (wantsJson) {
      if (!principal) return reply.code(401).send({ signedIn: false, signInEnabled: Boolean(rp) });
      const signedInAt = request.session.get('signedInAt') ?? Date.now();
      return reply.send({
        signedIn: true,
        principal,
        person: person ? { id: person.id, name: person.name, email: person.email } : { id: principal.id },
        signedInAt: new Date(signedInAt).toISOString(),
        expiresAt: new Date(signedInAt + limits.maxMs).toISOString(),
      });
    }
    if (!principal) {
      return message(request, reply, 200, {
        heading: 'You are not signed in',
        paragraphs: rp ? ['Sign in with your organization account to use the admin console.'] : ['Sign-in is not set up on this server (OIDC_ISSUER).'],
        ...(rp ? { link: { url: LOGIN_PATH, label: 'Sign in' } } : {}),
      });
    }
    return message(request, reply, 200, {
      heading: `Signed in as ${person?.name ?? principal.id}`,
      paragraphs: [
        `You are ${person ? `${person.name} (${person.email})` : principal.id} in the organization file.`,
        `The session ends after ${config.SESSION_IDLE_MINUTES} minutes without use, and at the latest ${config.SESSION_MAX_HOURS} hours after signing in.`,
      ],
      form: { action: LOGOUT_PATH, csrf: '', hidden: [], button: 'Sign out' },
    });
  });
}
