/**
 * The console's registers against a real stack (Temporal dev server, worker, records store)
 * and the API listening with sign-in: the nonconformity register with its filters (a bad one
 * is a 400 page naming it), an NC's page with its timeline, ledger records and Temporal UI
 * link, its update and cancel forms (CSRF, the API's validation, 403 without the permission),
 * the static details that link a workflow back to its page; the AI systems, risks, SoA,
 * concerns, objectives and policy pages. In Chromium: axe-core finds nothing serious on any of
 * them, at desktop and phone width, and the NC register is screenshot for the README.
 */
import { randomInt } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optionalPart } from '../scripts/lib/parts.js';
import { startConcern } from '../src/concern/start.js';
import { consolePathOf } from '../src/console/paths.js';
import { consoleDetails } from '../src/temporal/start.js';
import { ncStatusQuery } from '../src/corrective-action/contract.js';
import { TEST_ADMIN_HEADERS } from './helpers/browser.js';
import { axeViolations, consoleFetch, csrfIn, screenshots, signInJar, signInPage, startConsole, type ConsoleContext } from './helpers/console.js';
import type { CookieJar } from './helpers/oidc.js';
import { createTestNamespace, eventually } from './helpers/temporal.js';

const chromium = optionalPart('Chromium');

/** Whether the page fits its viewport's width (tables scroll inside their own region, the page never sideways). */
const fitsWidth = (page: Page) =>
  page.evaluate(() => {
    const g = globalThis as unknown as { innerWidth: number; document: { documentElement: { scrollWidth: number } } };
    return g.document.documentElement.scrollWidth <= g.innerWidth;
  });
if (!chromium.here) console.warn(`console registers: browser checks skipped: ${chromium.skipReason}`);

const quiet = { reminderOffsets: [], escalation: [] };

let ctx: ConsoleContext;
let priya: CookieJar;
const ncs: Record<'minor' | 'major' | 'incident', string> = { minor: '', major: '', incident: '' };

