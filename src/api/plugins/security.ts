/**
 * Security headers (@fastify/helmet). The default policy suits the server-rendered pages:
 * everything from our own origin, no inline or foreign scripts, small inline styles allowed,
 * forms post only to us, never framed. The docs UI gets its own policy (see docs.ts).
 */
import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config.js';

function servedOverHttps(config: Config): boolean {
  return config.PUBLIC_BASE_URL.startsWith('https://');
}

/** CSP directives for pages, in helmet's camel-case form. */
export function pageCspDirectives(config: Config): Record<string, string[]> {
  return {
    defaultSrc: ["'self'"],
    baseUri: ["'self'"],
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'"],
    connectSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    objectSrc: ["'none'"],
    ...(servedOverHttps(config) ? { upgradeInsecureRequests: [] } : {}),
  };
}

export function helmetOptions(config: Config): FastifyHelmetOptions {
  const https = servedOverHttps(config);
  return {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: pageCspDirectives(config) },
    // Pages are plain HTML forms; the opener and embedder policies only get in the way of mail clients.
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: https ? { maxAge: 15_552_000, includeSubDomains: true } : false,
  };
}

export async function registerSecurityHeaders(app: FastifyInstance, config: Config): Promise<void> {
  await app.register(helmet, helmetOptions(config));
}
