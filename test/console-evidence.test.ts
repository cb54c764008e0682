/**
 * The console's evidence pages against a real stack and the API listening with sign-in: the
 * ledger browsed by subject, kind and clause and paged (a bad filter is a 400 page naming it),
 * one record with its place in the hash chain, verification (a POST that changes nothing)
 * with and without anchors, the audit pack download, the management-review packs, who may
 * do what, and axe-core in Chromium at desktop and phone width.
 */
import { randomInt } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optionalPart } from '../scripts/lib/parts.js';
import { TEST_ADMIN_HEADERS } from './helpers/browser.js';
import { axeViolations, consoleFetch, csrfIn, signInJar, signInPage, startConsole, type ConsoleContext } from './helpers/console.js';
import type { CookieJar } from './helpers/oidc.js';
import { eventually } from './helpers/temporal.js';

const chromium = optionalPart('Chromium');

/** Whether the page fits its viewport's width (tables scroll inside their own region, the page never sideways). */
const fitsWidth = (page: Page) =>
  page.evaluate(() => {
    const g = globalThis as unknown as { innerWidth: number; document: { documentElement: { scrollWidth: number } } };
    return g.document.documentElement.scrollWidth <= g.innerWidth;
  });
if (!chromium.here) console.warn(`console evidence: browser checks skipped: ${chromium.skipReason}`);

let ctx: ConsoleContext;
let priya: CookieJar;
let ncId = '';
/** A review id no other test file on the shared dev server uses (workflow ids are namespace-wide). */
const reviewId = `2099-extra-${randomInt(1, 1_000_000)}`;

