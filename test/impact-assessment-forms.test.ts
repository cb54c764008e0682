/**
 * Impact assessment building parts: the organization file's `impactAssessment` settings
 * (defaults and refusals naming the field), the scoring rule, and the `impact-scoping` and
 * `impact-assessment` forms on the real task page (served by the real API over a real task
 * workflow): values kept on errors, off-scale levels refused per row, the completion parsed.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiInstance } from '../src/api/app.js';
import { impactScaleChoices, validateForm } from '../src/forms/index.js';
import { impactLevel, resultingLevel, scoreImpacts, signOffRole, signOffRoute } from '../src/ai-system/impact-assessment.js';
import { retryStartMs } from '../src/ai-system/schema.js';
import { parseOrganizationYaml } from '../src/organization/load.js';
import { taskStatusQuery } from '../src/task/contract.js';
import { startHumanTask } from '../src/task/start.js';
import { buildStackApp } from './helpers/browser.js';
import { exampleOrgFile, inMs, startTestStack, type TestStack } from './helpers/temporal.js';

let stack: TestStack;
let app: ApiInstance;
beforeAll(async () => {
  stack = await startTestStack();
  app = await buildStackApp(stack);
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await stack?.stop();
});

const scales = { severityScale: ['negligible', 'minor', 'moderate', 'major', 'severe'], likelihoodScale: ['rare', 'unlikely', 'possible', 'likely', 'almost-certain'] };

describe('impact assessment settings and scoring', () => {
  it('reads the settings from the organization file, with defaults, and refuses bad ones naming the field', async () => {
    const yaml = await readFile(exampleOrgFile, 'utf8');
    const org = parseOrganizationYaml(yaml, 'org.yaml');
    expect(org.impactAssessment).toMatchObject({ reassessEvery: '365d', changeDebounce: '24h', retryAfter: '30d', signOffThreshold: 12, riskTreatmentThreshold: 10, ...scales });
    const withoutSection = parseOrganizationYaml(yaml.replace(/\nimpactAssessment:[\s\S]*$/, '\n'), 'org.yaml');
    expect(withoutSection.impactAssessment).toEqual(org.impactAssessment);

    const bad = yaml.replace('signOffThreshold: 12', 'signOffThreshold: 40').replace('retryAfter: 30d', 'retryAfter: later').replace('changeDebounce: 24h', 'changeDebounce: soon').replace('severityScale: [negligible, minor, moderate, major, severe]', 'severityScale: [low, low, high]');
    let message = '';
    try {
      parseOrganizationYaml(bad, 'org.yaml');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('impactAssessment.changeDebounce: must be a duration');
    expect(message).toContain('impactAssessment.severityScale[1]: duplicate level "low"');
    expect(message).toContain('impactAssessment.signOffThreshold: must be at most 15');
    expect(message).toContain('impactAssessment.retryAfter: must be a duration');
  });

  it('schedules the next assessment after a cancelled or failed one retryAfter later, or at the planned start when that is sooner', () => {
    const day = 24 * 3600_000;
    const nowMs = Date.parse('2027-06-01T00:00:00Z');
    // The planned start has passed (a scheduled assessment was cancelled): retryAfter from now.
    expect(retryStartMs({ nowMs, retryAfterMs: 30 * day, plannedStartMs: nowMs - 5 * day })).toBe(nowMs + 30 * day);
    expect(retryStartMs({ nowMs, retryAfterMs: 30 * day, plannedStartMs: undefined })).toBe(nowMs + 30 * day);
    // A change-triggered assessment was cancelled a week before the planned start: the plan wins.
    expect(retryStartMs({ nowMs, retryAfterMs: 30 * day, plannedStartMs: nowMs + 7 * day })).toBe(nowMs + 7 * day);
    expect(retryStartMs({ nowMs, retryAfterMs: 30 * day, plannedStartMs: nowMs + 90 * day })).toBe(nowMs + 30 * day);
  });

  it('routes the sign-off of every high-tier system to top management, whatever the level', () => {
    const route = (impactTier: 'low' | 'medium' | 'high' | 'critical', level: number, preparer = 'marco.rossi') =>
      signOffRoute({ level, threshold: 12, impactTier, preparer, aimsManagerId: 'priya.raman' });
    expect(route('high', 2)).toEqual({ role: 'top-management', reason: 'impact-tier' });
    expect(route('critical', 1)).toEqual({ role: 'top-management', reason: 'impact-tier' });
    expect(route('medium', 2)).toEqual({ role: 'aims-manager', reason: 'below-threshold' });
    expect(route('low', 12)).toEqual({ role: 'top-management', reason: 'level' });
    expect(route('low', 2, 'priya.raman')).toEqual({ role: 'top-management', reason: 'preparer' });
  });

  it('scores an impact as severity rank × likelihood rank and takes the highest residual level', () => {
    expect(impactLevel('negligible', 'rare', scales)).toBe(1);
    expect(impactLevel('major', 'likely', scales)).toBe(16);
    expect(impactLevel('severe', 'almost-certain', scales)).toBe(25);
    const scored = scoreImpacts(
      [
        { area: 'individuals', description: 'a', severity: 'severe', likelihood: 'likely', mitigation: 'm', residualSeverity: 'moderate', residualLikelihood: 'unlikely' },
        { area: 'society', description: 'b', severity: 'moderate', likelihood: 'possible', mitigation: 'm', residualSeverity: 'moderate', residualLikelihood: 'possible' },
      ],
      scales,
    );
    expect(scored.map((i) => [i.level, i.residualLevel])).toEqual([
      [20, 6],
      [9, 9],
    ]);
    expect(resultingLevel(scored)).toBe(9);
    expect(signOffRole(11, 12)).toBe('aims-manager');
    expect(signOffRole(12, 12)).toBe('top-management');
  });

  it('checks an impact-assessment completion against the scales carried by the task', () => {
    const choices = impactScaleChoices(scales.severityScale, scales.likelihoodScale);
    const row = { area: 'groups', description: 'd', severity: 'major', likelihood: 'likely', mitigation: 'm', residualSeverity: 'minor', residualLikelihood: 'rare' };
    expect(validateForm('impact-assessment', { impacts: [row] }, choices)).toMatchObject({ ok: true });
    expect(validateForm('impact-assessment', { impacts: [{ ...row, residualLikelihood: 'often' }] }, choices)).toEqual({
      ok: false,
      problems: [{ field: 'impacts.0.residualLikelihood', message: 'must be one of: rare, unlikely, possible, likely, almost-certain' }],
    });
    expect(validateForm('impact-assessment', { impacts: [] }, choices)).toMatchObject({ ok: false, problems: [{ field: 'impacts', message: 'needs at least one impact' }] });
  });

  it('refuses a residual rating above the rating before mitigation, naming the row', () => {
    const choices = impactScaleChoices(scales.severityScale, scales.likelihoodScale);
    const row = { area: 'groups', description: 'd', severity: 'major', likelihood: 'possible', mitigation: 'm', residualSeverity: 'major', residualLikelihood: 'possible' };
    // Equal is allowed: a mitigation may leave a rating as it was.
    expect(validateForm('impact-assessment', { impacts: [row] }, choices)).toMatchObject({ ok: true });
    expect(validateForm('impact-assessment', { impacts: [row, { ...row, residualSeverity: 'severe', residualLikelihood: 'likely' }] }, choices)).toEqual({
      ok: false,
      problems: [
        { field: 'impacts.1.residualSeverity', message: 'severe is above the severity before mitigation (major): a mitigation cannot raise it' },
        { field: 'impacts.1.residualLikelihood', message: 'likely is above the likelihood before mitigation (possible): a mitigation cannot raise it' },
      ],
    });
  });
});

const BASE = 'http://127.0.0.1:3999';
const local = (link: string) => {
  const url = new URL(link);
  return `${url.pathname}${url.search}`;
};
const get = (link: string) => app.inject({ method: 'GET', url: local(link), headers: { accept: 'text/html' } });
const post = (link: string, fields: Array<[string, string]>) =>
  app.inject({
    method: 'POST',
    url: local(link),
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', origin: BASE },
    payload: new URLSearchParams(fields).toString(),
  });
const csrfOf = (html: string) => {
  const value = /name="csrf" value="([0-9a-f]{64})"/.exec(html)?.[1];
  if (!value) throw new Error('no csrf field on the page');
  return value;
};

async function openTask(form: 'impact-scoping' | 'impact-assessment') {
  const handle = await startHumanTask(
    stack.client,
    stack.taskQueue,
    {
      title: `Credit scoring: ${form === 'impact-scoping' ? 'scope the impact assessment' : 'assess the impacts'}`,
      instructions: 'Part of the impact assessment impact-assessment/credit-scoring/2027-1.',
      clauses: ['6.1.4', 'A.5.4'],
      process: 'impact-assessment',
      aiSystem: 'credit-scoring',
      assignee: { person: 'marco.rossi' },
      dueAt: inMs(7 * 24 * 3600_000),
      form,
      ...(form === 'impact-assessment' ? { choices: impactScaleChoices(scales.severityScale, scales.likelihoodScale) } : {}),
      policy: { reminderOffsets: [], escalation: [] },
    },
    { organization: stack.organization },
  );
  const token = await stack.links.sign({ wf: handle.workflowId, action: 'task.view', person: 'marco.rossi' });
  const link = stack.links.url('/t', token);
  for (let i = 0; i < 100; i += 1) {
    const s = await handle.query(taskStatusQuery);
    if (s.assignee.id) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { handle, link };
}

describe('impact assessment forms on the task page', () => {
  it('scoping: every field asked for, jurisdictions typed as a list, errors beside the fields', async () => {
    const { handle, link } = await openTask('impact-scoping');
    const page = await get(link);
    expect(page.statusCode).toBe(200);
    for (const name of ['intendedUse', 'foreseeableMisuse', 'deploymentContext', 'affectedIndividuals', 'affectedGroups', 'society']) {
      expect(page.body).toMatch(new RegExp(`<textarea id="f-${name}" name="${name}"`));
    }
    expect(page.body).toMatch(/<input type="text" id="f-jurisdictions" name="jurisdictions"/);
    const csrf = csrfOf(page.body);
    const fields: Array<[string, string]> = [
      ['csrf', csrf],
      ['intendedUse', 'Scores loan applications for underwriters.'],
      ['foreseeableMisuse', 'Automatic declines without review.'],
      ['deploymentContext', 'Underwriting portal.'],
      ['jurisdictions', ''],
      ['affectedIndividuals', 'Applicants.'],
      ['affectedGroups', 'Thin-file applicants.'],
      ['society', ''],
    ];
    const bad = await post(link, fields);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('The jurisdictions needs at least one jurisdiction');
    expect(bad.body).toContain('The effect on society is required');
    expect(bad.body).toContain('Automatic declines without review.</textarea>');

    const good = fields.map(([k, v]): [string, string] => (k === 'jurisdictions' ? [k, 'UK, Ireland,\nEU'] : k === 'society' ? [k, 'Access to credit.'] : [k, v]));
    const done = await post(link, good);
    expect(done.statusCode, done.body).toBe(200);
    expect((await handle.query(taskStatusQuery)).completion?.data).toMatchObject({ jurisdictions: ['UK', 'Ireland', 'EU'], society: 'Access to credit.' });
  });

  it('assessment: rows of impacts with the organization scales as options; an off-scale level is refused per row; empty rows are ignored', async () => {
    const { handle, link } = await openTask('impact-assessment');
    const page = await get(link);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Impact 1: severity');
    expect(page.body).toMatch(/name="impacts\.0\.severity" value="almost-certain"|name="impacts\.0\.likelihood" value="almost-certain"/);
    expect(page.body).toContain('Impact 2: on whom');
    const csrf = csrfOf(page.body);
    const row: Array<[string, string]> = [
      ['impacts.0.area', 'groups'],
      ['impacts.0.description', 'Thin-file applicants scored lower.'],
      ['impacts.0.severity', 'major'],
      ['impacts.0.likelihood', 'likely'],
      ['impacts.0.mitigation', 'Fairness review each quarter.'],
      ['impacts.0.residualSeverity', 'moderate'],
      ['impacts.0.residualLikelihood', 'often'],
    ];
    const bad = await post(link, [['csrf', csrf], ...row]);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('Impact 1: the residual likelihood must be one of: rare, unlikely, possible, likely, almost-certain');
    const worse = await post(link, [['csrf', csrf], ...row.map(([k, v]): [string, string] => (k === 'impacts.0.residualLikelihood' ? [k, 'almost-certain'] : [k, v]))]);
    expect(worse.statusCode).toBe(400);
    expect(worse.body).toContain('Impact 1: the residual likelihood almost-certain is above the likelihood before mitigation (likely): a mitigation cannot raise it');
    expect(bad.body).toContain('Thin-file applicants scored lower.</textarea>');

    const fixed = row.map(([k, v]): [string, string] => (k === 'impacts.0.residualLikelihood' ? [k, 'unlikely'] : [k, v]));
    const done = await post(link, [['csrf', csrf], ...fixed, ['impacts.1.description', '']]);
    expect(done.statusCode, done.body).toBe(200);
    expect((await handle.query(taskStatusQuery)).completion?.data).toEqual({
      impacts: [{ area: 'groups', description: 'Thin-file applicants scored lower.', severity: 'major', likelihood: 'likely', mitigation: 'Fairness review each quarter.', residualSeverity: 'moderate', residualLikelihood: 'unlikely' }],
    });
  });
});
