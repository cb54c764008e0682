/**
 * Signed, expiring links for e-mails: a compact HS256 JWT naming the workflow, the task,
 * the action and the person, appended to a page URL as `?token=`.
 *
 * Token layout (short, so URLs survive mail clients): `iss` = `aimsflow`, `aud` = the action,
 * `sub` = the person id, `wf` = the workflow id, `tk` = the task id (left out when it equals
 * `wf`), `iat`, `exp` and a random `jti`.
 */
import { randomBytes } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { z } from 'zod';
import {
  LinkAction,
  linkClaimsSchema,
  linkRequestSchema,
  type LinkClaims,
  type LinkErrorCode,
  type LinkRequest,
} from './claims.js';

export { LinkAction, linkClaimsSchema, linkRequestSchema };
export type { LinkClaims, LinkErrorCode, LinkRequest };

const ISSUER = 'aimsflow';
const ALGORITHM = 'HS256';
/** Tokens longer than this are refused before any parsing: no legitimate link is near it. */
const MAX_TOKEN_LENGTH = 2048;
const MAX_TTL_HOURS = 24 * 366;

const defaultMessages: Record<LinkErrorCode, string> = {
  expired: 'This link has expired. You can ask for a fresh link to be e-mailed to you.',
  invalid:
    'This link is not valid. It may have been cut off or altered; please open the link exactly as it appears in your e-mail.',
  'wrong-action': 'This link is not meant for this page.',
  'wrong-person': 'This link was issued to someone else.',
};

/** Why a link was refused. For `expired`, `claims` holds the decoded (authentic) claims. */
export class LinkError extends Error {
  readonly code: LinkErrorCode;
  readonly claims: LinkClaims | undefined;

  constructor(code: LinkErrorCode, options: { message?: string; claims?: LinkClaims; cause?: unknown } = {}) {
    super(options.message ?? defaultMessages[code], options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LinkError';
    this.code = code;
    this.claims = options.claims;
  }
}

export interface LinkSignerOptions {
  /** HMAC secret, at least 32 characters. */
  secret: string;
  /** Default lifetime of a link, in hours. */
  ttlHours: number;
  /** Public base URL of the API, e.g. `https://aims.example.com`; a path prefix is kept. */
  baseUrl: string;
}

export interface SignOptions {
  /** Lifetime of this link in hours, instead of the signer's default. */
  ttlHours?: number;
  /** The issue time; defaults to now. */
  now?: Date;
}

export interface VerifyExpectations {
  /** The action(s) the page accepts. */
  action?: LinkAction | LinkAction[];
  /** The person the link must have been issued to. */
  person?: string;
  /** The current time; defaults to now. */
  now?: Date;
}

export interface LinkSigner {
  /** Signs a token for the claims; `task` defaults to `wf`. Throws a TypeError naming a bad field. */
  sign(claims: LinkRequest, opts?: SignOptions): Promise<string>;
  /** Verifies a token and returns its claims, or throws LinkError. */
  verify(token: unknown, expect?: VerifyExpectations): Promise<LinkClaims>;
  /** `baseUrl` + `path` with the token as the `token` query parameter. */
  url(path: string, token: string): string;
}

/** Compact JWT payload as stored in a token. */
const tokenPayloadSchema = z.object({
  iss: z.literal(ISSUER),
  aud: LinkAction,
  sub: z.string(),
  wf: z.string(),
  tk: z.string().optional(),
  iat: z.number(),
  exp: z.number(),
  jti: z.string(),
});

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(value)'}: ${issue.message}`).join('; ');
}

function ttlHoursOrThrow(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TTL_HOURS) {
    throw new TypeError(`${field}: must be a number of hours above 0 and at most ${MAX_TTL_HOURS}`);
  }
  return value;
}

function dateOrThrow(value: unknown, field: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new TypeError(`${field}: must be a valid Date`);
  }
  return value;
}

