/**
 * Admin API keys: `Authorization: Bearer <key>`, compared in constant time against every
 * configured key. Missing or wrong credentials get 401 with `WWW-Authenticate: Bearer`.
 *
 * Use `adminScope` to register admin route plugins (every route inside is protected), or
 * `createAdminAuth(keys)` as an `onRequest`/`preHandler` hook on a single route.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify';
import { HttpError } from '../errors.js';
import '../deps.js';

/** Name of the OpenAPI security scheme declared by the docs plugin. */
export const BEARER_SCHEME = 'bearerAuth';

/** Put into a route's `schema.security` so the OpenAPI document shows the key requirement. */
export const adminSecurity: Array<Record<string, string[]>> = [{ [BEARER_SCHEME]: [] }];

const REALM = 'aimsflow admin';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function unauthorized(message: string, invalidToken: boolean): HttpError {
  const challenge = invalidToken ? `Bearer realm="${REALM}", error="invalid_token"` : `Bearer realm="${REALM}"`;
  return new HttpError(401, message, { headers: { 'www-authenticate': challenge } });
}

export type AdminAuthHook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;

/** Why `authorization` does not carry one of the keys (by digest), or undefined when it does. */
function rejectionOf(authorization: string | undefined, digests: readonly Buffer[]): HttpError | undefined {
  if (typeof authorization !== 'string' || authorization.trim() === '') {
    return unauthorized('An admin API key is required: send Authorization: Bearer <key>.', false);
  }
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  if (!match?.[1]) return unauthorized('The Authorization header must be: Bearer <key>.', true);
  const presented = digest(match[1]);
  let ok = false;
  for (const known of digests) {
    ok = timingSafeEqual(presented, known) || ok;
  }
  return ok ? undefined : unauthorized('The admin API key is not valid.', true);
}

/**
 * An `onRequest`/`preHandler` hook that lets a request through only with one of `keys` as
 * its bearer token. Keys are hashed first so every comparison has the same length and takes
 * the same time, and every key is compared so the time does not depend on which one matched.
 */
export function createAdminAuth(keys: readonly string[]): AdminAuthHook {
  if (keys.length === 0) throw new Error('createAdminAuth needs at least one API key');
  const digests = keys.map(digest);
  return function adminAuth(request, _reply, done) {
    const rejection = rejectionOf(request.headers.authorization, digests);
    if (rejection) {
      if (request.headers.authorization) request.log.warn('rejected admin request with an unknown API key');
      done(rejection);
      return;
    }
    done();
  };
}

export type RoutePlugin = FastifyPluginCallback | FastifyPluginAsync;

/**
 * A plugin that registers route plugins behind the admin key check (and `no-store` caching):
 * `await app.register(adminScope([recordsRoutes, workflowRoutes]), { prefix: '/admin' })`.
 */
export function adminScope(plugins: readonly RoutePlugin[]): FastifyPluginAsync {
  return async function adminRoutes(scope: FastifyInstance) {
    scope.addHook('onRequest', (_request, reply, done) => {
      reply.header('cache-control', 'no-store');
      done();
    });
    scope.addHook('onRequest', createAdminAuth(scope.deps.config.ADMIN_API_KEYS));
    for (const routes of plugins) await scope.register(routes);
  };
}
