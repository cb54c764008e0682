/**
 * Every console page, found by following the console's own links from the home page as the
 * AIMS manager (who may open all of them), in Chromium at phone width:
 * - answers 200 with exactly one `<h1>`;
 * - has no serious or critical axe-core finding (WCAG 2.2 A and AA rules);
 * - does not scroll sideways on a 390 px wide phone (wide tables scroll inside their wrapper);
 * - changes nothing: the ledger head and the number of workflows are the same before and after
 *   the whole crawl (GET never changes state).
 * Then a process owner opens every page found: each is either open to them (200) or a 403
 * page that says why, never an error.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optionalPart } from '../scripts/lib/parts.js';
import { TEST_ADMIN_HEADERS } from './helpers/browser.js';
import { axeViolations, consoleFetch, signInJar, signInPage, startConsole, type ConsoleContext } from './helpers/console.js';
import { eventually } from './helpers/temporal.js';

const chromium = optionalPart('Chromium');
if (!chromium.here) console.warn(`console-pages: skipped: ${chromium.skipReason}`);

/** Links the crawl does not follow: files to download, feeds, assets and sign-out. */
const NOT_A_PAGE = /\.(csv|json|ics|zip|js|css|png)(\?|$)|\/assets\/|[?&](format|download)=|\/(pack|export)(\/|\?|$)/;

/** At most this many pages (lists link to many items; one of each kind is enough). */
const MAX_PAGES = 120;

async function consoleLinks(page: Page): Promise<string[]> {
  const hrefs: string[] = await page.locator('a[href]:not([download])').evaluateAll((as) => as.map((a) => (a as unknown as { getAttribute(name: string): string | null }).getAttribute('href') ?? ''));
  return hrefs.filter((h) => h.startsWith('/console') && !NOT_A_PAGE.test(h)).map((h) => h.split('#')[0] ?? h);
}

/** The path without its query values: one page of each shape (e.g. one NC detail page, one filter). */
const shapeOf = (href: string) => {
  const url = new URL(href, 'http://x');
  const segments = url.pathname.split('/').map((s) => (/\d|%|\./.test(s) && s !== 'console' ? ':id' : s));
  return `${segments.join('/')}?${[...url.searchParams.keys()].sort().join('&')}`;
};

