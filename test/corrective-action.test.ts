import { randomInt, randomUUID } from 'node:crypto';
import path from 'node:path';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { pino } from 'pino';
import { inject } from 'vitest';
import { createActivities } from '../activities/index.js';
import { bundlerOptions, createAimsWorker, workflowInterceptorModules } from '../workers/worker.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { cancelNeedsApproval, pastDueActions, type CorrectiveActionInput, type CorrectiveActionResult } from '../src/corrective-action/schema.js';
import { cancelUpdate, commentUpdate, handoverUpdate } from '../src/common/messages.js';
import type { Organization } from '../src/organization/schema.js';
import { mergeConcernUpdate, ncStatusQuery } from '../src/corrective-action/contract.js';
import { approvalStatusQuery, decideUpdate } from '../src/approval/contract.js';
import { completeTaskUpdate, taskStatusQuery } from '../src/task/contract.js';
import { readRisk } from '../src/risk/register.js';
import { isNotification } from './helpers/smtp.js';
import { recordHistory } from './helpers/histories.js';
import { eventually, exampleOrganization, startTestStack, updateRejection, type TestStack } from './helpers/temporal.js';
import { aimsDataConverter, failureConverterPath, payloadKeysFromEnv } from '../src/temporal/codec.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

type NcHandle = WorkflowHandle<(input: CorrectiveActionInput) => Promise<CorrectiveActionResult>>;

const quiet = { reminderOffsets: [], escalation: [] };

function raise(overrides: Partial<CorrectiveActionInput> = {}, on: TestStack = stack): Promise<NcHandle> {
  const ncId = `NC-2027-${randomInt(100_000, 999_999)}`;
  const input: CorrectiveActionInput = {
    ncId,
    title: 'Credit-scoring drift alert ignored for 3 days',
    description: 'The drift monitor fired on 2 March; nobody acted until 5 March.',
    severity: 'major',
    source: 'internal-audit',
    sourceRef: 'IA-2027-01/F-3',
    clauses: ['A.6.2.6'],
    aiSystem: 'credit-scoring',
    owner: 'sofia.lind',
    raisedBy: 'aisha.khan',
    policy: { stepDue: '1h', effectivenessWait: '1s', overallTarget: '1h', tasks: quiet },
    ...overrides,
  };
  return on.start<[CorrectiveActionInput], CorrectiveActionResult>('correctiveAction', [input], {
    workflowId: `corrective-action/${input.ncId}`,
  });
}

/** The step's child task once it is set up. */
async function openTask(nc: NcHandle, key: string, on: TestStack = stack) {
  const task = on.client.workflow.getHandle(`${nc.workflowId}/${key}`);
  await eventually(
    () => task.query(taskStatusQuery).catch(() => undefined),
    (s) => s?.state === 'open' && s.assignee.id !== '',
  );
  return task;
}

/** Waits for the step's child task to be set up, then completes it as `by`. */
async function complete(nc: NcHandle, key: string, by: string, data: Record<string, unknown>, on: TestStack = stack) {
  const task = on.client.workflow.getHandle(`${nc.workflowId}/${key}`);
  await eventually(
    () => task.query(taskStatusQuery).catch(() => undefined),
    (s) => s?.state === 'open' && s.assignee.id !== '',
  );
  return task.executeUpdate(completeTaskUpdate, { args: [{ by, data }] });
}

async function decide(nc: NcHandle, key: string, by: string, decision: 'approve' | 'reject', comment?: string, on: TestStack = stack) {
  const approval = on.client.workflow.getHandle(`${nc.workflowId}/${key}`);
  const s = await eventually(
    () => approval.query(approvalStatusQuery).catch(() => undefined),
    (st) => st?.state === 'pending' && st.approvers.length > 0,
  );
  return approval.executeUpdate(decideUpdate, { args: [{ by, decision, contentHash: s!.contentHash, ...(comment ? { comment } : {}) }] });
}

/** `promise`, or a failure naming `label` when it has not settled within `ms` (a hang names its step). */
/**
 * Waits until the NC's child for `key` has started. A cancel that reaches the NC after it asked
 * for the child but before the server started it is lost: the SDK's request to cancel the child
 * fails (it does not exist yet), and the NC then waits for a child that never hears of it. The
 * tests cancel only once the step's child runs.
 */
async function childStarted(on: { client: TestStack['client'] }, nc: { workflowId: string }, key: string): Promise<void> {
  const child = on.client.workflow.getHandle(`${nc.workflowId}/${key}`);
  await eventually(() => child.describe().then(() => true, () => false), (started) => started);
}

