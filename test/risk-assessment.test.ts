/**
 * The AI risk assessment against the real dev server, SMTP server and ledger: a whole
 * assessment of `credit-scoring` (identify, analyse and evaluate, treat with the Annex A
 * comparison, the plan approved by the risk owner, the residual risk accepted by top
 * management, the plan's action, the verification), the register and the SoA version that
 * follow, and the refusals of bad completions (a level off the scales, an unknown control, an
 * acceptance by the risk owner or by someone who is not top management).
 */
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalStatusQuery, decideUpdate } from '../src/approval/contract.js';
import { RISK_ASSESSMENT_WORKFLOW, riskAssessmentStatusQuery, riskAssessmentWorkflowId } from '../src/risk/contract.js';
import { readRegister, readRisk } from '../src/risk/register.js';
import type { RiskAssessmentInput, RiskAssessmentResult } from '../src/risk/schema.js';
import { ANNEX_A } from '../src/soa/annex-a.js';
import { soaDiff } from '../src/soa/schema.js';
import { soaVersions } from '../src/soa/store.js';
import { handoverUpdate } from '../src/common/messages.js';
import { completeTaskUpdate, taskStatusQuery } from '../src/task/contract.js';
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
const mail = (id: string) => `${id}@northwind.example`;

async function openTask(taskId: string) {
  const task = stack.client.workflow.getHandle(taskId);
  await eventually(
    () => task.query(taskStatusQuery).catch(() => undefined),
    (s) => s?.state === 'open' && s.assignee.id !== '',
  );
  return task;
}

async function complete(taskId: string, by: string, data: Record<string, unknown>) {
  const task = await openTask(taskId);
  return task.executeUpdate(completeTaskUpdate, { args: [{ by, data }] });
}

async function pendingApproval(approvalId: string) {
  const approval = stack.client.workflow.getHandle(approvalId);
  const s = await eventually(
    () => approval.query(approvalStatusQuery).catch(() => undefined),
    (st) => st?.state === 'pending' && st.approvers.length > 0,
  );
  return { approval, status: s! };
}

async function decide(approvalId: string, by: string, decision: 'approve' | 'reject', comment?: string) {
  const { approval, status } = await pendingApproval(approvalId);
  return approval.executeUpdate(decideUpdate, { args: [{ by, decision, contentHash: status.contentHash, ...(comment ? { comment } : {}) }] });
}

const comparison = (covered: string[]) =>
  ANNEX_A.map((c) => (covered.includes(c.id) ? { control: c.id, decision: 'covered', why: 'selected for R-001' } : { control: c.id, decision: 'not-needed', why: 'no credit-scoring risk calls for it' }));

const tomorrow = () => new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);

