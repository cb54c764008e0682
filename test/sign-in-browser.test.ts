/**
 * Sign-in in a real browser: headless Chromium opens /login on the API (listening on a real
 * port over the test stack), is sent to the local OpenID provider, signs in there as the AIMS
 * manager (any password), comes back signed in, starts a management review from the signed-in
 * page with its session cookie, and the ledger names her as the actor. Then she signs out,
 * here and at the provider.
 *
 * Needs Debian's chromium at /usr/bin/chromium (or CHROMIUM_PATH); without it the test is
 * skipped with the reason.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { randomInt } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiInstance } from '../src/api/app.js';
import type { DevProvider } from '../src/auth/dev-provider.js';
import { SESSION_COOKIE } from '../src/auth/session.js';
import { freePort } from '../scripts/lib/wait.js';
import { optionalPart } from '../scripts/lib/parts.js';
import { buildStackApp, launchChromium } from './helpers/browser.js';
import { startTestProvider, TEST_CLIENT_ID, TEST_CLIENT_SECRET, TEST_SESSION_SECRET } from './helpers/oidc.js';
import { eventually, startTestStack, type TestStack } from './helpers/temporal.js';

const chromium = optionalPart('Chromium');
if (!chromium.here) console.warn(`sign-in-browser: skipped: ${chromium.skipReason}`);

const screenshotDir = path.resolve(import.meta.dirname, '..', '.test-results');

/** A same-origin request made by the page's own script, so the browser sends its cookies and headers. */
async function fetchFromPage(page: Page, url: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: string }> {
  return page.evaluate(
    async ({ url, method, body }) => {
      const res = await fetch(url, {
        method: method ?? 'GET',
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: await res.text() };
    },
    { url, method: init.method, body: init.body },
  );
}

describe.skipIf(!chromium.here)('sign-in in a real browser', () => {
  let stack: TestStack;
  let provider: DevProvider;
  let app: ApiInstance;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    stack = await startTestStack({ publicBaseUrl: base });
    provider = await startTestProvider(base, () => stack.organization);
    app = await buildStackApp(stack, {
      config: { OIDC_ISSUER: provider.issuer, OIDC_CLIENT_ID: TEST_CLIENT_ID, OIDC_CLIENT_SECRET: TEST_CLIENT_SECRET, SESSION_SECRET: TEST_SESSION_SECRET },
    });
    await app.listen({ host: '127.0.0.1', port });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await provider?.close();
    await stack?.stop();
  });

  /** Signs in through the provider's form in a fresh browser context and returns the page, signed in. */
  async function signInAs(login: string, problems: string[]): Promise<Page> {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('pageerror', (err) => problems.push(err.message));
    await page.goto(`${base}/login`);
    // At the provider: its own origin, its login form.
    expect(new URL(page.url()).origin).toBe(provider.issuer);
    await page.getByLabel('E-mail address or person id').fill(login);
    await page.getByLabel('Password').fill('anything works here');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/auth/session`);
    return page;
  }

  it('signs the AIMS manager in through the local provider, with an HTTP-only session cookie, and signs her out', async () => {
    const problems: string[] = [];
    const page = await signInAs('priya.raman@northwind.example', problems);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Signed in as Priya Raman');
    await mkdir(screenshotDir, { recursive: true });
    await page.screenshot({ path: path.join(screenshotDir, 'signed-in.png'), fullPage: true });

    const cookies = await page.context().cookies(base);
    const session = cookies.find((c) => c.name === SESSION_COOKIE);
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    // Scripts cannot read it.
    expect(await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie)).not.toContain(SESSION_COOKIE);
    const me = await fetchFromPage(page, '/auth/session');
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body)).toMatchObject({ principal: { kind: 'person', id: 'priya.raman', via: 'session' } });

    // Sign out: the session ends here, then at the provider (its confirmation), then back here.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.origin === provider.issuer);
    await page.locator('button[autofocus], button[type=submit]').first().click();
    await page.waitForURL(`${base}/auth/session`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('You are not signed in');
    expect((await page.context().cookies(base)).some((c) => c.name === SESSION_COOKIE)).toBe(false);
    expect((await fetchFromPage(page, '/auth/session')).status).toBe(401);
    // Signed out at the provider too: /login asks for the password again.
    await page.goto(`${base}/login`);
    expect(new URL(page.url()).origin).toBe(provider.issuer);
    expect(await page.getByLabel('E-mail address or person id').count()).toBe(1);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('shows a person outside the organization file a 403 page naming them', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.getByLabel('E-mail address or person id').fill('visitor@elsewhere.example');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/auth/callback');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('You are not in the organization file');
    expect(await page.getByText('You signed in as visitor@elsewhere.example, who is not in the organization file').count()).toBe(1);
    await context.close();
  });

  it('starts a management review from the signed-in page: the ledger names the signed-in person', async () => {
    const problems: string[] = [];
    const page = await signInAs('priya.raman', problems);
    const reviewId = `2027-sso${randomInt(100_000, 999_999)}`;
    const meetingDate = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10);
    // The body names nobody; the session is who acts.
    const started = await fetchFromPage(page, '/admin/management-reviews', { method: 'POST', body: { reviewId, meetingDate } });
    expect(started.status, started.body).toBe(201);
    const { workflowId } = JSON.parse(started.body) as { workflowId: string };
    const [record] = await eventually(
      () => stack.records.list({ subject: workflowId, kind: 'management-review.started' }),
      (records) => records.length > 0,
    );
    expect(record?.actor).toBe('priya.raman');
    await stack.client.workflow.getHandle(workflowId).terminate('test done');
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
