/**
 * The Temporal Web UI reads encrypted payloads through the API's codec endpoint, in a real
 * browser: a dev server started as `npm start` starts it (`--ui-codec-endpoint <api>/codec`), a
 * worker and the API over it, a task whose input names a person's e-mail address. An operations
 * admin signs in to the API through the local OpenID provider (the session cookie), and, as the
 * UI's codec settings offer, has the UI include cross-origin credentials: the workflow page shows
 * the decoded input. Without a session the UI gets 401 from the codec and shows no plain text.
 *
 * Needs Debian's chromium (or CHROMIUM_PATH); without it the test is skipped with the reason.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiInstance } from '../src/api/app.js';
import type { DevProvider } from '../src/auth/dev-provider.js';
import type { Organization } from '../src/organization/schema.js';
import type { HumanTaskInput, HumanTaskResult, TaskStatus } from '../src/task/schema.js';
import { taskStatusQuery } from '../src/task/contract.js';
import { searchAttributeRegistrations } from '../src/temporal/search-attributes.js';
import { connectWhenReady } from '../scripts/lib/temporal-admin.js';
import { findTemporalCli } from '../scripts/temporal-cli.js';
import { optionalPart } from '../scripts/lib/parts.js';
import { freePorts, waitForHttp } from '../scripts/lib/wait.js';
import { buildStackApp, launchChromium } from './helpers/browser.js';
import { startTestProvider, TEST_CLIENT_ID, TEST_CLIENT_SECRET, TEST_SESSION_SECRET } from './helpers/oidc.js';
import { eventually, exampleOrganization, inMs, startTestStack, type TestStack } from './helpers/temporal.js';

const chromium = optionalPart('Chromium');
if (!chromium.here) console.warn(`codec-browser: skipped: ${chromium.skipReason}`);

const HOST = '127.0.0.1';
const screenshotDir = path.resolve(import.meta.dirname, '..', '.test-results');

describe.skipIf(!chromium.here)('the Temporal UI with the codec endpoint', () => {
  let server: ChildProcess | undefined;
  let stack: TestStack;
  let provider: DevProvider;
  let app: ApiInstance;
  let browser: Browser;
  let base: string;
  let uiUrl: string;
  let organization: Organization;

  beforeAll(async () => {
    const cli = findTemporalCli();
    if (!cli) throw new Error('the Temporal CLI is required (npm test builds it with Go)');
    const [temporalPort, uiPort, apiPort] = await freePorts(3);
    base = `http://${HOST}:${apiPort}`;
    uiUrl = `http://${HOST}:${uiPort}`;
    // The dev server as npm start runs it: the UI decodes through the API's codec endpoint.
    server = spawn(
      cli,
      [
        'server', 'start-dev',
        '--ip', HOST,
        '--port', String(temporalPort),
        '--ui-port', String(uiPort),
        '--ui-codec-endpoint', `${base}/codec`,
        '--log-level', 'error',
        ...searchAttributeRegistrations().flatMap(({ name, type }) => ['--search-attribute', `${name}=${type}`]),
      ],
      { stdio: 'ignore' },
    );
    const connection = await connectWhenReady(`${HOST}:${temporalPort}`, 'default', { timeoutMs: 90_000 });
    await connection.close();
    await waitForHttp(`${uiUrl}/`, { timeoutMs: 60_000 });

    // The example organization's operations admin is noah.berg.
    organization = await exampleOrganization();
    stack = await startTestStack({ address: `${HOST}:${temporalPort}`, publicBaseUrl: base, organization });
    provider = await startTestProvider(base, () => organization);
    app = await buildStackApp(stack, {
      config: {
        OIDC_ISSUER: provider.issuer,
        OIDC_CLIENT_ID: TEST_CLIENT_ID,
        OIDC_CLIENT_SECRET: TEST_CLIENT_SECRET,
        SESSION_SECRET: TEST_SESSION_SECRET,
        TEMPORAL_UI_URL: uiUrl,
      },
      organization: () => organization,
    });
    await app.listen({ host: HOST, port: apiPort });
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await provider?.close();
    await stack?.stop();
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
  });

  /** A browser context whose Temporal UI includes credentials with codec calls (the UI's own codec settings, kept in its local storage). */
  async function uiContext(): Promise<BrowserContext> {
    const context = await browser.newContext();
    await context.addInitScript((endpoint: string) => {
      const storage = (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage;
      storage.setItem('endpoint', JSON.stringify(endpoint));
      storage.setItem('includeCredentials', 'true');
      storage.setItem('overrideRemoteCodecConfiguration', 'true');
    }, `${base}/codec`);
    return context;
  }

  it('shows an operations admin who signed in to the API the decoded workflow input', { timeout: 180_000 }, async () => {
    const marker = randomUUID().slice(0, 8);
    const email = 'sofia.lind@northwind.example';
    const task = await stack.start<[HumanTaskInput], HumanTaskResult>('humanTask', [
      {
        title: `Drift review ${marker}`,
        instructions: `Ask ${email} for the monitoring dashboard.`,
        clauses: ['9.1'],
        process: 'ai-system-lifecycle',
        assignee: { person: 'sofia.lind' },
        dueAt: inMs(3_600_000),
        form: 'evidence',
      },
    ]);
    await eventually(() => task.query(taskStatusQuery), (s: TaskStatus) => s.state === 'open');
    const workflowPage = `${uiUrl}/namespaces/default/workflows/${encodeURIComponent(task.workflowId)}/${(await task.describe()).runId}/history`;

    // Not signed in: the codec answers 401 and the UI shows no plain text.
    const anonymous = await uiContext();
    const anonymousPage = await anonymous.newPage();
    const refused: number[] = [];
    anonymousPage.on('response', (res) => {
      if (res.url() === `${base}/codec/decode`) refused.push(res.status());
    });
    await anonymousPage.goto(workflowPage);
    await expect.poll(() => refused, { timeout: 60_000 }).toContain(401);
    expect(await anonymousPage.content()).not.toContain(email);
    await anonymous.close();

    // Signed in as an operations admin: the same page shows the input.
    const context = await uiContext();
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    expect(new URL(page.url()).origin).toBe(provider.issuer);
    await page.getByLabel('E-mail address or person id').fill('noah.berg');
    await page.getByLabel('Password').fill('anything works here');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/auth/session`);

    const decoded: number[] = [];
    page.on('response', (res) => {
      if (res.url() === `${base}/codec/decode`) decoded.push(res.status());
    });
    await page.goto(workflowPage);
    await expect.poll(() => decoded, { timeout: 60_000 }).toContain(200);
    expect(decoded).not.toContain(401);
    await expect.poll(async () => page.content(), { timeout: 60_000 }).toContain(email);
    expect(await page.content()).toContain(`Drift review ${marker}`);
    await mkdir(screenshotDir, { recursive: true });
    await page.screenshot({ path: path.join(screenshotDir, 'temporal-ui-decoded.png'), fullPage: true });
    await context.close();
  });
});
