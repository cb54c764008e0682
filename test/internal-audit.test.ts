/**
 * The internal audit programme and its audits on the real dev server, with a real SMTP server
 * and an in-memory ledger: validation (impartiality, windows, coverage over the cycle), planning
 * through an update, approval, reminders and escalation, mid-year changes, findings raising
 * corrective actions that outlive the audit, the year-end report, and a schedule starting a
 * programme from the minimal input.
 */
import { randomUUID } from 'node:crypto';
import { ScheduleOverlapPolicy, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  INTERNAL_AUDIT_PROGRAMME_INTERIM_REPORT,
  INTERNAL_AUDIT_PROGRAMME_REPORT,
  INTERNAL_AUDIT_REPORTED,
  type InternalAuditInput,
  type InternalAuditResult,
  type InternalAuditProgrammeInput,
  type PlannedAudit,
  type PlannedAuditInput,
  type ProgrammeReportContent,
  type ProgrammeResult,
} from '../src/internal-audit/schema.js';
import { summarizeInternalAudits } from '../src/internal-audit/summary.js';
import { openImprovementItems } from '../src/improvement/items.js';
import { IMPROVEMENT_RAISED } from '../src/improvement/schema.js';
import {
  addAuditUpdate,
  auditStatusQuery,
  cancelAuditUpdate,
  changeAuditorUpdate,
  closeYearUpdate,
  INTERNAL_AUDIT_PROGRAMME_WORKFLOW,
  programmeStatusQuery,
  rescheduleAuditUpdate,
  submitPlanUpdate,
} from '../src/internal-audit/contract.js';
import { ncStatusQuery } from '../src/corrective-action/contract.js';
import { approvalStatusQuery, decideUpdate } from '../src/approval/contract.js';
import { completeTaskUpdate, taskStatusQuery } from '../src/task/contract.js';
import { handoverUpdate } from '../src/common/messages.js';
import { recordHistory } from './helpers/histories.js';
import { isNotification, type ParsedMail } from './helpers/smtp.js';
import { eventually, startTestStack, updateRejection, type TestStack } from './helpers/temporal.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ randomNcNumbers: true });
});
afterAll(async () => {
  await stack?.stop();
});

type ProgrammeHandle = WorkflowHandle<(input: InternalAuditProgrammeInput) => Promise<ProgrammeResult>>;

const year = new Date().getUTCFullYear();
const quiet = { reminderOffsets: [], escalation: [] };
/** A window of instants within this year (tests run before 31 December 23:00 UTC). */
const windowIn = (startMin: number, endMin: number) => {
  const cap = Date.UTC(year + 1, 0, 1) - 60_000;
  return { start: new Date(Math.min(Date.now() + startMin * 60_000, cap - 120_000)).toISOString(), end: new Date(Math.min(Date.now() + endMin * 60_000, cap)).toISOString() };
};

const terminateLater: string[] = [];
afterAll(async () => {
  for (const id of terminateLater) await stack.client.workflow.getHandle(id).terminate('test finished').catch(() => undefined);
});

function startProgramme(input: Partial<InternalAuditProgrammeInput> = {}): Promise<ProgrammeHandle> {
  const workflowId = `internal-audit-programme/${year}-t${randomUUID().slice(0, 8)}`;
  terminateLater.push(workflowId);
  return stack.start<[InternalAuditProgrammeInput], ProgrammeResult>(INTERNAL_AUDIT_PROGRAMME_WORKFLOW, [{ year, requestedBy: 'system', trigger: 'admin', ...input }], {
    workflowId,
  });
}

/** Waits for the child task `<parent>/<key>` to be open, then completes it as `by`. */
async function complete(parentId: string, key: string, by: string, data: Record<string, unknown>) {
  const task = stack.client.workflow.getHandle(`${parentId}/${key}`);
  await eventually(
    () => task.query(taskStatusQuery).catch(() => undefined),
    (s) => s?.state === 'open' && s.assignee.id === by,
  );
  return task.executeUpdate(completeTaskUpdate, { args: [{ by, data }] });
}

async function decide(parentId: string, key: string, by: string, decision: 'approve' | 'reject', comment?: string) {
  const approval = stack.client.workflow.getHandle(`${parentId}/${key}`);
  const s = await eventually(
    () => approval.query(approvalStatusQuery).catch(() => undefined),
    (st) => st?.state === 'pending' && st.approvers.length > 0,
  );
  return approval.executeUpdate(decideUpdate, { args: [{ by, decision, contentHash: s!.contentHash, ...(comment ? { comment } : {}) }] });
}

const status = (p: ProgrammeHandle) => p.query(programmeStatusQuery);

function ics(mail: ParsedMail): string {
  const attachment = mail.attachments.find((a) => a.filename === 'invite.ics');
  if (!attachment) throw new Error('no invite.ics attached');
  return attachment.content.toString('utf8');
}

/** An audit of data management led by an internal auditor, with `overrides`. */
const audit = (overrides: Partial<PlannedAuditInput> = {}): PlannedAudit => ({
  auditId: 'A-01',
  title: 'Data management for AI systems',
  window: windowIn(120, 180),
  leadAuditor: 'aisha.khan',
  auditee: 'sofia.lind',
  ...overrides,
  scope: {
    clauses: [],
    controls: [],
    processes: [],
    aiSystems: [],
    ...(overrides.scope ?? { clauses: ['8.2', '8.4'], controls: ['A.7.2', 'A.7.4'], processes: ['data-management'] }),
  },
});

