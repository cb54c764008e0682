/**
 * Issue #21 from the workflows' side: sofia.lind holds a task, a decision in an approval, a
 * nonconformity with its running step, and leads a running internal audit. She leaves the
 * organization (the file is changed in place, as a reload would) and each piece of work gets the
 * handover the organization-change orchestration sends. Everything moves to her manager, is
 * recorded, nothing fails, and the nonconformity still closes.
 */
import { createHash, randomInt, randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalStatusQuery, decideUpdate } from '../src/approval/contract.js';
import type { ApprovalInput, ApprovalResult } from '../src/approval/schema.js';
import { handoverUpdate, type HandoverAck } from '../src/common/messages.js';
import { ncStatusQuery } from '../src/corrective-action/contract.js';
import type { CorrectiveActionInput, CorrectiveActionResult } from '../src/corrective-action/schema.js';
import { auditStatusQuery, INTERNAL_AUDIT_PROGRAMME_WORKFLOW, programmeStatusQuery } from '../src/internal-audit/contract.js';
import type { InternalAuditProgrammeInput, ProgrammeResult } from '../src/internal-audit/schema.js';
import type { Organization } from '../src/organization/schema.js';
import { completeTaskUpdate, taskStatusQuery } from '../src/task/contract.js';
import type { HumanTaskInput, HumanTaskResult } from '../src/task/schema.js';
import { eventually, exampleOrganization, startTestStack, type TestStack } from './helpers/temporal.js';

let stack: TestStack;
let org: Organization;
const cleanup: string[] = [];
beforeAll(async () => {
  org = structuredClone(await exampleOrganization());
  stack = await startTestStack({ organization: org, randomNcNumbers: true });
});
afterAll(async () => {
  for (const id of cleanup) await stack.client.workflow.getHandle(id).terminate('test finished').catch(() => undefined);
  await stack?.stop();
});

const quiet = { reminderOffsets: [], escalation: [] };
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
const year = new Date().getUTCFullYear();
const hash = createHash('sha256').update('plan v1').digest('hex');

/** Waits for a task to be open for `by`, then completes it. */
async function complete(id: string, by: string, data: Record<string, unknown>) {
  const task = stack.client.workflow.getHandle(id);
  await eventually(() => task.query(taskStatusQuery).catch(() => undefined), (s) => s?.state === 'open' && s.assignee.id === by);
  return task.executeUpdate(completeTaskUpdate, { args: [{ by, data }] });
}

async function approve(id: string, by: string) {
  const approval = stack.client.workflow.getHandle(id);
  const s = await eventually(() => approval.query(approvalStatusQuery).catch(() => undefined), (st) => st?.state === 'pending' && st.approvers.some((a) => a.id === by));
  return approval.executeUpdate(decideUpdate, { args: [{ by, decision: 'approve', contentHash: s!.contentHash }] });
}

/** The handover the orchestration sends for sofia.lind's work. */
const handover = (handle: WorkflowHandle, to = 'marco.rossi'): Promise<HandoverAck> =>
  handle.executeUpdate(handoverUpdate, { args: [{ by: 'system', from: 'sofia.lind', to, reason: 'sofia.lind left the organization', ref: 'org-reload-1' }] });

const evidence = (summary: string) => ({ summary, links: ['https://wiki.northwind.example/evidence'] });