/** Decodes an authenticated payload into claims, or undefined when it does not have our shape. */
function claimsFromPayload(payload: JWTPayload): LinkClaims | undefined {
  const parsed = tokenPayloadSchema.safeParse(payload);
  if (!parsed.success) return undefined;
  const p = parsed.data;
  const claims = linkClaimsSchema.safeParse({
    wf: p.wf,
    task: p.tk ?? p.wf,
    action: p.aud,
    person: p.sub,
    exp: p.exp,
    iat: p.iat,
    jti: p.jti,
  });
  return claims.success ? claims.data : undefined;
}

function checkExpectations(claims: LinkClaims, expect: VerifyExpectations): void {
  if (expect.action !== undefined) {
    const allowed = Array.isArray(expect.action) ? expect.action : [expect.action];
    if (!allowed.includes(claims.action)) throw new LinkError('wrong-action', { claims });
  }
  if (expect.person !== undefined && claims.person !== expect.person) {
    throw new LinkError('wrong-person', { claims });
  }
}

export function createLinkSigner(options: LinkSignerOptions): LinkSigner {
  if (typeof options.secret !== 'string' || options.secret.length < 32) {
    throw new TypeError('secret: must be at least 32 characters');
  }
  const defaultTtlHours = ttlHoursOrThrow(options.ttlHours, 'ttlHours');
  let base: URL;
  try {
    base = new URL(options.baseUrl);
  } catch {
    throw new TypeError(`baseUrl: not a URL: ${JSON.stringify(options.baseUrl)}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new TypeError('baseUrl: must be an http or https URL');
  }
  const baseUrl = `${base.origin}${base.pathname.replace(/\/+$/, '')}`;
  const key = new TextEncoder().encode(options.secret);

  return {
    async sign(claims, opts = {}) {
      const parsed = linkRequestSchema.safeParse(claims);
      if (!parsed.success) throw new TypeError(`link claims: ${describeIssues(parsed.error)}`);
      const { wf, task, action, person } = parsed.data;
      const ttlHours = opts.ttlHours === undefined ? defaultTtlHours : ttlHoursOrThrow(opts.ttlHours, 'ttlHours');
      const now = opts.now === undefined ? new Date() : dateOrThrow(opts.now, 'now');
      const iat = Math.floor(now.getTime() / 1000);
      const exp = iat + Math.round(ttlHours * 3600);
      const payload: Record<string, string> = { wf };
      if (task !== undefined && task !== wf) payload.tk = task;
      return new SignJWT(payload)
        .setProtectedHeader({ alg: ALGORITHM })
        .setIssuer(ISSUER)
        .setAudience(action)
        .setSubject(person)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .setJti(randomBytes(12).toString('base64url'))
        .sign(key);
    },

    async verify(token, expect = {}) {
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
        throw new LinkError('invalid');
      }
      const currentDate = expect.now === undefined ? new Date() : dateOrThrow(expect.now, 'now');
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: [ALGORITHM],
          issuer: ISSUER,
          currentDate,
          requiredClaims: ['exp', 'iat', 'jti', 'sub', 'aud'],
        }));
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) {
          // The signature was checked before the expiry, so these claims are authentic.
          const claims = claimsFromPayload(err.payload);
          if (!claims) throw new LinkError('invalid', { cause: err });
          checkExpectations(claims, expect);
          throw new LinkError('expired', { claims, cause: err });
        }
        if (err instanceof joseErrors.JOSEError) throw new LinkError('invalid', { cause: err });
        throw err;
      }
      const claims = claimsFromPayload(payload);
      if (!claims) throw new LinkError('invalid');
      checkExpectations(claims, expect);
      return claims;
    },

    url(path, token) {
      if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//')) {
        throw new TypeError(`path: must be an absolute path such as /tasks, got ${JSON.stringify(path)}`);
      }
      const url = new URL(`${baseUrl}${path}`);
      url.searchParams.set('token', token);
      return url.toString();
    },
  };
}