describe('internal audit programme: validation', () => {
  it('refuses a plan whose auditors are not impartial or whose windows leave the year, naming each rule', async () => {
    const programme = await startProgramme({
      audits: [
        // marco.rossi owns the ai-system-lifecycle process and the credit-scoring system.
        audit({ auditId: 'A-01', leadAuditor: 'marco.rossi', auditee: 'marco.rossi', scope: { processes: ['ai-system-lifecycle'], aiSystems: ['credit-scoring'] } }),
        // The AIMS manager runs the internal audit and corrective action processes herself.
        audit({ auditId: 'A-02', leadAuditor: 'priya.raman', scope: { clauses: ['9.2', '10.2'] } }),
        audit({ auditId: 'A-03', window: { start: `${year + 1}-02-01`, end: `${year + 1}-02-03` } }),
      ],
    });
    const failure = await programme.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const message = (failure as WorkflowFailedError).cause?.message ?? '';
    expect(message).toContain('audits.0.leadAuditor: marco.rossi cannot audit themselves (they are the auditee) [impartiality: auditor is the auditee]');
    expect(message).toContain('owns the process "ai-system-lifecycle" in the audit scope [impartiality: auditor owns a process in scope]');
    expect(message).toContain('owns the AI system "credit-scoring" in the audit scope [impartiality: auditor owns an AI system in scope]');
    expect(message).toContain('audits.1.leadAuditor: priya.raman is the AIMS manager and runs the work of clause(s) 9.2, 10.2 in the audit scope [impartiality: auditor performs the audited AIMS process]');
    expect(message).toContain(`audits.2.window.start: must be within ${year} [window inside the year]`);
    expect(message).not.toContain('audits.2.leadAuditor');
  });

  it('starts from the minimal input in planning, takes the plan through an update with coverage warnings, and goes back to planning when the plan is rejected', async () => {
    // The previous programme covered clause 4.1 and control A.2.2: they count within the cycle.
    await stack.records.append({
      id: `test-earlier-${randomUUID()}`,
      kind: INTERNAL_AUDIT_REPORTED,
      subject: `internal-audit/${year - 1}/A-07`,
      clauses: ['9.2'],
      actor: 'aisha.khan',
      occurredAt: new Date(Date.UTC(year - 1, 5, 1)).toISOString(),
      content: { year: year - 1, auditId: 'A-07', scope: { clauses: ['4.1'], controls: ['A.2.2'], processes: [], aiSystems: [] } },
    });
    const programme = await startProgramme({ trigger: 'schedule' });
    const planning = await eventually(() => status(programme), (s) => s.state === 'planning' && s.planTask !== undefined);
    const planTask = stack.client.workflow.getHandle(planning.planTask!.workflowId);
    const task = await eventually(() => planTask.query(taskStatusQuery).catch(() => undefined), (t) => t?.state === 'open' && t.assignee.id !== '');
    expect(task!.assignee.id).toBe('priya.raman');
    expect(task!.title).toBe(`Plan the ${year} internal audit programme`);

    const refused = await updateRejection(
      programme.executeUpdate(submitPlanUpdate, { args: [{ by: 'system', audits: [audit({ leadAuditor: 'sofia.lind' })] }] }),
    );
    expect(refused).toContain('audits.0.leadAuditor: sofia.lind cannot audit themselves (they are the auditee) [impartiality: auditor is the auditee]');
    expect(refused).toContain('owns the process "data-management"');
    expect(await updateRejection(programme.executeUpdate(submitPlanUpdate, { args: [{ by: 'marco.rossi', audits: [audit()] }] }))).toBe(
      'only the AIMS manager or an internal auditor can submit the audit plan',
    );

    // An internal auditor drafts the plan; the AIMS manager approves it.
    const accepted = await programme.executeUpdate(submitPlanUpdate, { args: [{ by: 'liam.walsh', audits: [audit()] }] });
    expect(accepted.warnings).toHaveLength(1);
    const warning = accepted.warnings[0]!;
    expect(warning).toContain(`not covered within the 3-year audit cycle (${year - 2}-${year})`);
    for (const uncovered of ['4.2', '5.1', '9.2', '10.2', 'A.5.4', 'A.10.3']) expect(warning).toContain(uncovered);
    // In the plan (8.2, 8.4, A.7.2, A.7.4) or covered by the previous programme (4.1, A.2.2).
    const listed = warning.slice(warning.indexOf(':', warning.indexOf(')')) + 1).split(',').map((s) => s.trim());
    for (const covered of ['4.1', '8.2', '8.4', 'A.2.2', 'A.7.2', 'A.7.4']) expect(listed).not.toContain(covered);
    await eventually(() => planTask.query(taskStatusQuery), (t) => t.state === 'cancelled');

    const inApproval = await eventually(() => status(programme), (s) => s.state === 'approval' && s.approval !== undefined);
    expect(inApproval.coverage?.uncovered).toEqual(expect.arrayContaining(['4.2', 'A.5.4']));
    expect(inApproval.coverage?.covered).toEqual(expect.arrayContaining(['4.1', '8.4', 'A.2.2', 'A.7.4']));
    await decide(programme.workflowId, 'plan-approval-1', 'priya.raman', 'reject', 'Add an audit of clause 9.3 this year.');
    const again = await eventually(() => status(programme), (s) => s.state === 'planning' && s.planTask?.workflowId.endsWith('/plan-2') === true);
    expect(again.lastRejection).toBe('Add an audit of clause 9.3 this year.');

    // Submitted by the AIMS manager herself: top management approves.
    await programme.executeUpdate(submitPlanUpdate, {
      args: [{ by: 'priya.raman', audits: [audit(), audit({ auditId: 'A-02', title: 'Management review', scope: { clauses: ['9.3'] }, auditee: 'priya.raman' })] }],
    });
    await decide(programme.workflowId, 'plan-approval-2', 'hannah.okafor', 'approve');
    const runningStatus = await eventually(() => status(programme), (s) => s.state === 'running' && s.audits.length === 2);
    expect(runningStatus.audits.map((a) => [a.auditId, a.state])).toEqual([
      ['A-01', 'planned'],
      ['A-02', 'planned'],
    ]);
    const approved = await stack.records.list({ kind: 'internal-audit-programme.approved', subject: programme.workflowId });
    expect(approved).toHaveLength(1);
    expect(approved[0]!.actor).toBe('hannah.okafor');
  });
});