function stepWithin<T>(label: string, promise: Promise<T>, ms = 45_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const evidence = (summary: string) => ({ summary, links: ['https://wiki.northwind.example/nc/evidence'] });
const rootCause = (cause: string) => ({
  method: '5-whys',
  analysis: 'Why 1: alert went to a shared inbox. Why 2: no on-call rota for model alerts.',
  rootCause: cause,
  similarElsewhere: 'yes',
  similarDetail: 'fraud-detection uses the same alert routing; checked, same gap.',
});
const plan = (description: string) => ({ actions: [{ owner: 'tom.baker', dueDate: '2030-01-31', description }] });

describe('corrective action rules', () => {
  it('action-due-not-in-past: refuses each action due before today, naming its field; today and later pass', () => {
    const actions = [{ dueDate: '2027-03-05' }, { dueDate: '2027-03-04' }, { dueDate: '2027-04-01' }, { dueDate: '2026-12-31' }];
    expect(pastDueActions(actions, '2027-03-05')).toEqual([
      'actions.1.dueDate: 2027-03-04 is in the past: an action must be due today (2027-03-05) or later (rule action-due-not-in-past)',
      'actions.3.dueDate: 2026-12-31 is in the past: an action must be due today (2027-03-05) or later (rule action-due-not-in-past)',
    ]);
    expect(pastDueActions([{ dueDate: '2027-03-05' }], '2027-03-05')).toEqual([]);
  });

  it('cancel-needs-top-management: every major NC and every NC from the certification body; not a minor one from elsewhere', () => {
    expect(cancelNeedsApproval({ severity: 'major', source: 'internal-audit' })).toBe(true);
    expect(cancelNeedsApproval({ severity: 'minor', source: 'certification-audit' })).toBe(true);
    for (const source of ['admin', 'internal-audit', 'incident', 'concern'] as const) {
      expect(cancelNeedsApproval({ severity: 'minor', source })).toBe(false);
    }
  });
});

describe('corrective action', () => {
  it('runs containment, root cause, an approved plan (after one rejection), the actions and the effectiveness review to closure', async () => {
    const nc = await raise();
    const described = await eventually(() => nc.describe(), (d) => d.searchAttributes.AimsRef !== undefined);
    expect(described.searchAttributes).toMatchObject({ AimsRef: [nc.workflowId.split('/')[1]], AimsSeverity: ['major'], AimsSource: ['internal-audit'], AimsOwner: ['sofia.lind'] });

    await complete(nc, 'containment', 'sofia.lind', evidence('Alerts rerouted to the on-call channel.'));
    await complete(nc, 'root-cause-1', 'sofia.lind', rootCause('No owner for model alerts'));
    await complete(nc, 'action-plan-1-1', 'sofia.lind', plan('Write a runbook'));
    // The owner cannot approve their own plan; the AIMS manager sends it back.
    await decide(nc, 'plan-approval-1-1', 'priya.raman', 'reject', 'Add an on-call rota, a runbook alone is not enough');
    const sentBack = await eventually(() => nc.query(ncStatusQuery), (s) => s.currentStep?.key === 'action-plan-1-2');
    expect(sentBack.timeline.some((e) => e.type === 'plan-rejected' && e.detail.includes('on-call rota'))).toBe(true);
    const secondTask = stack.client.workflow.getHandle(`${nc.workflowId}/action-plan-1-2`);
    const second = await eventually(() => secondTask.query(taskStatusQuery).catch(() => undefined), (t) => t !== undefined);
    expect(second!.instructions).toContain('Add an on-call rota');

    await complete(nc, 'action-plan-1-2', 'sofia.lind', plan('Set up an on-call rota for model alerts with a runbook'));
    await decide(nc, 'plan-approval-1-2', 'priya.raman', 'approve');
    await complete(nc, 'action-1-1', 'tom.baker', evidence('Rota live in PagerDuty; runbook published.'));
    await complete(nc, 'effectiveness-1', 'sofia.lind', { answer: 'yes', justification: 'Two alerts since, both handled within 1 hour.' });
    await complete(nc, 'system-change-1', 'sofia.lind', { answer: 'no', justification: 'The monitoring procedure already requires an owner.' });

    const result = await nc.result();
    expect(result).toMatchObject({ status: 'closed', notEffectiveCount: 0 });
    await recordHistory('corrective-action', nc.workflowId);
    const s = await nc.query(ncStatusQuery);
    expect(s.state).toBe('closed');
    expect(s.rootCauses).toMatchObject([{ cycle: 1, rootCause: 'No owner for model alerts', similarElsewhere: 'yes' }]);
    expect(s.actions).toMatchObject([{ owner: 'tom.baker', done: true, cycle: 1 }]);
    expect(s.effectiveness).toMatchObject([{ cycle: 1, effective: true }]);
    expect(s.clauses).toEqual(['10.2', 'A.6.2.6']);

    const kinds = (await stack.records.list({ subject: nc.workflowId })).map((r) => r.kind);
    expect(kinds).toEqual([
      'nonconformity.raised',
      'nonconformity.containment',
      'nonconformity.root-cause',
      'nonconformity.action-plan',
      'nonconformity.action-plan',
      'nonconformity.action',
      'nonconformity.effectiveness',
      'nonconformity.system-change-decision',
      'nonconformity.closed',
    ]);
    const [closed] = await stack.records.list({ subject: nc.workflowId, kind: 'nonconformity.closed' });
    expect(closed?.clauses).toEqual(['10.2', 'A.6.2.6']);
    await stack.smtp.waitFor((m) => isNotification(m, nc.workflowId, 'nc.closed', 'sofia.lind@northwind.example'), 20_000);
    const final = await nc.describe();
    expect(final.searchAttributes.AimsState).toEqual(['closed']);
  });

  it('sends a not-effective action back to root cause analysis, counts it, asks for a system change task, and links the NC to the risk register', async () => {
    const nc = await raise({ severity: 'minor', source: 'incident' });
    await complete(nc, 'containment', 'sofia.lind', evidence('Contained.'));
    await complete(nc, 'root-cause-1', 'sofia.lind', rootCause('Alert threshold too loose'));
    await complete(nc, 'action-plan-1-1', 'sofia.lind', plan('Tighten the threshold'));
    await decide(nc, 'plan-approval-1-1', 'priya.raman', 'approve');
    await complete(nc, 'action-1-1', 'tom.baker', evidence('Threshold tightened.'));
    await complete(nc, 'effectiveness-1', 'sofia.lind', { answer: 'no', justification: 'Drift recurred on 1 April.' });

    const loop = await eventually(() => nc.query(ncStatusQuery), (s) => s.currentStep?.key === 'root-cause-2');
    expect(loop).toMatchObject({ state: 'root-cause', cycle: 2, notEffectiveCount: 1 });
    expect(loop.timeline.filter((e) => e.type === 'not-effective')).toHaveLength(1);
    const metadata = await nc.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toContain('not effective 1×');

    await complete(nc, 'root-cause-2', 'sofia.lind', rootCause('Training data pipeline skips the monthly refresh'));
    await complete(nc, 'action-plan-2-1', 'sofia.lind', plan('Schedule the refresh and alert on a missed one'));
    await decide(nc, 'plan-approval-2-1', 'priya.raman', 'approve');
    await complete(nc, 'action-2-1', 'tom.baker', evidence('Refresh scheduled.'));
    await complete(nc, 'effectiveness-2', 'sofia.lind', { answer: 'yes', justification: 'No drift for 60 days.' });
    const risk = 'A missed monthly refresh lets the fraud model drift unnoticed.';
    const decision = await openTask(nc, 'system-change-2');
    expect(await updateRejection(decision.executeUpdate(completeTaskUpdate, { args: [{ by: 'sofia.lind', data: { answer: 'yes', justification: 'x', updateRisks: 'yes' } }] }))).toContain('risk');
    await complete(nc, 'system-change-2', 'sofia.lind', { answer: 'yes', justification: 'Data refresh must be a documented control.', updateRisks: 'yes', risk });
    await complete(nc, 'system-change', 'sofia.lind', evidence('Procedure DM-04 updated.'));

    const result = await nc.result();
    expect(result).toMatchObject({ status: 'closed', notEffectiveCount: 1 });
    const s = await nc.query(ncStatusQuery);
    expect(s.rootCauses.map((r) => r.cycle)).toEqual([1, 2]);
    expect(s.effectiveness.map((e) => e.effective)).toEqual([false, true]);
    expect(s.systemChange).toMatchObject({ required: true });
    // "Update risks: yes" put a risk in the register, linked to the NC (10.2 e).
    const [riskId] = s.systemChange!.riskIds!;
    const inRegister = await readRisk(stack.records, riskId!);
    expect(inRegister?.risk).toMatchObject({ description: risk, source: { type: 'nonconformity', ref: s.ncId }, links: [{ kind: 'nonconformity', ref: s.ncId }], state: 'identified', owner: 'sofia.lind' });
    expect(s.timeline.some((e) => e.type === 'risks-updated')).toBe(true);
    const kinds = (await stack.records.list({ subject: nc.workflowId })).map((r) => r.kind);
    expect(kinds).toContain('nonconformity.risks-updated');
    expect(kinds.filter((k) => k === 'nonconformity.effectiveness')).toHaveLength(2);
    expect(kinds).toContain('nonconformity.system-change');
  });

  it('escalates an NC open past its overall target to top management, and cancels a major NC only once top management approves', async () => {
    const nc = await raise({ policy: { stepDue: '1h', effectivenessWait: '1s', overallTarget: '2s', tasks: quiet } });
    const s = await eventually(() => nc.query(ncStatusQuery), (st) => st.overdue, { timeoutMs: 20_000 });
    expect(s.timeline.some((e) => e.type === 'escalated')).toBe(true);
    for (const to of ['hannah.okafor@northwind.example', 'david.chen@northwind.example']) {
      const mail = await stack.smtp.waitFor((m) => isNotification(m, nc.workflowId, 'nc.escalated', to), 20_000);
      expect(mail.text).toContain('containment and correction');
    }
    await eventually(() => nc.describe(), (d) => d.searchAttributes.AimsState?.[0] === 'overdue');

    expect(await updateRejection(nc.executeUpdate(cancelUpdate, { args: [{ by: 'tom.baker', reason: 'no' }] }))).toMatch(/only the AIMS manager/);
    expect(await updateRejection(nc.executeUpdate(commentUpdate, { args: [{ by: 'tom.baker', text: 'hi' }] }))).toMatch(/only the owner or the AIMS manager/);
    await nc.executeUpdate(commentUpdate, { args: [{ by: 'sofia.lind', text: 'Waiting for the vendor.' }] });
    await nc.executeUpdate(mergeConcernUpdate, { args: [{ by: 'system', concernId: 'concern/2027/abcd2345', summary: 'Same drift seen by support' }] });

    // A major NC: the AIMS manager's cancel asks top management, and the NC stays open meanwhile.
    const asked = await nc.executeUpdate(cancelUpdate, { args: [{ by: 'priya.raman', reason: 'Duplicate of an older NC' }] });
    expect(asked.message).toMatch(/needs top management's approval/);
    expect(await updateRejection(nc.executeUpdate(cancelUpdate, { args: [{ by: 'priya.raman', reason: 'Again' }] }))).toMatch(
      /a cancellation asked by priya\.raman on .* is waiting for top management's decision/,
    );
    const pending = await nc.query(ncStatusQuery);
    expect(pending).toMatchObject({ state: 'containment', cancelRequest: { by: 'priya.raman', reason: 'Duplicate of an older NC', workflowId: `${nc.workflowId}/cancel-approval-1` } });
    const requestApproval = stack.client.workflow.getHandle(`${nc.workflowId}/cancel-approval-1`);
    const request = (await eventually(() => requestApproval.query(approvalStatusQuery).catch(() => undefined), (a) => (a?.approvers.length ?? 0) > 0))!;
    expect(request.summary).toContain('Duplicate of an older NC');
    expect(request.approvers.map((p) => p.id).sort()).toEqual(['david.chen', 'hannah.okafor']);
    // Refused (any one of top management may approve, so both refuse): the corrective action goes on.
    await decide(nc, 'cancel-approval-1', 'hannah.okafor', 'reject', 'Not a duplicate: a different model');
    await decide(nc, 'cancel-approval-1', 'david.chen', 'reject', 'Agreed, keep it open');
    const kept = await eventually(() => nc.query(ncStatusQuery), (st) => st.cancelRequest === undefined && st.timeline.some((e) => e.type === 'cancel-refused'));
    expect(kept.state).toBe('containment');
    expect((await stack.client.workflow.getHandle(`${nc.workflowId}/containment`).query(taskStatusQuery)).state).not.toBe('cancelled');

    // Asked again and approved: cancelled, with who asked and who approved on record.
    await nc.executeUpdate(cancelUpdate, { args: [{ by: 'priya.raman', reason: 'Duplicate of NC-2027-001, same model' }] });
    await decide(nc, 'cancel-approval-2', 'david.chen', 'approve');
    const result = await nc.result();
    expect(result).toMatchObject({ status: 'cancelled', cancellation: { by: 'priya.raman', reason: 'Duplicate of NC-2027-001, same model', approvedBy: 'david.chen' } });
    const containment = await stack.client.workflow.getHandle(`${nc.workflowId}/containment`).query(taskStatusQuery);
    expect(containment.state).toBe('cancelled');
    const records = await stack.records.list({ subject: nc.workflowId });
    expect(records.map((r) => r.kind)).toEqual([
      'nonconformity.raised',
      'nonconformity.escalated',
      'nonconformity.comment',
      'nonconformity.concern-merged',
      'nonconformity.cancellation-requested',
      'nonconformity.cancellation-decided',
      'nonconformity.cancellation-requested',
      'nonconformity.cancellation-decided',
      'nonconformity.cancelled',
    ]);
    const decided = records.filter((r) => r.kind === 'nonconformity.cancellation-decided');
    expect(decided.map((r) => [r.actor, (r.content as { outcome: string }).outcome])).toEqual([
      ['hannah.okafor', 'rejected'],
      ['david.chen', 'approved'],
    ]);
    expect(decided[0]?.content).toMatchObject({ requestedBy: 'priya.raman', why: 'Not a duplicate: a different model; Agreed, keep it open' });
    const [cancelled] = await stack.records.list({ subject: nc.workflowId, kind: 'nonconformity.cancelled' });
    expect(cancelled?.actor).toBe('priya.raman');
    expect(cancelled?.content).toMatchObject({ reason: 'Duplicate of NC-2027-001, same model', approvedBy: 'david.chen' });
  });

  it('refuses an action plan with an action due in the past, naming the field and the rule, and asks the owner for the plan again', { timeout: 150_000 }, async () => {
    const nc = await stepWithin('step 1', raise({ severity: 'minor', source: 'incident' }));
    await stepWithin('step 2', complete(nc, 'containment', 'sofia.lind', evidence('Contained.')));
    await stepWithin('step 3', complete(nc, 'root-cause-1', 'sofia.lind', rootCause('No owner for model alerts')));
    await stepWithin(
      'the first plan',
      complete(nc, 'action-plan-1-1', 'sofia.lind', {
        actions: [
          { owner: 'tom.baker', dueDate: '2030-01-31', description: 'Set up an on-call rota' },
          { owner: 'tom.baker', dueDate: '2020-01-31', description: 'Write a runbook' },
        ],
      }),
    );
    const again = await stepWithin('step 4', eventually(() => nc.query(ncStatusQuery), (s) => s.currentStep?.key === 'action-plan-1-2'));
    const refusal = 'actions.1.dueDate: 2020-01-31 is in the past';
    const refused = again.timeline.find((e) => e.type === 'plan-refused');
    expect(refused?.by).toBe('sofia.lind');
    expect(refused?.detail).toContain(refusal);
    // The owner who fills the plan reads why, in the new task and its mail.
    const secondTask = stack.client.workflow.getHandle(`${nc.workflowId}/action-plan-1-2`);
    const second = await stepWithin('step 5', eventually(() => secondTask.query(taskStatusQuery).catch(() => undefined), (t) => t !== undefined));
    expect(second!.instructions).toContain(`${refusal}: an action must be due today`);
    expect(second!.instructions).toContain('(rule action-due-not-in-past)');
    expect(second!.instructions).not.toContain('actions.0.dueDate');
    await stack.smtp.waitFor(
      (m) => isNotification(m, `${nc.workflowId}/action-plan-1-2`, 'task.assigned', 'sofia.lind@northwind.example') && (m.text ?? '').includes(refusal),
      20_000,
    );
    // The refused plan never went to approval.
    expect(await stepWithin('describe', stack.client.workflow.getHandle(`${nc.workflowId}/plan-approval-1-1`).describe().then(() => 'started', () => 'none'))).toBe('none');

    // Due today is allowed.
    const today = new Date().toISOString().slice(0, 10);
    await stepWithin('step 6', complete(nc, 'action-plan-1-2', 'sofia.lind', { actions: [{ owner: 'tom.baker', dueDate: today, description: 'Write a runbook today' }] }));
    await stepWithin('step 7', decide(nc, 'plan-approval-1-2', 'priya.raman', 'approve'));
    const implementing = await stepWithin('step 8', eventually(() => nc.query(ncStatusQuery), (s) => s.currentStep?.key === 'action-1-1'));
    expect(implementing.actions).toMatchObject([{ dueDate: today, owner: 'tom.baker' }]);
    await stepWithin('the action started', childStarted(stack, nc, 'action-1-1'));
    await stepWithin('step 9', nc.executeUpdate(cancelUpdate, { args: [{ by: 'system', reason: 'test done' }] }));
    expect((await stepWithin('the result', nc.result())).status).toBe('cancelled');
  });

  it('asks a step again when its own task or approval is cancelled, on the timeline, instead of cancelling the NC', async () => {
    const nc = await raise({ severity: 'minor', source: 'incident' });
    const containment = stack.client.workflow.getHandle(`${nc.workflowId}/containment`);
    await eventually(() => containment.query(taskStatusQuery).catch(() => undefined), (t) => t?.state === 'open' && t.assignee.id === 'sofia.lind');
    await containment.executeUpdate(cancelUpdate, { args: [{ by: 'priya.raman', reason: 'Sent before the incident report was attached' }] });
    const reasked = await eventually(() => nc.query(ncStatusQuery), (s) => s.currentStep?.key === 'containment-r2');
    expect(reasked.state).toBe('containment');
    const cancelledStep = reasked.timeline.find((e) => e.type === 'step-reasked');
    expect(cancelledStep).toMatchObject({ by: 'priya.raman', workflowId: `${nc.workflowId}/containment` });
    expect(cancelledStep?.detail).toContain('Sent before the incident report was attached');
    await complete(nc, 'containment-r2', 'sofia.lind', evidence('Contained.'));
    await complete(nc, 'root-cause-1', 'sofia.lind', rootCause('Alert threshold too loose'));
    await complete(nc, 'action-plan-1-1', 'sofia.lind', plan('Tighten the threshold'));

    // The plan's approval cancelled on its own: a fresh approval for the same plan.
    const approval = stack.client.workflow.getHandle(`${nc.workflowId}/plan-approval-1-1`);
    await eventually(() => approval.query(approvalStatusQuery).catch(() => undefined), (a) => a?.state === 'pending' && a.approvers.length > 0);
    await approval.executeUpdate(cancelUpdate, { args: [{ by: 'priya.raman', reason: 'Sent to the wrong approver list' }] });
    await decide(nc, 'plan-approval-1-1-r2', 'priya.raman', 'approve');

    // An action's task cancelled by an operator: the same action asked again of its owner.
    const action = stack.client.workflow.getHandle(`${nc.workflowId}/action-1-1`);
    await eventually(() => action.query(taskStatusQuery).catch(() => undefined), (t) => t?.state === 'open' && t.assignee.id === 'tom.baker');
    await action.executeUpdate(cancelUpdate, { args: [{ by: 'system', reason: 'Restarted after a mail outage' }] });
    await complete(nc, 'action-1-1-r2', 'tom.baker', evidence('Threshold tightened.'));
    await complete(nc, 'effectiveness-1', 'sofia.lind', { answer: 'yes', justification: 'No drift since.' });
    await complete(nc, 'system-change-1', 'sofia.lind', { answer: 'no', justification: 'No change needed.' });

    expect(await nc.result()).toMatchObject({ status: 'closed' });
    const s = await nc.query(ncStatusQuery);
    expect(s.timeline.filter((e) => e.type === 'step-reasked').map((e) => e.workflowId)).toEqual(
      ['containment', 'plan-approval-1-1', 'action-1-1'].map((k) => `${nc.workflowId}/${k}`),
    );
    expect(s.actions).toMatchObject([{ done: true, workflowId: `${nc.workflowId}/action-1-1-r2` }]);
    const kinds = (await stack.records.list({ subject: nc.workflowId })).map((r) => r.kind);
    expect(kinds).not.toContain('nonconformity.cancelled');
    const [contained] = await stack.records.list({ subject: nc.workflowId, kind: 'nonconformity.containment' });
    expect(contained?.content).toMatchObject({ step: 'containment', workflowId: `${nc.workflowId}/containment-r2` });
  });

  it('fails on bad input naming every bad field', async () => {
    const nc = await raise({ ncId: 'NC-27-1', severity: 'huge' as never, owner: 'Not A Person', policy: { stepDue: 'soon' } });
    const err = await nc.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const message = (err as WorkflowFailedError).cause?.message ?? '';
    expect(message).toMatch(/^Invalid corrective action input: /);
    for (const field of ['ncId: must be an NC id', 'severity: must be "major" or "minor"', 'owner: must be a person id', 'policy.stepDue: must be a duration']) {
      expect(message).toContain(field);
    }
  });

  it('an NC raised by a parent workflow (parent close policy abandon) survives the parent’s completion', { timeout: 120_000 }, async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath: path.resolve(import.meta.dirname, 'workflows/index.ts'), workflowInterceptorModules, failureConverterPath, ...bundlerOptions });
    const taskQueue = `test-parent-${randomUUID()}`;
    const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    const logger = pino({ level: 'warn' });
    const worker = await createAimsWorker({
      connection,
      namespace: inject('temporalNamespace'),
      taskQueue,
      dataConverter: aimsDataConverter(payloadKeysFromEnv({})),
      workflowBundle: { code },
      activities: createActivities({
        organization: () => stack.organization,
        records: stack.records,
        transport: stack.transport,
        links: stack.links,
        mailFrom: stack.config.MAIL_FROM,
        logger,
        temporal: { client: stack.client, taskQueue },
      }),
      shutdownGraceTime: '1s',
    });
    const running = worker.run();
    try {
      const parent = await stack.client.workflow.start('raisingParent', {
        taskQueue,
        workflowId: `test/raising-parent/${randomUUID()}`,
        args: [
          {
            title: 'Audit finding: no competence records for model reviewers',
            description: 'Clause 7.2 evidence missing for 2 of 5 reviewers.',
            severity: 'minor',
            source: 'internal-audit',
            clauses: ['7.2'],
            owner: 'sofia.lind',
            policy: { stepDue: '1h', overallTarget: '1h', tasks: quiet },
          },
        ],
      });
      const raised = (await parent.result()) as { ncId: string; workflowId: string };
      expect(raised.ncId).toMatch(/^NC-\d{4}-001$/);
      expect(raised.workflowId).toBe(`corrective-action/${raised.ncId}`);
      const nc = stack.client.workflow.getHandle<(input: CorrectiveActionInput) => Promise<CorrectiveActionResult>>(raised.workflowId);
      const s = await eventually(() => nc.query(ncStatusQuery), (st) => st.currentStep?.key === 'containment');
      expect(s).toMatchObject({ state: 'containment', source: 'internal-audit', clauses: ['10.2', '7.2'] });
      expect((await parent.describe()).status.name).toBe('COMPLETED');
      expect((await nc.describe()).status.name).toBe('RUNNING');
      await nc.executeUpdate(cancelUpdate, { args: [{ by: 'system', reason: 'test done' }] });
      expect((await nc.result()).status).toBe('cancelled');
    } finally {
      worker.shutdown();
      await running;
      await connection.close();
    }
  });
});

