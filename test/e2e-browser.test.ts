/**
 * End to end in a real browser: a task started through the admin API over HTTP, the e-mail
 * received by the real SMTP server, its link opened in headless Chromium on a phone-sized
 * viewport, the evidence form filled in and submitted, and the workflow completed with
 * exactly that data, with its evidence record in the ledger.
 *
 * Needs Debian's chromium at /usr/bin/chromium (or CHROMIUM_PATH); without it the test is
 * skipped with the reason (npm test lists it first).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiInstance } from '../src/api/app.js';
import type { HumanTaskInput, HumanTaskResult } from '../src/task/schema.js';
import { freePort } from '../scripts/lib/wait.js';
import { optionalPart } from '../scripts/lib/parts.js';
import { buildStackApp, launchChromium, linkIn, TEST_ADMIN_HEADERS } from './helpers/browser.js';
import { isNotification } from './helpers/smtp.js';
import { inMs, startTestStack, type TestStack } from './helpers/temporal.js';

const chromium = optionalPart('Chromium');
if (!chromium.here) console.warn(`e2e-browser: skipped: ${chromium.skipReason}`);

const screenshotDir = path.resolve(import.meta.dirname, '..', '.test-results');

describe.skipIf(!chromium.here)('task page in a real browser', () => {
  let stack: TestStack;
  let app: ApiInstance;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    stack = await startTestStack({ publicBaseUrl: base });
    app = await buildStackApp(stack);
    await app.listen({ host: '127.0.0.1', port });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await stack?.stop();
  });

  it('opens the e-mailed link, fills the evidence form, submits, and the workflow completes with that data', async () => {
    const started = await fetch(`${base}/admin/tasks`, {
      method: 'POST',
      headers: { ...TEST_ADMIN_HEADERS, 'content-type': 'application/json' },
      body: JSON.stringify({
        title: 'Evidence for the fraud model monitoring review',
        instructions:
          'Summarize how the fraud detection model was monitored last quarter.\n\nLink the monitoring dashboard and the review minutes.',
        clauses: ['9.1', 'A.6.2.6'],
        process: 'ai-system-lifecycle',
        assignee: { role: 'system-owner', of: 'fraud-detection' },
        dueAt: inMs(7 * 24 * 3600_000),
        form: 'evidence',
        policy: { reminderOffsets: [], escalation: [] },
      }),
    });
    expect(started.status).toBe(201);
    const { workflowId } = (await started.json()) as { workflowId: string };

    const mail = await stack.smtp.waitFor(
      (m) => isNotification(m, workflowId, 'task.assigned', 'sofia.lind@northwind.example'),
      20_000,
    );
    const link = linkIn(mail, '/t');
    expect(link.startsWith(`${base}/t?token=`)).toBe(true);

    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (err) => problems.push(err.message));

    const response = await page.goto(link);
    expect(response?.status()).toBe(200);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Evidence for the fraud model monitoring review');
    expect(await page.getByText('9.1 Monitoring, measurement, analysis and evaluation').count()).toBe(1);

    const summary = 'Weekly drift checks ran all quarter; two alerts were triaged within a day.';
    const evidence = 'https://grafana.northwind.example/d/fraud-drift';
    await page.getByLabel('Summary').fill(summary);
    await page.getByLabel('Evidence link 1').fill(evidence);
    // Fits the phone's width: nothing scrolls sideways.
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await mkdir(screenshotDir, { recursive: true });
    await page.screenshot({ path: path.join(screenshotDir, 'task-page.png'), fullPage: true });

    await page.getByRole('button', { name: 'Submit' }).click();
    await page.getByRole('heading', { level: 1, name: 'Thank you' }).waitFor();
    expect(await page.getByText('The task is complete.').count()).toBe(1);
    await page.screenshot({ path: path.join(screenshotDir, 'task-done.png'), fullPage: true });
    expect(problems).toEqual([]);
    await context.close();

    const result = await stack.client.workflow.getHandle<(input: HumanTaskInput) => Promise<HumanTaskResult>>(workflowId).result();
    expect(result).toMatchObject({ status: 'completed', completedBy: 'sofia.lind' });
    expect(result.data).toEqual({ summary, links: [evidence] });
    const [record, ...others] = await stack.records.list({ subject: workflowId, kind: 'task.completed' });
    expect(others).toEqual([]);
    expect(record).toMatchObject({ actor: 'sofia.lind', clauses: ['9.1', 'A.6.2.6'] });
    expect((record?.content as { data: unknown }).data).toEqual({ summary, links: [evidence] });
    // The ledger says how the person was authenticated: from the e-mailed link.
    expect((record?.content as { via?: string }).via).toBe('link');
  });
});
