/**
 * The AI system workflow and its impact assessments against the real dev server, SMTP server
 * and ledger: the first and the scheduled assessment, change-triggered runs with debounce, a
 * change during a running assessment, the review's send-back loop, sign-off routing by level
 * and impact tier, risk-treatment tasks, the next attempt after a cancelled assessment, a change
 * during the review or sign-off sending the assessment back, continue-as-new keeping the state,
 * and retirement.
 */
import { randomBytes } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiSystemStatusQuery, announceChangeUpdate, impactAssessmentStatusQuery, retireUpdate, significantChangeSignal } from '../src/ai-system/contract.js';
import type { AiSystemPolicy, AiSystemStatus } from '../src/ai-system/schema.js';
import type { AiSystemRegistration } from '../src/ai-system/impact-assessment.js';
import { approvalStatusQuery, decideUpdate } from '../src/approval/contract.js';
import { completeTaskUpdate, taskStatusQuery } from '../src/task/contract.js';
import { handoverUpdate } from '../src/common/messages.js';
import { ensureAiSystem } from '../src/ai-system/start.js';
import { readRisk } from '../src/risk/register.js';
import type { aiSystem } from '../workflows/ai-system/ai-system.js';
import type { impactAssessment } from '../workflows/ai-system/impact-assessment.js';
import { recordHistory } from './helpers/histories.js';
import { isNotification } from './helpers/smtp.js';
import { eventually, startTestStack, updateRejection, type TestStack } from './helpers/temporal.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const quiet = { reminderOffsets: [], escalation: [] };
const year = new Date().getUTCFullYear();

function registration(overrides: Partial<AiSystemRegistration> = {}): AiSystemRegistration {
  return {
    id: `loan-triage-${randomBytes(4).toString('hex')}`,
    name: 'Loan application triage',
    owner: 'sofia.lind',
    purpose: 'Routes loan applications to the right underwriting queue.',
    impactTier: 'medium',
    lifecycle: 'deployed',
    ...overrides,
  };
}

async function register(system: AiSystemRegistration, policy: AiSystemPolicy) {
  const ensured = await ensureAiSystem(stack.client, stack.taskQueue, { systemId: system.id, system, source: 'api', registeredBy: 'priya.raman', policy }, { organization: stack.organization });
  return stack.client.workflow.getHandle<typeof aiSystem>(ensured.workflowId);
}

const status = (h: WorkflowHandle) => h.query(aiSystemStatusQuery);
const assessmentId = (system: AiSystemRegistration, n: number) => `impact-assessment/${system.id}/${year}-${n}`;

/** Waits for a child task to be open, then completes it as `by`. */
async function complete(taskId: string, by: string, data: Record<string, unknown>) {
  const task = stack.client.workflow.getHandle(taskId);
  await eventually(
    () => task.query(taskStatusQuery).catch(() => undefined),
    (s) => s?.state === 'open' && s.assignee.id !== '',
  );
  return task.executeUpdate(completeTaskUpdate, { args: [{ by, data }] });
}

async function decide(approvalId: string, by: string, decision: 'approve' | 'reject', comment?: string) {
  const approval = stack.client.workflow.getHandle(approvalId);
  const s = await eventually(
    () => approval.query(approvalStatusQuery).catch(() => undefined),
    (st) => st?.state === 'pending' && st.approvers.length > 0,
  );
  await approval.executeUpdate(decideUpdate, { args: [{ by, decision, contentHash: s!.contentHash, ...(comment ? { comment } : {}) }] });
  return s!;
}

const scoping = {
  intendedUse: 'Routes consumer loan applications to a queue; underwriters decide.',
  foreseeableMisuse: 'Used as the credit decision itself without an underwriter.',
  deploymentContext: 'Internal web app, 2,000 applications a day, human in the loop.',
  jurisdictions: ['UK', 'Ireland'],
  affectedIndividuals: 'Loan applicants.',
  affectedGroups: 'Applicants with thin credit files; older applicants.',
  society: 'Access to credit in the regions served.',
};

