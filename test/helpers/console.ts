/**
 * Console tests: the test stack, the API listening on a real port with sign-in through the
 * local OpenID provider, and Chromium; a browser page signed in as someone; axe-core's serious
 * and critical findings on a page; screenshots at desktop and phone width into
 * docs/screenshots (linked from the README).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { ApiInstance } from '../../src/api/app.js';
import type { DevProvider } from '../../src/auth/dev-provider.js';
import type { Config } from '../../src/config.js';
import { freePort } from '../../scripts/lib/wait.js';
import { buildStackApp, launchChromium } from './browser.js';
import { CookieJar, httpGet, loginAtProvider, signInEnv, startTestProvider } from './oidc.js';
import { startTestStack, type TestStack } from './temporal.js';

export interface ConsoleContext {
  stack: TestStack;
  app: ApiInstance;
  /** The API's origin, e.g. http://127.0.0.1:41234. */
  base: string;
  provider: DevProvider;
  browser: Browser;
  close(): Promise<void>;
}

export const VIEWPORTS = {
  desktop: { width: 1280, height: 900 },
  phone: { width: 390, height: 844 },
} as const;

/** A test stack with the API (and sign-in) on a real port, and Chromium. */
export async function startConsole(
  options: { config?: Partial<Config>; stack?: Parameters<typeof startTestStack>[0]; beforeListen?: (app: ApiInstance) => unknown } = {},
): Promise<ConsoleContext> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const stack = await startTestStack({ ...options.stack, publicBaseUrl: base });
  let provider: DevProvider | undefined;
  let app: ApiInstance | undefined;
  try {
    provider = await startTestProvider(base, () => stack.organization);
    const env = signInEnv(provider.issuer);
    app = await buildStackApp(stack, { config: { OIDC_ISSUER: env.OIDC_ISSUER, OIDC_CLIENT_ID: env.OIDC_CLIENT_ID, OIDC_CLIENT_SECRET: env.OIDC_CLIENT_SECRET, SESSION_SECRET: env.SESSION_SECRET, ...options.config } });
    await options.beforeListen?.(app);
    await app.listen({ host: '127.0.0.1', port });
    const browser = await launchChromium();
    const started = { stack, app, base, provider, browser };
    return {
      ...started,
      async close() {
        await browser.close().catch(() => undefined);
        await started.app.close();
        await started.provider.close();
        await stack.stop();
      },
    };
  } catch (err) {
    await app?.close().catch(() => undefined);
    await provider?.close().catch(() => undefined);
    await stack.stop();
    throw err;
  }
}

/** A new browser context signed in as `login` (a person id or e-mail address), on `returnTo` (default `/console`). */
export async function signInPage(ctx: ConsoleContext, login: string, viewport: keyof typeof VIEWPORTS = 'desktop', returnTo = '/console'): Promise<Page> {
  const context = await ctx.browser.newContext({ viewport: VIEWPORTS[viewport] });
  const page = await context.newPage();
  await page.goto(`${ctx.base}/login?returnTo=${encodeURIComponent(returnTo)}`);
  await page.getByLabel('E-mail address or person id').fill(login);
  await page.getByLabel('Password').fill('anything works here');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.origin === ctx.base && url.pathname === returnTo.split('?')[0]);
  return page;
}

/** A cookie jar signed in as `login` on the listening API (for plain HTTP requests). */
export async function signInJar(ctx: ConsoleContext, login: string): Promise<CookieJar> {
  const jar = new CookieJar();
  const started = await httpGet(ctx.base, jar, '/login?returnTo=%2Fconsole');
  if (started.status !== 303) throw new Error(`/login answered ${started.status}`);
  const back = await loginAtProvider(started.headers.get('location') ?? '', login);
  const callback = await httpGet(ctx.base, jar, `${back.pathname}${back.search}`);
  if (callback.status !== 303) throw new Error(`the callback answered ${callback.status}: ${(await callback.text()).slice(0, 300)}`);
  return jar;
}

/**
 * A request to the console as a browser on this site would send it (same-origin headers),
 * with the jar's cookies; redirects are not followed. `form` is sent url-encoded.
 */
export async function consoleFetch(ctx: ConsoleContext, jar: CookieJar, url: string, init: { method?: 'GET' | 'POST'; form?: Record<string, string | string[]>; headers?: Record<string, string> } = {}): Promise<Response> {
  const body = init.form ? new URLSearchParams(Object.entries(init.form).flatMap(([k, v]) => [v].flat().map((x): [string, string] => [k, x]))).toString() : undefined;
  const res = await fetch(new URL(url, ctx.base), {
    method: init.method ?? (body ? 'POST' : 'GET'),
    redirect: 'manual',
    headers: {
      ...(jar.cookies.size ? { cookie: jar.header() } : {}),
      ...(body ? { 'content-type': 'application/x-www-form-urlencoded', origin: ctx.base, 'sec-fetch-site': 'same-origin' } : {}),
      ...init.headers,
    },
    ...(body ? { body } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  jar.take(res.headers.getSetCookie());
  return res;
}

/** The hidden CSRF value in a console page's HTML. */
export function csrfIn(html: string): string {
  const m = /name="csrf" value="([0-9a-f]{64})"/.exec(html);
  if (!m?.[1]) throw new Error('no csrf field on the page');
  return m[1];
}

const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
let axeText: string | undefined;

export interface AxeFinding {
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

/** axe-core's serious and critical violations on the page as it is now (WCAG 2.0-2.2 A and AA rules). */
export async function axeViolations(page: Page): Promise<AxeFinding[]> {
  // Evaluated through the DevTools protocol: the page CSP (no inline script) does not apply to it.
  axeText ??= await readFile(axeSource, 'utf8');
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(axeText);
  const found = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[] }> }> }> } }).axe;
    const result = await axe.run((globalThis as unknown as { document: unknown }).document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact ?? 'unknown', help: v.help, targets: v.nodes.map((n) => n.target.map(String).join(' ')) }));
  });
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export const SCREENSHOT_DIR = path.resolve(import.meta.dirname, '..', '..', 'docs', 'screenshots');

/** Full-page screenshots of the page's current URL at desktop and phone width: docs/screenshots/<name>-desktop.png and -phone.png. */
export async function screenshots(page: Page, name: string): Promise<string[]> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const written: string[] = [];
  const original = page.viewportSize();
  for (const [label, size] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(size);
    const file = path.join(SCREENSHOT_DIR, `${name}-${label}.png`);
    await page.screenshot({ path: file, fullPage: true });
    written.push(file);
  }
  if (original) await page.setViewportSize(original);
  return written;
}
