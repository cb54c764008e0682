/**
 * The API as a Fastify instance, without listening (server.ts listens; tests inject).
 *
 * Order matters: logging, request ids, the error handler and metrics (src/api/plugins/metrics.ts:
 * request timing, `/metrics`, counted ledger appends and mails) first; then security headers,
 * rate limits, form bodies and the OpenAPI collector; then the session cookie of people who
 * signed in (src/auth/session.ts: sets `request.principal`), then routes. New route plugins live in
 * src/api/routes/ and are registered below: public ones directly, admin ones in the admin
 * scope (which authenticates every request inside it and refuses a route that declares no
 * permission).
 */
import formbody from '@fastify/formbody';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { keyRing } from '../auth/api-keys.js';
import type { Permission } from '../auth/permissions.js';
import type { AppDeps } from './deps.js';
import { errorHandler, frameworkErrorHandler, notFoundHandler } from './errors.js';
import { apiLogger } from './logging.js';
import { adminScope } from './plugins/admin-auth.js';
import { createApiMetrics, registerMetrics } from './plugins/metrics.js';
import { registerDocsRoutes, registerOpenApi } from './plugins/docs.js';
import { registerInputGuard } from './plugins/input-guard.js';
import { NOT_FOUND_RATE_LIMIT, registerRateLimit } from './plugins/rate-limit.js';
import { registerSecurityHeaders } from './plugins/security.js';
import { pageRoutes } from './pages/index.js';
import { calendarFeedRoutes } from '../calendar/routes.js';
import { concernRoutes } from '../concern/routes.js';
import { peopleRoutes } from '../people/routes.js';
import { genReqId, REQUEST_ID_HEADER } from './request-id.js';
import { trustProxyOption } from './trust-proxy.js';
import { aiSystemRoutes } from '../ai-system/routes.js';
import { objectiveRoutes } from '../objectives/routes.js';
import { policyRoutes } from '../policy/routes.js';
import { consolePages } from '../objectives/pages.js';
import { consoleRoutes } from '../console/index.js';
import { healthRoutes } from './routes/health.js';
import { internalAuditRoutes } from '../internal-audit/routes.js';
import { improvementRoutes } from '../improvement/routes.js';
import { riskRoutes } from '../risk/routes.js';
import { soaRoutes } from '../soa/routes.js';
import { managementReviewRoutes } from '../management-review/routes.js';
import { certificationRoutes } from '../certification/routes.js';
import { nonconformityRoutes } from '../corrective-action/routes.js';
import { recordsRoutes } from './routes/records.js';
import { registerCodecRoutes } from './routes/codec.js';
import { scheduleRoutes } from '../schedules/routes.js';
import { workRoutes } from '../task/routes.js';
import { signInSettings } from '../auth/oidc.js';
import { authRoutes } from '../auth/routes.js';
import { registerSessions } from '../auth/session.js';

export type { AppDeps, ReadinessChecks } from './deps.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The permission each admin route declares, by `METHOD /admin/...` (src/auth/permissions.ts). */
    adminPermissions: ReadonlyMap<string, Permission>;
  }
}

/** Largest request body accepted (forms and admin JSON are small). */
export const BODY_LIMIT_BYTES = 256 * 1024;

/** Longest path parameter: signed link tokens (JWTs) are far longer than Fastify's default 100. */
export const MAX_PARAM_LENGTH = 4096;

/** The API instance, typed for zod route schemas. */
export type ApiInstance = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/**
 * Builds the API (not yet listening, not yet ready: callers may still register plugins;
 * `listen`, `ready` or `inject` finish loading it).
 */
export async function buildApp(deps: AppDeps): Promise<ApiInstance> {
  const { config } = deps;
  const logging =
    deps.logger === false
      ? { logger: false as const }
      : { loggerInstance: apiLogger(deps.logger, config.LOG_LEVEL) as FastifyBaseLogger };
  const app = Fastify({
    ...logging,
    genReqId,
    requestIdHeader: false,
    bodyLimit: BODY_LIMIT_BYTES,
    requestTimeout: 30_000,
    trustProxy: trustProxyOption(config.TRUST_PROXY),
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: frameworkErrorHandler,
  });

  const metrics = createApiMetrics();
  app.decorate('metrics', metrics);
  app.decorate('deps', metrics.instrument(deps));
  // One key ring for every scope that takes API keys (admin routes, codec, console).
  app.decorate('adminKeys', keyRing(config.API_KEYS));
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);

  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
  registerMetrics(app, metrics);

  await registerSecurityHeaders(app, config);
  await registerRateLimit(app);
  await app.register(formbody);
  await registerOpenApi(app, config);
  registerInputGuard(app);

  app.setNotFoundHandler({ preHandler: app.rateLimit({ ...NOT_FOUND_RATE_LIMIT }) }, notFoundHandler);

  // Sessions of people who signed in set request.principal before any route's own checks.
  if (signInSettings(config)) await registerSessions(app, config);

  await app.register(healthRoutes);
  await app.register(authRoutes);
  await app.register(pageRoutes);
  await app.register(calendarFeedRoutes);
  const permissions = new Map<string, Permission>();
  app.decorate('adminPermissions', permissions);
  await registerCodecRoutes(app);
  await app.register(adminScope([recordsRoutes, workRoutes, nonconformityRoutes, concernRoutes, peopleRoutes, scheduleRoutes, aiSystemRoutes, certificationRoutes, managementReviewRoutes, internalAuditRoutes, improvementRoutes, riskRoutes, soaRoutes, objectiveRoutes, policyRoutes, consolePages], permissions), { prefix: '/admin' });
  await app.register(consoleRoutes, { prefix: '/console' });
  await registerDocsRoutes(app);

  return app.withTypeProvider<ZodTypeProvider>();
}