/** People change and steps fail while corrective actions run (issue #21): a stack of its own whose organization the tests change. */
describe('corrective action when people change or steps fail', () => {
  let people: TestStack;
  let org: Organization;
  beforeAll(async () => {
    org = structuredClone(await exampleOrganization());
    people = await startTestStack({ organization: org, randomNcNumbers: true });
  });
  afterAll(async () => {
    await people?.stop();
  });

  /** Waits for the step's child to run, then terminates it (as an operator would, or a crash). */
  async function terminate(nc: NcHandle, key: string) {
    const child = people.client.workflow.getHandle(`${nc.workflowId}/${key}`);
    await eventually(() => child.describe().catch(() => undefined), (d) => d?.status.name === 'RUNNING');
    await child.terminate('the worker lost it');
  }
  const handover = (nc: NcHandle, from: string, to: string) =>
    nc.executeUpdate(handoverUpdate, { args: [{ by: 'system', from, to, reason: `${from} moved to the risk team`, ref: 'org-change-9' }] });

  it('a failed step is asked again as a fresh task; the timeline and the ledger say why', async () => {
    const nc = await raise({ severity: 'minor', source: 'incident' }, people);
    await terminate(nc, 'containment');
    await complete(nc, 'containment-r2', 'sofia.lind', evidence('Contained.'), people);
    await complete(nc, 'root-cause-1', 'sofia.lind', rootCause('Alert threshold too loose'), people);
    await complete(nc, 'action-plan-1-1', 'sofia.lind', plan('Tighten the threshold'), people);
    // A failed approval is asked again too.
    await terminate(nc, 'plan-approval-1-1');
    await decide(nc, 'plan-approval-1-1-r2', 'priya.raman', 'approve', undefined, people);
    const s = await eventually(() => nc.query(ncStatusQuery), (st) => st.currentStep?.key === 'action-1-1');
    const failed = s.timeline.filter((e) => e.type === 'step-failed');
    expect(failed.map((e) => e.workflowId)).toEqual([`${nc.workflowId}/containment`, `${nc.workflowId}/plan-approval-1-1`]);
    expect(failed[0]?.detail).toBe('it was terminated; the step is asked again');
    const records = await people.records.list({ subject: nc.workflowId, kind: 'nonconformity.step-failed' });
    expect(records.map((r) => r.content)).toMatchObject([
      { step: 'containment', reason: 'it was terminated', failures: 1, askedAgain: true },
      { step: 'plan-approval-1-1', reason: 'it was terminated', failures: 1, askedAgain: true },
    ]);
    await childStarted(people, nc, 'action-1-1');
    await nc.executeUpdate(cancelUpdate, { args: [{ by: 'system', reason: 'test done' }] });
    expect((await nc.result()).status).toBe('cancelled');
    await recordHistory('corrective-action-step-failed', nc.workflowId);
  });

  it('a step that fails every time it is asked ends the NC through its cancellation, never failing it', async () => {
    const nc = await raise({ severity: 'minor', source: 'incident' }, people);
    for (const key of ['containment', 'containment-r2', 'containment-r3']) await terminate(nc, key);
    const result = await nc.result();
    expect(result.status).toBe('cancelled');
    expect(result.cancellation).toMatchObject({ by: 'system', reason: 'the step containment failed 3 times; the last time it was terminated' });
    const [cancelled] = await people.records.list({ subject: nc.workflowId, kind: 'nonconformity.cancelled' });
    expect(cancelled).toBeDefined();
  });

  it('an owner who left: steps go to the AIMS manager, the escalation reroutes the NC to them, and it still closes', async () => {
    const nc = await raise({ severity: 'minor', source: 'incident', policy: { stepDue: '1h', effectivenessWait: '1s', overallTarget: '3s', tasks: quiet } }, people);
    const containment = people.client.workflow.getHandle(`${nc.workflowId}/containment`);
    await eventually(() => containment.query(taskStatusQuery).catch(() => undefined), (t) => t?.history.some((e) => e.type === 'assigned') === true);
    const saved = org.people;
    org.people = saved.filter((p) => p.id !== 'sofia.lind');
    try {
      await complete(nc, 'containment', 'sofia.lind', evidence('Contained before leaving.'), people);
      await complete(nc, 'root-cause-1', 'priya.raman', rootCause('No owner for alerts'), people);
      const escalated = await eventually(() => nc.query(ncStatusQuery), (st) => st.timeline.some((e) => e.type === 'rerouted'));
      expect(escalated.overdue).toBe(true);
      expect(escalated.owner).toBe('priya.raman');
      expect(escalated.timeline.find((e) => e.type === 'rerouted')?.detail).toBe(
        'the owner sofia.lind is not in the organization; the AIMS manager priya.raman owns the nonconformity now',
      );
      await people.smtp.waitFor((m) => isNotification(m, nc.workflowId, 'nc.escalated', 'hannah.okafor@northwind.example'), 20_000);
      await complete(nc, 'action-plan-1-1', 'priya.raman', plan('Name an alert owner'), people);
      // The AIMS manager planned it: top management approves.
      await decide(nc, 'plan-approval-1-1', 'hannah.okafor', 'approve', undefined, people);
      await complete(nc, 'action-1-1', 'tom.baker', evidence('Owner named.'), people);
      await complete(nc, 'effectiveness-1', 'priya.raman', { answer: 'yes', justification: 'Alerts handled since.' }, people);
      await complete(nc, 'system-change-1', 'priya.raman', { answer: 'no', justification: 'No change needed.' }, people);
      expect(await nc.result()).toMatchObject({ status: 'closed' });
      await people.smtp.waitFor((m) => isNotification(m, nc.workflowId, 'nc.closed', 'priya.raman@northwind.example'), 20_000);
    } finally {
      org.people = saved;
    }
  });

  it('hands over the owner and an action’s owner: later steps and asks go to them; twice moves nothing', async () => {
    const nc = await raise({ severity: 'minor', source: 'incident' }, people);
    const containment = people.client.workflow.getHandle(`${nc.workflowId}/containment`);
    await eventually(() => containment.query(taskStatusQuery).catch(() => undefined), (t) => t?.history.some((e) => e.type === 'assigned') === true);
    const ack = await handover(nc, 'sofia.lind', 'marco.rossi');
    expect(ack).toMatchObject({ moved: true, parts: [{ part: 'owner', to: 'marco.rossi' }] });
    expect(await handover(nc, 'sofia.lind', 'marco.rossi')).toMatchObject({ moved: false });
    await people.smtp.waitFor((m) => isNotification(m, nc.workflowId, 'work.handed-over', 'marco.rossi@northwind.example'), 20_000);
    const [record] = await people.records.list({ subject: nc.workflowId, kind: 'handover' });
    expect(record?.content).toMatchObject({ from: 'sofia.lind', to: 'marco.rossi', part: 'owner', reason: 'sofia.lind moved to the risk team', ref: 'org-change-9' });
    expect((await nc.describe()).searchAttributes.AimsOwner).toEqual(['marco.rossi']);
    // The running containment task was sofia's (it gets its own handover); the next step is marco's.
    await complete(nc, 'containment', 'sofia.lind', evidence('Contained.'), people);
    await complete(nc, 'root-cause-1', 'marco.rossi', rootCause('Alert threshold too loose'), people);
    await complete(nc, 'action-plan-1-1', 'marco.rossi', plan('Tighten the threshold'), people);
    await decide(nc, 'plan-approval-1-1', 'priya.raman', 'approve', undefined, people);
    await eventually(() => nc.query(ncStatusQuery), (st) => st.currentStep?.key === 'action-1-1');
    expect((await handover(nc, 'tom.baker', 'elena.petrova')).parts).toEqual([{ part: 'action-owner', to: 'elena.petrova' }]);
    // Asked again, the action is the new owner's.
    const action = people.client.workflow.getHandle(`${nc.workflowId}/action-1-1`);
    await eventually(() => action.query(taskStatusQuery).catch(() => undefined), (t) => t?.state === 'open');
    await action.executeUpdate(cancelUpdate, { args: [{ by: 'system', reason: 'Tom left' }] });
    await complete(nc, 'action-1-1-r2', 'elena.petrova', evidence('Threshold tightened.'), people);
    const s = await eventually(() => nc.query(ncStatusQuery), (st) => st.actions[0]?.done === true);
    expect(s.actions).toMatchObject([{ owner: 'elena.petrova', done: true }]);
    await nc.executeUpdate(cancelUpdate, { args: [{ by: 'system', reason: 'test done' }] });
    await nc.result();
    await recordHistory('corrective-action-handover', nc.workflowId);
  });
});