async function raise(body: Record<string, unknown>): Promise<string> {
  const res = await ctx.app.inject({
    method: 'POST',
    url: '/admin/nonconformities',
    headers: TEST_ADMIN_HEADERS,
    payload: {
      description: 'Found while reviewing the register.',
      severity: 'minor',
      source: 'admin',
      clauses: ['A.7.5'],
      owner: 'tom.baker',
      policy: { stepDue: '1h', tasks: quiet },
      ...body,
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ ncId: string }>().ncId;
}

/** The page, with the entity handlebars writes for `=` in links turned back. */
const get = async (jar: CookieJar, path: string) => {
  const res = await consoleFetch(ctx, jar, path);
  return { status: res.status, html: (await res.text()).replace(/&#x3D;/g, '=').replace(/&amp;/g, '&'), location: res.headers.get('location') };
};

beforeAll(async () => {
  // Its own namespace: it syncs the organization file's objectives, whose workflow ids are fixed.
  ctx = await startConsole({ stack: { randomNcNumbers: true, namespace: await createTestNamespace('console-registers') } });
  ncs.minor = await raise({ title: 'Fraud model retrained without the approved data sheet', aiSystem: 'fraud-detection' });
  ncs.major = await raise({ title: 'Credit model bias test skipped before release', severity: 'major', source: 'internal-audit', sourceRef: 'A-03-F2', owner: 'sofia.lind' });
  ncs.incident = await raise({ title: 'Support assistant answered with another customer’s ticket', source: 'incident' });
  priya = await signInJar(ctx, 'priya.raman');
}, 120_000);

afterAll(async () => {
  await ctx?.close();
});

describe('nonconformity register', () => {
  it('lists every NC with its state, owner and target, each linked to its page and to its workflow in the Temporal UI', async () => {
    const { status, html } = await eventually(
      () => get(priya, '/console/nonconformities'),
      (r) => Object.values(ncs).every((id) => r.html.includes(`>${id}</a>`)),
    );
    expect(status).toBe(200);
    expect(html.match(/<h1>/g)).toHaveLength(1);
    expect(html).toContain(`<a href="/console/nonconformities/${ncs.major}">${ncs.major}</a>`);
    expect(html).toContain('Credit model bias test skipped before release');
    const ns = encodeURIComponent(ctx.stack.config.TEMPORAL_NAMESPACE);
    expect(html).toContain(`href="http://localhost:8233/namespaces/${ns}/workflows/corrective-action%2F${ncs.major}"`);
    expect(html).toMatch(/<caption id="ncs-caption">\d+ nonconformities<\/caption>/);
    expect(html).toContain('aria-current="page">Registers</a>');
  });

  it('filters by severity, source, owner and overdue, as the API does', async () => {
    // Visibility is eventually consistent: each filtered list is read until the NC it should hold shows.
    const majors = await eventually(() => get(priya, '/console/nonconformities?severity=major'), (r) => r.html.includes(`>${ncs.major}</a>`));
    expect(majors.status).toBe(200);
    expect(majors.html).toContain(`>${ncs.major}</a>`);
    expect(majors.html).not.toContain(`>${ncs.minor}</a>`);
    expect(majors.html).toMatch(/<option value="major" selected>major<\/option>/);
    const incidents = await eventually(() => get(priya, '/console/nonconformities?source=incident&owner=tom.baker&overdue=false&state='), (r) => r.html.includes(`>${ncs.incident}</a>`));
    expect(incidents.html).toContain(`>${ncs.incident}</a>`);
    expect(incidents.html).not.toContain(`>${ncs.major}</a>`);
    expect(incidents.html).toContain('Clear the filters');
  });

  it('answers a bad filter with a 400 page naming it, the error beside the filter', async () => {
    const bad = await get(priya, '/console/nonconformities?state=lost&overdue=maybe');
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('These filters cannot be used');
    expect(bad.html).toMatch(/<a href="#filter-state">State: must be one of containment, /);
    expect(bad.html).toContain('<a href="#filter-overdue">Overdue: must be true or false</a>');
    expect(bad.html).toMatch(/<select id="filter-state" name="state" aria-invalid="true" aria-describedby="filter-state-error">/);
    const unknown = await get(priya, '/console/nonconformities?colour=red');
    expect(unknown.status).toBe(400);
    expect(unknown.html).toContain('colour: is not a filter of this register');
  });

  it("shows an NC with its facts, timeline, ledger records and the actions the person's role allows", async () => {
    const page = await eventually(
      () => get(priya, `/console/nonconformities/${ncs.minor}`),
      (r) => r.html.includes('nonconformity.raised'),
    );
    expect(page.status).toBe(200);
    expect(page.html).toContain(`<h1>${ncs.minor}: Fraud model retrained without the approved data sheet</h1>`);
    expect(page.html).toContain('<h2 id="timeline-title">Timeline</h2>');
    expect(page.html).toMatch(/<strong>raised<\/strong>/);
    expect(page.html).toMatch(/<th scope="row"><a href="\/console\/evidence\/\d+">\d+<\/a><\/th><td><time datetime="[^"]+">[^<]+<\/time><\/td><td>nonconformity\.raised<\/td>/);
    expect(page.html).toContain(`href="/console/ai-systems/fraud-detection"`);
    expect(page.html).toContain('Open in the Temporal UI');
    expect(page.html).toContain(`action="/console/nonconformities/${ncs.minor}/comments"`);
    expect(page.html).toContain(`action="/console/nonconformities/${ncs.minor}/cancel"`);

    // A process owner may post an update but not cancel; an external auditor only reads.
    const tom = await signInJar(ctx, 'tom.baker');
    const tomPage = await get(tom, `/console/nonconformities/${ncs.minor}`);
    expect(tomPage.html).toContain('Post an update');
    expect(tomPage.html).not.toContain('Cancel this nonconformity');
    const refused = await consoleFetch(ctx, tom, `/console/nonconformities/${ncs.minor}/cancel`, { form: { csrf: csrfIn(tomPage.html), reason: 'Not needed' } });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('permission corrective-action.cancel');
    const ines = await signInJar(ctx, 'ines.moreau');
    const auditor = await get(ines, `/console/nonconformities/${ncs.minor}`);
    expect(auditor.status).toBe(200);
    expect(auditor.html).not.toContain('<form method="post"');

    expect((await get(priya, '/console/nonconformities/NC-1999-999')).status).toBe(404);
    const badId = await get(priya, '/console/nonconformities/nc-one');
    expect(badId.status).toBe(400);
    expect(badId.html).toContain('e.g. NC-2027-004');
  });

  it('posts an update through the form: a missing text is shown beside the field, a good one goes to the timeline', async () => {
    const page = await get(priya, `/console/nonconformities/${ncs.minor}`);
    const csrf = csrfIn(page.html);
    const empty = await consoleFetch(ctx, priya, `/console/nonconformities/${ncs.minor}/comments`, { form: { csrf, text: '   ' } });
    expect(empty.status).toBe(400);
    const emptyHtml = await empty.text();
    expect(emptyHtml).toMatch(/<p class="field-error" id="f-text-error">is required<\/p>/);
    expect(emptyHtml).toMatch(/<textarea id="f-text" name="text" rows="4" required aria-invalid="true" aria-describedby="f-text-hint f-text-error">/);

    const noCsrf = await consoleFetch(ctx, priya, `/console/nonconformities/${ncs.minor}/comments`, { form: { text: 'Without the field' } });
    expect(noCsrf.status).toBe(403);

    const posted = await consoleFetch(ctx, priya, `/console/nonconformities/${ncs.minor}/comments`, { form: { csrf, text: 'Data sheet found in the archive; checking it.' } });
    expect(posted.status).toBe(303);
    expect(posted.headers.get('location')).toBe(`/console/nonconformities/${ncs.minor}?done=commented`);
    const after = await get(priya, posted.headers.get('location')!);
    expect(after.html).toContain('Your update was posted.');
    expect(after.html).toContain('Data sheet found in the archive; checking it.');
    const status = await ctx.stack.client.workflow.getHandle(`corrective-action/${ncs.minor}`).query(ncStatusQuery);
    expect(status.timeline.some((e) => e.type === 'commented' && e.by === 'priya.raman')).toBe(true);
  });

  it('cancels with a reason: a minor NC at once, a major one only once top management approves', async () => {
    const page = await get(priya, `/console/nonconformities/${ncs.incident}`);
    const csrf = csrfIn(page.html);
    const noReason = await consoleFetch(ctx, priya, `/console/nonconformities/${ncs.incident}/cancel`, { form: { csrf, reason: '' } });
    expect(noReason.status).toBe(400);
    expect(await noReason.text()).toContain('a reason is required');
    const cancelled = await consoleFetch(ctx, priya, `/console/nonconformities/${ncs.incident}/cancel`, { form: { csrf, reason: 'Raised twice; the other NC covers it.' } });
    expect(cancelled.status).toBe(303);
    expect(cancelled.headers.get('location')).toBe(`/console/nonconformities/${ncs.incident}?done=cancelled`);
    await eventually(
      () => ctx.stack.client.workflow.getHandle(`corrective-action/${ncs.incident}`).query(ncStatusQuery).catch(() => undefined),
      (s) => s?.state === 'cancelled',
    );
    const closed = await get(priya, `/console/nonconformities/${ncs.incident}`);
    expect(closed.html).not.toContain('Cancel this nonconformity');

    const major = await consoleFetch(ctx, priya, `/console/nonconformities/${ncs.major}/cancel`, { form: { csrf, reason: 'Duplicate of an earlier finding.' } });
    expect(major.status).toBe(303);
    expect(major.headers.get('location')).toBe(`/console/nonconformities/${ncs.major}?done=cancel-requested`);
    const again = await consoleFetch(ctx, priya, `/console/nonconformities/${ncs.major}/cancel`, { form: { csrf, reason: 'Asking twice.' } });
    // The form is gone once a request waits; a request sent anyway is refused by the workflow, with its reason.
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('is waiting for top management');
  });

  it('starts each NC with static details that link the workflow back to its console page', async () => {
    const described = await ctx.stack.client.workflow.getHandle(`corrective-action/${ncs.major}`).describe();
    expect(await described.staticDetails()).toBe(`[Open in the AIMS console](${ctx.base}/console/nonconformities/${ncs.major})`);
  });

  it.runIf(chromium.here)('has no serious accessibility finding at desktop and phone width, and is screenshot with a few NCs', async () => {
    for (const viewport of ['desktop', 'phone'] as const) {
      const page = await signInPage(ctx, 'priya.raman', viewport, '/console/nonconformities');
      expect(await axeViolations(page)).toEqual([]);
      expect(await fitsWidth(page)).toBe(true);
      if (viewport === 'desktop') await screenshots(page, 'nc-register');
      await page.goto(`${ctx.base}/console/nonconformities/${ncs.minor}`);
      expect(await axeViolations(page)).toEqual([]);
      await page.goto(`${ctx.base}/console/nonconformities?state=lost`);
      expect(await axeViolations(page)).toEqual([]);
      await page.context().close();
    }
  });
});

describe('AI systems, risks, SoA, concerns, objectives and policy', () => {
  /** Unique on the shared dev server, where workflow ids are namespace-wide. */
  const systemId = `console-chatbot-${randomInt(1, 1_000_000)}`;
  let concernId = '';
  let riskId = '';

  beforeAll(async () => {
    const post = (url: string, payload: object, method: 'POST' | 'PUT' = 'POST') => ctx.app.inject({ method, url, headers: TEST_ADMIN_HEADERS, payload });
    const system = await post('/admin/ai-systems', { id: systemId, name: 'Console chatbot', owner: 'marco.rossi', purpose: 'Answers questions about loans.', impactTier: 'medium', policy: { firstAssessmentIn: '1s' } });
    expect(system.statusCode, system.body).toBe(201);
    const risk = await post('/admin/risks', { title: 'Chatbot gives wrong loan terms', description: 'Hallucinated interest rates.', aiSystems: ['credit-scoring'], categories: ['robustness', 'transparency'], owner: 'marco.rossi', inherent: { likelihood: 'likely', consequence: 'major' } });
    expect(risk.statusCode, risk.body).toBe(201);
    riskId = risk.json<{ risk: { riskId: string } }>().risk.riskId;
    const soa = await post('/admin/soa', { changes: [{ control: 'A.6.2.7', implementation: 'partial', addRisks: [riskId] }], reason: 'Model cards are being written.' }, 'PUT');
    expect(soa.statusCode, soa.body).toBe(200);
    const handle = await startConcern(ctx.stack.client, ctx.stack.taskQueue, { description: 'The chatbot quoted a rate of 0.1 % to me.', reporterName: 'Jane Roe', reporterEmail: 'jane.roe@example.org', aiSystem: 'credit-scoring', reportedAt: new Date().toISOString() }, { organization: ctx.stack.organization, publicBaseUrl: ctx.base });
    concernId = handle.workflowId;
    const objectives = await ctx.app.inject({ method: 'POST', url: '/admin/objectives/sync', headers: TEST_ADMIN_HEADERS });
    expect(objectives.statusCode, objectives.body).toBe(200);
  }, 60_000);

  it('lists the registers a person may read', async () => {
    const index = await get(priya, '/console/registers');
    expect(index.status).toBe(200);
    for (const href of ['/console/nonconformities', '/console/concerns', '/console/ai-systems', '/console/risks', '/console/soa', '/console/objectives', '/console/policy']) expect(index.html).toContain(`href="${href}"`);
    const tom = await signInJar(ctx, 'tom.baker');
    const tomIndex = await get(tom, '/console/registers');
    expect(tomIndex.html).toContain('href="/console/risks"');
    expect(tomIndex.html).not.toContain('href="/console/concerns"');
    expect((await get(tom, '/console/concerns')).status).toBe(403);
  });

  it('shows the AI systems, one system with its assessments and history, and an assessment with its timeline and records', async () => {
    const list = await eventually(() => get(priya, '/console/ai-systems?owner=marco.rossi'), (r) => r.html.includes(`>${systemId}</a>`));
    expect(list.status).toBe(200);
    expect((await get(priya, '/console/ai-systems?state=sleeping')).status).toBe(400);
    const page = await eventually(() => get(priya, `/console/ai-systems/${systemId}`), (r) => r.html.includes('/assessments/'));
    expect(page.html).toContain(`<h1>Console chatbot (${systemId})</h1>`);
    expect(page.html).toContain('<strong>registered</strong>');
    expect(page.html).toContain('ai-system.registered');
    const assessment = new RegExp(`href="(/console/ai-systems/${systemId}/assessments/\\d{4}-1)"`).exec(page.html)?.[1];
    expect(assessment).toBeDefined();
    const detail = await eventually(() => get(priya, assessment!), (r) => r.html.includes('<strong>started</strong>'));
    expect(detail.html).toMatch(new RegExp(`<h1>Impact assessment \\d{4}-1 of ${systemId}</h1>`));
    expect(detail.html).toContain('Open in the Temporal UI');
    expect((await get(priya, `/console/ai-systems/${systemId}/assessments/first`)).status).toBe(400);
    expect((await get(priya, '/console/ai-systems/no-such-system')).status).toBe(404);
    const described = await ctx.stack.client.workflow.getHandle(`ai-system/${systemId}`).describe();
    expect(await described.staticDetails()).toBe(`[Open in the AIMS console](${ctx.base}/console/ai-systems/${systemId})`);
  });

  it('filters the risk register by level, owner and AI system, and shows a risk with its versions and records', async () => {
    const list = await get(priya, '/console/risks?scope=credit-scoring&owner=marco.rossi');
    expect(list.html).toContain(`>${riskId}</a>`);
    const other = await get(priya, '/console/risks?scope=fraud-detection');
    expect(other.html).not.toContain(`>${riskId}</a>`);
    const bad = await get(priya, '/console/risks?category=luck');
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('Category: must be an Annex C category');
    const page = await get(priya, `/console/risks/${riskId}`);
    expect(page.html).toContain(`<h1>${riskId}: Chatbot gives wrong loan terms</h1>`);
    expect(page.html).toContain('likely × major');
    expect(page.html).toContain('<strong>identified</strong>');
    expect(page.html).toContain('risk.identified');
    expect((await get(priya, '/console/risks/R-99999')).status).toBe(404);
  });

  it('lets top management accept a residual risk from its page, and refuses anyone else by the same rule as the API', async () => {
    // The AIMS manager holds the permission but is not top management: the rule refuses, on the page.
    const priyaPage = await get(priya, `/console/risks/${riskId}`);
    expect(priyaPage.html).toContain('Accept the residual risk');
    const refused = await consoleFetch(ctx, priya, `/console/risks/${riskId}/accept`, { form: { csrf: csrfIn(priyaPage.html), comment: 'Fine by me.' } });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('separation of duties: residual risk accepted below top management');

    const hannah = await signInJar(ctx, 'hannah.okafor');
    const page = await get(hannah, `/console/risks/${riskId}`);
    const csrf = csrfIn(page.html);
    const empty = await consoleFetch(ctx, hannah, `/console/risks/${riskId}/accept`, { form: { csrf, comment: '' } });
    expect(empty.status).toBe(400);
    expect(await empty.text()).toMatch(/<p class="field-error" id="f-comment-error">[^<]+<\/p>/);
    const accepted = await consoleFetch(ctx, hannah, `/console/risks/${riskId}/accept`, { form: { csrf, comment: 'Within appetite while the rate check is added.' } });
    expect(accepted.status).toBe(303);
    const after = await get(hannah, accepted.headers.get('location')!);
    expect(after.html).toContain('The residual risk was accepted.');
    expect(after.html).toContain('<span class="badge badge-done">accepted</span>');
    expect(after.html).toContain('accepted by hannah.okafor: Within appetite while the rate check is added.');

    const tom = await signInJar(ctx, 'tom.baker');
    expect((await get(tom, `/console/risks/${riskId}`)).html).not.toContain('Accept the residual risk');
  });

  it('shows the SoA in force, its versions, a diff and the export links', async () => {
    const soa = await get(priya, '/console/soa');
    expect(soa.html).toContain('<h1>Statement of Applicability, version 1</h1>');
    expect(soa.html).toContain('href="/admin/soa/export.csv?version=1"');
    expect(soa.html).toContain('href="/console/soa/diff?from=0&to=1"');
    expect(soa.html).toContain(`<a href="/console/risks/${riskId}">${riskId}</a>`);
    const v0 = await get(priya, '/console/soa?version=0');
    expect(v0.html).toContain('An earlier version');
    const diff = await get(priya, '/console/soa/diff?from=0&to=1');
    expect(diff.html).toMatch(/<th scope="row">A\.6\.2\.7<\/th><td>implementation<\/td>/);
    expect((await get(priya, '/console/soa?version=7')).status).toBe(404);
    expect((await get(priya, '/console/soa?version=latest')).status).toBe(400);
    const csv = await consoleFetch(ctx, priya, '/admin/soa/export.csv?version=1');
    expect(csv.status).toBe(200);
    expect(await csv.text()).toContain('A.6.2.7');
  });

  it('triages a concern through the task form: a bad answer beside its field, then a rejection', async () => {
    const list = await eventually(() => get(priya, '/console/concerns?state=triage'), (r) => r.html.includes(`>${concernId}</a>`));
    expect(list.html).toContain('The chatbot quoted a rate of 0.1 % to me.');
    // Who reported it is never shown.
    expect(list.html).not.toContain('Jane Roe');
    const page = await eventually(() => get(priya, `/console/${concernId.replace('concern/', 'concerns/')}`), (r) => r.html.includes('Record the triage'));
    expect(page.html).toContain('concern.reported');
    expect(page.html).not.toContain('Jane Roe');
    expect(page.html).not.toContain('jane.roe@example.org');
    const csrf = csrfIn(page.html);
    const action = `/console/${concernId.replace('concern/', 'concerns/')}/triage`;
    const bad = await consoleFetch(ctx, priya, action, { form: { csrf, decision: 'reject' } });
    expect(bad.status).toBe(400);
    const badHtml = await bad.text();
    expect(badHtml).toContain('Please check your answer');
    expect(badHtml).toMatch(/<p class="field-error" id="f-note-error">The note is required to reject/);
    const done = await consoleFetch(ctx, priya, action, { form: { csrf, decision: 'reject', note: 'The quoted rate is the promotional one for students.' } });
    expect(done.status).toBe(303);
    const after = await eventually(() => get(priya, done.headers.get('location')!), (r) => r.html.includes('concern.triaged'));
    expect(after.html).toContain('The triage was recorded.');
    expect(after.html).not.toContain('Record the triage');
  });

  it('shows the objectives and the policy in the console', async () => {
    const list = await eventually(() => get(priya, '/console/objectives'), (r) => r.html.includes('>credit-scoring-accuracy</a>'));
    expect(list.html).toContain('<a href="/console/objectives/credit-scoring-accuracy">credit-scoring-accuracy</a>');
    const page = await get(priya, '/console/objectives/credit-scoring-accuracy');
    expect(page.html).toContain('<h1>Objective credit-scoring-accuracy</h1>');
    expect(page.html).toContain('<svg');
    const policy = await get(priya, '/console/policy');
    expect(policy.html).toContain('<h1>AI policy versions</h1>');
  });

  it.runIf(chromium.here)('has no serious accessibility finding on any of these pages, at desktop and phone width', async () => {
    const assessment = new RegExp(`href="(/console/ai-systems/${systemId}/assessments/\\d{4}-1)"`).exec((await get(priya, `/console/ai-systems/${systemId}`)).html)?.[1];
    const pages = [
      '/console/registers',
      '/console/ai-systems',
      `/console/ai-systems/${systemId}`,
      ...(assessment ? [assessment] : []),
      '/console/risks',
      `/console/risks/${riskId}`,
      '/console/soa',
      '/console/soa/diff?from=0&to=1',
      '/console/concerns',
      `/console/${concernId.replace('concern/', 'concerns/')}`,
      '/console/objectives',
      '/console/objectives/credit-scoring-accuracy',
      '/console/policy',
    ];
    for (const viewport of ['desktop', 'phone'] as const) {
      const page = await signInPage(ctx, 'priya.raman', viewport, '/console/registers');
      for (const path of pages) {
        await page.goto(`${ctx.base}${path}`);
        expect({ path, violations: await axeViolations(page), fits: await fitsWidth(page) }).toEqual({ path, violations: [], fits: true });
      }
      await page.context().close();
    }
  });
});

describe('links back from the Temporal UI', () => {
  it('maps each workflow to its console page, and the evidence of its records when it has none', () => {
    expect(consolePathOf('corrective-action/NC-2027-004')).toBe('/console/nonconformities/NC-2027-004');
    expect(consolePathOf('concern/2027/k3m9x2qa')).toBe('/console/concerns/2027/k3m9x2qa');
    expect(consolePathOf('ai-system/credit-scoring')).toBe('/console/ai-systems/credit-scoring');
    expect(consolePathOf('impact-assessment/credit-scoring/2027-2')).toBe('/console/ai-systems/credit-scoring/assessments/2027-2');
    expect(consolePathOf('objective/credit-scoring-accuracy')).toBe('/console/objectives/credit-scoring-accuracy');
    expect(consolePathOf('risk/R-007')).toBe('/console/risks/R-007');
    expect(consolePathOf('soa-review/2027')).toBe('/console/soa');
    expect(consolePathOf('policy-review/2027')).toBe('/console/policy');
    expect(consolePathOf('internal-audit-programme/2027')).toBe('/console/plan/audit-programme/2027');
    expect(consolePathOf('management-review/2027-H1')).toBe('/console/plan/management-review/2027-H1');
    expect(consolePathOf('certification/iso42001/CERT-2027-01')).toBe('/console/plan/certification/CERT-2027-01');
    expect(consolePathOf('corrective-action/NC-2027-004/root-cause-1')).toBe('/console/evidence?subject=corrective-action%2FNC-2027-004%2Froot-cause-1');
    expect(consoleDetails(undefined, 'corrective-action/NC-2027-004')).toEqual({});
    expect(consoleDetails('https://aims.example/', 'ai-system/credit-scoring')).toEqual({ staticDetails: '[Open in the AIMS console](https://aims.example/console/ai-systems/credit-scoring)' });
  });

  it('links a SoA review started through the API back to the SoA page', async () => {
    const year = randomInt(2150, 2200);
    const started = await ctx.app.inject({ method: 'POST', url: '/admin/soa/reviews', headers: TEST_ADMIN_HEADERS, payload: { year } });
    expect(started.statusCode, started.body).toBe(201);
    const handle = ctx.stack.client.workflow.getHandle(`soa-review/${year}`);
    try {
      expect(await (await handle.describe()).staticDetails()).toBe(`[Open in the AIMS console](${ctx.base}/console/soa)`);
    } finally {
      await handle.terminate('test done').catch(() => undefined);
    }
  });

  it("gives the runs of a yearly schedule a link to the schedule's console page", async () => {
    const put = await ctx.app.inject({ method: 'PUT', url: '/admin/schedules/soa-review', headers: TEST_ADMIN_HEADERS, payload: { month: 1, day: 5, hour: 8, minute: 0, paused: true } });
    expect(put.statusCode, put.body).toBeLessThan(300);
    const { scheduleId } = put.json<{ scheduleId: string }>();
    const handle = ctx.stack.client.schedule.getHandle(scheduleId);
    try {
      const described = await handle.describe();
      expect(described.action.type).toBe('startWorkflow');
      expect((described.action as { staticDetails?: string }).staticDetails).toBe(`[Open in the AIMS console](${ctx.base}/console/plan/schedules/soa-review)`);
    } finally {
      await handle.delete().catch(() => undefined);
    }
  });
});
