/**
 * Sign-in through OpenID Connect against the real local provider (src/auth/dev-provider.ts on
 * a free port), without a browser: the API is driven by `inject`, the provider over HTTP, with
 * each side's cookies kept like a browser keeps them. Covers the happy path and each refusal:
 * an unknown person, a bad or replayed state, a provider that is down or too slow, expired
 * sessions, logout, and cross-site requests carrying a session cookie.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevProvider } from '../src/auth/dev-provider.js';
import { redactUrl } from '../src/api/logging.js';
import { safeReturnTo } from '../src/auth/routes.js';
import { SESSION_COOKIE, sessionEnded } from '../src/auth/session.js';
import type { Organization } from '../src/organization/schema.js';
import { freePort } from '../scripts/lib/wait.js';
import { buildTestApp, type TestApp } from './helpers/api.js';
import { apiRequest, CookieJar, exampleOrganization, loginAtProvider, signIn, signInEnv, startTestProvider } from './helpers/oidc.js';

const BASE = 'http://localhost:3000';
const JSON_ACCEPT = { accept: 'application/json' };
const HTML_ACCEPT = { accept: 'text/html' };

/** The paragraphs of a rendered message page, as text. */
function paragraphs(html: string): string[] {
  return [...html.matchAll(/<(?:h1|p)[^>]*>([^<]*)<\/(?:h1|p)>/g)].map((m) => (m[1] ?? '').replace(/&#x27;|&#39;/g, "'").replace(/&amp;/g, '&'));
}

describe('returnTo and session limits (pure)', () => {
  it('keeps the authorization code and state of the callback out of request logs', () => {
    expect(redactUrl('/auth/callback?code=abc123&state=xyz&iss=http%3A%2F%2F127.0.0.1%3A3100')).toBe(
      '/auth/callback?code=[redacted]&state=[redacted]&iss=http%3A%2F%2F127.0.0.1%3A3100',
    );
  });

  it.each([
    [undefined, '/auth/session'],
    ['', '/auth/session'],
    ['/admin/records?limit=5', '/admin/records?limit=5'],
    ['/auth/session#top', '/auth/session#top'],
  ])('accepts %j as %j', (value, path) => {
    expect(safeReturnTo(value, BASE)).toEqual({ ok: true, path });
  });

  it.each(['//evil.example/x', '/\\evil.example', 'https://evil.example/', 'admin', '/a\nb', ['/x'], 'x'.repeat(3000)])('refuses %j', (value) => {
    expect(safeReturnTo(value, BASE)).toMatchObject({ ok: false, message: expect.stringContaining('returnTo') as unknown });
  });

  const limits = { idleMs: 60 * 60_000, maxMs: 12 * 3600_000 };
  const now = Date.UTC(2027, 0, 1, 12);
  it.each([
    ['fresh', { signedInAt: now - 1000, seenAt: now - 1000 }, undefined],
    ['idle for the whole idle limit', { signedInAt: now - 2 * 3600_000, seenAt: now - 60 * 60_000 }, 'idle'],
    ['active but past the absolute limit', { signedInAt: now - 12 * 3600_000, seenAt: now - 1000 }, 'expired'],
    ['without a sign-in time', { seenAt: now }, 'expired'],
    ['signed in in the future', { signedInAt: now + 3600_000, seenAt: now }, 'expired'],
    ['without a last-seen time', { signedInAt: now - 1000 }, 'idle'],
  ] as const)('a session %s: %s', (_name, session, expected) => {
    expect(sessionEnded(session, limits, now)).toBe(expected);
  });
});

describe('sign-in through the local OpenID provider', () => {
  let provider: DevProvider;
  let org: Organization;
  let current: Organization;
  let t: TestApp;

  beforeAll(async () => {
    org = await exampleOrganization();
    current = org;
    provider = await startTestProvider(BASE, () => org);
    t = await buildTestApp({ env: signInEnv(provider.issuer), organization: () => current });
  });

  afterAll(async () => {
    await t?.close();
    await provider?.close();
  });

  it('signs the AIMS manager in by e-mail claim: the session names her as the principal', async () => {
    const { jar, callback } = await signIn(t.app, 'priya.raman', '/admin/records?limit=5');
    expect(callback.statusCode).toBe(303);
    expect(callback.headers.location).toBe('/admin/records?limit=5');
    const cookie = String(callback.headers['set-cookie']);
    expect(cookie).toContain(`${SESSION_COOKIE}=`);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    // Encrypted: neither the person nor the ID token is readable in the cookie.
    expect(jar.cookies.get(SESSION_COOKIE)).not.toMatch(/priya|eyJ/);

    const me = await apiRequest(t.app, jar, { url: '/auth/session', headers: JSON_ACCEPT });
    expect(me.statusCode).toBe(200);
    expect(JSON.parse(me.body)).toMatchObject({
      signedIn: true,
      principal: { kind: 'person', id: 'priya.raman', via: 'session' },
      person: { id: 'priya.raman', name: 'Priya Raman', email: 'priya.raman@northwind.example' },
    });
    const page = await apiRequest(t.app, jar, { url: '/auth/session', headers: HTML_ACCEPT });
    expect(paragraphs(page.body)).toContain('Signed in as Priya Raman');
  });

  it('signs in by typing the e-mail address at the provider too (sub is the person id)', async () => {
    const { jar } = await signIn(t.app, 'Sofia.Lind@northwind.example');
    const me = await apiRequest(t.app, jar, { url: '/auth/session', headers: JSON_ACCEPT });
    expect(JSON.parse(me.body)).toMatchObject({ principal: { id: 'sofia.lind' } });
  });

  it('refuses a person who is not in the organization file with a 403 page naming them and the AIMS manager', async () => {
    const { jar, callback } = await signIn(t.app, 'nobody@elsewhere.example');
    expect(callback.statusCode).toBe(403);
    expect(callback.headers['content-type']).toMatch(/text\/html/);
    expect(paragraphs(callback.body)).toContain(
      'You signed in as nobody@elsewhere.example, who is not in the organization file; ask the AIMS manager (Priya Raman) to add you.',
    );
    const me = await apiRequest(t.app, jar, { url: '/auth/session', headers: JSON_ACCEPT });
    expect(me.statusCode).toBe(401);
  });

  it('refuses a callback whose state does not match, one never started, and a replayed one, with a 400 page', async () => {
    const jar = new CookieJar();
    const started = await apiRequest(t.app, jar, { url: '/login' });
    expect(started.statusCode).toBe(303);
    const back = await loginAtProvider(String(started.headers.location), 'priya.raman');
    const forged = new URL(back);
    forged.searchParams.set('state', 'not-the-state-this-browser-got');
    const wrong = await apiRequest(t.app, jar, { url: `${forged.pathname}${forged.search}` });
    expect(wrong.statusCode).toBe(400);
    expect(paragraphs(wrong.body).join(' ')).toContain('the state does not match');

    const elsewhere = await apiRequest(t.app, new CookieJar(), { url: `${back.pathname}${back.search}` });
    expect(elsewhere.statusCode).toBe(400);

    const { jar: signedIn, callback } = await signIn(t.app, 'priya.raman');
    expect(callback.statusCode).toBe(303);
    const again = await apiRequest(t.app, signedIn, { url: `${back.pathname}${back.search}` });
    expect(again.statusCode).toBe(400);
  });

  it('answers 401 with a page when the provider reports an error (the person cancelled)', async () => {
    const jar = new CookieJar();
    const started = await apiRequest(t.app, jar, { url: '/login' });
    const state = new URL(String(started.headers.location)).searchParams.get('state') ?? '';
    const res = await apiRequest(t.app, jar, {
      url: `/auth/callback?error=access_denied&error_description=End-User+aborted+interaction&state=${state}&iss=${encodeURIComponent(provider.issuer)}`,
    });
    expect(res.statusCode).toBe(401);
    expect(paragraphs(res.body).join(' ')).toContain('access_denied');
  });

  it('refuses a returnTo on another site with a 400 page', async () => {
    const res = await apiRequest(t.app, new CookieJar(), { url: `/login?returnTo=${encodeURIComponent('//evil.example/steal')}` });
    expect(res.statusCode).toBe(400);
    expect(paragraphs(res.body).join(' ')).toContain('returnTo must be a path on this site');
  });

  it('ends a session idle too long, one past its absolute limit, and one whose person left', async () => {
    const now = Date.now();
    const cookieFor = (data: Record<string, unknown>) => {
      const jar = new CookieJar();
      jar.cookies.set(SESSION_COOKIE, encodeURIComponent(t.app.encodeSecureSession(t.app.createSecureSession(data))));
      return jar;
    };
    const idle = cookieFor({ person: 'priya.raman', signedInAt: now - 2 * 3600_000, seenAt: now - 61 * 60_000 });
    const old = cookieFor({ person: 'priya.raman', signedInAt: now - 13 * 3600_000, seenAt: now - 60_000 });
    const fresh = cookieFor({ person: 'priya.raman', signedInAt: now - 60_000, seenAt: now - 60_000 });
    for (const jar of [idle, old]) {
      const res = await apiRequest(t.app, jar, { url: '/auth/session', headers: JSON_ACCEPT });
      expect(res.statusCode).toBe(401);
      expect(jar.cookies.has(SESSION_COOKIE)).toBe(false);
    }
    const ok = await apiRequest(t.app, fresh, { url: '/auth/session', headers: JSON_ACCEPT });
    expect(ok.statusCode).toBe(200);

    current = { ...org, people: org.people.filter((p) => p.id !== 'priya.raman') };
    try {
      const left = await apiRequest(t.app, fresh, { url: '/auth/session', headers: JSON_ACCEPT });
      expect(left.statusCode).toBe(401);
    } finally {
      current = org;
    }
  });

  it('logs out: clears the cookie and sends the browser to the provider to end its session there', async () => {
    const { jar } = await signIn(t.app, 'priya.raman');
    const res = await apiRequest(t.app, jar, { method: 'POST', url: '/logout', headers: { origin: BASE, 'sec-fetch-site': 'same-origin' } });
    expect(res.statusCode).toBe(303);
    const location = new URL(String(res.headers.location));
    expect(`${location.origin}${location.pathname}`).toBe(`${provider.issuer}/session/end`);
    expect(location.searchParams.get('post_logout_redirect_uri')).toBe(`${BASE}/auth/session`);
    expect(location.searchParams.get('id_token_hint')).toMatch(/^eyJ/);
    expect(jar.cookies.has(SESSION_COOKIE)).toBe(false);
    const me = await apiRequest(t.app, jar, { url: '/auth/session', headers: JSON_ACCEPT });
    expect(me.statusCode).toBe(401);
    const atProvider = await fetch(location, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
    expect(atProvider.status).toBe(200);
    expect(await atProvider.text()).toContain('logout');
  });

  it('refuses cross-site state-changing requests that carry a session cookie (403), and lets same-site ones through', async () => {
    const { jar } = await signIn(t.app, 'priya.raman');
    const body = { title: 'x' };
    const crossSite: Array<Record<string, string>> = [
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site', origin: BASE },
      { origin: 'null' },
    ];
    for (const headers of crossSite) {
      const res = await apiRequest(t.app, jar, { method: 'POST', url: '/admin/tasks', headers, payload: body });
      expect(res.statusCode, JSON.stringify(headers)).toBe(403);
      expect((JSON.parse(res.body) as { message: string }).message).toContain('must come from this site');
      const logout = await apiRequest(t.app, jar, { method: 'POST', url: '/logout', headers });
      expect(logout.statusCode, JSON.stringify(headers)).toBe(403);
    }
    // Still signed in: none of those changed anything.
    expect((await apiRequest(t.app, jar, { url: '/auth/session', headers: JSON_ACCEPT })).statusCode).toBe(200);
    // A GET is never refused for its origin; a same-origin form post (Origin null under no-referrer) is accepted.
    expect((await apiRequest(t.app, jar, { url: '/admin/records', headers: { origin: 'https://evil.example' } })).statusCode).not.toBe(403);
    const out = await apiRequest(t.app, jar, { method: 'POST', url: '/logout', headers: { origin: 'null', 'sec-fetch-site': 'same-origin' } });
    expect(out.statusCode).toBe(303);
  });

  it('leaves admin requests without a session to the API key check', async () => {
    const res = await apiRequest(t.app, new CookieJar(), { url: '/admin/records', headers: { origin: 'https://evil.example' } });
    expect(res.statusCode).toBe(401);
    const withKey = await apiRequest(t.app, new CookieJar(), { url: '/admin/records', headers: t.adminHeaders });
    expect(withKey.statusCode).toBe(200);
  });
});

describe('a provider that is down or too slow', () => {
  let silent: Server;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    // Accepts connections and never answers.
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silent?.close(() => resolve()));
  });

  it('answers /login with a readable 503 page when nothing listens at the issuer', async () => {
    const port = await freePort();
    const t = await buildTestApp({ env: signInEnv(`http://127.0.0.1:${port}`) });
    try {
      const res = await apiRequest(t.app, new CookieJar(), { url: '/login', headers: HTML_ACCEPT });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('30');
      expect(paragraphs(res.body)).toContain('Sign-in is unavailable right now');
      expect(paragraphs(res.body).join(' ')).toContain(`The sign-in service at http://127.0.0.1:${port} could not be reached`);
    } finally {
      await t.close();
    }
  });

  it('answers /login with a 503 page within the deadline when the provider never answers', { timeout: 60_000 }, async () => {
    const { port } = silent.address() as { port: number };
    const t = await buildTestApp({ env: signInEnv(`http://127.0.0.1:${port}`, { OIDC_TIMEOUT_MS: '800' }) });
    try {
      const res = await apiRequest(t.app, new CookieJar(), { url: '/login' });
      expect(res.statusCode).toBe(503);
      expect(paragraphs(res.body).join(' ')).toContain('it did not answer in time');
    } finally {
      await t.close();
    }
  });

  it('answers the callback with a 503 page when the provider goes away between login and token exchange', async () => {
    const org = await exampleOrganization();
    const provider = await startTestProvider(BASE, () => org);
    const t = await buildTestApp({ env: signInEnv(provider.issuer), organization: () => org });
    try {
      const jar = new CookieJar();
      const started = await apiRequest(t.app, jar, { url: '/login' });
      const back = await loginAtProvider(String(started.headers.location), 'priya.raman');
      await provider.close();
      const res = await apiRequest(t.app, jar, { url: `${back.pathname}${back.search}` });
      expect(res.statusCode).toBe(503);
      expect(paragraphs(res.body)).toContain('Sign-in is unavailable right now');
    } finally {
      await t.close();
      await provider.close();
    }
  });
});

describe('sign-in switched off (no OIDC_ISSUER)', () => {
  it('says so on /login and the callback, and API keys still work', async () => {
    const t = await buildTestApp();
    try {
      for (const url of ['/login', '/auth/callback?code=x&state=y']) {
        const res = await t.app.inject({ url, headers: HTML_ACCEPT });
        expect(res.statusCode).toBe(404);
        expect(paragraphs(res.body)).toContain('Sign-in is not set up');
      }
      const session = await t.app.inject({ url: '/auth/session', headers: JSON_ACCEPT });
      expect(session.json()).toEqual({ signedIn: false, signInEnabled: false });
      // A stray cookie is ignored, not an error.
      const stray = await t.app.inject({ url: '/admin/records', headers: { ...t.adminHeaders, cookie: `${SESSION_COOKIE}=garbage` } });
      expect(stray.statusCode).toBe(200);
      const logout = await t.app.inject({ method: 'POST', url: '/logout' });
      expect(logout.statusCode).toBe(303);
    } finally {
      await t.close();
    }
  });
});
