/**
 * The console's plan forms over HTTP, as a browser without JavaScript (or htmx) sends them: who
 * may open and send them, CSRF, live checks that validate without changing anything, refusals
 * that come back with the error beside the field and the values kept, and what each form
 * starts or changes on the real stack (Temporal dev server, PGlite ledger, sign-in through the
 * local OpenID provider).
 *
 * Runs in a namespace of its own: the AI systems of the example organization have fixed
 * workflow ids. The organization holds its review meetings at 00:00 UTC, so a review started
 * today is past its meeting and takes minutes at once.
 */
import { randomInt } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optionalPart } from '../scripts/lib/parts.js';
import { syncAiSystems } from '../src/ai-system/start.js';
import { programmeStatusQuery } from '../src/internal-audit/contract.js';
import { managementReviewStatusQuery } from '../src/management-review/contract.js';
import type { Organization } from '../src/organization/schema.js';
import type { CookieJar } from './helpers/oidc.js';
import { consoleFetch, csrfIn, signInJar, startConsole, type ConsoleContext } from './helpers/console.js';
import { createTestNamespace, eventually, exampleOrganization } from './helpers/temporal.js';

const chromium = optionalPart('Chromium');
if (!chromium.here) console.warn(`console-forms: skipped: ${chromium.skipReason} (the console test helper starts Chromium)`);

const year = randomInt(2040, 2070);
const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
const today = () => inDays(0);

/** The HTML of the element with `id` (up to its closing tag), or '' when absent. */
function elementById(html: string, id: string): string {
  const start = html.search(new RegExp(`<[a-z]+[^>]* id="${id}"`));
  if (start < 0) return '';
  const end = html.indexOf('>', start);
  const close = html.indexOf('</', end);
  return html.slice(start, close < 0 ? undefined : close);
}

/** The text of the error paragraph beside the field `id`. */
const errorBeside = (html: string, id: string) => elementById(html, `${id}-error`).replace(/^<[^>]*>/, '');

/** A plan row of the planner as a browser posts it. */
function auditRow(i: number, a: Partial<Record<string, string>>): Record<string, string> {
  const row: Record<string, string> = {
    auditId: 'A-01',
    title: 'Customer operations',
    'scope.clauses': '',
    'scope.controls': 'A.8.2',
    'scope.processes': 'customer-operations',
    'scope.aiSystems': '',
    'window.start': `${year}-03-01`,
    'window.end': `${year}-03-03`,
    leadAuditor: 'aisha.khan',
    team: '',
    auditee: 'tom.baker',
    ...a,
  };
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [`audits.${i}.${k}`, v ?? '']));
}

