/**
 * Who calls the admin API, and whether they may. A request signed in (a session hook that ran
 * before this scope set `request.principal`) goes on as that person; otherwise it needs
 * `Authorization: Bearer <key>`, one of `API_KEYS` (compared by hash in constant time), and acts
 * as the key's principal. Missing or wrong credentials get 401 with `WWW-Authenticate`.
 *
 * Every admin route declares the permission it needs with `requirePermission(...)` as its
 * `preValidation` hook; the scope refuses to register a route that declares none. A principal without
 * the permission gets 403 naming the permission and the principal (src/auth/permissions.ts).
 *
 * Use `adminScope` to register admin route plugins (every route inside is protected).
 */
import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  preValidationHookHandler,
} from 'fastify';
import { keyRing, type KeyRing } from '../../auth/api-keys.js';
import { actorOf, describePrincipal, PERMISSIONS, permits, principalRoles, type Permission, type Role } from '../../auth/permissions.js';
import type { Principal } from '../../auth/principal.js';
import { HttpError } from '../errors.js';
import '../deps.js';

/** Names of the OpenAPI security schemes declared by the docs plugin. */
export const BEARER_SCHEME = 'bearerAuth';
export const SESSION_SCHEME = 'sessionCookie';
export { SESSION_COOKIE } from '../../auth/session.js';

/** Put into a route's `schema.security`: an API key or a signed-in session, either will do. */
export const adminSecurity: Array<Record<string, string[]>> = [{ [BEARER_SCHEME]: [] }, { [SESSION_SCHEME]: [] }];

const REALM = 'aimsflow admin';

function unauthorized(message: string, invalidToken: boolean): HttpError {
  const challenge = invalidToken ? `Bearer realm="${REALM}", error="invalid_token"` : `Bearer realm="${REALM}"`;
  return new HttpError(401, message, { headers: { 'www-authenticate': challenge } });
}

/** Every later log line of the request names its principal (and the key's name, never the key). */
function nameInLogs(request: FastifyRequest, reply: FastifyReply, principal: Principal): void {
  const log = request.log.child({ principal: actorOf(principal), ...(principal.key ? { key: principal.key } : {}), via: principal.via });
  request.log = log;
  reply.log = log;
}

export type AdminAuthHook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;

/** The principal `authorization` authenticates, or why it does not. */
function authenticate(authorization: string | undefined, ring: KeyRing): Principal | HttpError {
  if (typeof authorization !== 'string' || authorization.trim() === '') {
    return unauthorized('Sign in, or send an API key: Authorization: Bearer <key>.', false);
  }
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  if (!match?.[1]) return unauthorized('The Authorization header must be: Bearer <key>.', true);
  return ring.principal(match[1]) ?? unauthorized('The API key is not valid.', true);
}

/**
 * An `onRequest` hook: a request that already has a principal (signed in) goes on; otherwise
 * its bearer key must be one of the ring's, and the request then acts as the key's principal.
 */
export function createAdminAuth(ring: KeyRing): AdminAuthHook {
  return function adminAuth(request, reply, done) {
    if (request.principal) {
      nameInLogs(request, reply, request.principal);
      done();
      return;
    }
    const outcome = authenticate(request.headers.authorization, ring);
    if (outcome instanceof HttpError) {
      if (request.headers.authorization) request.log.warn('rejected admin request with an unknown API key');
      done(outcome);
      return;
    }
    request.principal = outcome;
    nameInLogs(request, reply, outcome);
    done();
  };
}

/** The roles `principal` (by default the request's) holds: from the organization file, or from its key entry. */
export function rolesOf(request: FastifyRequest, principal: Principal | undefined = request.principal): readonly Role[] {
  if (!principal) return [];
  return principalRoles(principal, { organization: request.server.deps.organization?.(), serviceRoles: (name) => request.server.adminKeys.serviceRoles(name) });
}

/** Whether the request's principal may do what `permission` allows (false when nobody is authenticated). */
export function requestPermits(request: FastifyRequest, permission: Permission): boolean {
  return request.principal !== undefined && permits(rolesOf(request), permission);
}

/** Why `principal` holding `roles` is refused `permission`, as a sentence without its full stop. */
export function refusal(principal: Principal, roles: readonly Role[], permission: Permission): string {
  const held = roles.length > 0 ? `holds the roles ${roles.join(', ')}` : principal.kind === 'person' ? 'holds no role in the organization file' : 'holds no role';
  return `${describePrincipal(principal)} ${held}, none of which may ${PERMISSIONS[permission]} (permission ${permission})`;
}

