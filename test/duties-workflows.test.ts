/**
 * Separation of duties in the running workflows (real Temporal dev server, SMTP server and
 * ledger): each hole the rules close, shown on the workflow that had it. A task refuses a
 * conflicting delegate or reassignee; an approval leaves out and refuses those who conflict; the
 * report of an audit of the AIMS manager's own area goes to top management and the auditor's
 * task cannot go to the auditee; the plan of an NC the AIMS manager owns goes to top management
 * even when someone else completed it; the impact review skips the AI-governance member who owns
 * the system; a clause-only audit scope led by that clause's process owner is refused.
 * (A concern about the AIMS manager: test/concern.test.ts.)
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalStatusQuery, decideUpdate } from '../src/approval/contract.js';
import type { ApprovalInput, ApprovalResult } from '../src/approval/schema.js';
import { ensureAiSystem } from '../src/ai-system/start.js';
import type { AiSystemRegistration } from '../src/ai-system/impact-assessment.js';
import type { CorrectiveActionInput, CorrectiveActionResult } from '../src/corrective-action/schema.js';
import { INTERNAL_AUDIT_PROGRAMME_WORKFLOW, INTERNAL_AUDIT_WORKFLOW } from '../src/internal-audit/contract.js';
import type { InternalAuditInput, InternalAuditProgrammeInput, InternalAuditResult, PlannedAuditInput, ProgrammeResult } from '../src/internal-audit/schema.js';
import { handoverUpdate } from '../src/common/messages.js';
import { completeTaskUpdate, delegateTaskUpdate, reassignTaskUpdate, taskStatusQuery } from '../src/task/contract.js';
import type { HumanTaskInput, HumanTaskResult } from '../src/task/schema.js';
import { recordHistory } from './helpers/histories.js';
import { eventually, inMs, startTestStack, updateRejection, type TestStack } from './helpers/temporal.js';
import { WorkflowFailedError } from '@temporalio/client';

let stack: TestStack;
const terminateLater: string[] = [];
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  for (const id of terminateLater) await stack?.client.workflow.getHandle(id).terminate('test finished').catch(() => undefined);
  await stack?.stop();
});

const quiet = { reminderOffsets: [], escalation: [] };
const year = new Date().getUTCFullYear();

/** Waits for the task to be open with an assignee, then returns its status. */
async function openTask(workflowId: string) {
  const task = stack.client.workflow.getHandle(workflowId);
  const s = await eventually(() => task.query(taskStatusQuery).catch(() => undefined), (st) => st?.state === 'open' && st.assignee.id !== '');
  return { task, status: s! };
}

async function complete(workflowId: string, by: string, data: Record<string, unknown>) {
  const { task } = await openTask(workflowId);
  return task.executeUpdate(completeTaskUpdate, { args: [{ by, data }] });
}

/** Waits for the approval to be pending with its approvers, then returns it and its status. */
async function pendingApproval(workflowId: string) {
  const approval = stack.client.workflow.getHandle(workflowId);
  const s = await eventually(() => approval.query(approvalStatusQuery).catch(() => undefined), (st) => st?.state === 'pending' && st.approvers.length > 0);
  return { approval, status: s! };
}

async function decide(workflowId: string, by: string, decision: 'approve' | 'reject') {
  const { approval, status } = await pendingApproval(workflowId);
  return approval.executeUpdate(decideUpdate, { args: [{ by, decision, contentHash: status.contentHash }] });
}

