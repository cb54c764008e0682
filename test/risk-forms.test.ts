/**
 * The risk-assessment forms on the real task page (served by the real API over a real task
 * workflow): the treatment form shows every Annex A control to compare, refuses an unknown
 * control and an off-scale residual level per row, keeps what was typed, and parses a
 * completion; the analysis form refuses a level off the scales.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiInstance } from '../src/api/app.js';
import { riskStepChoices, type FormKey } from '../src/forms/index.js';
import { ANNEX_A } from '../src/soa/annex-a.js';
import { taskStatusQuery } from '../src/task/contract.js';
import { startHumanTask } from '../src/task/start.js';
import { buildStackApp } from './helpers/browser.js';
import { inMs, startTestStack, type TestStack } from './helpers/temporal.js';

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

const scales = { likelihood: ['rare', 'unlikely', 'possible', 'likely', 'almost-certain'], consequence: ['negligible', 'minor', 'moderate', 'major', 'severe'] };
const risk = { riskId: 'R-001', inherent: { likelihood: 'likely', consequence: 'major' } };

async function openTask(form: FormKey, choices: string[]) {
  const handle = await startHumanTask(
    stack.client,
    stack.taskQueue,
    {
      title: `Credit scoring: ${form}`,
      instructions: 'Part of the risk assessment risk-assessment/credit-scoring/2027-1.',
      clauses: ['6.1.2', '6.1.3'],
      process: 'risk-assessment',
      aiSystem: 'credit-scoring',
      assignee: { person: 'marco.rossi' },
      dueAt: inMs(7 * 24 * 3600_000),
      form,
      choices,
      policy: { reminderOffsets: [], escalation: [] },
    },
    { organization: stack.organization },
  );
  const token = await stack.links.sign({ wf: handle.workflowId, action: 'task.view', person: 'marco.rossi' });
  const link = stack.links.url('/t', token);
  for (let i = 0; i < 100; i += 1) {
    if ((await handle.query(taskStatusQuery)).assignee.id) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { handle, link };
}

describe('risk forms on the task page', () => {
  it('treatment: every Annex A control to compare; an unknown control and a raised residual are refused per row; a completion is parsed', async () => {
    const { handle, link } = await openTask('risk-treatment', riskStepChoices([risk], scales, true));
    const page = await get(link);
    expect(page.statusCode).toBe(200);
    for (const [i, c] of ANNEX_A.entries()) expect(page.body).toContain(`name="annexA.${i}.control" value="${c.id}"`);
    expect(page.body).toContain('A.7.4 Quality of data for AI systems');
    expect(page.body).toContain('R-001 (likely × major): treatment option');
    const csrf = csrfOf(page.body);
    const comparison: Array<[string, string]> = ANNEX_A.flatMap((c, i): Array<[string, string]> => [
      [`annexA.${i}.control`, c.id],
      [`annexA.${i}.decision`, c.id === 'A.7.4' ? 'covered' : 'not-needed'],
      [`annexA.${i}.why`, c.id === 'A.7.4' ? 'Data quality checks on thin files.' : 'Not called for by R-001.'],
    ]);
    const row: Array<[string, string]> = [
      ['treatments.0.riskId', 'R-001'],
      ['treatments.0.option', 'modify'],
      ['treatments.0.controls', 'A.7.4, A.99.1'],
      ['treatments.0.residualLikelihood', 'almost-certain'],
      ['treatments.0.residualConsequence', 'major'],
      ['plan.0.riskId', 'R-001'],
      ['plan.0.action', 'Add thin-file data checks'],
      ['plan.0.owner', 'sofia.lind'],
      ['plan.0.dueDate', '2099-06-30'],
    ];
    const bad = await post(link, [['csrf', csrf], ...row, ...comparison]);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('Treatment 1: the controls unknown Annex A control &quot;A.99.1&quot;');
    expect(bad.body).toContain('Treatment 1: the residual likelihood almost-certain is above the rating before treatment (likely)');
    expect(bad.body).toContain('Add thin-file data checks</textarea>');

    const fixed = row.map(([k, v]): [string, string] => (k === 'treatments.0.controls' ? [k, 'A.7.4, four-eyes review'] : k === 'treatments.0.residualLikelihood' ? [k, 'possible'] : [k, v]));
    const done = await post(link, [['csrf', csrf], ...fixed, ...comparison]);
    expect(done.statusCode, done.body).toBe(200);
    const data = (await handle.query(taskStatusQuery)).completion?.data as { treatments: unknown[]; annexA: unknown[]; plan: unknown[] };
    expect(data.treatments).toEqual([{ riskId: 'R-001', option: 'modify', controls: ['A.7.4', 'four-eyes review'], residualLikelihood: 'possible', residualConsequence: 'major' }]);
    expect(data.annexA).toHaveLength(ANNEX_A.length);
    expect(data.plan).toEqual([{ riskId: 'R-001', action: 'Add thin-file data checks', owner: 'sofia.lind', dueDate: '2099-06-30' }]);
  });

  it('analysis: a level off the scales is refused naming the row', async () => {
    const { link } = await openTask('risk-analysis', riskStepChoices([risk], scales));
    const page = await get(link);
    expect(page.statusCode).toBe(200);
    const bad = await post(link, [
      ['csrf', csrfOf(page.body)],
      ['ratings.0.riskId', 'R-001'],
      ['ratings.0.likelihood', 'often'],
      ['ratings.0.consequence', 'major'],
    ]);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('Rating 1: the likelihood &quot;often&quot; is not on the likelihood scale');
  });
});
