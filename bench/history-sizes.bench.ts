/**
 * History sizes: the events Temporal keeps for each kind of work, taken through its steps as
 * people would (the updates the pages and the admin API send), with short durations passed
 * through the input policy as the workflow tests do, read from Temporal (describe) per run:
 *
 * - a human task, assigned and completed;
 * - a corrective action from raising to closure (containment, root cause, plan and its approval,
 *   one action, the effectiveness review, the system-change decision);
 * - a certification cycle over three years (Stage 1 to the recertification decision, with the
 *   organization's reminders and readiness checks scaled to BENCH_DAY_MS a day), continued as
 *   new into the next cycle: the largest run;
 * - an AI system through its first assessment and BENCH_REASSESSMENTS yearly reassessments
 *   (scoping, assessment, review, sign-off each time), continuing as new every 10 assessments:
 *   the largest run.
 *
 * Baseline: the bare no-op workflow's events. The long-lived workflows are held to Temporal's
 * history warning threshold per run (10,240 events), which continue-as-new must keep them under.
 *
 *   npm run bench -- history-sizes       BENCH_DAY_MS=100 (a three-year cycle in about two minutes), BENCH_REASSESSMENTS=10
 *   BENCH_DAY_MS=30 BENCH_REASSESSMENTS=3 npm run bench -- history-sizes   (a quick run)
 */