describe('separation of duties: tasks and approvals', () => {
  it('a task refuses delegation and reassignment to a person its parent named as conflicting, naming the rule; others pass', async () => {
    const input: HumanTaskInput = {
      title: 'Review the data-quality procedure',
      instructions: 'Review the procedure Sofia wrote and say whether it can be approved.',
      assignee: { person: 'tom.baker' },
      dueAt: inMs(60 * 60_000),
      policy: quiet,
      conflicts: [{ person: 'sofia.lind', rule: 'separation of duties: approver prepared or completed the content', reason: 'sofia.lind prepared the procedure' }],
    };
    const handle = await stack.start<[HumanTaskInput], HumanTaskResult>('humanTask', [input]);
    terminateLater.push(handle.workflowId);
    await openTask(handle.workflowId);
    const delegated = await updateRejection(handle.executeUpdate(delegateTaskUpdate, { args: [{ by: 'tom.baker', to: 'sofia.lind' }] }));
    expect(delegated).toBe(
      'this task cannot be delegated to sofia.lind: sofia.lind prepared the procedure [separation of duties: task given to a conflicting person] [separation of duties: approver prepared or completed the content]',
    );
    const reassigned = await updateRejection(handle.executeUpdate(reassignTaskUpdate, { args: [{ by: 'priya.raman', to: 'sofia.lind', reason: 'Tom is away' }] }));
    expect(reassigned).toContain('this task cannot be reassigned to sofia.lind');
    // Someone without a conflict may take it.
    await handle.executeUpdate(delegateTaskUpdate, { args: [{ by: 'tom.baker', to: 'marco.rossi' }] });
    expect((await handle.query(taskStatusQuery)).delegate?.id).toBe('marco.rossi');
  });

  it('a handover never gives a task to a person it conflicts with: the AIMS manager takes the assignee part, the assignee the delegate part', async () => {
    const conflicts = [{ person: 'sofia.lind', rule: 'impartiality: auditor is the auditee' as const, reason: 'sofia.lind is the auditee' }];
    const base = { instructions: 'Record the findings.', dueAt: inMs(60 * 60_000), policy: quiet, conflicts };
    const handover = (id: string, from: string, to: string) =>
      stack.client.workflow.getHandle(id).executeUpdate(handoverUpdate, { args: [{ by: 'system', from, to, reason: `${from} moved to the data team`, ref: 'org-change-12' }] });

    const assigned = await stack.start<[HumanTaskInput], HumanTaskResult>('humanTask', [{ ...base, title: 'Record the findings', assignee: { person: 'aisha.khan' } }]);
    terminateLater.push(assigned.workflowId);
    await openTask(assigned.workflowId);
    expect(await handover(assigned.workflowId, 'aisha.khan', 'sofia.lind')).toMatchObject({
      moved: true,
      parts: [{ part: 'assignee', to: 'priya.raman', note: 'sofia.lind is the auditee [impartiality: auditor is the auditee]: Priya Raman takes the task instead' }],
    });
    expect((await assigned.query(taskStatusQuery)).assignee.id).toBe('priya.raman');

    const delegated = await stack.start<[HumanTaskInput], HumanTaskResult>('humanTask', [{ ...base, title: 'Record the findings again', assignee: { person: 'aisha.khan' } }]);
    terminateLater.push(delegated.workflowId);
    await openTask(delegated.workflowId);
    await delegated.executeUpdate(delegateTaskUpdate, { args: [{ by: 'aisha.khan', to: 'liam.walsh' }] });
    expect(await handover(delegated.workflowId, 'liam.walsh', 'sofia.lind')).toMatchObject({
      moved: true,
      parts: [{ part: 'delegate', to: 'aisha.khan', note: 'sofia.lind is the auditee [impartiality: auditor is the auditee]: the assignee Aisha Khan does the work' }],
    });
    expect((await delegated.query(taskStatusQuery)).delegate).toBeUndefined();
  });

  it('an approval leaves out the approvers who conflict and refuses their decision, naming the rule', async () => {
    const input: ApprovalInput = {
      kind: 'adhoc',
      title: 'Data retention procedure v2',
      summary: 'Retention of training data cut from 7 to 3 years.',
      contentHash: 'a'.repeat(64),
      approvers: [{ role: 'top-management' }],
      rule: { type: 'any' },
      preparer: 'sofia.lind',
      conflicts: [{ person: 'david.chen', rule: 'separation of duties: approver prepared or completed the content', reason: 'david.chen completed the work to be approved' }],
      dueAt: inMs(60 * 60_000),
      policy: quiet,
    };
    const handle = await stack.start<[ApprovalInput], ApprovalResult>('approval', [input]);
    const { status } = await pendingApproval(handle.workflowId);
    expect(status.approvers.map((a) => a.id)).toEqual(['hannah.okafor']);
    expect(status.history.some((e) => e.detail.includes('David Chen does not decide'))).toBe(true);
    const { approval } = await pendingApproval(handle.workflowId);
    expect(await updateRejection(approval.executeUpdate(decideUpdate, { args: [{ by: 'david.chen', decision: 'approve', contentHash: status.contentHash }] }))).toBe(
      'you cannot decide on this item: david.chen completed the work to be approved [separation of duties: approver prepared or completed the content]',
    );
    expect(await updateRejection(approval.executeUpdate(decideUpdate, { args: [{ by: 'sofia.lind', decision: 'approve', contentHash: status.contentHash }] }))).toContain(
      '[separation of duties: approver prepared or completed the content]',
    );
    await decide(handle.workflowId, 'hannah.okafor', 'approve');
    expect(await handle.result()).toMatchObject({ status: 'approved', decisions: [{ by: 'hannah.okafor' }] });
  });

  it('an approval whose every approver conflicts fails clearly, naming the conflicts', async () => {
    const handle = await stack.start<[ApprovalInput], ApprovalResult>('approval', [
      {
        kind: 'adhoc',
        title: 'Plan of an NC the AIMS manager owns',
        summary: 'One action.',
        contentHash: 'b'.repeat(64),
        approvers: [{ person: 'priya.raman' }],
        preparer: 'liam.walsh',
        conflicts: [{ person: 'priya.raman', rule: 'separation of duties: NC owner approves their action plan', reason: 'priya.raman owns the nonconformity' }],
        dueAt: inMs(60 * 60_000),
        policy: quiet,
      },
    ]);
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.message).toContain('priya.raman owns the nonconformity [separation of duties: NC owner approves their action plan]');
  });
});