describe('internal audit programme: the year', () => {
  it('reminds, escalates, reschedules, changes auditors, adds and cancels audits, raises NCs that outlive the audit, and reports figures that match', async () => {
    const programme = await startProgramme({
      audits: [
        audit({
          auditId: 'A-01',
          title: 'Customer operations and the support assistant',
          scope: { clauses: ['8.1'], controls: ['A.9.2', 'A.9.4'], processes: ['customer-operations'], aiSystems: ['support-assistant'] },
          window: windowIn(2, 60),
          leadAuditor: 'aisha.khan',
          auditee: 'tom.baker',
        }),
        audit({ auditId: 'A-02', window: windowIn(300, 360) }),
      ],
      // The reminder is due about a minute before A-01's window: it goes out right after approval.
      policy: { reminderBefore: '119s', stepDue: '1h', approvalDue: '1h', tasks: quiet },
    });
    const pid = programme.workflowId;
    const a01 = pid.replace('internal-audit-programme/', 'internal-audit/') + '/A-01';
    const a02 = pid.replace('internal-audit-programme/', 'internal-audit/') + '/A-02';
    // Started through the admin API: prepared by the AIMS manager, approved by top management.
    expect(await updateRejection(decide(pid, 'plan-approval-1', 'priya.raman', 'approve'))).toContain('separation of duties');
    await decide(pid, 'plan-approval-1', 'david.chen', 'approve');
    await eventually(() => status(programme), (s) => s.state === 'running');

    // Invitations with the window, and the reminder to the lead auditor.
    const invitation = await stack.smtp.waitFor((m) => isNotification(m, a01, 'internal-audit.invitation', 'tom.baker@northwind.example'));
    expect(ics(invitation)).toContain(`UID:${a01}@aimsflow`);
    expect(ics(invitation)).toContain('SEQUENCE:0');
    const reminder = await stack.smtp.waitFor((m) => isNotification(m, pid, 'internal-audit.reminder', 'aisha.khan@northwind.example'), 20_000);
    expect(reminder.subject).toContain('A-01');

    // Impartiality is checked again when the auditor changes.
    const refused = await updateRejection(
      programme.executeUpdate(changeAuditorUpdate, { args: [{ by: 'system', auditId: 'A-01', leadAuditor: 'tom.baker', reason: 'Aisha is away' }] }),
    );
    expect(refused).toContain('[impartiality: auditor is the auditee]');
    expect(refused).toContain('[impartiality: auditor owns a process in scope]');
    expect(refused).toContain('[impartiality: auditor owns an AI system in scope]');
    await eventually(
      () => stack.client.workflow.getHandle(`${a01}/audit-plan`).query(taskStatusQuery).catch(() => undefined),
      (t) => t?.state === 'open',
    );
    await programme.executeUpdate(changeAuditorUpdate, { args: [{ by: 'priya.raman', auditId: 'A-01', leadAuditor: 'liam.walsh', reason: 'Aisha is away' }] });
    // The old auditor's entry is withdrawn, the new one invited, and the plan task moves to him.
    const withdrawn = await stack.smtp.waitFor((m) => isNotification(m, a01, 'internal-audit.invitation', 'aisha.khan@northwind.example') && ics(m).includes('METHOD:CANCEL'));
    expect(ics(withdrawn)).toContain('SEQUENCE:1');
    const reinvited = await stack.smtp.waitFor((m) => isNotification(m, a01, 'internal-audit.invitation', 'liam.walsh@northwind.example'));
    expect(ics(reinvited)).toContain('SEQUENCE:2');
    expect(ics(reinvited)).toContain(`UID:${a01}@aimsflow`);
    await eventually(() => stack.client.workflow.getHandle(`${a01}/audit-plan`).query(taskStatusQuery), (t) => t.state === 'cancelled');

    // Reschedule A-02: the same UID with a higher sequence; then cancel it.
    const moved = windowIn(400, 460);
    await programme.executeUpdate(rescheduleAuditUpdate, { args: [{ by: 'system', auditId: 'A-02', window: moved, reason: 'Auditee on leave' }] });
    const rescheduled = await stack.smtp.waitFor((m) => isNotification(m, a02, 'internal-audit.invitation', 'sofia.lind@northwind.example') && ics(m).includes('SEQUENCE:1'));
    expect(ics(rescheduled)).toContain(`UID:${a02}@aimsflow`);
    expect(rescheduled.subject).toContain('Internal audit updated');
    expect((await stack.client.workflow.getHandle(a02).query(auditStatusQuery)).window).toEqual(moved);
    expect(await updateRejection(programme.executeUpdate(rescheduleAuditUpdate, { args: [{ by: 'system', auditId: 'A-02', window: { start: `${year + 1}-01-05`, end: `${year + 1}-01-06` }, reason: 'Later' }] }))).toBe(
      `window: must be within ${year}`,
    );
    await programme.executeUpdate(cancelAuditUpdate, { args: [{ by: 'system', auditId: 'A-02', reason: 'Covered by the external audit this year' }] });
    const cancelled = await stack.smtp.waitFor((m) => isNotification(m, a02, 'internal-audit.invitation', 'sofia.lind@northwind.example') && ics(m).includes('METHOD:CANCEL'));
    expect(ics(cancelled)).toContain('SEQUENCE:2');
    expect(ics(cancelled)).toContain('STATUS:CANCELLED');

    // An unplanned audit whose window passes without fieldwork is escalated.
    expect(
      await updateRejection(programme.executeUpdate(addAuditUpdate, { args: [{ by: 'system', audit: audit({ auditId: 'A-03', leadAuditor: 'sofia.lind' }) }] })),
    ).toContain('audit.leadAuditor: sofia.lind cannot audit themselves');
    const added = await programme.executeUpdate(addAuditUpdate, {
      args: [{ by: 'system', audit: audit({ auditId: 'A-03', title: 'AI risk management', scope: { clauses: ['6.1'], processes: ['ai-risk-management'] }, auditee: 'david.chen', window: windowIn(0.05, 0.15) }), reason: 'Incident follow-up' }],
    });
    expect(added.warnings[0]).toContain('not covered within the 3-year audit cycle');
    const escalation = await stack.smtp.waitFor((m) => isNotification(m, pid, 'internal-audit.escalated', 'priya.raman@northwind.example'), 30_000);
    expect(escalation.subject).toContain('A-03');
    await stack.smtp.waitFor((m) => isNotification(m, pid, 'internal-audit.escalated', 'hannah.okafor@northwind.example'));
    await eventually(() => status(programme), (s) => s.audits.find((a) => a.auditId === 'A-03')?.state === 'overdue');
    // Operations find it in the Temporal UI by its search attributes.
    const attributes = (await programme.describe()).searchAttributes;
    expect(attributes.AimsState).toEqual(['overdue']);
    expect(attributes.AimsRef).toEqual([`IAP-${year}`]);
    expect(attributes.AimsProcess).toEqual(['internal-audit-programme']);
    const a01Attributes = (await stack.client.workflow.getHandle(a01).describe()).searchAttributes;
    expect(a01Attributes.AimsRef).toEqual([`IA-${year}-A-01`]);
    expect(a01Attributes.AimsOwner).toEqual(['liam.walsh']);

    // A-01 by the new auditor: plan, acknowledgement, fieldwork, findings, report approval.
    await complete(a01, 'audit-plan-2', 'liam.walsh', { text: 'Interviews with the support team on day 1; sample of 20 drafted replies.' });
    await complete(a01, 'acknowledge', 'tom.baker', { choice: 'Acknowledged' });
    await eventually(() => status(programme), (s) => s.audits.find((a) => a.auditId === 'A-01')?.state === 'in-progress');
    await complete(a01, 'fieldwork', 'liam.walsh', { summary: 'Interviewed 3 agents; sampled 20 replies.', links: ['https://wiki.northwind.example/audit/A-01'] });
    await complete(a01, 'findings-1', 'liam.walsh', {
      findings: [
        { type: 'major-nc', refs: ['A.9.2'], statement: 'Drafted replies are sent without agent review.', evidence: '4 of 20 sampled replies had no reviewer.' },
        { type: 'minor-nc', refs: ['A.9.4'], statement: 'Intended use not documented for the Dublin team.', evidence: 'No intended-use page for Dublin.', owner: 'marco.rossi' },
        { type: 'observation', refs: ['8.1'], statement: 'Operating instructions are spread over two wikis.', evidence: 'Two wiki spaces.' },
        { type: 'opportunity', refs: ['A.9.2'], statement: 'A checklist could speed up reviews.', evidence: 'Agent interviews.' },
      ],
    });
    await decide(a01, 'report-approval-1', 'priya.raman', 'approve');
    const a01Result: InternalAuditResult = await stack.client.workflow.getHandle<(input: InternalAuditInput) => Promise<InternalAuditResult>>(a01).result();
    expect(a01Result.status).toBe('reported');
    expect(a01Result.ncIds).toHaveLength(2);

    // The NCs run on as corrective actions after the audit closed.
    for (const [i, ncId] of a01Result.ncIds.entries()) {
      const nc = stack.client.workflow.getHandle(`corrective-action/${ncId}`);
      terminateLater.push(nc.workflowId);
      expect((await nc.describe()).status.name).toBe('RUNNING');
      const ncStatus = await nc.query(ncStatusQuery);
      expect(ncStatus.source).toBe('internal-audit');
      expect(ncStatus.sourceRef).toBe(`A-01-F${i + 1}`);
      expect(ncStatus.severity).toBe(i === 0 ? 'major' : 'minor');
      expect(ncStatus.owner).toBe(i === 0 ? 'tom.baker' : 'marco.rossi');
    }
    const report = await stack.smtp.waitFor((m) => isNotification(m, a01, 'internal-audit.report', 'hannah.okafor@northwind.example'));
    expect(report.text).toContain('1 major NC, 1 minor NC, 1 observation, 1 opportunity for improvement');
    expect(report.text).toContain(a01Result.ncIds[0]);

    // The observation and the opportunity become improvement items (10.1), open for management review.
    const key = pid.slice('internal-audit-programme/'.length);
    expect(a01Result.findings.map((f) => f.improvementId ?? null)).toEqual([null, null, `IMP-${key}-A-01-F3`, `IMP-${key}-A-01-F4`]);
    expect(report.text).toContain(`improvement item IMP-${key}-A-01-F3`);
    const items = (await openImprovementItems(stack.records)).filter((i) => i.audit?.workflowId === a01);
    expect(items.map((i) => [i.improvementId, i.type, i.sourceRef, i.clauses, i.statement])).toEqual([
      [`IMP-${key}-A-01-F3`, 'observation', 'A-01-F3', ['8.1'], 'Operating instructions are spread over two wikis.'],
      [`IMP-${key}-A-01-F4`, 'opportunity', 'A-01-F4', ['A.9.2'], 'A checklist could speed up reviews.'],
    ]);
    const [raised] = await stack.records.list({ kind: IMPROVEMENT_RAISED, subject: `improvement/IMP-${key}-A-01-F3` });
    expect(raised!.clauses).toEqual(['10.1', '9.2', '8.1']);
    expect(raised!.content).toMatchObject({ audit: { auditId: 'A-01', workflowId: a01, leadAuditor: 'liam.walsh', auditee: 'tom.baker' }, finding: { findingId: 'A-01-F3' } });
    await eventually(() => status(programme), (s) => s.audits.find((a) => a.auditId === 'A-01')?.state === 'reported');

    // Year end: the report's figures are those of the year.
    await programme.executeUpdate(closeYearUpdate, { args: [{ by: 'priya.raman', reason: 'Report before the surveillance audit' }] });
    const result = await programme.result();
    expect(result.status).toBe('closed');
    await recordHistory('internal-audit-programme', pid);
    await recordHistory('internal-audit', a01);
    const [record] = await stack.records.list({ kind: INTERNAL_AUDIT_PROGRAMME_REPORT, subject: pid });
    const content = record!.content as ProgrammeReportContent;
    // A-03 was not carried out within the year: cancelled at the year end, before the report.
    expect(content.counts).toEqual({ planned: 2, reported: 1, cancelled: 2, notReported: 0, unplanned: 1 });
    expect(content.audits.map((a) => [a.auditId, a.state, a.leadAuditor])).toEqual([
      ['A-01', 'reported', 'liam.walsh'],
      ['A-02', 'cancelled', 'aisha.khan'],
      ['A-03', 'cancelled', 'aisha.khan'],
    ]);
    expect(content.audits[2]!.cancellation?.reason).toBe(`not carried out within the ${year} programme`);
    // No audit was under way at the year end: the report is final at once, with no interim one.
    expect(content.status).toBe('final');
    expect(content.supersedes).toBeNull();
    expect(await stack.records.list({ kind: INTERNAL_AUDIT_PROGRAMME_INTERIM_REPORT, subject: pid })).toEqual([]);
    expect(content.findingsByType).toEqual({ majorNc: 1, minorNc: 1, observation: 1, opportunity: 1 });
    expect(content.ncs.map((n) => n.ncId)).toEqual(a01Result.ncIds);
    expect(content.ncs.every((n) => n.state === 'containment' && n.auditId === 'A-01')).toBe(true);
    expect(content.coverage.covered).toEqual(expect.arrayContaining(['8.1', 'A.9.2', 'A.9.4']));
    expect(content.coverage.covered).not.toContain('6.1');
    expect(result.audits).toEqual([
      { auditId: 'A-01', state: 'reported' },
      { auditId: 'A-02', state: 'cancelled' },
      { auditId: 'A-03', state: 'cancelled' },
    ]);

    // The summary management review and certification read gives the same figures.
    const summary = await summarizeInternalAudits(stack.records, { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() });
    if (!summary.available) throw new Error(summary.reason);
    const mine = summary.audits.filter((a) => a.workflowId === a01);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.findings).toEqual(content.findingsByType);
    expect(mine[0]!.ncIds).toEqual(a01Result.ncIds);
    expect(summary.programmes.find((p) => p.workflowId === pid)?.coverage.uncovered).toEqual(content.coverage.uncovered);
  });
});