describe('risk assessment', () => {
  it('runs a whole assessment of credit-scoring to a verified treatment, with the register and the SoA following', async () => {
    const ref = `${year}-${randomInt(1000, 9999)}`;
    const workflowId = riskAssessmentWorkflowId('credit-scoring', ref);
    const input: RiskAssessmentInput = { scope: 'credit-scoring', assessmentRef: ref, trigger: 'admin', reason: 'first assessment', startedBy: 'priya.raman', policy: { tasks: quiet } };
    const h = await stack.start<[RiskAssessmentInput], RiskAssessmentResult>(RISK_ASSESSMENT_WORKFLOW, [input], { workflowId });

    // 1. Identify: the system owner gets the task by mail and adds two risks.
    await stack.smtp.waitFor((m) => isNotification(m, `${workflowId}/identify`, 'task.assigned', mail('marco.rossi')), 20_000);
    await complete(`${workflowId}/identify`, 'marco.rossi', {
      existing: [],
      risks: [
        { title: 'Thin-file applicants scored unfairly low', description: 'Applicants with short credit histories get lower scores than their repayment record supports.', categories: ['fairness', 'data-quality'], owner: 'david.chen' },
        { title: 'Score explanations too coarse', description: 'Underwriters cannot tell which features drove a score.', categories: ['transparency'], owner: 'sofia.lind' },
      ],
    });

    // 2. Analyse: a level off the scale is refused naming the field; then R-001 likely × major (high), R-002 rare × minor (low, retained).
    const analyse = await openTask(`${workflowId}/analyse`);
    const st = await h.query(riskAssessmentStatusQuery);
    const [r1, r2] = st.risks.map((x) => x.riskId);
    expect(st.risks.map((x) => x.state)).toEqual(['identified', 'identified']);
    const offScale = await updateRejection(
      analyse.executeUpdate(completeTaskUpdate, { args: [{ by: 'marco.rossi', data: { ratings: [{ riskId: r1, likelihood: 'often', consequence: 'major' }, { riskId: r2, likelihood: 'rare', consequence: 'minor' }] } }] }),
    );
    expect(offScale).toContain('ratings.0.likelihood');
    expect(offScale).toContain('likelihood scale');
    await complete(`${workflowId}/analyse`, 'marco.rossi', { ratings: [{ riskId: r1, likelihood: 'likely', consequence: 'major' }, { riskId: r2, likelihood: 'rare', consequence: 'minor' }] });

    // 3. Treat: an unknown control id and an incomplete Annex A comparison are refused naming the field.
    const treat = await openTask(`${workflowId}/treat-1`);
    const treatment = { riskId: r1, option: 'modify', controls: ['A.7.4', 'A.6.2.6', 'four-eyes review of declined thin-file applications'], residualLikelihood: 'possible', residualConsequence: 'major' };
    const plan = [{ riskId: r1, action: 'Reweigh the training data for thin-file applicants', owner: 'sofia.lind', dueDate: tomorrow() }];
    const unknown = await updateRejection(
      treat.executeUpdate(completeTaskUpdate, { args: [{ by: 'marco.rossi', data: { treatments: [{ ...treatment, controls: ['A.99.1'] }], annexA: comparison([]).slice(1), plan } }] }),
    );
    expect(unknown).toContain('treatments.0.controls.0: unknown Annex A control "A.99.1"');
    expect(unknown).toContain('annexA: must compare every Annex A control (6.1.3 c); missing A.2.2');
    const raised = await updateRejection(
      treat.executeUpdate(completeTaskUpdate, { args: [{ by: 'marco.rossi', data: { treatments: [{ ...treatment, residualLikelihood: 'almost-certain' }], annexA: comparison(['A.7.4', 'A.6.2.6']), plan } }] }),
    );
    expect(raised).toContain('treatments.0.residualLikelihood: almost-certain is above the rating before treatment (likely)');
    await complete(`${workflowId}/treat-1`, 'marco.rossi', { treatments: [treatment], annexA: comparison(['A.7.4', 'A.6.2.6']), plan });

    // 4. The risk owner approves the plan (the preparer may not).
    const planApproval = await pendingApproval(`${workflowId}/plan-approval-1`);
    expect(planApproval.status.approvers.map((a) => a.id)).toEqual(['david.chen']);
    await decide(`${workflowId}/plan-approval-1`, 'david.chen', 'approve');

    // 5. Top management accepts the residual risk (possible × major = high), bound to the risk as decided:
    //    not the risk owner (a top manager here), not someone outside top management.
    const acceptanceId = `${workflowId}/acceptance-${r1}-1`;
    const acceptance = await pendingApproval(acceptanceId);
    await stack.smtp.waitFor((m) => isNotification(m, acceptanceId, 'approval.requested', mail('hannah.okafor')), 20_000);
    const byOwner = await updateRejection(acceptance.approval.executeUpdate(decideUpdate, { args: [{ by: 'david.chen', decision: 'approve', contentHash: acceptance.status.contentHash }] }));
    expect(byOwner).toContain('[separation of duties: risk owner accepts their residual risk]');
    const byOther = await updateRejection(acceptance.approval.executeUpdate(decideUpdate, { args: [{ by: 'sofia.lind', decision: 'approve', contentHash: acceptance.status.contentHash }] }));
    expect(byOther).toContain('not one of the approvers');
    await decide(acceptanceId, 'hannah.okafor', 'approve');

    // 6. The plan's action, 7. the verification by the AIMS manager.
    const actionId = `${workflowId}/action-1-${r1}-1`;
    await stack.smtp.waitFor((m) => isNotification(m, actionId, 'task.assigned', mail('sofia.lind')), 20_000);
    await complete(actionId, 'sofia.lind', { summary: 'Reweighed and retrained; fairness metrics within bounds.', links: ['https://wiki.northwind.example/ml/credit-scoring/reweigh-2027'] });
    await complete(`${workflowId}/verification-1`, 'priya.raman', { choice: 'effective', note: 'Approval-rate gap below 2 points on the holdout.' });

    const result = await h.result();
    expect(result.status).toBe('recorded');
    expect(result.risks).toEqual([
      { riskId: r1, state: 'treated', level: 'high', residualLevel: 'high' },
      { riskId: r2, state: 'accepted', level: 'low', residualLevel: 'low' },
    ]);

    // Every step is in the ledger: the assessment's records and each risk's versions.
    const own = await stack.records.list({ subject: workflowId });
    expect(own.map((x) => x.kind)).toEqual([
      'risk-assessment.started',
      'risk-assessment.identified',
      'risk-assessment.analysed',
      'risk-assessment.treated',
      'risk-assessment.plan-decided',
      'risk-assessment.verified',
      'risk-assessment.recorded',
    ]);
    const recorded = own.at(-1)!;
    expect(recorded.clauses).toEqual(['6.1.2', '6.1.3', '8.2', '8.3']);
    const risk1 = await readRisk(stack.records, r1!);
    expect(risk1?.history.map((x) => x.kind)).toEqual(['risk.identified', 'risk.assessed', 'risk.treatment-planned', 'risk.accepted', 'risk.treated']);
    expect(risk1?.risk).toMatchObject({
      state: 'treated',
      owner: 'david.chen',
      inherent: { likelihood: 'likely', consequence: 'major', level: 'high' },
      residual: { likelihood: 'possible', consequence: 'major', level: 'high' },
      acceptance: { by: 'hannah.okafor', role: 'top-management', approvalId: acceptanceId, contentHash: acceptance.status.contentHash },
      controls: [
        { ref: 'A.7.4', annexA: true },
        { ref: 'A.6.2.6', annexA: true },
        { ref: 'four-eyes review of declined thin-file applications', annexA: false },
      ],
    });
    expect(risk1?.risk.treatment?.plan[0]).toMatchObject({ owner: 'sofia.lind', workflowId: actionId, evidence: ['https://wiki.northwind.example/ml/credit-scoring/reweigh-2027'] });
    expect(risk1?.history.find((x) => x.kind === 'risk.treated')?.risk.reviewDueAt).toBeDefined();
    expect((await readRegister(stack.records, { scope: 'credit-scoring' })).map((x) => [x.riskId, x.state])).toEqual([
      [r1, 'treated'],
      [r2, 'accepted'],
    ]);

    // The SoA version that follows shows the change: the selected controls implemented, with the risk and the record.
    expect(result.soaVersion).toBe(1);
    const versions = await soaVersions(stack.records, stack.organization);
    const diff = soaDiff(versions[0]!.controls, versions[1]!.controls);
    expect(diff.filter((d) => d.field === 'risks')).toEqual([
      { control: 'A.6.2.6', field: 'risks', from: [], to: [r1] },
      { control: 'A.7.4', field: 'risks', from: [], to: [r1] },
    ]);
    expect(versions[1]!.controls.find((c) => c.control === 'A.7.4')).toMatchObject({ included: true, implementation: 'implemented', evidence: [recorded.id] });
    expect(versions[1]!.source).toBe(workflowId);

    await recordHistory('risk-assessment', workflowId);
  });

  it('hands the assessor over: the next steps go to the new assessor, and a second handover moves nothing', async () => {
    const ref = `${year}-${randomInt(1000, 9999)}`;
    const workflowId = riskAssessmentWorkflowId('aims', ref);
    const input: RiskAssessmentInput = { scope: 'aims', assessmentRef: ref, trigger: 'admin', startedBy: 'priya.raman', policy: { tasks: quiet } };
    const h = await stack.start<[RiskAssessmentInput], RiskAssessmentResult>(RISK_ASSESSMENT_WORKFLOW, [input], { workflowId });
    // The owner of ai-risk-management (david.chen) assesses the AIMS-wide risks.
    await complete(`${workflowId}/identify`, 'david.chen', { existing: [], risks: [{ title: 'AIMS roles unclear after reorganisation', description: 'Nobody owns the AI policy review.', categories: ['accountability'] }] });
    const handover = { by: 'system', from: 'david.chen', to: 'priya.raman', reason: 'david.chen moved to another role', ref: `test-${ref}` };
    const ack = await h.executeUpdate(handoverUpdate, { args: [handover] });
    expect(ack).toMatchObject({ moved: true });
    const again = await h.executeUpdate(handoverUpdate, { args: [handover] });
    expect(again).toMatchObject({ moved: false });
    const analyse = await openTask(`${workflowId}/analyse`);
    expect((await analyse.query(taskStatusQuery)).assignee.id).toBe('priya.raman');
    expect((await h.query(riskAssessmentStatusQuery)).timeline.some((e) => e.type === 'handover')).toBe(true);
    await h.terminate('end of test');
  });
});
