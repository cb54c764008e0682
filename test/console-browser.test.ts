/**
 * The console's forms in a real browser, as the AIMS manager and top management use them:
 * Chromium signs in as the AIMS manager, plans the 2027 internal audit programme in the
 * planner (an impartiality refusal shown beside the lead auditor as it is typed, and again when
 * the plan is sent; then a valid plan, sent for approval), starts a management review, records
 * its minutes once the pack is built (deciding on each input missing from it) and sees the
 * approval requested. Then, signed in as top management, the approval is in "my open work" on
 * the console's home page. axe-core checks every form page; the planner is photographed at
 * desktop and phone width (docs/screenshots/audit-planner-*.png).
 *
 * The programme and the review have the ids a real organization would use
 * (`internal-audit-programme/2027`, `management-review/2027`), so they run in a namespace of
 * their own. The organization holds its review meetings at 00:00 UTC: a review started today
 * has its meeting under way, so its inputs are marked missing at once and the minutes can be
 * recorded now (the rule that minutes follow the meeting holds).
 *
 * Needs Debian's chromium at /usr/bin/chromium (or CHROMIUM_PATH); without it the test is
 * skipped with the reason.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optionalPart } from '../scripts/lib/parts.js';
import type { Organization } from '../src/organization/schema.js';
import { axeViolations, screenshots, signInPage, startConsole, type ConsoleContext } from './helpers/console.js';
import { createTestNamespace, exampleOrganization } from './helpers/temporal.js';

const chromium = optionalPart('Chromium');
if (!chromium.here) console.warn(`console-browser: skipped: ${chromium.skipReason}`);

const YEAR = 2027;
const REVIEW_ID = '2027';

/** Reloads `page` until `locator` shows `text` (a workflow moves on in its own time). */
async function reloadUntil(page: Page, selector: string, text: string | RegExp, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const content = (await page.locator(selector).textContent().catch(() => null)) ?? '';
    if (typeof text === 'string' ? content.includes(text) : text.test(content)) return;
    if (Date.now() > deadline) throw new Error(`"${selector}" never showed ${String(text)}; last: ${content.slice(0, 400)}`);
    await page.waitForTimeout(500);
    await page.reload();
  }
}