describe.skipIf(!chromium.here)('console plan forms', () => {
  let ctx: ConsoleContext;
  let organization: Organization;
  const jars = new Map<string, CookieJar>();

  beforeAll(async () => {
    const example = await exampleOrganization();
    organization = { ...example, organization: { ...example.organization, timezone: 'UTC' }, managementReview: { ...example.managementReview, meetingTime: '00:00' } };
    const namespace = await createTestNamespace('console-forms');
    ctx = await startConsole({ stack: { organization, namespace } });
  }, 120_000);

  afterAll(async () => {
    await ctx?.close();
  });

  async function as(login: string): Promise<CookieJar> {
    const known = jars.get(login);
    if (known) return known;
    const jar = await signInJar(ctx, login);
    jars.set(login, jar);
    return jar;
  }

  /** GET a console page as `login`: status and HTML. */
  async function get(login: string, path: string): Promise<{ status: number; html: string; location: string | null }> {
    const res = await consoleFetch(ctx, await as(login), path);
    return { status: res.status, html: await res.text(), location: res.headers.get('location') };
  }

  /** POST a form as `login` with the CSRF value of `page` (its GET), as the browser would. */
  async function post(login: string, page: string, path: string, form: Record<string, string | string[]>): Promise<{ status: number; html: string; location: string | null }> {
    const csrf = csrfIn((await get(login, page)).html);
    const res = await consoleFetch(ctx, await as(login), path, { form: { csrf, ...form } });
    return { status: res.status, html: await res.text(), location: res.headers.get('location') };
  }

  const programmeId = (y: number) => `internal-audit-programme/${y}`;
  const exists = async (workflowId: string) =>
    ctx.stack.client.workflow
      .getHandle(workflowId)
      .describe()
      .then(
        () => true,
        (err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return false;
          throw err;
        },
      );

  it('needs sign-in, the role for each page and the CSRF field; the index lists what the role allows', async () => {
    const planner = `/console/plan/audit-programme/${year}`;
    const anonymous = await fetch(new URL(planner, ctx.base), { redirect: 'manual' });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe(`/login?returnTo=${encodeURIComponent(planner)}`);

    const owner = await get('tom.baker', planner);
    expect(owner.status).toBe(403);
    expect(owner.html).toContain('internal-audit.read');

    // The external auditor reads the planner but gets no form, and a forged post is refused.
    const auditor = await get('ines.moreau', planner);
    expect(auditor.status).toBe(200);
    expect(auditor.html).not.toContain(`action="${planner}"`);
    const forged = await consoleFetch(ctx, await as('ines.moreau'), planner, { form: { csrf: '0'.repeat(64), ...auditRow(0, {}) } });
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain('internal-audit.plan');

    const index = await get('ines.moreau', '/console/plan');
    expect(index.status).toBe(200);
    expect(index.html).toContain('Yearly schedules');
    expect(index.html).not.toContain('Internal audit programme');
    const managerIndex = await get('priya.raman', '/console/plan');
    for (const title of [`Internal audit programme ${new Date().getUTCFullYear() + 1}`, 'Management review', 'Certification cycle', 'Significant change to an AI system', 'Yearly schedules']) {
      expect(managerIndex.html).toContain(title);
    }

    // The AIMS manager without the CSRF field, or with another person's, is refused.
    const noCsrf = await consoleFetch(ctx, await as('priya.raman'), planner, { form: auditRow(0, {}) });
    expect(noCsrf.status).toBe(403);
    const tomsCsrf = csrfIn((await get('tom.baker', '/console/plan/ai-system-change')).html);
    const foreign = await consoleFetch(ctx, await as('priya.raman'), planner, { form: { csrf: tomsCsrf, ...auditRow(0, {}) } });
    expect(foreign.status).toBe(403);
    expect(await foreign.text()).toContain('The form was not accepted');
    expect(await exists(programmeId(year))).toBe(false);
  }, 120_000);

  it('checks a plan live without starting anything: impartiality of the lead auditor and the team, and the coverage', async () => {
    const planner = `/console/plan/audit-programme/${year}`;
    const checked = await post('priya.raman', planner, `${planner}/check`, { ...auditRow(0, { leadAuditor: 'tom.baker', team: 'liam.walsh, tom.baker' }), ...auditRow(1, { auditId: '' }) });
    expect(checked.status).toBe(200);
    expect(errorBeside(checked.html, 'f-audits-0-leadAuditor')).toContain('tom.baker cannot audit themselves (they are the auditee) [impartiality: auditor is the auditee]');
    expect(errorBeside(checked.html, 'f-audits-0-team')).toContain('item 2: tom.baker cannot audit themselves');
    expect(errorBeside(checked.html, 'f-audits-1-auditId')).toContain('must be an audit id such as A-03');
    // Fields without a problem get an empty, hidden paragraph, so a fixed field is cleared.
    expect(elementById(checked.html, 'f-audits-0-title-error')).toContain('hidden');
    expect(checked.html).toContain('hx-swap-oob="true"');
    expect(elementById(checked.html, 'plan-coverage')).toContain('hx-swap-oob');
    expect(checked.html).toContain('Not covered yet');
    expect(checked.html).toContain('3 problems to fix before submitting.');
    // The second row typed only partly: its impartiality is checked as soon as its people and scope are given.
    const partial = await post('priya.raman', planner, `${planner}/check`, auditRow(0, { auditId: '', title: '', 'window.start': '', leadAuditor: 'priya.raman', auditee: 'tom.baker', 'scope.controls': '', 'scope.processes': '', 'scope.clauses': '10.2' }));
    expect(errorBeside(partial.html, 'f-audits-0-leadAuditor')).toContain('priya.raman is the AIMS manager and runs the work of clause(s) 10.2');
    expect(await exists(programmeId(year))).toBe(false);
  }, 120_000);

  it('sends a refused plan back with the errors beside the fields and the values kept; a valid one starts the programme for approval', async () => {
    const planner = `/console/plan/audit-programme/${year}`;
    const refused = await post('priya.raman', planner, planner, auditRow(0, { 'window.end': `${year + 1}-01-05`, title: 'Customer operations & data' }));
    expect(refused.status).toBe(400);
    expect(errorBeside(refused.html, 'f-audits-0-window-end')).toContain(`must be within ${year}`);
    expect(elementById(refused.html, 'f-audits-0-window-end')).toContain('aria-invalid="true"');
    expect(elementById(refused.html, 'f-audits-0-window-end')).toContain('aria-describedby="f-audits-0-window-end-error"');
    expect(elementById(refused.html, 'f-audits-0-title')).toContain('value="Customer operations &amp; data"');
    expect(refused.html).toContain('The plan was not submitted');
    expect(await exists(programmeId(year))).toBe(false);

    // "Add another audit" re-renders with one more group, nothing sent.
    const added = await post('priya.raman', planner, planner, { ...auditRow(0, {}), add: '1' });
    expect(added.status).toBe(200);
    expect(added.html).toContain('id="f-audits-1-auditId"');
    expect(await exists(programmeId(year))).toBe(false);

    const sent = await post('priya.raman', planner, planner, { ...auditRow(0, {}), note: 'First plan of the year' });
    expect(sent.status).toBe(303);
    expect(sent.location).toBe(planner);
    const status = await eventually(
      () => ctx.stack.client.workflow.getHandle(programmeId(year)).query(programmeStatusQuery),
      (s) => s.state === 'approval',
    );
    expect(status.plan?.audits.map((a) => [a.auditId, a.leadAuditor, a.auditee])).toEqual([['A-01', 'aisha.khan', 'tom.baker']]);
    expect(status.requestedBy).toBe('priya.raman');
    const page = await get('priya.raman', planner);
    expect(page.html).toContain('The plan awaits approval');
    expect(page.html).toContain(`The plan of the ${year} programme, waiting for approval`);

    // While the plan waits for approval the planner shows it instead of a form; a plan sent
    // anyway gets the workflow's refusal on the page.
    expect(page.html).not.toContain(`action="${planner}"`);
    const late = await post('priya.raman', '/console/plan/management-review', planner, auditRow(0, { auditId: 'A-09' }));
    expect(late.status).toBe(409);
    expect(late.html).toContain('a plan can be submitted only while it waits for one');
  }, 180_000);

  it('starts a management review with its dates checked, and checks the minutes against the review', async () => {
    const reviewId = `${year}-t${randomInt(1000, 9999)}`;
    const start = '/console/plan/management-review';
    const past = await post('priya.raman', start, `${start}/check`, { reviewId, meetingDate: inDays(-3), periodFrom: inDays(5) });
    expect(errorBeside(past.html, 'f-meetingDate')).toContain(`must be today (${today()}) or later`);
    expect(errorBeside(past.html, 'f-periodFrom')).toContain('must be before meetingDate');
    const badId = await post('priya.raman', start, start, { reviewId: 'next year', meetingDate: today() });
    expect(badId.status).toBe(400);
    expect(errorBeside(badId.html, 'f-reviewId')).toContain('must be a year, optionally with a qualifier');
    expect(elementById(badId.html, 'f-reviewId')).toContain('value="next year"');
    expect(await exists(`management-review/${reviewId}`)).toBe(false);

    const started = await post('priya.raman', start, start, { reviewId, meetingDate: today() });
    expect(started.status).toBe(303);
    expect(started.location).toBe(`${start}/${reviewId}`);
    const again = await post('priya.raman', start, start, { reviewId, meetingDate: today() });
    expect(again.status).toBe(409);
    expect(errorBeside(again.html, 'f-reviewId')).toContain(`management review ${reviewId} already exists`);

    const handle = ctx.stack.client.workflow.getHandle(`management-review/${reviewId}`);
    await eventually(() => handle.query(managementReviewStatusQuery), (s) => s.state === 'awaiting-minutes');
    const reviewPage = `${start}/${reviewId}`;
    const page = await get('priya.raman', reviewPage);
    expect(page.html).toContain('Record the minutes');
    // A late action and inputs without a decision, beside their fields; nothing recorded.
    const checked = await post('priya.raman', reviewPage, `${reviewPage}/minutes/check`, {
      attendees: ['priya.raman', 'hannah.okafor'],
      'actions.0.title': 'Refresh the risk register',
      'actions.0.owner': 'david.chen',
      'actions.0.dueDate': inDays(-2),
      'actions.0.input': 'b',
      'missing.a.decision': 'accepted',
      'missing.a.reason': 'Presented at the meeting',
      'missing.c.decision': '0',
    });
    expect(errorBeside(checked.html, 'f-actions-0-dueDate')).toContain('is in the past (rule action-due-not-in-the-past)');
    expect(errorBeside(checked.html, 'f-missing-c-decision')).toContain('actions.0 answers input (b), not (c) (rule action-answers-the-input)');
    // "Action 2 supplies it" names the second group of the form, also when the first is left empty.
    const secondGroup = await post('priya.raman', reviewPage, `${reviewPage}/minutes/check`, {
      attendees: 'priya.raman',
      'actions.0.title': '',
      'actions.1.title': 'Survey the interested parties',
      'actions.1.owner': 'tom.baker',
      'actions.1.dueDate': inDays(30),
      'actions.1.input': 'c',
      'missing.c.decision': '1',
    });
    expect(errorBeside(secondGroup.html, 'f-missing-c-decision')).toBe('');
    expect(errorBeside(secondGroup.html, 'f-actions-1-title')).toBe('');
    expect(errorBeside(secondGroup.html, 'f-missing-a-decision')).toContain('has no decision');
    const noReason = await post('priya.raman', reviewPage, `${reviewPage}/minutes/check`, { attendees: 'priya.raman', 'missing.a.decision': 'accepted', 'missing.a.reason': '' });
    expect(errorBeside(noReason.html, 'f-missing-a-reason')).toContain('must say why the review accepts the input as missing');
    const checked2 = await post('priya.raman', reviewPage, `${reviewPage}/minutes/check`, { attendees: 'priya.raman' });
    expect(errorBeside(checked2.html, 'f-missing-b-decision')).toContain('input (b) is missing from the pack and has no decision');
    const noAttendees = await post('priya.raman', reviewPage, `${reviewPage}/minutes`, {});
    expect(noAttendees.status).toBe(400);
    expect(errorBeside(noAttendees.html, 'f-attendees')).toContain('needs at least one attendee');
    expect((await handle.query(managementReviewStatusQuery)).minutes).toBeUndefined();
    await handle.terminate('test finished');
  }, 180_000);

  it('starts a certification cycle only with dates that keep the certification rules', async () => {
    const certificateId = `CERT-T${randomInt(100000, 999999)}`;
    const start = '/console/plan/certification';
    const dates = { 'plan.stage1': inDays(30), 'plan.stage2': inDays(60), 'plan.surveillance1': inDays(380), 'plan.surveillance2': inDays(700), 'plan.recertification': inDays(1000) };
    const outOfOrder = await post('priya.raman', start, `${start}/check`, { certificateId, ...dates, 'plan.stage2': inDays(20) });
    expect(errorBeside(outOfOrder.html, 'f-plan-stage2')).toContain('(rule stage2-after-stage1)');
    const late = await post('priya.raman', start, `${start}/check`, { certificateId, ...dates, 'plan.surveillance1': inDays(500) });
    expect(errorBeside(late.html, 'f-plan-surveillance1')).toContain('(rule first-surveillance-within-12-months)');
    const refused = await post('priya.raman', start, start, { certificateId, ...dates, 'plan.stage1': inDays(-1) });
    expect(refused.status).toBe(400);
    expect(errorBeside(refused.html, 'f-plan-stage1')).toContain('(rule not-in-the-past)');
    expect(await exists(`certification/iso42001/${certificateId}`)).toBe(false);

    const started = await post('priya.raman', start, start, { certificateId, ...dates });
    expect(started.status).toBe(303);
    expect(started.location).toBe(`${start}/${certificateId}`);
    const page = await get('priya.raman', started.location!);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Stage 1 audit');
    expect(page.html).toContain(dates['plan.stage1']);
    await ctx.stack.client.workflow.getHandle(`certification/iso42001/${certificateId}`).terminate('test finished');
  }, 120_000);

  it('announces a significant change to an AI system', async () => {
    await syncAiSystems(ctx.stack.client, ctx.stack.taskQueue, organization);
    const form = '/console/plan/ai-system-change';
    const refused = await post('priya.raman', form, form, { systemId: 'credit-scoring', type: 'weather', why: 'x' });
    expect(refused.status).toBe(400);
    expect(errorBeside(refused.html, 'f-type')).toContain('must be one of model, data-source');
    expect(errorBeside(refused.html, 'f-why')).toContain('must say what changed');
    const unknown = await post('priya.raman', form, form, { systemId: 'no-such-system', type: 'model', why: 'Retrained on 2026 data' });
    expect(unknown.status).toBe(404);
    expect(unknown.html).toContain('No AI system no-such-system is registered.');
    const sent = await eventually(
      () => post('priya.raman', form, form, { systemId: 'credit-scoring', type: 'model', why: 'Retrained on 2026 applications' }),
      (r) => r.status === 303,
    );
    const page = await get('priya.raman', sent.location!);
    // The system was never assessed: its first assessment starts, and the change joins it (or waits for the next one).
    const where = new URL(sent.location!, ctx.base);
    expect(where.pathname).toBe(`${form}/credit-scoring`);
    const disposition = where.searchParams.get('announced');
    expect(['attached', 'pending']).toContain(disposition);
    expect(page.html).toContain(disposition === 'attached' ? 'Your change was added to the assessment under way' : 'Your change was announced: it waits for the reassessment');
    // A process owner may not announce changes to a system they do not own... but a system owner may.
    expect((await get('tom.baker', form)).status).toBe(200);
    expect((await get('aisha.khan', form)).status).toBe(403);
  }, 120_000);

  it('sets, pauses, resumes and runs a yearly schedule', async () => {
    const list = '/console/plan/schedules';
    const edit = `${list}/internal-audit-programme`;
    expect((await get('priya.raman', list)).html).toContain('Not scheduled.');
    const refused = await post('priya.raman', edit, edit, { month: '2', day: '30', hour: '8', minute: '0', yearOffset: '1' });
    expect(refused.status).toBe(400);
    expect(errorBeside(refused.html, 'f-day')).toContain('month 2 has no day 30');
    const checked = await post('priya.raman', edit, `${edit}/check`, { month: '12', day: '1', hour: '25' });
    expect(errorBeside(checked.html, 'f-hour')).toContain('must be 0-23');

    const saved = await post('priya.raman', edit, edit, { month: '12', day: '1', hour: '8', minute: '0', yearOffset: '1', timezone: 'UTC' });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe(list);
    let page = await get('priya.raman', list);
    expect(page.html).toContain('every year on 1 December at 08:00');
    expect(page.html).toContain('active');

    expect((await post('priya.raman', list, `${edit}/pause`, {})).status).toBe(303);
    page = await get('priya.raman', list);
    expect(page.html).toMatch(/<dt>State<\/dt><dd>paused/);
    expect((await post('priya.raman', list, `${edit}/resume`, {})).status).toBe(303);
    page = await get('priya.raman', list);
    expect(page.html).toMatch(/<dt>State<\/dt><dd>active/);

    const ran = await post('priya.raman', list, `${edit}/run`, {});
    expect(ran.status).toBe(303);
    expect((await get('priya.raman', ran.location!)).html).toContain('schedule was run');

    // Operations may manage schedules; an internal auditor may not even see them.
    expect((await get('noah.berg', edit)).status).toBe(200);
    expect((await get('aisha.khan', list)).status).toBe(403);
  }, 120_000);
});
