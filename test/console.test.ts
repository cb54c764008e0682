/**
 * The console's frame: sign-in required (a page sends you to /login and back), the home page
 * with the signed-in person's open work, role-aware navigation, 403 pages that say why, and
 * forms refused without their CSRF field or from another site. In Chromium: the home page has
 * no serious or critical axe-core finding at desktop and phone width.
 */
import type { FastifyPluginCallback } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optionalPart } from '../scripts/lib/parts.js';
import { consoleGet, consolePost, sendConsoleMessage } from '../src/console/guard.js';
import { consoleView, sendConsole } from '../src/console/render.js';
import { TEST_ADMIN_HEADERS } from './helpers/browser.js';
import { axeViolations, consoleFetch, csrfIn, signInJar, signInPage, startConsole, type ConsoleContext } from './helpers/console.js';
import { eventually } from './helpers/temporal.js';
import { headersOf } from './helpers/keys.js';

const chromium = optionalPart('Chromium');
if (!chromium.here) console.warn(`console: browser checks skipped: ${chromium.skipReason}`);

const exportPage = consoleView('<h1>Export page</h1><form method="post"><input type="hidden" name="csrf" value="{{csrf}}"><button>Export</button></form>');

/** Two routes behind the guard, to see what it does on its own. */
const guarded: FastifyPluginCallback = (app, _options, done) => {
  app.get('/guarded', consoleGet('records.export'), async (request, reply) => sendConsole(request, reply, exportPage, {}, { title: 'Export' }));
  app.post('/guarded', consolePost('records.export'), async (request, reply) => sendConsoleMessage(request, reply, 200, { heading: 'Exported', paragraphs: [] }));
  done();
};

describe('console frame', () => {
  let ctx: ConsoleContext;

  beforeAll(async () => {
    ctx = await startConsole({ beforeListen: (app) => app.register(guarded, { prefix: '/console-test' }) });
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('sends someone who is not signed in to sign in, and back to the page they asked for', async () => {
    const res = await fetch(`${ctx.base}/console`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login?returnTo=%2Fconsole');
    const form = await fetch(`${ctx.base}/console-test/guarded`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=x' });
    expect(form.status).toBe(401);
    expect(await form.text()).toContain('You are not signed in');
  });

  it("shows the signed-in person's open work, with a signed link to each task, and a navigation for their roles", async () => {
    const started = await ctx.app.inject({
      method: 'POST',
      url: '/admin/tasks',
      headers: TEST_ADMIN_HEADERS,
      payload: { title: 'Upload the Q3 bias test results', instructions: 'Link the report.', clauses: ['9.1'], process: 'ai-system-lifecycle', assignee: { person: 'tom.baker' }, dueAt: new Date(Date.now() + 3 * 86_400_000).toISOString(), form: 'evidence', policy: { reminderOffsets: [], escalation: [] } },
    });
    expect(started.statusCode, started.body).toBe(201);
    const jar = await signInJar(ctx, 'tom.baker');
    const html = await eventually(
      async () => (await consoleFetch(ctx, jar, '/console')).text(),
      (body) => body.includes('Upload the Q3 bias test results'),
    );
    expect(html).toContain('<h1>Home</h1>');
    expect(html).toContain('Hello Tom Baker.');
    expect(html.replaceAll('&#x3D;', '=')).toMatch(/href="http:\/\/127\.0\.0\.1:\d+\/t\?token=[\w.-]+">Upload the Q3 bias test results<\/a>/);
    expect(html).toContain('aria-current="page">Home</a>');
    // A process owner reads registers and evidence; an external auditor the same; nobody without the permission sees the link.
    expect(html).toContain('href="/console/evidence"');
  });

  it('answers a person without the permission with a 403 page that says who they are, what they hold and what the page needs', async () => {
    const jar = await signInJar(ctx, 'tom.baker');
    const res = await consoleFetch(ctx, jar, '/console-test/guarded');
    expect(res.status).toBe(403);
    const html = await res.text();
    expect(html).toContain('This page is not open to you');
    expect(html).toContain('person tom.baker (signed in) holds the roles process-owner, system-owner, none of which may export the audit pack (permission records.export)');
    expect(html).toContain('ask the AIMS manager (Priya Raman)');
    const post = await consoleFetch(ctx, jar, '/console-test/guarded', { form: { csrf: 'a'.repeat(64) } });
    expect(post.status).toBe(403);
    expect(await post.text()).toContain('permission records.export');
  });

  it('accepts a form only with its CSRF field, bound to the session, sent from this site', async () => {
    const jar = await signInJar(ctx, 'priya.raman');
    const page = await consoleFetch(ctx, jar, '/console-test/guarded');
    expect(page.status).toBe(200);
    const csrf = csrfIn(await page.text());
    const missing = await consoleFetch(ctx, jar, '/console-test/guarded', { form: { other: 'x' } });
    expect(missing.status).toBe(403);
    expect(await missing.text()).toContain('The form is missing its security field');
    const foreignSession = csrfIn(await (await consoleFetch(ctx, await signInJar(ctx, 'priya.raman'), '/console-test/guarded')).text());
    const wrong = await consoleFetch(ctx, jar, '/console-test/guarded', { form: { csrf: foreignSession } });
    expect(wrong.status).toBe(403);
    expect(await wrong.text()).toContain('belongs to another sign-in');
    const crossSite = await consoleFetch(ctx, jar, '/console-test/guarded', { form: { csrf }, headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
    const ok = await consoleFetch(ctx, jar, '/console-test/guarded', { form: { csrf } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('<h1>Exported</h1>');
    // An API key acts as its principal here too (no session, so no same-site check; the field still counts).
    const keyPage = await fetch(`${ctx.base}/console-test/guarded`, { headers: headersOf('priya.raman') });
    expect(keyPage.status).toBe(200);
  });

  it('serves htmx from this origin, and pages load it under the page CSP', async () => {
    const res = await fetch(`${ctx.base}/console/assets/htmx.min.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('javascript');
    expect(await res.text()).toContain('htmx');
    const jar = await signInJar(ctx, 'priya.raman');
    const home = await consoleFetch(ctx, jar, '/console');
    expect(home.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await home.text()).toContain('<script src="/console/assets/htmx.min.js" defer></script>');
  });

  it.skipIf(!chromium.here)('has no serious or critical accessibility finding on the home page, at desktop and phone width', async () => {
    for (const viewport of ['desktop', 'phone'] as const) {
      const page = await signInPage(ctx, 'priya.raman', viewport);
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.reload();
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Home');
      expect(await axeViolations(page)).toEqual([]);
      // htmx loaded without a CSP refusal.
      expect(await page.evaluate(() => typeof (globalThis as unknown as { htmx?: unknown }).htmx)).toBe('object');
      expect(errors).toEqual([]);
      await page.context().close();
    }
  });
});