/** Polls `read` until `ok` holds for what it returns (the page's CSP rules out waitForFunction's eval). */
async function pollPage<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (ok(last)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}; last: ${JSON.stringify(last)?.slice(0, 400)}`);
}

/** Waits until the element `selector` holds `text` (a live check answers in its own time). */
async function waitForText(page: Page, selector: string, text: string, timeoutMs = 20_000): Promise<void> {
  await pollPage(`"${selector}" never showed "${text}"`, async () => (await page.locator(selector).first().textContent().catch(() => null)) ?? '', (t) => t.includes(text), timeoutMs);
}

/** Waits until the element `selector` has attribute `name` set to `value` (`null`: absent). */
async function waitForAttribute(page: Page, selector: string, name: string, value: string | null, timeoutMs = 20_000): Promise<void> {
  await pollPage(`"${selector}" never had ${name}=${String(value)}`, () => page.locator(selector).first().getAttribute(name), (v) => v === value, timeoutMs);
}

const textOf = async (page: Page, selector: string) => ((await page.locator(selector).first().textContent()) ?? '').trim();

const today = () => new Date().toISOString().slice(0, 10);
const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

describe.skipIf(!chromium.here)('the console forms in a real browser', () => {
  let ctx: ConsoleContext;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const example = await exampleOrganization();
    const organization: Organization = {
      ...example,
      organization: { ...example.organization, timezone: 'UTC' },
      managementReview: { ...example.managementReview, meetingTime: '00:00' },
    };
    const namespace = await createTestNamespace('console-browser');
    ctx = await startConsole({ stack: { organization, namespace } });
  }, 120_000);

  afterAll(async () => {
    for (const id of [`internal-audit-programme/${YEAR}`, `management-review/${REVIEW_ID}`]) {
      await ctx?.stack.client.workflow.getHandle(id).terminate('test finished').catch(() => undefined);
    }
    await ctx?.close();
  });

  const watch = (page: Page) => page.on('pageerror', (err) => pageErrors.push(err.message));

  it('plans the 2027 programme, starts a review, records its minutes; top management sees the approval', async () => {
    // --- The AIMS manager plans the 2027 internal audit programme.
    const page = await signInPage(ctx, 'priya.raman', 'desktop', `/console/plan/audit-programme/${YEAR}`);
    watch(page);
    expect(await textOf(page, 'h1')).toBe(`Internal audit programme ${YEAR}`);
    expect(await page.locator('h1').count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);

    await page.locator('#f-audits-0-auditId').fill('A-01');
    await page.locator('#f-audits-0-title').fill('Customer operations');
    await page.locator('#f-audits-0-scope-processes').fill('customer-operations');
    await page.locator('#f-audits-0-scope-controls').fill('A.8.2, A.8.3');
    await page.locator('#f-audits-0-window-start').fill(`${YEAR}-03-01`);
    await page.locator('#f-audits-0-window-end').fill(`${YEAR}-03-03`);
    await page.locator('#f-audits-0-auditee').selectOption('tom.baker');
    // Tom Baker would audit his own process: refused live, beside the lead auditor.
    await page.locator('#f-audits-0-leadAuditor').selectOption('tom.baker');
    await waitForText(page, '#f-audits-0-leadAuditor-error', 'tom.baker cannot audit themselves (they are the auditee)');
    await waitForAttribute(page, '#f-audits-0-leadAuditor', 'aria-invalid', 'true');
    expect(await textOf(page, '#plan-check')).toContain('problem');
    // The coverage over the cycle follows the plan as it is edited.
    expect(await textOf(page, '#plan-coverage')).toContain('A.9.2');
    expect(await axeViolations(page)).toEqual([]);
    await screenshots(page, 'audit-planner');

    // Sent anyway, the plan comes back with the same refusal beside the field and every value kept.
    await page.getByRole('button', { name: 'Submit the plan for approval' }).click();
    await page.waitForLoadState();
    expect(await textOf(page, '#f-audits-0-leadAuditor-error')).toContain('cannot audit themselves');
    expect(await page.locator('#f-audits-0-leadAuditor').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#f-audits-0-title').inputValue()).toBe('Customer operations');
    expect(await page.locator('#f-audits-0-scope-controls').inputValue()).toBe('A.8.2, A.8.3');
    expect(await textOf(page, '#plan-errors')).toContain('The plan was not submitted');

    // A valid plan: an internal auditor leads it; a second audit added.
    await page.locator('#f-audits-0-leadAuditor').selectOption('aisha.khan');
    await waitForText(page, '#plan-check', 'No problems found');
    await waitForAttribute(page, '#f-audits-0-leadAuditor', 'aria-invalid', null);
    expect(await page.locator('#f-audits-0-leadAuditor-error').isHidden()).toBe(true);
    await page.getByRole('button', { name: 'Add another audit' }).click();
    await page.locator('#f-audits-1-auditId').fill('A-02');
    await page.locator('#f-audits-1-title').fill('AI policy and leadership');
    await page.locator('#f-audits-1-scope-clauses').fill('5.1, 5.2, 5.3');
    await page.locator('#f-audits-1-scope-controls').fill('A.2.2');
    await page.locator('#f-audits-1-window-start').fill(`${YEAR}-05-10`);
    await page.locator('#f-audits-1-window-end').fill(`${YEAR}-05-11`);
    await page.locator('#f-audits-1-leadAuditor').selectOption('liam.walsh');
    await page.locator('#f-audits-1-auditee').selectOption('priya.raman');
    await waitForText(page, '#plan-check', 'No problems found');
    await page.getByRole('button', { name: 'Submit the plan for approval' }).click();
    await page.waitForURL(`${ctx.base}/console/plan/audit-programme/${YEAR}`);
    await reloadUntil(page, '#programme-state-title + p', 'The plan awaits approval');
    expect(await textOf(page, 'table caption')).toBe(`The plan of the ${YEAR} programme, waiting for approval`);
    expect(await textOf(page, 'tbody')).toContain('aisha.khan');
    expect(await axeViolations(page)).toEqual([]);

    // --- She starts the management review.
    await page.goto(`${ctx.base}/console/plan/management-review`);
    expect(await textOf(page, 'h1')).toBe('Start a management review');
    expect(await axeViolations(page)).toEqual([]);
    await page.locator('#f-reviewId').fill(REVIEW_ID);
    await page.locator('#f-meetingDate').fill(today());
    await waitForText(page, '#start-check', 'No problems found');
    await page.getByRole('button', { name: 'Start the review' }).click();
    await page.waitForURL(`${ctx.base}/console/plan/management-review/${REVIEW_ID}`);
    expect(await textOf(page, 'h1')).toBe(`Management review ${REVIEW_ID}`);

    // The meeting is under way: the inputs are marked missing and the pack is built.
    await reloadUntil(page, '#review-state-title + p', 'record the minutes');
    expect(await axeViolations(page)).toEqual([]);

    // --- The minutes: decisions, an action that supplies input (c), the other missing inputs accepted.
    await page.locator('#f-improvementDecisions').fill('Automate the export of the audit pack');
    await page.locator('#f-actions-0-title').fill('Survey the needs of interested parties');
    await page.locator('#f-actions-0-owner').selectOption('tom.baker');
    await page.locator('#f-actions-0-dueDate').fill(inDays(30));
    await page.locator('#f-actions-0-input').selectOption('c');
    // Live: the missing inputs still need a decision.
    await waitForText(page, '#f-missing-a-decision-error', 'has no decision');
    for (const key of ['a', 'b', 'd', 'e']) {
      await page.locator(`#f-missing-${key}-decision`).selectOption('accepted');
      await page.locator(`#f-missing-${key}-reason`).fill(`Input (${key}) was presented at the meeting`);
    }
    await page.locator('#f-missing-c-decision').selectOption('0');
    await waitForText(page, '#minutes-check', 'No problems found');
    await page.getByRole('button', { name: 'Record the minutes and ask top management to approve' }).click();
    await page.waitForURL(`${ctx.base}/console/plan/management-review/${REVIEW_ID}`);
    await reloadUntil(page, '#approval-state', 'Approval requested from top management (round 1): pending.');
    expect(await textOf(page, '#review-state-title + p')).toBe('The minutes are recorded and wait for approval by top management.');
    expect(await axeViolations(page)).toEqual([]);

    // --- Top management sees the approval in "my open work".
    const top = await signInPage(ctx, 'hannah.okafor');
    watch(top);
    await reloadUntil(top, 'section[aria-labelledby="my-work"] .work', `Management review ${REVIEW_ID}: results`);
    expect(await axeViolations(top)).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 300_000);

  it('every plan form passes axe, at desktop and phone width, before and after a refusal', async () => {
    for (const viewport of ['desktop', 'phone'] as const) {
      const page = await signInPage(ctx, 'priya.raman', viewport, '/console/plan');
      watch(page);
      const check = async (what: string) => {
        expect(await page.locator('h1').count(), `${what}: one h1`).toBe(1);
        expect(await axeViolations(page), `${what} (${viewport})`).toEqual([]);
        if (viewport === 'phone') expect(await page.evaluate<number>('document.documentElement.scrollWidth'), `${what} fits 390 px`).toBeLessThanOrEqual(390);
      };
      await check('plan index');
      await page.goto(`${ctx.base}/console/plan/certification`);
      await check('certification form');
      await page.locator('#f-certificateId').fill('CERT-AXE-01');
      await page.locator('#f-plan-stage1').fill(`${YEAR}-03-01`);
      await page.locator('#f-plan-stage2').fill(`${YEAR}-02-01`);
      await page.locator('#f-plan-surveillance1').fill(`${YEAR + 1}-02-01`);
      await page.locator('#f-plan-surveillance2').fill(`${YEAR + 2}-02-01`);
      await page.locator('#f-plan-recertification').fill(`${YEAR + 2}-12-01`);
      await waitForText(page, '#f-plan-stage2-error', 'rule stage2-after-stage1');
      await waitForAttribute(page, '#f-plan-stage2', 'aria-invalid', 'true');
      await check('certification form with a broken date rule');
      await page.getByRole('button', { name: 'Start the cycle' }).click();
      await page.waitForLoadState();
      expect(await textOf(page, '#f-plan-stage2-error')).toContain('rule stage2-after-stage1');
      await check('certification form refused');
      await page.goto(`${ctx.base}/console/plan/ai-system-change`);
      await check('significant change form');
      await page.getByRole('button', { name: 'Announce the change' }).click();
      await page.waitForLoadState();
      expect(await textOf(page, '#f-systemId-error')).toContain('choose the AI system');
      await check('significant change refused');
      await page.goto(`${ctx.base}/console/plan/schedules`);
      await check('schedules');
      await page.goto(`${ctx.base}/console/plan/schedules/management-review`);
      await check('schedule form');
      await page.locator('#f-meetingAfter').fill('soon');
      await waitForText(page, '#f-meetingAfter-error', 'must be a duration');
      await check('schedule form with an error');
      await page.context().close();
    }
    expect(pageErrors).toEqual([]);
  }, 240_000);

  it('works at phone width: the planner fits 390 px and refuses the same way without a wide table', async () => {
    const page = await signInPage(ctx, 'priya.raman', 'phone', `/console/plan/audit-programme/${YEAR + 1}`);
    watch(page);
    await page.locator('#f-audits-0-auditee').selectOption('priya.raman');
    await page.locator('#f-audits-0-scope-clauses').fill('10.2');
    await page.locator('#f-audits-0-leadAuditor').selectOption('priya.raman');
    await waitForText(page, '#f-audits-0-leadAuditor-error', 'cannot audit themselves');
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    expect(width).toBeLessThanOrEqual(390);
    expect(await axeViolations(page)).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
