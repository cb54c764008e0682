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
 *
 * Public forms without a link token (the concern form) carry a form token instead:
 * `<nonce>.<HMAC-SHA256(LINK_SECRET, "<purpose>:" + nonce)>`, where the nonce holds the time
 * it was issued, so a token is only accepted for a while after the form was shown.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
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

/** Checks that a form POST comes from this site: `Sec-Fetch-Site`, and `Origin` or `Referer` against `publicBaseUrl`. */
function checkSameSite(request: FastifyRequest, publicBaseUrl: string): CsrfVerdict {
  const fetchSite = single(request.headers['sec-fetch-site'])?.toLowerCase();
  if (fetchSite === 'cross-site') {
    return { ok: false, reason: 'The form was sent from another website.' };
  }
  const expectedOrigin = originOf(publicBaseUrl);
  const origin = single(request.headers.origin);
  if (origin !== undefined && origin !== 'null') {
    if (origin !== expectedOrigin) return { ok: false, reason: 'The form was sent from another website.' };
  } else {
    const referer = single(request.headers.referer);
    if (referer !== undefined && originOf(referer) !== expectedOrigin) {
      return { ok: false, reason: 'The form was sent from another website.' };
    }
  }
  return { ok: true };
}

/**
 * Checks a form POST: the hidden field for `linkToken`, `Sec-Fetch-Site`, and `Origin` or
 * `Referer` against `publicBaseUrl`. The reason is for the person and the log.
 */
export function checkFormPost(
  request: FastifyRequest,
  options: { secret: string; publicBaseUrl: string; linkToken: string; presented: unknown },
): CsrfVerdict {
  const site = checkSameSite(request, options.publicBaseUrl);
  if (!site.ok) return site;
  if (!csrfMatches(options.secret, options.linkToken, options.presented)) {
    return { ok: false, reason: 'The form is missing its security field or does not belong to this link.' };
  }
  return { ok: true };
}

/** How long a public form token is accepted after the form was shown. */
export const FORM_TOKEN_MAX_AGE_MS = 24 * 3600_000;

const formTokenMac = (secret: string, purpose: string, nonce: string) =>
  createHmac('sha256', secret).update(`${purpose}:${nonce}`, 'utf8').digest('hex');

/** A fresh token for a public form of `purpose` (e.g. `concern`), for its hidden `csrf` field. */
export function issueFormToken(secret: string, purpose: string, now = Date.now()): string {
  const nonce = `${now.toString(36)}-${randomBytes(12).toString('hex')}`;
  return `${nonce}.${formTokenMac(secret, purpose, nonce)}`;
}

/** True when `presented` is a token this server issued for `purpose` within the last day. */
export function formTokenValid(secret: string, purpose: string, presented: unknown, now = Date.now()): boolean {
  if (typeof presented !== 'string') return false;
  const m = /^(([0-9a-z]{1,12})-[0-9a-f]{24})\.([0-9a-f]{64})$/.exec(presented);
  if (!m?.[1] || !m[2] || !m[3]) return false;
  const expected = Buffer.from(formTokenMac(secret, purpose, m[1]), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(m[3], 'hex'))) return false;
  const issuedAt = parseInt(m[2], 36);
  return issuedAt <= now + 60_000 && now - issuedAt <= FORM_TOKEN_MAX_AGE_MS;
}

/** Checks a public form POST: same site (as `checkFormPost`) and a valid form token for `purpose`. */
export function checkPublicFormPost(
  request: FastifyRequest,
  options: { secret: string; publicBaseUrl: string; purpose: string; presented: unknown },
): CsrfVerdict {
  const site = checkSameSite(request, options.publicBaseUrl);
  if (!site.ok) return site;
  if (!formTokenValid(options.secret, options.purpose, options.presented)) {
    return { ok: false, reason: 'The form is missing its security field, or it is too old.' };
  }
  return { ok: true };
}
