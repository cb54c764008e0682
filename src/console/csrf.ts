/**
 * Cross-site request forgery protection of the console's forms, as the link pages have it: a
 * hidden `csrf` field, HMAC-SHA256(LINK_SECRET, "console:" + principal + ":" + sign-in time),
 * so the value is bound to one session and dies with it; and the same-site check of requests
 * a session authenticates (`Sec-Fetch-Site`, `Origin`; src/auth/session.ts). A request with an
 * API key needs neither (no other site can set its header) but carries the field all the same.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { actorOf } from '../auth/permissions.js';
import { sameSiteRequest } from '../auth/session.js';
import '../api/deps.js';

export const CONSOLE_CSRF_FIELD = 'csrf';

function bindingOf(request: FastifyRequest): string {
  const principal = request.principal;
  if (!principal) return 'nobody';
  const signedInAt = principal.via === 'session' ? String(request.session.get('signedInAt') ?? '') : 'key';
  return `${actorOf(principal)}:${signedInAt}`;
}

/** The hidden form value for the request's principal and session. */
export function csrfField(request: FastifyRequest): string {
  return createHmac('sha256', request.server.deps.config.LINK_SECRET).update(`console:${bindingOf(request)}`, 'utf8').digest('hex');
}

/** Why a console form POST is refused, or undefined when it may go on. */
export function consoleCsrfRefusal(request: FastifyRequest): string | undefined {
  if (request.principal?.via === 'session') {
    const site = sameSiteRequest(request, request.server.deps.config.PUBLIC_BASE_URL);
    if (!site.ok) return `The form was not sent from this site: ${site.reason}.`;
  }
  const body = request.body as Record<string, unknown> | undefined;
  const presented = body && typeof body === 'object' ? body[CONSOLE_CSRF_FIELD] : undefined;
  if (typeof presented !== 'string' || !/^[0-9a-f]{64}$/.test(presented)) {
    return 'The form is missing its security field. Open the page again and send the form from there.';
  }
  const expected = Buffer.from(csrfField(request), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(presented, 'hex'))) {
    return 'The form belongs to another sign-in (its security field does not match). Open the page again and send the form from there.';
  }
  return undefined;
}