describe('separation of duties: internal audit', () => {
  const audit = (over: Partial<PlannedAuditInput> = {}): PlannedAuditInput => ({
    auditId: 'A-01',
    title: 'Corrective action process',
    scope: { clauses: ['10.2'] },
    window: { start: new Date(Date.now() + 2 * 3_600_000).toISOString(), end: new Date(Date.now() + 3 * 3_600_000).toISOString() },
    leadAuditor: 'aisha.khan',
    auditee: 'priya.raman',
    ...over,
  });

  it("the report of an audit of the AIMS manager's own area goes to top management; the auditor's tasks cannot go to the auditee", async () => {
    const workflowId = `internal-audit/${year}-t${randomUUID().slice(0, 8)}/A-01`;
    terminateLater.push(workflowId);
    const handle = await stack.start<[InternalAuditInput], InternalAuditResult>(
      INTERNAL_AUDIT_WORKFLOW,
      [{ year, audit: audit(), programmeWorkflowId: `internal-audit-programme/${year}`, policy: { stepDue: '1h', approvalDue: '1h', tasks: quiet } }],
      { workflowId },
    );
    const { task: planTask } = await openTask(`${workflowId}/audit-plan`);
    const refused = await updateRejection(planTask.executeUpdate(delegateTaskUpdate, { args: [{ by: 'aisha.khan', to: 'priya.raman' }] }));
    expect(refused).toContain('[impartiality: auditor is the auditee]');
    expect(await updateRejection(planTask.executeUpdate(reassignTaskUpdate, { args: [{ by: 'system', to: 'priya.raman', reason: 'x' }] }))).toContain(
      '[separation of duties: task given to a conflicting person]',
    );

    await complete(`${workflowId}/audit-plan`, 'aisha.khan', { text: 'Sample three closed NCs; interview the AIMS manager.' });
    await complete(`${workflowId}/acknowledge`, 'priya.raman', { choice: 'Acknowledged' });
    await complete(`${workflowId}/fieldwork`, 'aisha.khan', { summary: 'Sampled NC-2027-001 to 003.', links: ['https://wiki.northwind.example/audit/ca'] });
    await complete(`${workflowId}/findings-1`, 'aisha.khan', {
      findings: [{ type: 'observation', refs: ['10.2'], statement: 'Root-cause records vary in depth.', evidence: 'Three NCs sampled.' }],
    });

    // Before: the AIMS manager approved the report of the audit of her own process.
    const { approval, status } = await pendingApproval(`${workflowId}/report-approval-1`);
    expect(status.approvers.map((a) => a.id).sort()).toEqual(['david.chen', 'hannah.okafor']);
    expect(await updateRejection(approval.executeUpdate(decideUpdate, { args: [{ by: 'priya.raman', decision: 'approve', contentHash: status.contentHash }] }))).toContain(
      'priya.raman is the auditee [separation of duties: auditee or area owner approves the audit report]',
    );
    await decide(`${workflowId}/report-approval-1`, 'hannah.okafor', 'approve');
    expect(await handle.result()).toMatchObject({ status: 'reported' });
    const [reported] = await stack.records.list({ subject: workflowId, kind: 'internal-audit.reported' });
    expect(reported!.content).toMatchObject({ approvedBy: ['hannah.okafor'] });
    await recordHistory('internal-audit-report-duties', workflowId);
  });

  it("a clause-only scope (8.2) led by that clause's process owner is refused, naming the rule", async () => {
    const workflowId = `internal-audit-programme/${year}-t${randomUUID().slice(0, 8)}`;
    const programme = await stack.start<[InternalAuditProgrammeInput], ProgrammeResult>(
      INTERNAL_AUDIT_PROGRAMME_WORKFLOW,
      [{ year, requestedBy: 'system', trigger: 'admin', audits: [audit({ title: 'AI risk assessment', scope: { clauses: ['8.2'] }, leadAuditor: 'david.chen', auditee: 'marco.rossi' })] }],
      { workflowId },
    );
    const err = await programme.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.message).toContain(
      'audits.0.leadAuditor: david.chen owns 8.2 (implemented by the process "ai-risk-management") in the audit scope [impartiality: auditor owns a clause in scope]',
    );
  });
});

