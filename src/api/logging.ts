/**
 * Request logging for the API: the process logger with a request serializer that never
 * writes a link token (path segments after `/t/`, `/a/`, `/me/`, `/renew/`, `/calendar/` (feeds), anything shaped
 * like a JWT, and token-like query parameters) nor any request header.
 */
import type { FastifyRequest } from 'fastify';
import { pino, type Logger } from 'pino';
import { loggerOptions } from '../logger.js';

export const REDACTED = '[redacted]';

/** Path segments whose following segment is a signed link token. */
const TOKEN_PATH_SEGMENTS = new Set(['t', 'a', 'me', 'renew', 'calendar']);

/**
 * Query parameters whose values are credentials (with `code` and `state`, the OpenID Connect
 * authorization code and state on /auth/callback). Compared case-insensitively.
 */
const SECRET_QUERY_PARAMS = new Set(['token', 'access_token', 'id_token', 'refresh_token', 'key', 'api_key', 'apikey', 'secret', 'signature', 'sig', 'code', 'state']);

/** Three base64url parts, the first starting like a JSON object header. */
const JWT_SHAPE = /^eyJ[\w-]*\.[\w-]*\.[\w-]*$/;

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function redactPath(path: string): string {
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const previous = segments[i - 1] ?? '';
    const segment = segments[i] ?? '';
    if (segment === '') continue;
    if (TOKEN_PATH_SEGMENTS.has(safeDecode(previous).toLowerCase()) || JWT_SHAPE.test(safeDecode(segment))) {
      segments[i] = REDACTED;
    }
  }
  return segments.join('/');
}

function redactQuery(query: string): string {
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq === -1) return pair;
      const key = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const name = safeDecode(key.replace(/\+/g, ' ')).toLowerCase();
      return SECRET_QUERY_PARAMS.has(name) || JWT_SHAPE.test(safeDecode(value)) ? `${key}=${REDACTED}` : pair;
    })
    .join('&');
}

/** The URL with every token replaced by `[redacted]`; safe to log or show. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return redactPath(url);
  return `${redactPath(url.slice(0, q))}?${redactQuery(url.slice(q + 1))}`;
}

/** pino serializer for `req`: method, redacted URL and peer; never headers or body. */
export function serializeRequest(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: typeof request.url === 'string' ? redactUrl(request.url) : undefined,
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/**
 * The logger the API hands to Fastify: a child of the given logger (or a new one from the
 * configured level) whose `req` serializer redacts tokens.
 */
export function apiLogger(base: Logger | undefined, level: string): Logger {
  const root = base ?? pino(loggerOptions(level));
  return root.child({}, { serializers: { req: serializeRequest } });
}