const lowImpact = {
  impacts: [
    { area: 'individuals', description: 'Slower handling for misrouted applications.', severity: 'minor', likelihood: 'possible', mitigation: 'Queue SLAs and re-routing.', residualSeverity: 'minor', residualLikelihood: 'rare' },
  ],
};
const highImpact = {
  impacts: [
    { area: 'groups', description: 'Thin-file applicants routed to the decline-heavy queue.', severity: 'major', likelihood: 'likely', mitigation: 'Quarterly fairness review.', residualSeverity: 'major', residualLikelihood: 'likely' },
    { area: 'society', description: 'Less credit in poorer regions.', severity: 'moderate', likelihood: 'unlikely', mitigation: 'Regional monitoring.', residualSeverity: 'minor', residualLikelihood: 'unlikely' },
  ],
};

describe('AI system impact assessment', () => {
  it('runs the first assessment with a send-back, signs off by the AIMS manager below the threshold, schedules and starts the next one, and retires', async () => {
    const system = registration();
    const h = await register(system, { reassessEvery: '14s', startBefore: '4s', assessment: { tasks: quiet } });
    const first = assessmentId(system, 1);

    await complete(`${first}/scoping`, 'sofia.lind', scoping);
    // A value off the organization's scale is refused, naming the field.
    const assessmentTask = stack.client.workflow.getHandle(`${first}/assessment-1`);
    await eventually(() => assessmentTask.query(taskStatusQuery).catch(() => undefined), (s) => s?.state === 'open' && s.assignee.id !== '');
    const refused = await updateRejection(
      assessmentTask.executeUpdate(completeTaskUpdate, { args: [{ by: 'sofia.lind', data: { impacts: [{ ...lowImpact.impacts[0], severity: 'catastrophic' }] } }] }),
    );
    expect(refused).toContain('impacts.0.severity: must be one of: negligible, minor, moderate, major, severe');
    await complete(`${first}/assessment-1`, 'sofia.lind', lowImpact);
    await complete(`${first}/review-1`, 'elena.petrova', { choice: 'send back', note: 'Add the impact on applicants who appeal.' });
    const sentBack = await eventually(() => stack.client.workflow.getHandle(first).query(impactAssessmentStatusQuery), (s) => s.currentStep?.key === 'assessment-2');
    expect(sentBack).toMatchObject({ state: 'assessment', sendBacks: 1, round: 2 });
    const secondTask = stack.client.workflow.getHandle(`${first}/assessment-2`);
    const second = await eventually(() => secondTask.query(taskStatusQuery).catch(() => undefined), (t) => t !== undefined);
    expect(second!.instructions).toContain('Add the impact on applicants who appeal.');

    await complete(`${first}/assessment-2`, 'sofia.lind', lowImpact);
    await complete(`${first}/review-2`, 'elena.petrova', { choice: 'approve' });
    const shown = await decide(`${first}/sign-off-2`, 'priya.raman', 'approve');
    expect(shown.approvers.map((a) => a.id)).toEqual(['priya.raman']);

    const recorded = await eventually(() => status(h), (s) => s.last?.assessmentRef === `${year}-1`);
    expect(recorded.last).toMatchObject({ level: 2, signOffRole: 'aims-manager', signedOffBy: 'priya.raman' });
    expect(Date.parse(recorded.nextDueAt!) - Date.parse(recorded.last!.recordedAt)).toBe(14_000);
    expect(recorded.sendBacksTotal).toBe(1);

    const [record] = await stack.records.list({ subject: first, kind: 'impact-assessment.recorded' });
    expect(record?.clauses).toEqual(['6.1.4', '8.4', 'A.5.2', 'A.5.3', 'A.5.4', 'A.5.5']);
    expect(record?.content).toMatchObject({ trigger: 'initial', level: 2, sendBacks: 1, scope: { jurisdictions: ['UK', 'Ireland'] }, signOff: { role: 'aims-manager', by: 'priya.raman' } });
    expect((record?.content as { riskTreatments: unknown[] }).riskTreatments).toEqual([]);
    const kinds = (await stack.records.list({ subject: first })).map((r) => r.kind);
    expect(kinds).toEqual([
      'impact-assessment.started',
      'impact-assessment.scoped',
      'impact-assessment.assessed',
      'impact-assessment.reviewed',
      'impact-assessment.assessed',
      'impact-assessment.reviewed',
      'impact-assessment.recorded',
    ]);

    // The scheduled reassessment starts `startBefore` ahead of the due date.
    const scheduled = await eventually(() => status(h), (s) => s.current?.assessmentRef === `${year}-2`, { timeoutMs: 30_000 });
    expect(scheduled.current?.trigger).toBe('scheduled');
    expect(scheduled.state).toBe('in-progress');
    const described = await eventually(() => h.describe(), (d) => d.searchAttributes.AimsState?.[0] === 'in-progress');
    expect(described.searchAttributes).toMatchObject({ AimsProcess: ['ai-system'], AimsAiSystem: [system.id], AimsOwner: ['sofia.lind'] });
    // Past the due date with the assessment still running, the system is overdue.
    const late = await eventually(() => status(h), (s) => s.state === 'overdue', { timeoutMs: 20_000 });
    expect(late.current?.assessmentRef).toBe(`${year}-2`);
    await eventually(() => h.describe(), (d) => d.searchAttributes.AimsState?.[0] === 'overdue');

    // Retiring cancels the running assessment and ends the workflow after a final record.
    await h.executeUpdate(retireUpdate, { args: [{ by: 'priya.raman', reason: 'Replaced by the new origination platform' }] });
    const result = await h.result();
    expect(result).toMatchObject({ status: 'retired', assessmentsTotal: 1, retired: { by: 'priya.raman' } });
    await recordHistory('ai-system', h.workflowId);
    await recordHistory('impact-assessment', first);
    const child = await stack.client.workflow.getHandle<typeof impactAssessment>(assessmentId(system, 2)).result();
    expect(child).toMatchObject({ status: 'cancelled' });
    const parentKinds = (await stack.records.list({ subject: h.workflowId })).map((r) => r.kind);
    expect(parentKinds).toEqual([
      'ai-system.registered',
      'ai-system.assessment-started',
      'ai-system.reassessment-scheduled',
      'ai-system.assessment-started',
      'ai-system.assessment-cancelled',
      'ai-system.retired',
    ]);
    const final = await h.describe();
    expect(final.searchAttributes.AimsState).toEqual(['retired']);

    // Registered again, the system continues from its ledger: the last result, the due date and the numbering.
    const again = await register(system, { reassessEvery: '14s', startBefore: '4s', assessment: { tasks: quiet } });
    const resumed = await eventually(() => status(again), (s) => s.current !== undefined);
    expect(resumed.last).toMatchObject({ assessmentRef: `${year}-1`, level: 2, signedOffBy: 'priya.raman' });
    expect(resumed.nextDueAt).toBe(recorded.nextDueAt);
    expect(resumed.current).toMatchObject({ assessmentRef: `${year}-3`, trigger: 'scheduled' });
    await again.executeUpdate(retireUpdate, { args: [{ by: 'system', reason: 'end of test' }] });
    await again.result();
  }, 180_000);

  it('takes the next free assessment number when one is already taken', async () => {
    const system = registration();
    const taken = await stack.start('humanTask', [
      { title: 'Placeholder task', instructions: 'Holds the id.', assignee: { person: 'sofia.lind' }, dueAt: new Date(Date.now() + 3_600_000).toISOString(), policy: quiet },
    ], { workflowId: assessmentId(system, 1) });
    try {
      const h = await register(system, { assessment: { tasks: quiet } });
      const s = await eventually(() => status(h), (st) => st.current !== undefined);
      expect(s.current?.assessmentRef).toBe(`${year}-2`);
      await eventually(() => stack.client.workflow.getHandle(assessmentId(system, 2)).query(impactAssessmentStatusQuery).catch(() => undefined), (st) => st?.state === 'scoping');
      await h.executeUpdate(retireUpdate, { args: [{ by: 'system', reason: 'end of test' }] });
      await h.result();
    } finally {
      await taken.terminate('test finished').catch(() => undefined);
    }
  }, 180_000);

  it('starts one reassessment for changes within the debounce window, attaches a change during it, routes a high level to top management, registers the high residual impact as a risk and starts a reassessment of the risks', async () => {
    const system = registration({ impactTier: 'high', owner: 'marco.rossi' });
    const h = await register(system, { firstAssessmentIn: '1h', changeDebounce: '3s', assessment: { tasks: quiet } });
    const idle = await eventually(() => status(h), (s) => s.history.some((e) => e.type === 'registered'));
    expect(idle).toMatchObject({ state: 'due', assessmentsTotal: 0 });
    expect(idle.current).toBeUndefined();

    const ack = await h.executeUpdate(announceChangeUpdate, { args: [{ type: 'model', by: 'marco.rossi', why: 'Retrained on 2027 Q1 data' }] });
    expect(ack).toMatchObject({ disposition: 'pending' });
    await h.signal(significantChangeSignal, { type: 'data-source', by: 'sofia.lind', why: 'Added open-banking transaction data' });
    await h.executeUpdate(announceChangeUpdate, { args: [{ type: 'jurisdiction', by: 'marco.rossi', why: 'Launch in Ireland' }] });
    expect(await updateRejection(h.executeUpdate(announceChangeUpdate, { args: [{ type: 'colour' as never, by: 'marco.rossi', why: 'x' }] }))).toMatch(/type: must be one of model/);

    const started = await eventually(() => status(h), (s) => s.current !== undefined, { timeoutMs: 20_000 });
    expect(started.current).toMatchObject({ assessmentRef: `${year}-1`, trigger: 'change' });
    const first = assessmentId(system, 1);
    const child = stack.client.workflow.getHandle(first);
    const childStatus = await eventually(() => child.query(impactAssessmentStatusQuery), (s) => s.changes.length === 3);
    expect(childStatus.changes.map((c) => c.type)).toEqual(['model', 'data-source', 'jurisdiction']);

    // A change while it runs is attached to it, not a new assessment.
    const attached = await h.executeUpdate(announceChangeUpdate, { args: [{ type: 'deployment-context', by: 'marco.rossi', why: 'Now also used by the broker channel' }] });
    expect(attached).toMatchObject({ disposition: 'attached', assessmentId: first });
    await eventually(() => child.query(impactAssessmentStatusQuery), (s) => s.changes.some((c) => c.attached && c.type === 'deployment-context'));

    await complete(`${first}/scoping`, 'marco.rossi', scoping);
    await complete(`${first}/assessment-1`, 'marco.rossi', highImpact);
    await complete(`${first}/review-1`, 'elena.petrova', { choice: 'approve' });
    const shown = await decide(`${first}/sign-off-1`, 'hannah.okafor', 'approve');
    expect(shown.approvers.map((a) => a.id).sort()).toEqual(['david.chen', 'hannah.okafor']);

    const done = await eventually(() => status(h), (s) => s.last !== undefined);
    expect(done).toMatchObject({ state: 'current', assessmentsTotal: 1, last: { level: 16, signOffRole: 'top-management', signedOffBy: 'hannah.okafor' } });
    expect(done.current).toBeUndefined();
    const [record] = await stack.records.list({ subject: first, kind: 'impact-assessment.recorded' });
    const content = record?.content as { trigger: string; changes: Array<{ type: string; attached: boolean }>; riskTreatments: Array<{ workflowId: string; residualLevel: number }> };
    expect(content.trigger).toBe('change');
    expect(content.changes.map((c) => [c.type, c.attached])).toEqual([
      ['model', false],
      ['data-source', false],
      ['jurisdiction', false],
      ['deployment-context', true],
    ]);
    // Impact 1 stays at level 16 (at or above the risk-treatment threshold 10), impact 2 at 4: impact 1 is now a
    // risk of the register (no free-standing task), and the change starts a reassessment of the system's risks.
    expect(content.riskTreatments).toEqual([]);
    const registered = await eventually(
      () => stack.records.list({ subject: first, kind: 'impact-assessment.risks-registered' }),
      (rs) => rs.length === 1,
    );
    const [risk] = (registered[0]!.content as { risks: Array<{ riskId: string; impact: number; residualLevel: number; created: boolean }> }).risks;
    expect(risk).toMatchObject({ impact: 1, residualLevel: 16, created: true });
    const inRegister = await readRisk(stack.records, risk!.riskId);
    expect(inRegister?.risk).toMatchObject({ aiSystems: [system.id], owner: 'marco.rossi', state: 'identified', source: { type: 'impact-assessment', ref: `${system.id}/${year}-1` } });
    const noTask = await stack.client.workflow.getHandle(`${first}/risk-treatment-1`).describe().catch(() => undefined);
    expect(noTask).toBeUndefined();
    const riskAssessment = `risk-assessment/${system.id}/${year}-1`;
    await eventually(() => status(h), (s) => s.history.some((e) => e.type === 'risk-assessment-started' && e.workflowId === riskAssessment));
    // The reassessment's identification lists the risk the impact assessment put in the register.
    const identify = stack.client.workflow.getHandle(`${riskAssessment}/identify`);
    const identifyTask = await eventually(() => identify.query(taskStatusQuery).catch(() => undefined), (t) => t?.state === 'open' && t.assignee.id !== '');
    expect(identifyTask!.assignee.id).toBe('marco.rossi');
    expect(identifyTask!.instructions).toContain(risk!.riskId);
    await stack.smtp.waitFor((m) => isNotification(m, `${riskAssessment}/identify`, 'task.assigned', 'marco.rossi@northwind.example'), 20_000);
    await stack.client.workflow.getHandle(riskAssessment).terminate('end of test');
    // Only one assessment ran for the four changes.
    const noSecond = await stack.client.workflow.getHandle(assessmentId(system, 2)).describe().catch(() => undefined);
    expect(noSecond).toBeUndefined();
    const announced = await stack.records.list({ subject: h.workflowId, kind: 'ai-system.change-announced' });
    expect(announced.map((r) => (r.content as { disposition: string }).disposition)).toEqual(['pending', 'pending', 'pending', 'attached']);
    await h.executeUpdate(retireUpdate, { args: [{ by: 'system', reason: 'end of test' }] });
    await h.result();
  }, 180_000);

  it('after a cancelled assessment schedules the next one retryAfter later with its changes, tells the AIMS manager and shows overdue once the planned date passes', async () => {
    const system = registration();
    const h = await register(system, { startBefore: '3s', retryAfter: '8s', assessment: { tasks: quiet } });
    const first = assessmentId(system, 1);
    const child = stack.client.workflow.getHandle(first);
    await eventually(() => child.query(impactAssessmentStatusQuery).catch(() => undefined), (s) => s?.currentStep?.key === 'scoping');
    const attached = await h.executeUpdate(announceChangeUpdate, { args: [{ type: 'model', by: 'sofia.lind', why: 'Retrained on the 2027 applications' }] });
    expect(attached).toMatchObject({ disposition: 'attached', assessmentId: first });
    // An operator cancels the running assessment.
    await child.cancel();
    await expect(child.result()).resolves.toMatchObject({ status: 'cancelled' });

    const waiting = await eventually(() => status(h), (s) => s.current === undefined && s.retryAt !== undefined);
    expect(waiting.held).toBe(false);
    expect(waiting.nextStartAt).toBe(waiting.retryAt);
    expect(waiting.retryChanges.map((c) => c.type)).toEqual(['model']);
    const [cancelled] = await eventually(() => stack.records.list({ subject: h.workflowId, kind: 'ai-system.assessment-cancelled' }), (r) => r.length > 0);
    expect(cancelled?.content).toMatchObject({ assessmentRef: `${year}-1`, nextStartAt: waiting.retryAt, nextDueAt: waiting.nextDueAt });
    const mail = await stack.smtp.waitFor((m) => isNotification(m, h.workflowId, 'impact-assessment.not-completed', 'priya.raman@northwind.example'), 20_000);
    expect(mail.subject).toContain(`${system.id}/${year}-1`);
    // The planned date passes before the next attempt: overdue, also in visibility.
    const late = await eventually(() => status(h), (s) => s.state === 'overdue', { timeoutMs: 15_000 });
    expect(late.current).toBeUndefined();
    await eventually(() => h.describe(), (d) => d.searchAttributes.AimsState?.[0] === 'overdue');

    // The next attempt starts at the retry and takes over the change the cancelled one did not assess.
    const retried = await eventually(() => status(h), (s) => s.current !== undefined, { timeoutMs: 20_000 });
    expect(retried.current).toMatchObject({ assessmentRef: `${year}-2`, trigger: 'change' });
    expect(Date.parse(retried.current!.startedAt)).toBeGreaterThanOrEqual(Date.parse(waiting.retryAt!));
    expect(retried.state).toBe('overdue');
    const second = await stack.client.workflow.getHandle(assessmentId(system, 2)).query(impactAssessmentStatusQuery);
    expect(second.changes.map((c) => c.why)).toEqual(['Retrained on the 2027 applications']);
    await h.executeUpdate(retireUpdate, { args: [{ by: 'system', reason: 'end of test' }] });
    await h.result();
    await recordHistory('ai-system-retry', h.workflowId);
  }, 180_000);

  it('sends the assessment back to the assessment step when a change is announced during the review or the sign-off, and records only assessed changes', async () => {
    const system = registration();
    const h = await register(system, { assessment: { tasks: quiet } });
    const first = assessmentId(system, 1);
    const child = stack.client.workflow.getHandle<typeof impactAssessment>(first);
    await complete(`${first}/scoping`, 'sofia.lind', scoping);
    await complete(`${first}/assessment-1`, 'sofia.lind', lowImpact);
    await eventually(() => child.query(impactAssessmentStatusQuery), (s) => s.currentStep?.key === 'review-1');

    // During the review: the review task is withdrawn and the impacts are assessed again.
    await h.executeUpdate(announceChangeUpdate, { args: [{ type: 'data-source', by: 'sofia.lind', why: 'Added bureau data from a second agency' }] });
    const back = await eventually(() => child.query(impactAssessmentStatusQuery), (s) => s.currentStep?.key === 'assessment-2');
    expect(back).toMatchObject({ state: 'assessment', round: 2, sendBacks: 0, reopened: 1 });
    expect(back.changes).toEqual([expect.objectContaining({ type: 'data-source', attached: true, awaitingAssessment: true })]);
    expect((await stack.client.workflow.getHandle(`${first}/review-1`).describe()).status.name).toBe('CANCELLED');
    const reassess = await eventually(() => stack.client.workflow.getHandle(`${first}/assessment-2`).query(taskStatusQuery).catch(() => undefined), (t) => t !== undefined);
    expect(reassess!.instructions).toContain('Added bureau data from a second agency');

    await complete(`${first}/assessment-2`, 'sofia.lind', lowImpact);
    await complete(`${first}/review-2`, 'elena.petrova', { choice: 'approve' });
    const signOff = stack.client.workflow.getHandle(`${first}/sign-off-2`);
    await eventually(() => signOff.query(approvalStatusQuery).catch(() => undefined), (st) => st?.state === 'pending');
    // During the sign-off: the approval request is withdrawn, and back to the assessment.
    await h.signal(significantChangeSignal, { type: 'jurisdiction', by: 'sofia.lind', why: 'Launch in Spain' });
    await eventually(() => child.query(impactAssessmentStatusQuery), (s) => s.currentStep?.key === 'assessment-3');
    expect((await signOff.describe()).status.name).toBe('CANCELLED');

    await complete(`${first}/assessment-3`, 'sofia.lind', lowImpact);
    await complete(`${first}/review-3`, 'elena.petrova', { choice: 'approve' });
    await decide(`${first}/sign-off-3`, 'priya.raman', 'approve');
    const result = await child.result();
    expect(result).toMatchObject({ status: 'recorded', sendBacks: 0 });
    const [record] = await stack.records.list({ subject: first, kind: 'impact-assessment.recorded' });
    const content = record?.content as { changes: Array<Record<string, unknown>> };
    expect(content.changes.map((c) => [c.type, c.attached, c.awaitingAssessment])).toEqual([
      ['data-source', true, undefined],
      ['jurisdiction', true, undefined],
    ]);
    const reopened = await stack.records.list({ subject: first, kind: 'impact-assessment.reopened' });
    expect(reopened.map((r) => (r.content as { step: string; round: number }).step)).toEqual(['review', 'sign-off']);
    await recordHistory('impact-assessment-reopened', first);
    await h.executeUpdate(retireUpdate, { args: [{ by: 'system', reason: 'end of test' }] });
    await h.result();
  }, 180_000);

  it('routes the sign-off of a high-tier system to top management even at a low level', async () => {
    const system = registration({ impactTier: 'critical' });
    const h = await register(system, { assessment: { tasks: quiet } });
    const first = assessmentId(system, 1);
    await complete(`${first}/scoping`, 'sofia.lind', scoping);
    await complete(`${first}/assessment-1`, 'sofia.lind', lowImpact);
    await complete(`${first}/review-1`, 'elena.petrova', { choice: 'approve' });
    const shown = await decide(`${first}/sign-off-1`, 'david.chen', 'approve');
    expect(shown.approvers.map((a) => a.id).sort()).toEqual(['david.chen', 'hannah.okafor']);
    const done = await eventually(() => status(h), (s) => s.last !== undefined);
    expect(done.last).toMatchObject({ level: 2, signOffRole: 'top-management', signedOffBy: 'david.chen' });
    await h.executeUpdate(retireUpdate, { args: [{ by: 'system', reason: 'end of test' }] });
    await h.result();
  }, 180_000);

  it('continues as new after the bound, keeping its state and numbering', async () => {
    const system = registration();
    const h = await register(system, { continueAsNewAfter: 1, changeDebounce: '1s', assessment: { tasks: quiet } });
    const first = assessmentId(system, 1);
    const firstRun = (await h.describe()).runId;
    await complete(`${first}/scoping`, 'sofia.lind', scoping);
    await complete(`${first}/assessment-1`, 'sofia.lind', lowImpact);
    await complete(`${first}/review-1`, 'elena.petrova', { choice: 'send back', note: 'More detail' });
    await complete(`${first}/assessment-2`, 'sofia.lind', lowImpact);
    await complete(`${first}/review-2`, 'elena.petrova', { choice: 'approve' });
    await decide(`${first}/sign-off-2`, 'priya.raman', 'approve');

    const next: AiSystemStatus = await eventually(() => status(h), (s) => s.runs === 2, { timeoutMs: 30_000 });
    expect((await h.describe()).runId).not.toBe(firstRun);
    expect(next).toMatchObject({ state: 'current', assessmentsTotal: 1, sendBacksTotal: 1, last: { assessmentRef: `${year}-1`, level: 2 }, system: { id: system.id } });
    expect(next.history.map((e) => e.type)).toEqual(expect.arrayContaining(['registered', 'assessment-started', 'assessment-recorded', 'continued-as-new']));

    // The new run goes on: a change starts assessment number 2, not 1 again.
    await h.signal(significantChangeSignal, { type: 'intended-use', by: 'sofia.lind', why: 'Now also triages mortgage applications' });
    const running = await eventually(() => status(h), (s) => s.current !== undefined, { timeoutMs: 20_000 });
    expect(running.current).toMatchObject({ assessmentRef: `${year}-2`, trigger: 'change' });
    const registered = await stack.records.list({ subject: h.workflowId, kind: 'ai-system.registered' });
    expect(registered).toHaveLength(1);
    await h.executeUpdate(retireUpdate, { args: [{ by: 'system', reason: 'end of test' }] });
    await h.result();
  }, 180_000);
});