describe('separation of duties: corrective action and impact assessment', () => {
  it('the plan of an NC the AIMS manager owns goes to top management even when she delegated it and someone else completed it', async () => {
    const input: CorrectiveActionInput = {
      ncId: `NC-2027-${randomInt(100_000, 999_999)}`,
      title: 'Corrective actions closed without effectiveness evidence',
      description: 'Two NCs were closed with no evidence of effectiveness.',
      severity: 'minor',
      source: 'internal-audit',
      clauses: ['10.2'],
      owner: 'priya.raman',
      raisedBy: 'aisha.khan',
      policy: { stepDue: '1h', effectivenessWait: '1s', overallTarget: '1h', tasks: quiet },
    };
    const nc = await stack.start<[CorrectiveActionInput], CorrectiveActionResult>('correctiveAction', [input], { workflowId: `corrective-action/${input.ncId}` });
    terminateLater.push(nc.workflowId);
    await complete(`${nc.workflowId}/containment`, 'priya.raman', { summary: 'Both NCs reopened.', links: ['https://wiki.northwind.example/nc/reopen'] });
    await complete(`${nc.workflowId}/root-cause-1`, 'priya.raman', {
      method: '5-whys',
      analysis: 'Why 1: closure did not require evidence. Why 2: the template has no field for it.',
      rootCause: 'The closure template has no effectiveness evidence field',
      similarElsewhere: 'no',
      similarDetail: 'Only the corrective action process closes items this way.',
    });
    const { task: planTask } = await openTask(`${nc.workflowId}/action-plan-1-1`);
    await planTask.executeUpdate(delegateTaskUpdate, { args: [{ by: 'priya.raman', to: 'liam.walsh' }] });
    await complete(`${nc.workflowId}/action-plan-1-1`, 'liam.walsh', { actions: [{ owner: 'liam.walsh', dueDate: '2030-01-31', description: 'Add an evidence field to the closure template' }] });

    // Before: plan.by (liam.walsh) was not the AIMS manager, so the AIMS manager approved her own NC's plan.
    const { approval, status } = await pendingApproval(`${nc.workflowId}/plan-approval-1-1`);
    expect(status.approvers.map((a) => a.id).sort()).toEqual(['david.chen', 'hannah.okafor']);
    expect(await updateRejection(approval.executeUpdate(decideUpdate, { args: [{ by: 'priya.raman', decision: 'approve', contentHash: status.contentHash }] }))).toContain(
      'priya.raman owns the nonconformity [separation of duties: NC owner approves their action plan]',
    );
    await decide(`${nc.workflowId}/plan-approval-1-1`, 'david.chen', 'approve');
    await openTask(`${nc.workflowId}/action-1-1`);
    await recordHistory('corrective-action-plan-owner', nc.workflowId);
  });

  /** Registers a low-tier system owned by `owner`, has them scope it; returns the first assessment's workflow id. */
  async function scopedAssessment(owner: string): Promise<string> {
    const system: AiSystemRegistration = {
      id: `dpo-assistant-${randomBytes(4).toString('hex')}`,
      name: 'Data protection request assistant',
      owner,
      purpose: 'Drafts answers to data subject requests for the DPO to check.',
      impactTier: 'low',
      lifecycle: 'deployed',
    };
    const ensured = await ensureAiSystem(
      stack.client,
      stack.taskQueue,
      { systemId: system.id, system, source: 'api', registeredBy: 'priya.raman', policy: { reassessEvery: '365d', assessment: { tasks: quiet } } },
      { organization: stack.organization },
    );
    terminateLater.push(ensured.workflowId);
    const assessment = `impact-assessment/${system.id}/${year}-1`;
    await complete(`${assessment}/scoping`, owner, {
      intendedUse: 'Drafts answers to data subject requests; the DPO checks each one.',
      foreseeableMisuse: 'Answers sent without the DPO check.',
      deploymentContext: 'Internal tool, about 40 requests a month.',
      jurisdictions: ['UK'],
      affectedIndividuals: 'People who ask for their data.',
      affectedGroups: 'None in particular.',
      society: 'Trust in data protection.',
    });
    return assessment;
  }
  const lowImpacts = {
    impacts: [{ area: 'individuals', description: 'An incomplete answer.', severity: 'minor', likelihood: 'possible', mitigation: 'DPO check.', residualSeverity: 'minor', residualLikelihood: 'rare' }],
  };

  it('the impact review skips the AI-governance member who owns the system, who cannot take it over', async () => {
    // elena.petrova is the first AI-governance member; here she owns the system.
    const assessment = await scopedAssessment('elena.petrova');
    await complete(`${assessment}/assessment-1`, 'elena.petrova', lowImpacts);
    // Before: the review went to the first member of the role, the owner herself.
    const { task: review, status } = await openTask(`${assessment}/review-1`);
    expect(status.assignee.id).toBe('priya.raman');
    expect(await updateRejection(review.executeUpdate(delegateTaskUpdate, { args: [{ by: 'priya.raman', to: 'elena.petrova' }] }))).toBe(
      'this task cannot be delegated to elena.petrova: elena.petrova owns the AI system [separation of duties: task given to a conflicting person] [separation of duties: reviewer owns the AI system]',
    );
    await review.executeUpdate(completeTaskUpdate, { args: [{ by: 'priya.raman', data: { choice: 'approve' } }] });
    const reviewed = await eventually(() => stack.records.list({ subject: assessment, kind: 'impact-assessment.reviewed' }), (r) => r.length > 0);
    expect(reviewed[0]!.actor).toBe('priya.raman');
  });

  it('the AIMS manager who owns a system and delegated its assessment does not sign it off: top management does', async () => {
    const assessment = await scopedAssessment('priya.raman');
    const { task } = await openTask(`${assessment}/assessment-1`);
    await task.executeUpdate(delegateTaskUpdate, { args: [{ by: 'priya.raman', to: 'liam.walsh' }] });
    await complete(`${assessment}/assessment-1`, 'liam.walsh', lowImpacts);
    const { status: review } = await openTask(`${assessment}/review-1`);
    expect(review.assignee.id).toBe('elena.petrova');
    await complete(`${assessment}/review-1`, 'elena.petrova', { choice: 'approve' });
    // Before: below the threshold, assessed by someone else, the AIMS manager signed off her own system.
    const { approval, status } = await pendingApproval(`${assessment}/sign-off-1`);
    expect(status.approvers.map((p) => p.id).sort()).toEqual(['david.chen', 'hannah.okafor']);
    expect(await updateRejection(approval.executeUpdate(decideUpdate, { args: [{ by: 'priya.raman', decision: 'approve', contentHash: status.contentHash }] }))).toContain(
      'priya.raman prepared the content [separation of duties: approver prepared or completed the content]',
    );
    await decide(`${assessment}/sign-off-1`, 'hannah.okafor', 'approve');
    await eventually(() => stack.records.list({ subject: assessment, kind: 'impact-assessment.recorded' }), (r) => r.length > 0);
    await recordHistory('impact-assessment-duties', assessment);
  });
});