const PERMISSION = Symbol('aimsflow.permission');
type PermissionHook = preValidationHookHandler & { [PERMISSION]?: Permission };

/**
 * A route's `preValidation` hook: lets the request through only when its principal's roles
 * permit `permission`; 401 without a principal, 403 naming the permission and the principal.
 * It runs before the body is validated, so a caller without the permission learns nothing of it.
 */
export function requirePermission(permission: Permission): preValidationHookHandler {
  const hook: PermissionHook = function checkPermission(this: FastifyInstance, request, _reply, done) {
    const principal = request.principal;
    if (!principal) {
      done(unauthorized('Sign in, or send an API key: Authorization: Bearer <key>.', false));
      return;
    }
    const roles = rolesOf(request, principal);
    if (permits(roles, permission)) {
      done();
      return;
    }
    done(new HttpError(403, `Forbidden: ${refusal(principal, roles, permission)}.`));
  };
  hook[PERMISSION] = permission;
  return hook;
}

/** The permission a route's options declare (through `requirePermission`), if any. */
function declaredPermission(declared: unknown): Permission | undefined {
  const hooks = Array.isArray(declared) ? declared : [declared];
  for (const hook of hooks) {
    const permission = (hook as PermissionHook | undefined)?.[PERMISSION];
    if (permission) return permission;
  }
  return undefined;
}

/**
 * The actor a request is recorded under: its principal (see `actorOf`). A body naming someone
 * else (`named`, from a field such as `by`) is refused with 403: nobody acts as another person
 * through the admin API.
 */
export function requestActor(request: FastifyRequest, named?: string, field = 'by'): string {
  const principal = request.principal;
  if (!principal) throw unauthorized('Sign in, or send an API key: Authorization: Bearer <key>.', false);
  const actor = actorOf(principal);
  if (named !== undefined && named !== actor) {
    throw new HttpError(
      403,
      `Forbidden: ${field} names "${named}", but the request is authenticated as ${describePrincipal(principal)}; an action is recorded as whoever is authenticated, and acting on behalf of someone else (permission act-on-behalf) is held by no role (leave ${field} out).`,
    );
  }
  return actor;
}

/** Body fields that name who acts; each may only name the principal itself. */
export const ACTOR_FIELDS = ['by', 'requestedBy', 'raisedBy', 'startedBy', 'registeredBy'] as const;

/**
 * Refuses (403) a request whose body names someone other than its principal in an actor field,
 * before the body is validated (where a field's default would hide that it was left out).
 */
function checkNamedActors(request: FastifyRequest): void {
  const body = request.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return;
  for (const field of ACTOR_FIELDS) {
    const named = (body as Record<string, unknown>)[field];
    if (typeof named === 'string') requestActor(request, named, field);
  }
}

export type RoutePlugin = FastifyPluginCallback | FastifyPluginAsync;

declare module 'fastify' {
  interface FastifyInstance {
    /** The API keys (API_KEYS) as the admin scope checks them. */
    adminKeys: KeyRing;
  }
}

/**
 * A plugin that registers route plugins behind authentication (and `no-store` caching):
 * `await app.register(adminScope([recordsRoutes, workflowRoutes]), { prefix: '/admin' })`.
 * Every route inside must declare its permission (`requirePermission`), or registering fails;
 * `permissions` (when given) collects them by `METHOD /url`.
 */
export function adminScope(plugins: readonly RoutePlugin[], permissions?: Map<string, Permission>): FastifyPluginAsync {
  return async function adminRoutes(scope: FastifyInstance) {
    const ring = keyRing(scope.deps.config.API_KEYS);
    if (!scope.hasDecorator('adminKeys')) scope.decorate('adminKeys', ring);
    scope.addHook('onRoute', (route) => {
      const permission = declaredPermission(route.preValidation);
      if (!permission) {
        throw new Error(`admin route ${String(route.method)} ${route.url} declares no permission (preValidation: requirePermission(...))`);
      }
      for (const method of [route.method].flat()) if (method !== 'HEAD') permissions?.set(`${method} ${route.url}`, permission);
    });
    scope.addHook('onRequest', (_request, reply, done) => {
      reply.header('cache-control', 'no-store');
      done();
    });
    scope.addHook('onRequest', createAdminAuth(ring));
    scope.addHook('preValidation', (request, _reply, done) => {
      try {
        checkNamedActors(request);
        done();
      } catch (err) {
        done(err as Error);
      }
    });
    for (const routes of plugins) await scope.register(routes);
  };
}