/** People change and steps fail while systems are assessed (issue #21). */
describe('AI system when people change or steps fail', () => {
  const handover = (h: { executeUpdate: WorkflowHandle['executeUpdate'] }, from: string, to: string) =>
    h.executeUpdate(handoverUpdate, { args: [{ by: 'system', from, to, reason: `${from} moved to the risk team`, ref: 'org-change-12' }] });

  it('hands over the system owner as a registration change, and the running assessment’s next steps go to the new owner', async () => {
    const system = registration();
    const h = await register(system, { assessment: { tasks: quiet } });
    const first = assessmentId(system, 1);
    const child = stack.client.workflow.getHandle(first);
    await eventually(() => child.query(impactAssessmentStatusQuery).catch(() => undefined), (st) => st?.currentStep?.key === 'scoping');

    expect(await handover(h, 'sofia.lind', 'marco.rossi')).toMatchObject({ moved: true, parts: [{ part: 'owner', to: 'marco.rossi' }] });
    expect(await handover(h, 'sofia.lind', 'marco.rossi')).toMatchObject({ moved: false });
    const s = await status(h);
    expect(s.system.owner).toBe('marco.rossi');
    expect(s.history.at(-1)).toMatchObject({ type: 'handover', by: 'system' });
    const [updated] = await stack.records.list({ subject: h.workflowId, kind: 'ai-system.updated' });
    expect(updated?.content).toMatchObject({ changes: { owner: 'marco.rossi' }, reason: 'handed over from sofia.lind: sofia.lind moved to the risk team' });
    const [record] = await stack.records.list({ subject: h.workflowId, kind: 'handover' });
    expect(record?.content).toMatchObject({ systemId: system.id, from: 'sofia.lind', to: 'marco.rossi', part: 'owner', ref: 'org-change-12' });
    await eventually(() => h.describe(), (d) => d.searchAttributes.AimsOwner?.[0] === 'marco.rossi');
    await stack.smtp.waitFor((m) => isNotification(m, h.workflowId, 'work.handed-over', 'marco.rossi@northwind.example'), 20_000);

    // The running assessment answers for its own part: the scoping task is sofia's, the next step marco's.
    expect(await handover(child, 'sofia.lind', 'marco.rossi')).toMatchObject({ moved: true, parts: [{ part: 'owner', to: 'marco.rossi' }] });
    await complete(`${first}/scoping`, 'sofia.lind', scoping);
    await complete(`${first}/assessment-1`, 'marco.rossi', lowImpact);
    expect((await child.query(impactAssessmentStatusQuery)).system.owner).toBe('marco.rossi');
    await h.executeUpdate(retireUpdate, { args: [{ by: 'system', reason: 'end of test' }] });
    await h.result();
    await recordHistory('ai-system-handover', h.workflowId);
  });

  it('a failed step of an assessment is asked again; the timeline and the ledger say why', async () => {
    const system = registration();
    const h = await register(system, { assessment: { tasks: quiet } });
    const first = assessmentId(system, 1);
    const scopingTask = stack.client.workflow.getHandle(`${first}/scoping`);
    await eventually(() => scopingTask.describe().catch(() => undefined), (d) => d?.status.name === 'RUNNING');
    await scopingTask.terminate('the worker lost it');
    await complete(`${first}/scoping-r2`, 'sofia.lind', scoping);
    const child = stack.client.workflow.getHandle(first);
    const s = await eventually(() => child.query(impactAssessmentStatusQuery), (st) => st.currentStep?.key === 'assessment-1');
    expect(s.timeline.find((e) => e.type === 'step-failed')).toMatchObject({ detail: 'Scope the impact assessment: it was terminated; asked again', workflowId: `${first}/scoping` });
    const [failed] = await stack.records.list({ subject: first, kind: 'impact-assessment.step-failed' });
    expect(failed?.content).toMatchObject({ step: 'scoping', reason: 'it was terminated', failures: 1, askedAgain: true });
    await h.executeUpdate(retireUpdate, { args: [{ by: 'system', reason: 'end of test' }] });
    await h.result();
    await recordHistory('impact-assessment-step-failed', first);
  });
});
