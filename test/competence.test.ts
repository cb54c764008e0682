/**
 * Competence (ISO/IEC 42001 7.2) against the real dev server, SMTP server and ledger: evidence
 * close to its expiry gives its holder a renewal task (once per expiry), and an internal auditor
 * without valid audit competence is refused as lead auditor, naming the rule, both when the
 * programme is started and when a running programme's plan is submitted.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPETENCE_RENEWALS_WORKFLOW, type CompetenceRenewalsInput, type CompetenceRenewalsResult } from '../src/competence/contract.js';
import { competenceGaps, renewalsDue } from '../src/competence/rules.js';
import { INTERNAL_AUDIT_PROGRAMME_WORKFLOW, programmeStatusQuery, submitPlanUpdate } from '../src/internal-audit/contract.js';
import type { InternalAuditProgrammeInput, PlannedAudit, ProgrammeResult } from '../src/internal-audit/schema.js';
import { startInternalAuditProgramme } from '../src/internal-audit/start.js';
import type { Organization } from '../src/organization/schema.js';
import { completeTaskUpdate, taskStatusQuery } from '../src/task/contract.js';
import { StartInputError } from '../src/temporal/start.js';
import { recordHistory } from './helpers/histories.js';
import { isNotification } from './helpers/smtp.js';
import { eventually, exampleOrganization, startTestStack, updateRejection, type TestStack } from './helpers/temporal.js';

const DAY = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const year = new Date().getUTCFullYear();
const soon = day(Date.now() + DAY);
const yearEnd = Date.UTC(year + 1, 0, 1) - 60_000;

let stack: TestStack;
let org: Organization;
beforeAll(async () => {
  const example = await exampleOrganization();
  org = {
    ...example,
    competence: { ...example.competence, leadAuditor: 'internal-audit', required: { ...example.competence.required, internalAuditors: ['internal-audit'] } },
    people: example.people.map((p) =>
      p.id === 'aisha.khan'
        ? { ...p, competences: [{ competence: 'internal-audit', evidence: 'ISO/IEC 42001 Lead Auditor certificate LA-2291', expiresOn: '2099-12-31' }] }
        : p.id === 'liam.walsh'
          ? { ...p, competences: [{ competence: 'internal-audit', evidence: 'Internal auditor course, 2024', expiresOn: soon }] }
          : p,
    ),
  };
  stack = await startTestStack({ organization: org });
});
const terminateLater: string[] = [];
afterAll(async () => {
  for (const id of terminateLater) await stack?.client.workflow.getHandle(id).terminate('test finished').catch(() => undefined);
  await stack?.stop();
});

/** An audit whose window ends at the end of the year, after liam.walsh's evidence expires. */
const audit = (leadAuditor: string): PlannedAudit => ({
  auditId: 'A-01',
  title: 'Data management for AI systems',
  window: { start: new Date(Math.min(Date.now() + 2 * 3600_000, yearEnd - 120_000)).toISOString(), end: new Date(yearEnd).toISOString() },
  leadAuditor,
  auditee: 'sofia.lind',
  scope: { clauses: ['8.2'], controls: [], processes: ['data-management'], aiSystems: [] },
});

