/**
 * Separation of duties and auditor impartiality (src/people/duties.ts) over the example
 * organization: every rule, allowed and refused, and the refusal naming its rule.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  actionPlanApproval,
  approverConflicts,
  areaOwners,
  auditorConflicts,
  auditorTaskConflicts,
  auditReportApproval,
  concernTriage,
  conflictOf,
  conflictText,
  dutyFacts,
  dutyRuleIds,
  impactReviewer,
  taskHolderRefusal,
  type DutyFacts,
  type DutyScope,
  residualAcceptanceConflicts,
  residualAcceptanceRefusal,
  treatmentPlanApproval,
} from '../src/people/duties.js';
import { auditProblems, describeIssues, plannedAuditSchema } from '../src/internal-audit/schema.js';
import { organizationSchema, type Organization } from '../src/organization/schema.js';
import { signOffRoute } from '../src/ai-system/impact-assessment.js';
import { humanTaskInputSchema } from '../src/task/schema.js';
import { exampleOrganization } from './helpers/temporal.js';

let org: Organization;
let facts: DutyFacts;
beforeAll(async () => {
  org = await exampleOrganization();
  facts = dutyFacts(org);
});

// The example organization: priya.raman is the AIMS manager and owns the ai-policy (5.2, A.2.x)
// and corrective-action (10.2) processes; david.chen (top management) owns ai-risk-management
// (6.1.2, 6.1.3, 8.2, 8.3); marco.rossi owns credit-scoring and ai-system-lifecycle; sofia.lind
// owns data-management and fraud-detection; aisha.khan and liam.walsh are internal auditors.

describe('auditor impartiality', () => {
  const cases: Array<{ name: string; auditor: string; auditee: string; scope: DutyScope; rules: string[] }> = [
    { name: 'an internal auditor owning nothing in scope', auditor: 'aisha.khan', auditee: 'sofia.lind', scope: { clauses: ['8.2'], processes: ['data-management'] }, rules: [] },
    { name: 'the auditee auditing themselves', auditor: 'sofia.lind', auditee: 'sofia.lind', scope: { clauses: ['7.5'] }, rules: ['impartiality: auditor is the auditee'] },
    { name: 'the owner of a process in scope', auditor: 'tom.baker', auditee: 'sofia.lind', scope: { processes: ['customer-operations'] }, rules: ['impartiality: auditor owns a process in scope'] },
    { name: 'the owner of an AI system in scope', auditor: 'sofia.lind', auditee: 'tom.baker', scope: { aiSystems: ['fraud-detection'] }, rules: ['impartiality: auditor owns an AI system in scope'] },
    { name: "a clause-only scope (8.2) audited by that clause's process owner", auditor: 'david.chen', auditee: 'marco.rossi', scope: { clauses: ['8.2'] }, rules: ['impartiality: auditor owns a clause in scope'] },
    { name: 'a clause scope above an owned clause (8 covers 8.2)', auditor: 'david.chen', auditee: 'marco.rossi', scope: { clauses: ['8'] }, rules: ['impartiality: auditor owns a clause in scope'] },
    { name: "a control-only scope audited by that control's process owner", auditor: 'sofia.lind', auditee: 'tom.baker', scope: { controls: ['A.7.4'] }, rules: ['impartiality: auditor owns a clause in scope'] },
    { name: 'a clause implemented by nobody the auditor owns', auditor: 'david.chen', auditee: 'marco.rossi', scope: { clauses: ['7.2'] }, rules: [] },
    { name: 'the AIMS manager auditing operational clauses', auditor: 'priya.raman', auditee: 'marco.rossi', scope: { clauses: ['8.1'] }, rules: [] },
    { name: 'the AIMS manager auditing 9.2 and 10.2 (named once)', auditor: 'priya.raman', auditee: 'marco.rossi', scope: { clauses: ['9.2', '10.2'] }, rules: ['impartiality: auditor performs the audited AIMS process'] },
    { name: 'the AIMS manager auditing the AI policy clause she owns', auditor: 'priya.raman', auditee: 'hannah.okafor', scope: { clauses: ['5.2'] }, rules: ['impartiality: auditor owns a clause in scope'] },
  ];
  it.each(cases)('$name → $rules', ({ auditor, auditee, scope, rules }) => {
    const conflicts = auditorConflicts(facts, { leadAuditor: auditor, auditee, scope });
    expect(conflicts.map((c) => c.rule)).toEqual(rules);
    for (const c of conflicts) expect(conflictText(c)).toContain(`[${c.rule}]`);
  });

  it('the plan rules refuse a clause-only scope audited by its process owner, naming the rule', () => {
    const audit = plannedAuditSchema.parse({
      auditId: 'A-01',
      title: 'Risk assessment',
      scope: { clauses: ['8.2'] },
      window: { start: '2027-03-01', end: '2027-03-05' },
      leadAuditor: 'david.chen',
      auditee: 'marco.rossi',
    });
    expect(describeIssues(auditProblems(org, 2027, audit, 'audits.0'))).toBe(
      'audits.0.leadAuditor: david.chen owns 8.2 (implemented by the process "ai-risk-management") in the audit scope [impartiality: auditor owns a clause in scope]',
    );
    expect(auditProblems(org, 2027, { ...audit, leadAuditor: 'aisha.khan' }, 'audits.0')).toEqual([]);
  });

  it("an auditor's tasks must not go to the auditee or an owner of an area in scope", () => {
    const conflicts = auditorTaskConflicts(facts, { auditee: 'sofia.lind', scope: { clauses: ['8.2'], processes: ['data-management'], aiSystems: ['credit-scoring'] } });
    expect(conflicts.map((c) => [c.person, c.rule])).toEqual([
      ['sofia.lind', 'impartiality: auditor is the auditee'],
      ['marco.rossi', 'impartiality: auditor owns an AI system in scope'],
      ['david.chen', 'impartiality: auditor owns a clause in scope'],
    ]);
  });
});

describe('approvals', () => {
  it('nobody approves content they prepared or completed', () => {
    const conflicts = approverConflicts({ preparedBy: ['marco.rossi', 'system'], completedBy: ['sofia.lind', 'marco.rossi'] });
    expect(conflicts.map((c) => [c.person, c.reason])).toEqual([
      ['marco.rossi', 'marco.rossi prepared the content'],
      ['sofia.lind', 'sofia.lind completed the work to be approved'],
    ]);
    expect(conflictOf(conflicts, 'hannah.okafor')).toBeUndefined();
    expect(conflictText(conflictOf(conflicts, 'sofia.lind')!)).toBe(
      'sofia.lind completed the work to be approved [separation of duties: approver prepared or completed the content]',
    );
  });

  const report = (over: Partial<{ auditee: string; leadAuditor: string; recordedBy: string; scope: DutyScope }>) =>
    auditReportApproval(facts, { auditee: 'sofia.lind', leadAuditor: 'aisha.khan', recordedBy: 'aisha.khan', scope: { clauses: ['8.4'], controls: ['A.7.2'] }, ...over });

  const reportCases: Array<{ name: string; over: Parameters<typeof report>[0]; approvers: unknown; priyaRule?: string }> = [
    { name: 'an audit of an area the AIMS manager has no part in: the AIMS manager', over: {}, approvers: [{ person: 'priya.raman' }] },
    { name: 'the AIMS manager is the auditee: top management', over: { auditee: 'priya.raman' }, approvers: [{ role: 'top-management' }], priyaRule: 'separation of duties: auditee or area owner approves the audit report' },
    { name: 'the AIMS manager owns a process in scope: top management', over: { scope: { processes: ['corrective-action'] } }, approvers: [{ role: 'top-management' }], priyaRule: 'separation of duties: auditee or area owner approves the audit report' },
    { name: 'the AIMS manager owns a clause in scope (10.2): top management', over: { scope: { clauses: ['10.2'] } }, approvers: [{ role: 'top-management' }], priyaRule: 'separation of duties: auditee or area owner approves the audit report' },
    { name: 'the AIMS manager leads the audit: top management', over: { leadAuditor: 'priya.raman' }, approvers: [{ role: 'top-management' }], priyaRule: 'separation of duties: approver prepared or completed the content' },
    { name: 'the AIMS manager recorded the findings: top management', over: { recordedBy: 'priya.raman' }, approvers: [{ role: 'top-management' }], priyaRule: 'separation of duties: approver prepared or completed the content' },
  ];
  it.each(reportCases)('audit report: $name', ({ over, approvers, priyaRule }) => {
    const routing = report(over);
    expect(routing.approvers).toEqual(approvers);
    expect(conflictOf(routing.conflicts, 'priya.raman')?.rule).toBe(priyaRule);
  });

  it('audit report: a top manager who owns an area in scope is among the conflicts, so the approval leaves them out', () => {
    const routing = report({ auditee: 'priya.raman', scope: { clauses: ['8.2'] } });
    expect(routing.approvers).toEqual([{ role: 'top-management' }]);
    expect(conflictText(conflictOf(routing.conflicts, 'david.chen')!)).toBe(
      'david.chen owns 8.2 (implemented by the process "ai-risk-management") in the audit scope [separation of duties: auditee or area owner approves the audit report]',
    );
    expect(conflictOf(routing.conflicts, 'hannah.okafor')).toBeUndefined();
  });

  const planCases = [
    { name: 'an NC owned and planned by a process owner: the AIMS manager', ncOwner: 'marco.rossi', completedBy: 'marco.rossi', approvers: [{ person: 'priya.raman' }] },
    { name: 'the AIMS manager owns the NC and delegated the plan: still top management', ncOwner: 'priya.raman', assignee: 'priya.raman', completedBy: 'liam.walsh', approvers: [{ role: 'top-management' }] },
    { name: 'the AIMS manager owns the NC, another completed the plan: top management', ncOwner: 'priya.raman', completedBy: 'sofia.lind', approvers: [{ role: 'top-management' }] },
    { name: 'the AIMS manager completed the plan of an NC she does not own: top management', ncOwner: 'marco.rossi', completedBy: 'priya.raman', approvers: [{ role: 'top-management' }] },
  ];
  it.each(planCases)('action plan: $name', ({ ncOwner, assignee, completedBy, approvers }) => {
    const routing = actionPlanApproval({ aimsManager: 'priya.raman', ncOwner, assignee, completedBy });
    expect(routing.approvers).toEqual(approvers);
    expect(conflictOf(routing.conflicts, ncOwner)?.rule).toBe('separation of duties: NC owner approves their action plan');
    expect(conflictOf(routing.conflicts, completedBy)).toBeDefined();
  });
});

describe('reviews, triage and tasks', () => {
  const reviewCases = [
    { name: 'a member who does not own the system reviews', members: ['elena.petrova', 'priya.raman'], owner: 'marco.rossi', reviewer: { person: 'elena.petrova' } },
    { name: 'the first member owns the system: the next one reviews', members: ['marco.rossi', 'elena.petrova'], owner: 'marco.rossi', reviewer: { person: 'elena.petrova' } },
    { name: 'the first member assessed the system: the next one reviews', members: ['elena.petrova', 'priya.raman'], owner: 'marco.rossi', assessedBy: 'elena.petrova', reviewer: { person: 'priya.raman' } },
    { name: 'every member conflicts: the AIMS manager reviews', members: ['marco.rossi'], owner: 'marco.rossi', reviewer: { person: 'priya.raman' } },
    { name: 'every member conflicts and the AIMS manager owns the system: top management', members: ['priya.raman'], owner: 'priya.raman', reviewer: { role: 'top-management' } },
  ];
  it.each(reviewCases)('impact assessment review: $name', ({ members, owner, assessedBy, reviewer }) => {
    const routed = impactReviewer({ members, systemOwner: owner, assessedBy, aimsManager: 'priya.raman' });
    expect(routed.reviewer).toEqual(reviewer);
    expect(conflictOf(routed.conflicts, owner)?.rule).toBe('separation of duties: reviewer owns the AI system');
  });

  it('an impact assessment is not signed off by the AIMS manager who owns the system, even when someone else assessed it', () => {
    const route = (owner: string | undefined, preparer: string) => signOffRoute({ level: 2, threshold: 12, impactTier: 'low', preparer, owner, aimsManagerId: 'priya.raman' });
    expect(route('marco.rossi', 'marco.rossi')).toEqual({ role: 'aims-manager', reason: 'below-threshold' });
    expect(route('priya.raman', 'liam.walsh')).toEqual({ role: 'top-management', reason: 'preparer' });
    expect(route(undefined, 'priya.raman')).toEqual({ role: 'top-management', reason: 'preparer' });
  });

  it('a concern about the AIMS manager is triaged by top management, and the AIMS manager may not take the task', () => {
    expect(concernTriage({ aimsManager: 'priya.raman', aboutAimsManager: false })).toEqual({ assignee: { role: 'aims-manager' }, conflicts: [] });
    const about = concernTriage({ aimsManager: 'priya.raman', aboutAimsManager: true });
    expect(about.assignee).toEqual({ role: 'top-management' });
    expect(taskHolderRefusal(about.conflicts, 'priya.raman', 'reassigned')).toBe(
      'this task cannot be reassigned to priya.raman: the concern is about the AIMS manager [separation of duties: task given to a conflicting person] [separation of duties: concern about the AIMS manager]',
    );
    expect(taskHolderRefusal(about.conflicts, 'david.chen', 'reassigned')).toBeUndefined();
  });

  it("delegation and reassignment are refused when the target conflicts: an auditor's findings to the auditee, a review to the preparer", () => {
    const findings = auditorTaskConflicts(facts, { auditee: 'tom.baker', scope: { processes: ['customer-operations'] } });
    expect(taskHolderRefusal(findings, 'tom.baker', 'delegated')).toBe(
      'this task cannot be delegated to tom.baker: tom.baker is the auditee [separation of duties: task given to a conflicting person] [impartiality: auditor is the auditee]',
    );
    expect(taskHolderRefusal(findings, 'liam.walsh', 'delegated')).toBeUndefined();
    const review = impactReviewer({ members: ['elena.petrova'], systemOwner: 'marco.rossi', assessedBy: 'sofia.lind', aimsManager: 'priya.raman' }).conflicts;
    expect(taskHolderRefusal(review, 'sofia.lind', 'reassigned')).toContain('[separation of duties: approver prepared or completed the content]');
    expect(taskHolderRefusal(review, 'marco.rossi', 'delegated')).toContain('[separation of duties: reviewer owns the AI system]');
  });
});

describe('risk treatment and residual acceptance', () => {
  it('the plan goes to the risk owners but not its preparer; residual risks go to top management, never the owner', () => {
    expect(treatmentPlanApproval({ owners: ['marco.rossi', 'sofia.lind'], preparedBy: 'sofia.lind', aimsManager: 'priya.raman' }).approvers).toEqual([{ person: 'marco.rossi' }]);
    expect(treatmentPlanApproval({ owners: ['sofia.lind'], preparedBy: 'sofia.lind', aimsManager: 'priya.raman' }).approvers).toEqual([{ person: 'priya.raman' }]);
    const byManager = treatmentPlanApproval({ owners: ['priya.raman'], preparedBy: 'priya.raman', aimsManager: 'priya.raman' });
    expect(byManager.approvers).toEqual([{ role: 'top-management' }]);
    expect(conflictText(byManager.conflicts[0]!)).toContain('[separation of duties: plan approved by who prepared it]');
    const acceptance = residualAcceptanceConflicts({ riskOwner: 'david.chen', preparedBy: 'marco.rossi' });
    expect(acceptance.map((c) => c.person)).toEqual(['david.chen', 'marco.rossi']);
    expect(conflictText(acceptance[0]!)).toBe('david.chen owns the risk [separation of duties: risk owner accepts their residual risk]');
    expect(residualAcceptanceRefusal({ person: 'sofia.lind', topManagement: ['hannah.okafor', 'david.chen'], riskOwner: 'marco.rossi' })).toContain('[separation of duties: residual risk accepted below top management]');
    expect(residualAcceptanceRefusal({ person: 'david.chen', topManagement: ['hannah.okafor', 'david.chen'], riskOwner: 'david.chen' })).toContain('[separation of duties: risk owner accepts their residual risk]');
    expect(residualAcceptanceRefusal({ person: 'hannah.okafor', topManagement: ['hannah.okafor', 'david.chen'], riskOwner: 'david.chen' })).toBeUndefined();
  });
});

describe('the rules and the organization file', () => {
  it('every rule id is covered by a case above and reads as its name', () => {
    expect(dutyRuleIds).toHaveLength(15);
    for (const id of dutyRuleIds) expect(id).toMatch(/^(separation of duties|impartiality|competence): /);
  });

  it('area owners come from processes, AI systems and the clauses each process implements', () => {
    expect(areaOwners(facts, { processes: ['ai-policy'], aiSystems: ['fraud-detection'], clauses: ['5.2', '8.3'], controls: ['A.8.4'] })).toEqual([
      { person: 'priya.raman', kind: 'process', area: 'the process "ai-policy"' },
      { person: 'sofia.lind', kind: 'ai-system', area: 'the AI system "fraud-detection"' },
      { person: 'david.chen', kind: 'clause', area: '8.3 (implemented by the process "ai-risk-management")', items: ['8.3'], process: 'ai-risk-management' },
      { person: 'tom.baker', kind: 'clause', area: 'A.8.4 (implemented by the process "customer-operations")', items: ['A.8.4'], process: 'customer-operations' },
    ]);
  });

  it('task conflicts must name a known rule', () => {
    const unknownRule = humanTaskInputSchema.safeParse({
      title: 'Record the findings',
      instructions: 'Record each finding.',
      assignee: { person: 'aisha.khan' },
      dueAt: '2027-03-01T17:00:00Z',
      conflicts: [{ person: 'sofia.lind', rule: 'because I say so', reason: 'x' }],
    });
    expect(unknownRule.success).toBe(false);
    expect(unknownRule.error!.issues[0]!.path).toEqual(['conflicts', 0, 'rule']);
  });

  it('refuses processClauses naming an unknown process or a malformed clause', () => {
    const bad = structuredClone(org) as unknown as { aims: { processClauses: Record<string, string[]> } };
    bad.aims.processClauses = { payroll: ['8.2'], 'ai-policy': ['5.x'] };
    const parsed = organizationSchema.safeParse(bad);
    expect(parsed.success).toBe(false);
    const messages = parsed.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(messages).toContain('aims.processClauses.payroll: unknown process "payroll" (not in roles.processOwners)');
    expect(messages.some((m) => m.startsWith('aims.processClauses.ai-policy.0: must be a clause number'))).toBe(true);
  });
});