/** The page, with the entities handlebars writes for `=` and `&` in links turned back. */
const get = async (jar: CookieJar, path: string) => {
  const res = await consoleFetch(ctx, jar, path);
  return { status: res.status, html: (await res.text()).replace(/&#x3D;/g, '=') };
};

beforeAll(async () => {
  ctx = await startConsole({ stack: { randomNcNumbers: true } });
  const raised = await ctx.app.inject({
    method: 'POST',
    url: '/admin/nonconformities',
    headers: TEST_ADMIN_HEADERS,
    payload: { title: 'Model card missing for the chatbot', description: 'A.6.2.7 asks for it.', severity: 'minor', source: 'admin', clauses: ['A.6.2.7'], owner: 'tom.baker', policy: { stepDue: '1h', tasks: { reminderOffsets: [], escalation: [] } } },
  });
  expect(raised.statusCode, raised.body).toBe(201);
  ncId = raised.json<{ ncId: string }>().ncId;
  // A few records of other kinds, so filters and pages have something to tell apart.
  for (let i = 1; i <= 3; i++) {
    await ctx.stack.records.append({ id: `console-evidence/${i}`, kind: 'test.note', subject: `console-evidence/item-${i}`, clauses: ['9.1'], actor: 'priya.raman', occurredAt: new Date().toISOString(), content: { n: i, text: `note ${i}` } });
  }
  const review = await ctx.app.inject({
    method: 'POST',
    url: '/admin/management-reviews',
    headers: TEST_ADMIN_HEADERS,
    payload: { reviewId, meetingDate: new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10), policy: { tasks: { reminderOffsets: [], escalation: [] } } },
  });
  expect(review.statusCode, review.body).toBe(201);
  priya = await signInJar(ctx, 'priya.raman');
}, 120_000);

afterAll(async () => {
  await ctx?.close();
});

describe('evidence pages', () => {
  it('browses the ledger in chain order, each record verified and linked to its page and to the item it is about', async () => {
    const { status, html } = await eventually(
      () => get(priya, '/console/evidence'),
      (r) => r.html.includes('nonconformity.raised'),
    );
    expect(status).toBe(200);
    expect(html.match(/<h1>/g)).toHaveLength(1);
    expect(html).toMatch(/The chain is intact through record \d+\./);
    expect(html).toContain(`<a href="/console/nonconformities/${ncId}">corrective-action/${ncId}</a>`);
    expect(html).toContain('<a href="/console/evidence?subject=console-evidence%2Fitem-2">console-evidence/item-2</a>');
    expect(html).toMatch(/<th scope="row"><a href="\/console\/evidence\/1">1<\/a><\/th>/);
    expect(html).toContain('aria-current="page">Evidence</a>');
  });

  it('filters by subject, kind and clause, and pages with afterSeq', async () => {
    const byKind = await get(priya, '/console/evidence?kind=test.note&clause=9.1');
    expect(byKind.html.match(/<td>test\.note<\/td>/g)).toHaveLength(3);
    expect(byKind.html).not.toContain('nonconformity.raised');
    const bySubject = await eventually(() => get(priya, `/console/evidence?subject=${encodeURIComponent(`corrective-action/${ncId}`)}`), (r) => r.html.includes('nonconformity.raised'));
    expect(bySubject.html).toContain('nonconformity.raised');
    expect(bySubject.html).not.toContain('test.note');

    const first = await get(priya, '/console/evidence?kind=test.note&limit=2');
    expect(first.html.match(/<td>test\.note<\/td>/g)).toHaveLength(2);
    const next = /<a href="([^"]+)">Next page<\/a>/.exec(first.html)?.[1]?.replace(/&amp;/g, '&');
    expect(next).toMatch(/^\/console\/evidence\?kind=test\.note&afterSeq=\d+&limit=2$/);
    const second = await get(priya, next!);
    expect(second.html.match(/<td>test\.note<\/td>/g)).toHaveLength(1);
    expect(second.html).not.toContain('Next page');
    expect(second.html).toContain('First page');
  });

  it('answers a bad filter with a 400 page naming it beside the field', async () => {
    const bad = await get(priya, '/console/evidence?from=yesterday&clause=A.x');
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('These filters cannot be used');
    expect(bad.html).toMatch(/<a href="#filter-from">From: [^<]+<\/a>/);
    expect(bad.html).toMatch(/<a href="#filter-clause">Clause or control: [^<]+<\/a>/);
    expect(bad.html).toMatch(/<input type="text" id="filter-from" name="from" value="yesterday" aria-invalid="true"/);
    const unknown = await get(priya, '/console/evidence?sort=desc');
    expect(unknown.status).toBe(400);
    expect(unknown.html).toContain('sort: is not a filter of this register');
  });

  it('shows one record with its hashes and its neighbours in the chain', async () => {
    const { status, html } = await get(priya, '/console/evidence/1');
    expect(status).toBe(200);
    expect(html).toMatch(/<h1>Record 1: [\w.-]+<\/h1>/);
    expect(html).toMatch(/Record 1 of \d+ in the chain\./);
    expect(html).toContain(`<dd class="hash">${'0'.repeat(64)}</dd>`);
    expect(html).toContain('<a href="/console/evidence/2">Next record (2)</a>');
    expect(html).not.toContain('Previous record');
    const note = (await ctx.stack.records.list({ kind: 'test.note', limit: 2 }))[1]!;
    const notePage = await get(priya, `/console/evidence/${note.seq}`);
    expect(notePage.html).toContain('&quot;text&quot;: &quot;note 2&quot;');
    expect(notePage.html).toContain(`<dd class="hash">${note.hash}</dd>`);
    expect(notePage.html).toContain(`Previous record (${note.seq - 1})`);
    const raised = (await ctx.stack.records.list({ kind: 'nonconformity.raised', limit: 1 }))[0]!;
    const raisedPage = await get(priya, `/console/evidence/${raised.seq}`);
    expect(raisedPage.html).toContain(`<a href="/console/nonconformities/${ncId}">corrective-action/${ncId}</a> · <a href="http://localhost:8233/namespaces/`);
    expect((await get(priya, '/console/evidence/0')).status).toBe(400);
    expect((await get(priya, '/console/evidence/one')).status).toBe(400);
    expect((await get(priya, '/console/evidence/999999')).status).toBe(404);
  });

  it('verifies the chain on a POST that changes nothing, against the anchors given', async () => {
    const page = await get(priya, '/console/evidence');
    const csrf = csrfIn(page.html);
    const before = await ctx.stack.records.head();
    const plain = await consoleFetch(ctx, priya, '/console/evidence/verify', { form: { csrf, anchor: '' } });
    expect(plain.status).toBe(200);
    const plainHtml = await plain.text();
    expect(plainHtml).toContain('The chain is intact');
    expect(plainHtml).toMatch(/\d+ records checked; every hash recomputed from the first record matches\./);

    const anchor = await ctx.stack.records.anchors.capture();
    const anchored = await consoleFetch(ctx, priya, '/console/evidence/verify', { form: { csrf, anchor: `${anchor!.seq}:${anchor!.hash}` } });
    const anchoredHtml = await anchored.text();
    expect(anchoredHtml).toContain('1 of 1 anchor match');
    expect(anchoredHtml).toContain(`<td>match</td>`);

    const wrong = await consoleFetch(ctx, priya, '/console/evidence/verify', { form: { csrf, anchor: `2:${'a'.repeat(64)}` } });
    const wrongHtml = await wrong.text();
    expect(wrongHtml).toContain('The chain is broken');
    expect(wrongHtml).toContain('<td>mismatch</td>');

    const bad = await consoleFetch(ctx, priya, '/console/evidence/verify', { form: { csrf, anchor: 'twelve:abc' } });
    expect(bad.status).toBe(400);
    const badHtml = await bad.text();
    expect(badHtml).toMatch(/<p class="field-error" id="f-anchor-error">[^<]+<\/p>/);
    expect(badHtml).toContain('aria-invalid="true"');

    // Nothing was written by verifying (the anchor captured above is not a record).
    expect((await ctx.stack.records.head()).seq).toBe(before.seq);
    const noCsrf = await consoleFetch(ctx, priya, '/console/evidence/verify', { form: { anchor: '' } });
    expect(noCsrf.status).toBe(403);
  });

  it('offers the audit pack and the management-review packs to those who may read them, and verification to those who may verify', async () => {
    const page = await get(priya, '/console/evidence?kind=test.note');
    expect(page.html).toContain('<a href="/admin/records/export?kind=test.note" download>download the audit pack</a>');
    expect(page.html).toContain('Management-review packs');
    const withReview = await eventually(() => get(priya, '/console/evidence'), (r) => r.html.includes(`${reviewId}/pack`));
    expect(withReview.html).toContain(`<a href="/admin/management-reviews/${reviewId}/pack">Pack of management review ${reviewId}</a>`);
    const pack = await consoleFetch(ctx, priya, '/admin/records/export?kind=test.note');
    expect(pack.status).toBe(200);
    const lines = (await pack.text()).trim().split('\n').map((l) => JSON.parse(l) as { type?: string });
    expect(lines.filter((l) => l.type === 'record')).toHaveLength(3);

    const tom = await signInJar(ctx, 'tom.baker');
    const tomPage = await get(tom, '/console/evidence');
    expect(tomPage.status).toBe(200);
    expect(tomPage.html).not.toContain('Verify the ledger');
    expect(tomPage.html).not.toContain('download the audit pack');
    const refused = await consoleFetch(ctx, tom, '/console/evidence/verify', { form: { csrf: 'a'.repeat(64), anchor: '' } });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('permission records.verify');

    const ines = await signInJar(ctx, 'ines.moreau');
    const auditor = await get(ines, '/console/evidence');
    expect(auditor.html).toContain('Verify the ledger');
    expect(auditor.html).toContain('download the audit pack');
  });

  it.runIf(chromium.here)('has no serious accessibility finding at desktop and phone width', async () => {
    for (const viewport of ['desktop', 'phone'] as const) {
      const page = await signInPage(ctx, 'priya.raman', viewport, '/console/evidence');
      expect(await axeViolations(page)).toEqual([]);
      expect(await fitsWidth(page)).toBe(true);
      await page.goto(`${ctx.base}/console/evidence/2`);
      expect(await axeViolations(page)).toEqual([]);
      expect(await fitsWidth(page)).toBe(true);
      await page.goto(`${ctx.base}/console/evidence?from=yesterday`);
      expect(await axeViolations(page)).toEqual([]);
      await page.goto(`${ctx.base}/console/evidence`);
      await page.getByRole('button', { name: 'Verify the ledger' }).click();
      await page.waitForURL(`${ctx.base}/console/evidence/verify`);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Ledger verification');
      expect(await axeViolations(page)).toEqual([]);
      await page.context().close();
    }
  });
});