describe('competence', () => {
  it('refuses an internal auditor without valid audit competence as lead auditor, naming the rule', async () => {
    const rule = '[competence: lead auditor without valid audit competence]';
    // At the start of a programme with its plan.
    const err = await startInternalAuditProgramme(
      stack.client,
      stack.taskQueue,
      { year, requestedBy: 'priya.raman', trigger: 'admin', audits: [audit('liam.walsh')] },
      { organization: org, records: stack.records },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartInputError);
    expect((err as Error).message).toContain(`audits.0.leadAuditor: liam.walsh's evidence of the competence "internal-audit" expires on ${soon}, before the audit ends on ${day(yearEnd)} ${rule}`);

    // In a running programme: the plan submitted through its update is checked the same way.
    const workflowId = `internal-audit-programme/${year}-c${randomUUID().slice(0, 8)}`;
    terminateLater.push(workflowId);
    const programme = await stack.start<[InternalAuditProgrammeInput], ProgrammeResult>(INTERNAL_AUDIT_PROGRAMME_WORKFLOW, [{ year, requestedBy: 'system', trigger: 'schedule' }], { workflowId });
    await eventually(() => programme.query(programmeStatusQuery), (s) => s.state === 'planning' && s.planTask !== undefined, { timeoutMs: 30_000 });
    const refused = await updateRejection(programme.executeUpdate(submitPlanUpdate, { args: [{ by: 'priya.raman', audits: [audit('liam.walsh')] }] }));
    expect(refused).toContain(rule);
    const withoutEvidence = await updateRejection(
      programme.executeUpdate(submitPlanUpdate, { args: [{ by: 'priya.raman', audits: [{ ...audit('priya.raman'), scope: { clauses: ['8.2'], controls: [], processes: [], aiSystems: [] } }] }] }),
    );
    expect(withoutEvidence).toContain(`priya.raman has no evidence of the competence "internal-audit" in the organization file ${rule}`);
    // A lead auditor with valid evidence is accepted.
    const accepted = await programme.executeUpdate(submitPlanUpdate, { args: [{ by: 'priya.raman', audits: [audit('aisha.khan')] }] });
    expect(accepted.ok).toBe(true);
  });

  it('gives a renewal task before the evidence expires, once per expiry', async () => {
    expect(renewalsDue(org, day(Date.now()), day(Date.now() + 30 * DAY))).toEqual([
      { person: 'liam.walsh', competence: 'internal-audit', evidence: 'Internal auditor course, 2024', expiresOn: soon },
    ]);
    expect(competenceGaps(org, day(Date.now() + 2 * DAY)).filter((g) => g.competence === 'internal-audit')).toEqual([{ person: 'liam.walsh', competence: 'internal-audit', reason: 'evidence expired' }]);

    const run = (suffix: string) =>
      stack.start<[CompetenceRenewalsInput], CompetenceRenewalsResult>(COMPETENCE_RENEWALS_WORKFLOW, [{ renewBefore: '30d', tasks: { reminderOffsets: [], escalation: [] } }], {
        workflowId: `competence-renewals-${suffix}-${randomUUID().slice(0, 8)}`,
      });
    const firstRun = await run('a');
    const first = await firstRun.result();
    await recordHistory('competence-renewals', firstRun.workflowId);
    const taskId = `competence-renewal/liam.walsh/internal-audit/${soon}`;
    terminateLater.push(taskId);
    expect(first).toEqual({ requested: [{ person: 'liam.walsh', competence: 'internal-audit', evidence: 'Internal auditor course, 2024', expiresOn: soon, taskId }], alreadyRequested: [] });
    const task = stack.client.workflow.getHandle(taskId);
    const open = await eventually(() => task.query(taskStatusQuery).catch(() => undefined), (t) => t?.state === 'open' && t.assignee.id !== '');
    expect(open).toMatchObject({ assignee: { id: 'liam.walsh' }, form: 'evidence', clauses: ['7.2'], process: 'competence', dueAt: `${soon}T23:59:00.000Z` });
    await stack.smtp.waitFor((m) => isNotification(m, taskId, 'task.assigned', 'liam.walsh@northwind.example'));
    const recorded = await stack.records.list({ kind: 'competence.renewal-requested' });
    expect(recorded.map((r) => (r.content as { taskId: string }).taskId)).toEqual([taskId]);

    // The next run asks nothing again, while the task is open or after it is done.
    expect(await (await run('b')).result()).toEqual({ requested: [], alreadyRequested: [taskId] });
    await task.executeUpdate(completeTaskUpdate, { args: [{ by: 'liam.walsh', data: { summary: 'Took the 2026 refresher.', links: ['https://lms.northwind.example/cert/8812'] } }] });
    expect(await (await run('c')).result()).toEqual({ requested: [], alreadyRequested: [taskId] });
  });
});
