/**
 * Sign-in in tests: the local OpenID provider (src/auth/dev-provider.ts) on a free port with
 * the example organization's people, the API configuration that points at it, and a sign-in
 * walked through with plain HTTP (the API by `inject`, the provider over the network), keeping
 * each side's cookies the way a browser would.
 */
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { startDevProvider, type DevProvider } from '../../src/auth/dev-provider.js';
import { loadOrganization } from '../../src/organization/load.js';
import type { Organization } from '../../src/organization/schema.js';

export const exampleOrgFile = path.resolve(import.meta.dirname, '../../config/organization.example.yaml');

export const TEST_CLIENT_ID = 'aimsflow-test';
export const TEST_CLIENT_SECRET = 'test-client-secret-0123456789abcdef';
export const TEST_SESSION_SECRET = 'test-session-secret-0123456789abcdef0123';

export async function exampleOrganization(): Promise<Organization> {
  return loadOrganization(exampleOrgFile);
}

/** The provider for an API at `publicBaseUrl`; `organization` defaults to the example file. */
export async function startTestProvider(publicBaseUrl: string, organization?: () => Organization): Promise<DevProvider> {
  const example = organization ? undefined : await exampleOrganization();
  const org = organization ?? (() => example as Organization);
  return startDevProvider({
    organization: org,
    cookieSecret: 'test-provider-cookie-secret-0123456789',
    client: {
      clientId: TEST_CLIENT_ID,
      clientSecret: TEST_CLIENT_SECRET,
      redirectUrl: `${publicBaseUrl}/auth/callback`,
      postLogoutRedirectUrl: `${publicBaseUrl}/auth/session`,
    },
  });
}

/** The API's sign-in variables for `issuer`. */
export function signInEnv(issuer: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    OIDC_ISSUER: issuer,
    OIDC_CLIENT_ID: TEST_CLIENT_ID,
    OIDC_CLIENT_SECRET: TEST_CLIENT_SECRET,
    SESSION_SECRET: TEST_SESSION_SECRET,
    ...env,
  };
}

/** A minimal cookie jar: name → value (the paths of one host's cookies are ignored). */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  take(setCookies: readonly string[]): void {
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

function setCookiesOf(headers: Record<string, unknown>): string[] {
  const value = headers['set-cookie'];
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return typeof value === 'string' ? [value] : [];
}

export interface ApiResponse {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

/** A request to the API with the jar's cookies; the answer's cookies go back into the jar. */
export async function apiRequest(
  app: FastifyInstance,
  jar: CookieJar,
  request: { method?: 'GET' | 'POST'; url: string; headers?: Record<string, string>; payload?: string | object },
): Promise<ApiResponse> {
  const res = await app.inject({
    method: request.method ?? 'GET',
    url: request.url,
    headers: { ...(jar.cookies.size ? { cookie: jar.header() } : {}), ...request.headers },
    ...(request.payload !== undefined ? { payload: request.payload } : {}),
  });
  jar.take(setCookiesOf(res.headers));
  return { statusCode: res.statusCode, headers: res.headers, body: res.body };
}

/**
 * Walks the provider's side of a sign-in from its authorization URL: the login form, the
 * submitted login (any password), and the redirects, up to the URL it sends the browser back
 * to (the API's callback with `code` and `state`).
 */
export async function loginAtProvider(authorizationUrl: string, login: string, jar = new CookieJar()): Promise<URL> {
  let url = new URL(authorizationUrl);
  for (let hop = 0; hop < 10; hop++) {
    const res = await fetch(url, { redirect: 'manual', headers: jar.cookies.size ? { cookie: jar.header() } : {}, signal: AbortSignal.timeout(10_000) });
    jar.take(res.headers.getSetCookie());
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      const next = new URL(location, url);
      if (next.origin !== url.origin) return next;
      url = next;
      continue;
    }
    const html = await res.text();
    if (res.status !== 200 || !/name="login"/.test(html)) throw new Error(`unexpected provider answer ${res.status} at ${url.href}: ${html.slice(0, 300)}`);
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error('no login form action');
    const posted = await fetch(new URL(action, url), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
      body: new URLSearchParams({ login, password: 'anything at all' }).toString(),
      signal: AbortSignal.timeout(10_000),
    });
    jar.take(posted.headers.getSetCookie());
    const after = posted.headers.get('location');
    if (!after) throw new Error(`login was not accepted: ${posted.status} ${await posted.text()}`);
    url = new URL(after, url);
  }
  throw new Error('too many redirects at the provider');
}

/** Signs in through `/login` as `login` and returns the API's jar holding the session cookie and the final answer. */
export async function signIn(app: FastifyInstance, login: string, returnTo?: string): Promise<{ jar: CookieJar; callback: ApiResponse }> {
  const jar = new CookieJar();
  const started = await apiRequest(app, jar, { url: returnTo ? `/login?returnTo=${encodeURIComponent(returnTo)}` : '/login' });
  if (started.statusCode !== 303) throw new Error(`/login answered ${started.statusCode}: ${started.body.slice(0, 300)}`);
  const back = await loginAtProvider(String(started.headers.location), login);
  const callback = await apiRequest(app, jar, { url: `${back.pathname}${back.search}` });
  return { jar, callback };
}

/** A GET to a listening API over HTTP with the jar's cookies (redirects not followed). */
export async function httpGet(apiUrl: string, jar: CookieJar, url: string, headers: Record<string, string> = {}): Promise<Response> {
  const res = await fetch(new URL(url, apiUrl), {
    redirect: 'manual',
    headers: { ...(jar.cookies.size ? { cookie: jar.header() } : {}), ...headers },
    signal: AbortSignal.timeout(15_000),
  });
  jar.take(res.headers.getSetCookie());
  return res;
}

/** Signs in as `login` on a listening API (e.g. the one `npm start` runs) and returns who /auth/session says is signed in. */
export async function signInOverHttp(apiUrl: string, login: string, jar = new CookieJar()): Promise<{ jar: CookieJar; principal: unknown }> {
  const started = await httpGet(apiUrl, jar, '/login');
  if (started.status !== 303) throw new Error(`/login answered ${started.status}: ${(await started.text()).slice(0, 300)}`);
  const back = await loginAtProvider(started.headers.get('location') ?? '', login);
  const callback = await httpGet(apiUrl, jar, `${back.pathname}${back.search}`);
  if (callback.status !== 303) throw new Error(`the callback answered ${callback.status}: ${(await callback.text()).slice(0, 300)}`);
  return { jar, principal: await whoIsSignedIn(apiUrl, jar) };
}

/** The principal of the jar's session on a listening API, or undefined when not signed in. */
export async function whoIsSignedIn(apiUrl: string, jar: CookieJar): Promise<unknown> {
  const res = await httpGet(apiUrl, jar, '/auth/session', { accept: 'application/json' });
  return res.status === 200 ? ((await res.json()) as { principal: unknown }).principal : undefined;
}