describe.skipIf(!chromium.here)('every console page', () => {
  let ctx: ConsoleContext;
  const found: string[] = [];
  const workflowCount = async () => (await ctx.stack.client.workflow.count(`TaskQueue = "${ctx.stack.config.TEMPORAL_TASK_QUEUE}"`)).count;

  beforeAll(async () => {
    ctx = await startConsole({ stack: { randomNcNumbers: true } });
    // Some content: the AI systems of the organization file, an open task for the AIMS manager and a nonconformity.
    const synced = await ctx.app.inject({ method: 'POST', url: '/admin/ai-systems/sync', headers: TEST_ADMIN_HEADERS, payload: {} });
    expect(synced.statusCode, synced.body).toBe(200);
    const quiet = { reminderOffsets: [], escalation: [] };
    const task = await ctx.app.inject({
      method: 'POST',
      url: '/admin/tasks',
      headers: TEST_ADMIN_HEADERS,
      payload: { title: 'Review the Q3 monitoring report', instructions: 'Read and sign off.', clauses: ['9.1'], process: 'ai-system-lifecycle', assignee: { person: 'priya.raman' }, dueAt: new Date(Date.now() + 5 * 86_400_000).toISOString(), form: 'evidence', policy: quiet },
    });
    expect(task.statusCode, task.body).toBe(201);
    const nc = await ctx.app.inject({
      method: 'POST',
      url: '/admin/nonconformities',
      headers: TEST_ADMIN_HEADERS,
      payload: { title: 'Fraud model retrained without the approved data sheet', description: 'The March retraining used an extract without an approved data sheet (A.7.5).', severity: 'minor', source: 'admin', clauses: ['A.7.5'], aiSystem: 'fraud-detection', owner: 'sofia.lind', policy: { stepDue: '1h', tasks: quiet } },
    });
    expect(nc.statusCode, nc.body).toBe(201);
    expect(nc.json<{ created: boolean }>().created).toBe(true);
    const { workflowId } = nc.json<{ workflowId: string }>();
    // Wait until what they start has settled: three AI systems and their assessments, the task, the NC and its first step's task.
    await eventually(() => ctx.stack.records.list({ subject: workflowId }), (records) => records.length >= 1);
    await eventually(() => ctx.stack.records.list({ kind: 'impact-assessment.started' }), (records) => records.length === 3);
    await eventually(() => workflowCount(), (n) => n >= 9);
    // Settled: the ledger head and the workflows stay the same across two reads a second apart.
    await eventually(
      async () => {
        const before = [(await ctx.stack.records.head()).seq, await workflowCount()];
        await new Promise((resolve) => setTimeout(resolve, 1000));
        return [...before, (await ctx.stack.records.head()).seq, await workflowCount()];
      },
      ([seqA, countA, seqB, countB]) => seqA === seqB && countA === countB,
    );
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('are accessible, fit a phone, have one heading each, and change nothing (crawled as the AIMS manager)', async () => {
    const headBefore = await ctx.stack.records.head();
    const workflowsBefore = await workflowCount();
    const page = await signInPage(ctx, 'priya.raman', 'phone');
    const scriptErrors: string[] = [];
    page.on('pageerror', (err) => scriptErrors.push(`${page.url()}: ${err.message}`));
    const queue = ['/console'];
    const shapes = new Set<string>();
    const problems: string[] = [];
    while (queue.length > 0 && found.length < MAX_PAGES) {
      const href = queue.shift() as string;
      const shape = shapeOf(href);
      if (shapes.has(shape)) continue;
      shapes.add(shape);
      const response = await page.goto(`${ctx.base}${href}`);
      const status = response?.status();
      if (status !== 200) {
        problems.push(`${href}: status ${status}`);
        continue;
      }
      found.push(href);
      const h1 = await page.locator('h1').count();
      if (h1 !== 1) problems.push(`${href}: ${h1} <h1> elements`);
      for (const v of await axeViolations(page)) problems.push(`${href}: axe ${v.impact} ${v.id} (${v.help}) at ${v.targets.join(', ')}`);
      const overflow = await page.evaluate(() => {
        const doc = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document;
        return doc.documentElement.scrollWidth - doc.documentElement.clientWidth;
      });
      if (overflow > 1) problems.push(`${href}: scrolls sideways by ${overflow}px at phone width`);
      for (const link of await consoleLinks(page)) if (!shapes.has(shapeOf(link))) queue.push(link);
    }
    expect(problems).toEqual([]);
    expect(scriptErrors).toEqual([]);
    expect(found.length).toBeGreaterThan(0);
    console.info(`console pages crawled: ${found.length} (${found.join(' ')})`);
    // Nothing changed: the same ledger head and the same workflows.
    const added = await ctx.stack.records.list({ afterSeq: headBefore.seq });
    expect(added.map((r) => `${r.kind} ${r.subject} by ${r.actor}`)).toEqual([]);
    const headAfter = await ctx.stack.records.head();
    expect({ seq: headAfter.seq, hash: headAfter.hash }).toEqual({ seq: headBefore.seq, hash: headBefore.hash });
    expect(await workflowCount()).toBe(workflowsBefore);
    await page.context().close();
  });

  it('answer a process owner with the page or with a 403 page that says why, never an error', async () => {
    expect(found.length).toBeGreaterThan(0);
    const jar = await signInJar(ctx, 'tom.baker');
    const answers: string[] = [];
    for (const href of found) {
      const res = await consoleFetch(ctx, jar, href);
      const html = await res.text();
      if (res.status === 403) expect(html, href).toContain('This page is not open to you');
      else expect(res.status, href).toBe(200);
      answers.push(`${res.status} ${href}`);
    }
    expect(answers.length).toBe(found.length);
  });
});
