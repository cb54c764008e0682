/**
 * The OpenAPI document, generated from the routes' zod schemas, served at `/openapi.json`,
 * and the Swagger UI at `/docs` (with its own content security policy: its bundle is served
 * from here and styles itself inline).
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import type { Config } from '../../config.js';
import { BEARER_SCHEME, SESSION_COOKIE, SESSION_SCHEME } from './admin-auth.js';

export const API_VERSION = '0.1.0';
export const DOCS_PREFIX = '/docs';
export const OPENAPI_PATH = '/openapi.json';

/** The policy for the docs UI pages and assets. */
export const DOCS_CSP = [
  "default-src 'self'",
  "base-uri 'self'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/** Registers the document generator; call before any route so every route is collected. */
export async function registerOpenApi(app: FastifyInstance, config: Config): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'aimsflow API',
        description:
          'ISO/IEC 42001 AI management system workflows. Admin routes need a signed-in session or an API key (`Authorization: Bearer <key>`); 401 without, 403 when the principal lacks the permission the route names.',
        version: API_VERSION,
      },
      servers: [{ url: config.PUBLIC_BASE_URL }],
      tags: [
        { name: 'health', description: 'Liveness and readiness probes' },
        { name: 'records', description: 'The evidence ledger (ISO/IEC 42001 7.5)' },
      ],
      components: {
        securitySchemes: {
          [BEARER_SCHEME]: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key of a person or a service, one of API_KEYS (configured by SHA-256)',
          },
          [SESSION_SCHEME]: {
            type: 'apiKey',
            in: 'cookie',
            name: SESSION_COOKIE,
            description: 'The session cookie set by signing in (OpenID Connect)',
          },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
}

/** Registers `/openapi.json` and the docs UI. */
export async function registerDocsRoutes(app: FastifyInstance): Promise<void> {
  app.get(OPENAPI_PATH, { schema: { hide: true } }, (_request, reply) => reply.send(app.swagger()));
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    staticCSP: DOCS_CSP,
    uiConfig: { docExpansion: 'list', deepLinking: false, validatorUrl: null },
  });
}