describe('a person leaves while their work runs', () => {
  it('hands every piece of her work over, records it, fails nothing, and the nonconformity still closes', async () => {
    // Her work: a task due in 20 minutes (reminder 5 minutes before, escalation 1 minute after), a decision, an NC with its running step, an audit she leads.
    const task = await stack.start<[HumanTaskInput], HumanTaskResult>('humanTask', [
      {
        title: 'Document the fraud-detection data lineage',
        instructions: 'Attach the lineage diagram.',
        process: 'data-management',
        assignee: { person: 'sofia.lind' },
        dueAt: inMs(20 * 60_000),
        form: 'evidence',
        policy: { reminderOffsets: ['5m'], escalation: [{ after: '1m', to: 'manager' }] },
      },
    ]);
    const approval = await stack.start<[ApprovalInput], ApprovalResult>('approval', [
      { kind: 'corrective-action-plan', title: 'Data retention plan', summary: 'Keep training data 3 years.', contentHash: hash, approvers: [{ person: 'sofia.lind' }, { person: 'tom.baker' }], rule: { type: 'all' }, preparer: 'priya.raman', dueAt: inMs(3_600_000), policy: quiet },
    ]);
    const ncId = `NC-${year}-${randomInt(100_000, 999_999)}`;
    const nc = await stack.start<[CorrectiveActionInput], CorrectiveActionResult>(
      'correctiveAction',
      [{ ncId, title: 'Training data kept past its retention', description: 'Found in the data inventory review.', severity: 'minor', source: 'incident', owner: 'sofia.lind', raisedBy: 'priya.raman', policy: { stepDue: '1h', effectivenessWait: '1s', overallTarget: '1h', tasks: quiet } }],
      { workflowId: `corrective-action/${ncId}` },
    );
    const pid = `internal-audit-programme/${year}-t${randomUUID().slice(0, 8)}`;
    cleanup.push(pid);
    const programme = await stack.start<[InternalAuditProgrammeInput], ProgrammeResult>(
      INTERNAL_AUDIT_PROGRAMME_WORKFLOW,
      [
        {
          year,
          requestedBy: 'system',
          trigger: 'admin',
          audits: [
            {
              auditId: 'A-01',
              title: 'Customer operations',
              window: { start: inMs(3 * 3_600_000), end: inMs(4 * 3_600_000) },
              leadAuditor: 'sofia.lind',
              auditee: 'tom.baker',
              scope: { clauses: ['8.1'], controls: [], processes: ['customer-operations'], aiSystems: [] },
            },
          ],
          policy: { stepDue: '1h', approvalDue: '1h', tasks: quiet },
        },
      ],
      { workflowId: pid },
    );
    await approve(`${pid}/plan-approval-1`, 'david.chen');
    const a01 = `${pid.replace('internal-audit-programme/', 'internal-audit/')}/A-01`;
    const containment = `${nc.workflowId}/containment`;
    await eventually(() => stack.client.workflow.getHandle(`${a01}/audit-plan`).query(taskStatusQuery).catch(() => undefined), (t) => t?.assignee.id === 'sofia.lind' && t.state === 'open');
    await eventually(() => stack.client.workflow.getHandle(containment).query(taskStatusQuery).catch(() => undefined), (t) => t?.history.some((e) => e.type === 'assigned') === true);

    // She leaves; the file names marco.rossi for her process.
    org.people = org.people.filter((p) => p.id !== 'sofia.lind');
    org.roles.processOwners['data-management'] = 'marco.rossi';
    for (const s of org.aiSystems) if (s.owner === 'sofia.lind') s.owner = 'marco.rossi';

    // The handovers, as the orchestration sends them: her own work to her manager as recorded at assignment.
    expect((await handover(task)).parts).toEqual([{ part: 'assignee', to: 'marco.rossi' }]);
    expect((await handover(approval)).parts).toEqual([{ part: 'approver', to: 'marco.rossi' }]);
    expect((await handover(nc)).parts).toEqual([{ part: 'owner', to: 'marco.rossi' }]);
    expect((await handover(stack.client.workflow.getHandle(containment))).parts).toEqual([{ part: 'assignee', to: 'marco.rossi' }]);
    expect((await handover(programme)).parts).toEqual([{ part: 'lead-auditor', to: 'marco.rossi' }]);
    // Sent again (a retried orchestration): nothing moves twice.
    for (const h of [task, approval, nc, programme]) expect((await handover(h)).moved).toBe(false);

    // Every piece is recorded.
    for (const subject of [task.workflowId, approval.workflowId, nc.workflowId, containment, pid]) {
      const [record] = await stack.records.list({ subject, kind: 'handover' });
      expect(record?.content, subject).toMatchObject({ from: 'sofia.lind', to: 'marco.rossi', reason: 'sofia.lind left the organization', ref: 'org-reload-1' });
    }

    // The work goes on with marco.rossi.
    await complete(task.workflowId, 'marco.rossi', evidence('Lineage diagram attached.'));
    expect(await task.result()).toMatchObject({ status: 'completed', completedBy: 'marco.rossi' });
    await approve(approval.workflowId, 'marco.rossi');
    await approve(approval.workflowId, 'tom.baker');
    expect((await approval.result()).status).toBe('approved');
    await eventually(() => stack.client.workflow.getHandle(a01).query(auditStatusQuery), (s) => s.leadAuditor === 'marco.rossi');
    await eventually(() => programme.query(programmeStatusQuery), (s) => s.audits[0]?.leadAuditor === 'marco.rossi');
    await complete(`${a01}/audit-plan-2`, 'marco.rossi', { text: 'Interviews with the support team.' });

    await complete(containment, 'marco.rossi', evidence('Old training data deleted.'));
    await complete(`${nc.workflowId}/root-cause-1`, 'marco.rossi', { method: '5-whys', analysis: 'No retention job.', rootCause: 'Retention never automated', similarElsewhere: 'no', similarDetail: 'Checked the other datasets: each has a retention job.' });
    await complete(`${nc.workflowId}/action-plan-1-1`, 'marco.rossi', { actions: [{ owner: 'tom.baker', dueDate: '2030-01-31', description: 'Automate the retention job' }] });
    await approve(`${nc.workflowId}/plan-approval-1-1`, 'priya.raman');
    await complete(`${nc.workflowId}/action-1-1`, 'tom.baker', evidence('Job live.'));
    await complete(`${nc.workflowId}/effectiveness-1`, 'marco.rossi', { answer: 'yes', justification: 'No data past retention since.' });
    await complete(`${nc.workflowId}/system-change-1`, 'marco.rossi', { answer: 'no', justification: 'The procedure was right; the job was missing.' });
    expect(await nc.result()).toMatchObject({ status: 'closed' });
    expect((await nc.query(ncStatusQuery)).owner).toBe('marco.rossi');

    // Nothing failed.
    for (const id of [task.workflowId, approval.workflowId, nc.workflowId, containment, pid, a01]) {
      expect((await stack.client.workflow.getHandle(id).describe()).status.name, id).not.toBe('FAILED');
    }
  }, 180_000);
});