/** A window of instants that ended an hour ago (within this year; tests run after 1 January 04:00 UTC). */
const pastWindow = () => {
  const yearStart = Date.UTC(year, 0, 1);
  return { start: new Date(Math.max(yearStart, Date.now() - 3 * 3_600_000)).toISOString(), end: new Date(Math.max(yearStart + 60_000, Date.now() - 3_600_000)).toISOString() };
};

/** Starts a programme with `audits` and approves its plan; resolves once its audits run. */
async function runningProgramme(audits: PlannedAudit[]): Promise<ProgrammeHandle> {
  const programme = await startProgramme({ audits, policy: { stepDue: '1h', approvalDue: '1h', tasks: quiet } });
  await decide(programme.workflowId, 'plan-approval-1', 'david.chen', 'approve');
  await eventually(() => status(programme), (s) => s.state === 'running');
  return programme;
}

describe('internal audit programme: dates', () => {
  it('refuses to move or add an audit window in the past, unless the change records an audit already held, with a reason', async () => {
    const programme = await runningProgramme([audit({ auditId: 'A-01', window: windowIn(300, 360) })]);
    const pid = programme.workflowId;
    const past = pastWindow();
    const reschedule = (window: { start: string; end: string }, extra: { alreadyHeld?: boolean; reason?: string } = {}) =>
      programme.executeUpdate(rescheduleAuditUpdate, { args: [{ by: 'priya.raman', auditId: 'A-01', window, reason: 'Auditee on leave', ...extra }] });

    const refused = await updateRejection(reschedule(past));
    expect(refused).toMatch(/^window: starts \S+, before now \(\S+\); a window may lie in the past only to record an audit that already took place \(alreadyHeld, with a reason\) \[window not in the past\]$/);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    if (yesterday.startsWith(String(year))) {
      expect(await updateRejection(reschedule({ start: yesterday, end: yesterday }))).toContain(`window: starts ${yesterday}, before today`);
    }
    expect(await updateRejection(reschedule(windowIn(400, 460), { alreadyHeld: true }))).toContain('[an audit already held has begun]');

    // Recording an audit that already took place: allowed, and the ledger says so with the reason.
    await reschedule(past, { alreadyHeld: true, reason: 'Held on site on these dates; the plan was entered late' });
    const [moved] = await eventually(() => stack.records.list({ kind: 'internal-audit-programme.audit-rescheduled', subject: pid }), (r) => r.length === 1);
    expect(moved!.content).toMatchObject({ auditId: 'A-01', to: past, alreadyHeld: true, reason: 'Held on site on these dates; the plan was entered late' });

    // Adding an audit: the same rule, naming the audit's window, and the reason.
    const added = audit({ auditId: 'A-02', title: 'AI risk management', scope: { clauses: ['6.1'], processes: ['ai-risk-management'] }, auditee: 'david.chen', window: past });
    const add = (extra: { alreadyHeld?: boolean; reason?: string }) => programme.executeUpdate(addAuditUpdate, { args: [{ by: 'system', audit: added, ...extra }] });
    expect(await updateRejection(add({ reason: 'Incident follow-up' }))).toMatch(/^audit\.window: starts \S+, before now .*\[window not in the past\]$/);
    expect(await updateRejection(add({ alreadyHeld: true }))).toBe('reason: a reason is required to record an audit that already took place [an audit already held needs a reason]');
    await add({ alreadyHeld: true, reason: 'Incident follow-up audit held before it was planned' });

    // Neither is escalated for a window that passed without fieldwork: they are recorded after the fact.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const s = await status(programme);
    expect(s.audits.map((a) => [a.auditId, a.state, a.alreadyHeld])).toEqual([
      ['A-01', 'planned', true],
      ['A-02', 'planned', true],
    ]);
    expect(s.timeline.filter((e) => e.type === 'audit-escalated')).toEqual([]);
    expect(stack.smtp.messages.filter((m) => isNotification(m, pid, 'internal-audit.escalated', 'priya.raman@northwind.example'))).toEqual([]);
  });
});

