/**
 * Cross-site request forgery checks for the page forms.
 *
 * Every form carries a hidden `csrf` field: HMAC-SHA256(LINK_SECRET, `csrf:` + link token),
 * hex. A POST is accepted only with that value (compared in constant time), when the browser
 * does not report it as cross-site (`Sec-Fetch-Site`), and when its `Origin` (or, without
 * one, its `Referer`) is the public base URL's origin. Pages are served with
 * `Referrer-Policy: no-referrer`, under which browsers send `Origin: null` with form posts:
 * an opaque origin is therefore not counted as a foreign one (the HMAC and Sec-Fetch-Site
 * still apply).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

export const CSRF_FIELD = 'csrf';

/** The hidden form value for a link token. */
export function csrfToken(secret: string, linkToken: string): string {
  return createHmac('sha256', secret).update(`csrf:${linkToken}`, 'utf8').digest('hex');
}

/** True when `presented` is the form value for `linkToken`. */
export function csrfMatches(secret: string, linkToken: string, presented: unknown): boolean {
  if (typeof presented !== 'string' || !/^[0-9a-f]{64}$/.test(presented)) return false;
  const expected = Buffer.from(csrfToken(secret, linkToken), 'hex');
  return timingSafeEqual(expected, Buffer.from(presented, 'hex'));
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

export type CsrfVerdict = { ok: true } | { ok: false; reason: string };

/**
 * Checks a form POST: the hidden field for `linkToken`, `Sec-Fetch-Site`, and `Origin` or
 * `Referer` against `publicBaseUrl`. The reason is for the person and the log.
 */
export function checkFormPost(
  request: FastifyRequest,
  options: { secret: string; publicBaseUrl: string; linkToken: string; presented: unknown },
): CsrfVerdict {
  const fetchSite = single(request.headers['sec-fetch-site'])?.toLowerCase();
  if (fetchSite === 'cross-site') {
    return { ok: false, reason: 'The form was sent from another website.' };
  }
  const expectedOrigin = originOf(options.publicBaseUrl);
  const origin = single(request.headers.origin);
  if (origin !== undefined && origin !== 'null') {
    if (origin !== expectedOrigin) return { ok: false, reason: 'The form was sent from another website.' };
  } else {
    const referer = single(request.headers.referer);
    if (referer !== undefined && originOf(referer) !== expectedOrigin) {
      return { ok: false, reason: 'The form was sent from another website.' };
    }
  }
  if (!csrfMatches(options.secret, options.linkToken, options.presented)) {
    return { ok: false, reason: 'The form is missing its security field or does not belong to this link.' };
  }
  return { ok: true };
}