import { randomBytes, randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import { aiSystemStatusQuery } from '../src/ai-system/contract.js';
import { ensureAiSystem } from '../src/ai-system/start.js';
import { certificationStatusQuery, endCycleUpdate, recordAuditOutcomeUpdate, recordDecisionUpdate } from '../src/certification/contract.js';
import type { AuditKey, CertificationStatus } from '../src/certification/schema.js';
import { startCertificationCycle } from '../src/certification/start.js';
import type { CorrectiveActionInput } from '../src/corrective-action/schema.js';
import { parseOrganizationYaml } from '../src/organization/load.js';
import type { Organization } from '../src/organization/schema.js';
import { startHumanTask } from '../src/task/start.js';
import { EXAMPLE_ORG_FILE } from './lib/aimsflow.js';
import { BARE_TASK_QUEUE } from './lib/bare.js';
import { childrenSizes, completeTask, decide, runSizes, until, type RunSize } from './lib/drivers.js';
import { envInt } from './lib/load.js';
import { benchFigures } from './lib/results.js';
import { runBench, say } from './lib/stack.js';
import { taskInput } from './lib/tasks.js';

const dayMs = envInt('BENCH_DAY_MS', 100);
const reassessments = envInt('BENCH_REASSESSMENTS', 10, 0);
/** Temporal warns about a history longer than this (limit.historyCount.warn); it fails one at 51,200. */
const HISTORY_WARN_EVENTS = 10_240;

const evidence = { summary: 'Done as planned; the record is attached.', links: ['https://wiki.northwind.example/aims/evidence/1'] };

await runBench('history-sizes', {}, async (stack) => {
  const { client } = stack.temporal;
  const taskQueue = stack.aimsflow.taskQueue;
  const organization = parseOrganizationYaml(await readFile(EXAMPLE_ORG_FILE, 'utf8'), EXAMPLE_ORG_FILE);

  say(`driving a task, a corrective action, a certification cycle (a day is ${dayMs} ms) and an AI system (${reassessments} reassessments) side by side`);
  const [bare, task, nc, certification, ai] = await Promise.all([
    bareWorkflow(client),
    humanTask(client, taskQueue, organization),
    correctiveAction(client, taskQueue),
    certificationCycle(client, taskQueue, organization),
    aiSystem(client, taskQueue, organization),
  ]);

  const figures = benchFigures('history-sizes');
  const largest = (runs: RunSize[]) => Math.max(...runs.map((r) => r.events));
  const total = (runs: RunSize[]) => runs.reduce((n, r) => n + r.events, 0);
  const baseline = largest(bare);
  figures.add({ name: 'events per human task (assigned, completed)', value: largest(task), unit: 'events', baseline });
  figures.add({ name: 'events per corrective action to closure', value: largest(nc.runs), unit: 'events', baseline, detail: { steps: nc.children } });
  const bound = (runs: RunSize[]) => ({ goal: `< ${HISTORY_WARN_EVENTS} per run`, met: largest(runs) < HISTORY_WARN_EVENTS });
  figures.add({
    name: 'events per certification cycle (largest run)',
    value: largest(certification),
    unit: 'events',
    baseline,
    ...bound(certification),
    detail: { runs: certification.map((r) => r.events), dayMs, note: 'run 1: the three-year cycle; run 2: the next cycle, ended at once' },
  });
  figures.add({
    name: `events per AI system after ${reassessments} reassessments (largest run)`,
    value: largest(ai),
    unit: 'events',
    baseline,
    ...bound(ai),
    detail: { runs: ai.map((r) => r.events), total: total(ai), assessments: reassessments + 1 },
  });
  await figures.write();
});

async function bareWorkflow(client: Client): Promise<RunSize[]> {
  const handle = await client.workflow.start('benchNoop', { taskQueue: BARE_TASK_QUEUE, workflowId: `bench/noop-history/${randomBytes(4).toString('hex')}`, args: [] });
  await handle.result();
  return runSizes(client, handle.workflowId);
}

async function humanTask(client: Client, taskQueue: string, organization: Organization): Promise<RunSize[]> {
  const handle = await startHumanTask(client, taskQueue, taskInput(0), { organization });
  await completeTask(client, handle.workflowId, 'sofia.lind', evidence);
  await handle.result();
  return runSizes(client, handle.workflowId);
}

async function correctiveAction(client: Client, taskQueue: string): Promise<{ runs: RunSize[]; children: { children: number; events: number } }> {
  const input: CorrectiveActionInput = {
    ncId: `NC-${new Date().getUTCFullYear()}-${randomInt(100_000, 999_999)}`,
    title: 'Credit-scoring drift alert ignored for 3 days',
    description: 'The drift monitor fired on 2 March; nobody acted until 5 March.',
    severity: 'major',
    source: 'internal-audit',
    sourceRef: 'IA-2027-01/F-3',
    clauses: ['A.6.2.6'],
    aiSystem: 'credit-scoring',
    owner: 'sofia.lind',
    raisedBy: 'aisha.khan',
    policy: { stepDue: '1h', effectivenessWait: '2s', overallTarget: '1h' },
  };
  const nc = await client.workflow.start('correctiveAction', { taskQueue, workflowId: `corrective-action/${input.ncId}`, args: [input] });
  const step = (key: string) => `${nc.workflowId}/${key}`;
  await completeTask(client, step('containment'), 'sofia.lind', evidence);
  await completeTask(client, step('root-cause-1'), 'sofia.lind', {
    method: '5-whys',
    analysis: 'Why 1: the alert went to a shared inbox. Why 2: no on-call rota for model alerts.',
    rootCause: 'No owner for model alerts',
    similarElsewhere: 'no',
    similarDetail: 'Checked the other models: each already routes its alerts to an owner.',
  });
  await completeTask(client, step('action-plan-1-1'), 'sofia.lind', { actions: [{ owner: 'tom.baker', dueDate: '2030-01-31', description: 'Set up an on-call rota for model alerts' }] });
  await decide(client, step('plan-approval-1-1'), 'priya.raman', 'approve');
  await completeTask(client, step('action-1-1'), 'tom.baker', evidence);
  await completeTask(client, step('effectiveness-1'), 'sofia.lind', { answer: 'yes', justification: 'Two alerts since, both handled within the hour.' });
  await completeTask(client, step('system-change-1'), 'sofia.lind', { answer: 'no', justification: 'The monitoring procedure already names an owner.' });
  const result = (await nc.result()) as { status: string };
  if (result.status !== 'closed') throw new Error(`the corrective action ended ${result.status}, not closed`);
  return { runs: await runSizes(client, nc.workflowId), children: await childrenSizes(client, nc.workflowId) };
}

/** Three years of one certificate at `dayMs` a day: the initial audits, two surveillances, recertification, then the next cycle. */
async function certificationCycle(client: Client, taskQueue: string, organization: Organization): Promise<RunSize[]> {
  const t0 = Date.now();
  const day = (n: number) => new Date(t0 + n * dayMs).toISOString();
  const days = (n: number) => `${n * dayMs}ms`;
  const plan = { stage1: day(125), stage2: day(155), decision: day(185), surveillance1: day(515), surveillance2: day(880), recertification: day(1190) };
  const settings = organization.certificationCycle;
  const { handle } = await startCertificationCycle(
    client,
    taskQueue,
    {
      certificateId: `CERT-B${randomBytes(4).toString('hex').toUpperCase()}`,
      plan,
      policy: {
        // The organization's own offsets, in scaled days.
        reminderOffsets: settings.reminderOffsets.map((d) => days(Math.round(durationDays(d)))),
        readinessChecks: settings.readinessChecks.map((d) => days(Math.round(durationDays(d)))),
        auditWindow: days(30),
        correctiveAction: { stepDue: '1h' },
      },
    },
    { organization },
  );
  const status = () => handle.query(certificationStatusQuery);
  const at = (when: string) => until(`the cycle to reach ${when}`, async () => Date.now(), (now) => now >= Date.parse(when), 600_000);
  const current = (key: CertificationStatus['current']) => until(`the cycle to wait for ${key}`, status, (s) => s.current === key, 600_000);
  const audit = async (key: AuditKey, on: string) => {
    await current(key);
    await at(on);
    await handle.executeUpdate(recordAuditOutcomeUpdate, { args: [{ by: 'priya.raman', audit: key, completedOn: new Date().toISOString(), result: 'recommended', findings: [] }] });
  };
  const firstRun = (await handle.describe()).runId;
  await audit('stage1', plan.stage1);
  await audit('stage2', plan.stage2);
  await current('decision');
  await at(plan.decision);
  await handle.executeUpdate(recordDecisionUpdate, { args: [{ by: 'priya.raman', decision: 'granted', decidedOn: new Date().toISOString(), expiresOn: day(185 + 1095), reason: 'Stage 2 recommended' }] });
  await audit('surveillance1', plan.surveillance1);
  await audit('surveillance2', plan.surveillance2);
  await audit('recertification', plan.recertification);
  await current('decision');
  const nextPlan = { surveillance1: day(1190 + 330), surveillance2: day(1190 + 695), recertification: day(1190 + 1000) };
  await handle.executeUpdate(recordDecisionUpdate, {
    args: [{ by: 'priya.raman', decision: 'granted', decidedOn: new Date().toISOString(), expiresOn: day(1280 + 1095), nextPlan }],
  });
  // The next cycle runs in a new run; end it there.
  await until('the next cycle', () => handle.describe(), (d) => d.runId !== firstRun, 60_000);
  await until('the next cycle to start', status, (s) => s.cycle === 2, 60_000);
  await handle.executeUpdate(endCycleUpdate, { args: [{ by: 'priya.raman', reason: 'benchmark finished' }] });
  await handle.result();
  return until('both runs in visibility', () => runSizes(client, handle.workflowId), (runs) => runs.length >= 2);
}

/** An AI system through its first assessment and `reassessments` more, each taken through its four steps. */
async function aiSystem(client: Client, taskQueue: string, organization: Organization): Promise<RunSize[]> {
  const id = `loan-triage-${randomBytes(4).toString('hex')}`;
  const system = { id, name: 'Loan application triage', owner: 'sofia.lind', purpose: 'Routes loan applications to the right underwriting queue.', impactTier: 'medium' as const, lifecycle: 'deployed' as const };
  const ensured = await ensureAiSystem(
    client,
    taskQueue,
    { systemId: id, system, source: 'api', registeredBy: 'priya.raman', policy: { reassessEvery: '6s', startBefore: '2s' } },
    { organization },
  );
  const handle = client.workflow.getHandle(ensured.workflowId);
  const scoping = {
    intendedUse: 'Routes consumer loan applications to a queue; underwriters decide.',
    foreseeableMisuse: 'Used as the credit decision itself without an underwriter.',
    deploymentContext: 'Internal web app, 2,000 applications a day, human in the loop.',
    jurisdictions: ['UK', 'Ireland'],
    affectedIndividuals: 'Loan applicants.',
    affectedGroups: 'Applicants with thin credit files.',
    society: 'Access to credit in the regions served.',
  };
  const impacts = {
    impacts: [{ area: 'individuals', description: 'Slower handling of misrouted applications.', severity: 'minor', likelihood: 'possible', mitigation: 'Queue SLAs and re-routing.', residualSeverity: 'minor', residualLikelihood: 'rare' }],
  };
  for (let n = 0; n <= reassessments; n++) {
    const current = await until(`assessment ${n + 1} of ${id}`, () => handle.query(aiSystemStatusQuery), (s) => s.current !== undefined && s.assessmentsTotal === n, 120_000);
    const assessment = current.current!.workflowId;
    await completeTask(client, `${assessment}/scoping`, 'sofia.lind', scoping);
    await completeTask(client, `${assessment}/assessment-1`, 'sofia.lind', impacts);
    await completeTask(client, `${assessment}/review-1`, 'elena.petrova', { choice: 'approve' });
    await decide(client, `${assessment}/sign-off-1`, 'priya.raman', 'approve');
  }
  await until(`the last assessment of ${id} recorded`, () => handle.query(aiSystemStatusQuery), (s) => s.assessmentsTotal === reassessments + 1 && s.current === undefined, 120_000);
  return until('every run in visibility', () => runSizes(client, handle.workflowId), (runs) => runs.length >= 1 + Math.floor(reassessments / 10));
}

/** Days in a duration such as `120d`. */
function durationDays(value: string): number {
  const m = /^(\d+)d$/.exec(value.trim());
  if (!m) throw new Error(`expected a duration in days, got ${value}`);
  return Number(m[1]);
}