describe('internal audit programme: the year end', () => {
  it('writes an interim report while an audit is under way, and the final report with its findings and NCs once it has finished', async () => {
    const programme = await runningProgramme([audit({ auditId: 'A-01', window: windowIn(2, 60) }), audit({ auditId: 'A-02', title: 'AI policy', scope: { clauses: ['5.2'] }, auditee: 'priya.raman', window: windowIn(300, 360) })]);
    const pid = programme.workflowId;
    const a01 = pid.replace('internal-audit-programme/', 'internal-audit/') + '/A-01';
    await complete(a01, 'audit-plan', 'aisha.khan', { text: 'Interviews with the data team; sample of 10 data sets.' });
    await complete(a01, 'acknowledge', 'sofia.lind', { choice: 'Acknowledged' });
    await eventually(() => status(programme), (s) => s.audits.find((a) => a.auditId === 'A-01')?.state === 'in-progress');

    // The year ends with A-01 in its fieldwork: A-02 is cancelled, an interim report is written, and the programme waits.
    await programme.executeUpdate(closeYearUpdate, { args: [{ by: 'priya.raman', reason: 'Report before the surveillance audit' }] });
    const [interim] = await eventually(() => stack.records.list({ kind: INTERNAL_AUDIT_PROGRAMME_INTERIM_REPORT, subject: pid }), (r) => r.length === 1);
    const interimContent = interim!.content as ProgrammeReportContent;
    expect(interimContent.status).toBe('interim');
    expect(interimContent.underWay).toEqual(['A-01']);
    expect(interimContent.audits.map((a) => [a.auditId, a.state])).toEqual([
      ['A-01', 'in-progress'],
      ['A-02', 'cancelled'],
    ]);
    const finishing = await eventually(() => status(programme), (s) => s.state === 'finishing');
    expect(finishing.interimReportedAt).toBe(interimContent.reportedAt);
    expect(finishing.reportedAt).toBeUndefined();
    expect(await stack.records.list({ kind: INTERNAL_AUDIT_PROGRAMME_REPORT, subject: pid })).toEqual([]);
    // Changes to the year are over.
    expect(await updateRejection(programme.executeUpdate(cancelAuditUpdate, { args: [{ by: 'system', auditId: 'A-01', reason: 'Too late' }] }))).toContain(
      'the programme is interim report written, audits under way finishing',
    );

    // A-01 finishes: its findings and its NC are in the final report, which supersedes the interim one.
    await complete(a01, 'fieldwork', 'aisha.khan', { summary: 'Sampled 10 data sets.', links: ['https://wiki.northwind.example/audit/A-01'] });
    await complete(a01, 'findings-1', 'aisha.khan', {
      findings: [
        { type: 'minor-nc', refs: ['A.7.4'], statement: 'Data quality checks are not recorded for two data sets.', evidence: '2 of 10 sampled data sets.' },
        { type: 'observation', refs: ['8.2'], statement: 'Risk owners are named in two places.', evidence: 'Risk register and wiki.' },
      ],
    });
    await decide(a01, 'report-approval-1', 'priya.raman', 'approve');
    const result = await programme.result();
    expect(result.status).toBe('closed');
    await recordHistory('internal-audit-programme-interim', pid);
    expect(result.audits).toEqual([
      { auditId: 'A-01', state: 'reported' },
      { auditId: 'A-02', state: 'cancelled' },
    ]);
    const [final] = await stack.records.list({ kind: INTERNAL_AUDIT_PROGRAMME_REPORT, subject: pid });
    const content = final!.content as ProgrammeReportContent;
    expect(content.status).toBe('final');
    expect(content.supersedes).toBe(interim!.id);
    expect(result.reportedAt).toBe(content.reportedAt);
    expect(content.counts).toEqual({ planned: 2, reported: 1, cancelled: 1, notReported: 0, unplanned: 0 });
    expect(content.findingsByType).toEqual({ majorNc: 0, minorNc: 1, observation: 1, opportunity: 0 });
    expect(content.ncs).toHaveLength(1);
    expect(content.ncs[0]!.auditId).toBe('A-01');
    terminateLater.push(`corrective-action/${content.ncs[0]!.ncId}`);
    expect(content.coverage.covered).toEqual(expect.arrayContaining(['8.2', 'A.7.4']));
    const closed = await status(programme);
    expect(closed.timeline.map((e) => e.type)).toEqual(expect.arrayContaining(['interim-reported', 'reported']));
  });
});

describe('internal audit programme: schedule', () => {
  it('is started by a Temporal Schedule with the minimal input and waits in planning for the AIMS manager', async () => {
    const scheduleId = `test-internal-audit-${randomUUID()}`;
    const workflowId = `internal-audit-programme/${year}-s${randomUUID().slice(0, 8)}`;
    const schedule = await stack.client.schedule.create({
      scheduleId,
      spec: { calendars: [{ month: 'JANUARY', dayOfMonth: 5, hour: 8 }] },
      action: {
        type: 'startWorkflow',
        workflowType: INTERNAL_AUDIT_PROGRAMME_WORKFLOW,
        workflowId,
        taskQueue: stack.taskQueue,
        args: [{ year, requestedBy: 'system', trigger: 'schedule' }],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
    try {
      await schedule.trigger();
      const described = await eventually(() => schedule.describe(), (d) => d.info.recentActions.length > 0);
      const startedId = described.info.recentActions[0]!.action.workflow.workflowId;
      expect(startedId.startsWith(workflowId)).toBe(true);
      terminateLater.push(startedId);
      const programme = stack.client.workflow.getHandle(startedId);
      const s = await eventually(() => programme.query(programmeStatusQuery).catch(() => undefined), (st) => st?.state === 'planning' && st.planTask !== undefined);
      expect(s!.trigger).toBe('schedule');
      expect(s!.year).toBe(year);
      const task = await eventually(
        () => stack.client.workflow.getHandle(s!.planTask!.workflowId).query(taskStatusQuery).catch(() => undefined),
        (t) => t?.state === 'open' && t.assignee.id !== '',
      );
      expect(task!.assignee.id).toBe('priya.raman');
      await stack.smtp.waitFor((m) => isNotification(m, s!.planTask!.workflowId, 'task.assigned', 'priya.raman@northwind.example'));
    } finally {
      await schedule.delete();
    }
  });
});

/** People change and audits fail while the programme runs (issue #21). */
describe('internal audit programme when people change or audits fail', () => {
  const auditIdOf = (pid: string, auditId: string) => `${pid.replace('internal-audit-programme/', 'internal-audit/')}/${auditId}`;
  const handover = (handle: { executeUpdate: ProgrammeHandle['executeUpdate'] }, from: string, to: string) =>
    handle.executeUpdate(handoverUpdate, { args: [{ by: 'system', from, to, reason: `${from} left the company`, ref: 'org-change-11' }] });
  const auditStatus = (id: string) => stack.client.workflow.getHandle(id).query(auditStatusQuery);

  it('hands over the lead auditor through the impartiality check, and the auditee; twice moves nothing; the audit points at its programme', async () => {
    const programme = await runningProgramme([audit({ auditId: 'A-01', window: windowIn(300, 360) })]);
    const pid = programme.workflowId;
    const a01 = auditIdOf(pid, 'A-01');
    await eventually(() => auditStatus(a01).catch(() => undefined), (s) => s?.state === 'planning');
    // The audit itself leaves its people to the programme.
    const direct = await stack.client.workflow.getHandle(a01).executeUpdate(handoverUpdate, { args: [{ by: 'system', from: 'aisha.khan', to: 'liam.walsh', reason: 'left' }] });
    expect(direct).toMatchObject({ moved: false, message: `aisha.khan's part in audit A-01 is handed over by its programme ${pid}.` });

    expect(await handover(programme, 'aisha.khan', 'liam.walsh')).toMatchObject({ moved: true, parts: [{ part: 'lead-auditor', to: 'liam.walsh' }] });
    expect(await handover(programme, 'aisha.khan', 'liam.walsh')).toMatchObject({ moved: false });
    await stack.smtp.waitFor((m) => isNotification(m, a01, 'internal-audit.invitation', 'liam.walsh@northwind.example'), 20_000);
    await eventually(() => auditStatus(a01), (s) => s.leadAuditor === 'liam.walsh');
    // The running plan task moves to the new auditor.
    await complete(a01, 'audit-plan-2', 'liam.walsh', { text: 'Plan: interviews and record sampling.' });

    expect(await handover(programme, 'sofia.lind', 'marco.rossi')).toMatchObject({ moved: true, parts: [{ part: 'auditee', to: 'marco.rossi' }] });
    await eventually(() => auditStatus(a01), (s) => s.auditee === 'marco.rossi');
    await stack.smtp.waitFor((m) => isNotification(m, a01, 'internal-audit.invitation', 'marco.rossi@northwind.example'), 20_000);
    const s = await status(programme);
    expect(s.audits[0]).toMatchObject({ leadAuditor: 'liam.walsh', auditee: 'marco.rossi' });
    const records = await stack.records.list({ subject: pid, kind: 'handover' });
    expect(records.map((r) => r.content)).toMatchObject([
      { from: 'aisha.khan', to: 'liam.walsh', part: 'lead-auditor', reason: 'aisha.khan left the company', ref: 'org-change-11' },
      { from: 'sofia.lind', to: 'marco.rossi', part: 'auditee' },
    ]);
    await recordHistory('internal-audit-programme-handover', pid);
  });

  it('a lead auditor handed to someone who would audit their own work: top management names another, the AIMS manager is told', async () => {
    const programme = await runningProgramme([audit({ auditId: 'A-01', window: windowIn(300, 360) })]);
    const pid = programme.workflowId;
    const a01 = auditIdOf(pid, 'A-01');
    // sofia.lind is the auditee and owns the data-management process in scope.
    const ack = await handover(programme, 'aisha.khan', 'sofia.lind');
    expect(ack.parts.map((x) => [x.part, x.to])).toEqual([['lead-auditor', 'hannah.okafor']]);
    expect(ack.parts[0]?.note).toContain('Sofia Lind may not lead it (');
    expect(ack.parts[0]?.note).toContain('[impartiality: auditor is the auditee]');
    expect(ack.parts[0]?.note).toContain('top management names another lead auditor');
    expect(await handover(programme, 'aisha.khan', 'sofia.lind')).toMatchObject({ moved: false });
    await stack.smtp.waitFor((m) => isNotification(m, pid, 'work.handed-over', 'priya.raman@northwind.example'), 20_000);
    const conflict = (await status(programme)).timeline.find((e) => e.type === 'auditor-conflict');
    expect(conflict?.detail).toContain('A-01: Sofia Lind may not lead it');
    // Top management names someone who conflicts too, then an impartial auditor.
    await complete(pid, 'name-auditor-1', 'hannah.okafor', { text: 'sofia.lind' });
    const again = stack.client.workflow.getHandle(`${pid}/name-auditor-1-2`);
    const asked = await eventually(() => again.query(taskStatusQuery).catch(() => undefined), (t) => t?.state === 'open');
    expect(asked!.instructions).toContain('sofia.lind could not be taken: ');
    await complete(pid, 'name-auditor-1-2', 'hannah.okafor', { text: 'liam.walsh' });
    await eventually(() => status(programme), (s) => s.audits[0]?.leadAuditor === 'liam.walsh');
    await eventually(() => auditStatus(a01), (s) => s.leadAuditor === 'liam.walsh');
    const changed = await stack.records.list({ subject: pid, kind: 'internal-audit-programme.auditor-changed' });
    expect(changed.map((r) => [r.actor, (r.content as { to: string }).to])).toEqual([['hannah.okafor', 'liam.walsh']]);
  });

  it('a lead auditor who left is not reminded: the AIMS manager is, and the timeline says why', async () => {
    const programme = await startProgramme({
      audits: [audit({ auditId: 'A-01', leadAuditor: 'liam.walsh', window: windowIn(3, 60) })],
      // The reminder is due about a minute before the window: it goes out right after approval.
      policy: { reminderBefore: '179s', stepDue: '1h', approvalDue: '1h', tasks: quiet },
    });
    // The plan was checked while liam.walsh was still there; he leaves before the reminder.
    await eventually(() => status(programme), (s) => s.state === 'approval');
    const saved = stack.organization.people;
    try {
      stack.organization.people = saved.filter((p) => p.id !== 'liam.walsh');
      await decide(programme.workflowId, 'plan-approval-1', 'david.chen', 'approve');
      await stack.smtp.waitFor((m) => isNotification(m, programme.workflowId, 'internal-audit.reminder', 'priya.raman@northwind.example'), 20_000);
      const s = await status(programme);
      expect(s.timeline.find((e) => e.type === 'auditor-reminded')?.detail).toContain('liam.walsh is not in the organization; the AIMS manager is reminded');
      expect(stack.smtp.messages.filter((m) => isNotification(m, programme.workflowId, 'internal-audit.reminder', 'liam.walsh@northwind.example'))).toEqual([]);
    } finally {
      stack.organization.people = saved;
    }
  });

  it('a standalone audit hands over its own lead auditor (impartiality checked, a conflict refused) and auditee', async () => {
    const id = `internal-audit/${year}-t${randomUUID().slice(0, 8)}/A-09`;
    terminateLater.push(id);
    const handle = await stack.start<[InternalAuditInput], InternalAuditResult>(
      'internalAudit',
      [{ year, audit: audit({ auditId: 'A-09', window: windowIn(300, 360) }), programmeWorkflowId: 'none', policy: { stepDue: '1h', approvalDue: '1h', tasks: quiet } }],
      { workflowId: id },
    );
    await eventually(() => auditStatus(id).catch(() => undefined), (st) => st?.state === 'planning');
    expect(await updateRejection(handover(handle, 'aisha.khan', 'sofia.lind'))).toContain('Sofia Lind may not lead audit A-09: ');
    expect(await handover(handle, 'aisha.khan', 'liam.walsh')).toMatchObject({ moved: true, parts: [{ part: 'lead-auditor', to: 'liam.walsh' }] });
    expect(await handover(handle, 'sofia.lind', 'marco.rossi')).toMatchObject({ moved: true, parts: [{ part: 'auditee', to: 'marco.rossi' }] });
    const s = await eventually(() => auditStatus(id), (st) => st.leadAuditor === 'liam.walsh' && st.auditee === 'marco.rossi');
    expect(s.timeline.map((e) => e.type)).toEqual(expect.arrayContaining(['handover', 'auditor-changed', 'auditee-changed']));
    expect(await handover(handle, 'aisha.khan', 'liam.walsh')).toMatchObject({ moved: false });
    await handle.terminate('test done');
  });

  it('an audit workflow that fails is started again as a fresh child, on the timeline and in the ledger', async () => {
    const programme = await runningProgramme([audit({ auditId: 'A-01', window: windowIn(300, 360) })]);
    const pid = programme.workflowId;
    const a01 = auditIdOf(pid, 'A-01');
    // A step's task that fails is asked again within the audit.
    const planTask = stack.client.workflow.getHandle(`${a01}/audit-plan`);
    await eventually(() => planTask.describe().catch(() => undefined), (d) => d?.status.name === 'RUNNING');
    await planTask.terminate('the worker lost it');
    const reasked = await eventually(() => auditStatus(a01), (st) => st.currentStep?.key === 'audit-plan-r2');
    expect(reasked.timeline.find((e) => e.type === 'step-failed')?.detail).toBe('Prepare the audit plan: it was terminated; asked again');
    const [stepFailed] = await eventually(() => stack.records.list({ subject: a01, kind: 'internal-audit.step-failed' }), (r) => r.length === 1);
    expect(stepFailed?.content).toMatchObject({ step: 'audit-plan', reason: 'it was terminated', failures: 1, askedAgain: true });
    await recordHistory('internal-audit-step-failed', a01);
    // The audit's own workflow failing: the programme starts it again.
    await stack.client.workflow.getHandle(a01).terminate('the worker lost it');
    const s = await eventually(() => status(programme), (st) => st.audits[0]?.workflowId === `${a01}-r2`);
    expect(s.audits[0]?.state).toBe('planned');
    expect(s.timeline.find((e) => e.type === 'audit-failed')?.detail).toBe(`audit A-01 (${a01}): it was terminated; asked again`);
    await eventually(() => auditStatus(`${a01}-r2`).catch(() => undefined), (st) => st?.state === 'planning');
    const [failed] = await stack.records.list({ subject: pid, kind: 'internal-audit-programme.audit-failed' });
    expect(failed?.content).toMatchObject({ step: 'A-01', workflowId: a01, reason: 'it was terminated', failures: 1, askedAgain: true });
    await programme.executeUpdate(cancelAuditUpdate, { args: [{ by: 'system', auditId: 'A-01', reason: 'test done' }] });
    await eventually(() => stack.client.workflow.getHandle(`${a01}-r2`).describe(), (d) => d.status.name !== 'RUNNING');
    await recordHistory('internal-audit-programme-audit-failed', pid);
  });
});
