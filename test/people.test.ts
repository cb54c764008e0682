/**
 * People change, end to end through the admin API (ISO/IEC 42001 5.3, 7.2):
 * - a person leaves: sofia.lind holds a task (due in 20 minutes, reminded and escalated), a
 *   decision in an approval, a nonconformity with its running step, and leads a running internal
 *   audit. The organization file without her is reloaded; every piece of her work is handed over
 *   by rule, recorded and mailed, the AIMS manager gets the summary, nothing fails, and the
 *   nonconformity still closes with the people who took over;
 * - a file that leaves a role vacant while running work needs it is refused, naming both, and
 *   the version in force stays;
 * - a handover on purpose moves a person's work to whom the admin names;
 * - a workflow that fails is listed as failed and reported to ALERT_EMAIL.
 * The worker and the API read the organization in force from the records store, as deployed.
 */
import { createHash, randomInt, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiInstance } from '../src/api/app.js';
import { approvalStatusQuery, decideUpdate } from '../src/approval/contract.js';
import type { ApprovalInput, ApprovalResult } from '../src/approval/schema.js';
import { ncStatusQuery } from '../src/corrective-action/contract.js';
import type { CorrectiveActionInput, CorrectiveActionResult } from '../src/corrective-action/schema.js';
import { auditStatusQuery, INTERNAL_AUDIT_PROGRAMME_WORKFLOW } from '../src/internal-audit/contract.js';
import type { InternalAuditProgrammeInput, ProgrammeResult } from '../src/internal-audit/schema.js';
import { OrganizationHolder } from '../src/organization/holder.js';
import type { Organization } from '../src/organization/schema.js';
import type { OrganizationChangeWorkflow } from '../src/people/contract.js';
import { completeTaskUpdate, taskStatusQuery } from '../src/task/contract.js';
import type { HumanTaskInput, HumanTaskResult } from '../src/task/schema.js';
import { buildStackApp, TEST_ADMIN_HEADERS } from './helpers/browser.js';
import { isNotification } from './helpers/smtp.js';
import { eventually, exampleOrganization, exampleOrgFile, startTestStack, type TestStack } from './helpers/temporal.js';

const ALERT_EMAIL = 'operations@northwind.example';
const quiet = { reminderOffsets: [], escalation: [] };
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
const year = new Date().getUTCFullYear();
const planHash = createHash('sha256').update('retention plan v1').digest('hex');
const evidence = (summary: string) => ({ summary, links: ['https://wiki.northwind.example/evidence'] });

let stack: TestStack;
let app: ApiInstance;
let holder: OrganizationHolder;
let dir: string;
let orgFile: string;
let exampleText: string;
const cleanup: string[] = [];

beforeAll(async () => {
  const initial: Organization = structuredClone(await exampleOrganization());
  // The worker reads the organization in force through the holder, made once the records store is there.
  const inForce: { holder?: OrganizationHolder } = {};
  stack = await startTestStack({ organization: initial, randomNcNumbers: true, organizationSource: () => inForce.holder?.current() ?? initial, alertEmail: ALERT_EMAIL });
  holder = new OrganizationHolder(initial, stack.records);
  inForce.holder = holder;
  holder.watch();
  dir = await mkdtemp(path.join(os.tmpdir(), 'aimsflow-people-'));
  orgFile = path.join(dir, 'organization.yaml');
  exampleText = await readFile(exampleOrgFile, 'utf8');
  await writeFile(orgFile, exampleText);
  app = await buildStackApp(stack, { config: { ORG_FILE: orgFile }, organization: holder.get });
  // The first version in force.
  const first = await reload('first version');
  expect(first.statusCode, first.body).toBe(200);
  await holder.refresh();
});

afterAll(async () => {
  holder?.stop();
  for (const id of cleanup) await stack.client.workflow.getHandle(id).terminate('test finished').catch(() => undefined);
  await app?.close();
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function reload(reason: string) {
  return app.inject({ method: 'POST', url: '/admin/organization/reload', headers: TEST_ADMIN_HEADERS, payload: { reason } });
}

/** The example file with `edit` applied to its text (each replacement must match). */
async function writeOrganization(...edits: Array<[string | RegExp, string]>): Promise<void> {
  let text = exampleText;
  for (const [from, to] of edits) {
    const next = text.replace(from, to);
    expect(next, `edit ${String(from)}`).not.toBe(text);
    text = next;
  }
  await writeFile(orgFile, text);
}

async function complete(id: string, by: string, data: Record<string, unknown>) {
  const task = stack.client.workflow.getHandle(id);
  await eventually(() => task.query(taskStatusQuery).catch(() => undefined), (s) => s?.state === 'open' && s.assignee.id === by, { timeoutMs: 60_000 });
  return task.executeUpdate(completeTaskUpdate, { args: [{ by, data }] });
}

async function approve(id: string, by: string) {
  const approval = stack.client.workflow.getHandle(id);
  const s = await eventually(() => approval.query(approvalStatusQuery).catch(() => undefined), (st) => st?.state === 'pending' && st.approvers.some((a) => a.id === by));
  return approval.executeUpdate(decideUpdate, { args: [{ by, decision: 'approve', contentHash: s!.contentHash }] });
}

const assigneeOf = async (id: string) => (await stack.client.workflow.getHandle(id).query(taskStatusQuery)).assignee.id;

describe('people change through the admin API', () => {
  it('hands over the work of a person who left when the file is reloaded; nothing fails and the NC still closes', async () => {
    // Her work.
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
      {
        kind: 'corrective-action-plan',
        title: 'Data retention plan',
        summary: 'Keep training data 3 years.',
        contentHash: planHash,
        approvers: [{ person: 'sofia.lind' }, { person: 'tom.baker' }],
        rule: { type: 'all' },
        preparer: 'priya.raman',
        dueAt: inMs(3_600_000),
        policy: quiet,
      },
    ]);
    const ncId = `NC-${year}-${randomInt(100_000, 999_999)}`;
    const nc = await stack.start<[CorrectiveActionInput], CorrectiveActionResult>(
      'correctiveAction',
      [
        {
          ncId,
          title: 'Training data kept past its retention',
          description: 'Found in the data inventory review.',
          severity: 'minor',
          source: 'incident',
          owner: 'sofia.lind',
          raisedBy: 'priya.raman',
          policy: { stepDue: '1h', effectivenessWait: '1s', overallTarget: '1h', tasks: quiet },
        },
      ],
      { workflowId: `corrective-action/${ncId}` },
    );
    const pid = `internal-audit-programme/${year}-p${randomUUID().slice(0, 8)}`;
    cleanup.push(pid);
    await stack.start<[InternalAuditProgrammeInput], ProgrammeResult>(
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
    const audit = `${pid.replace('internal-audit-programme/', 'internal-audit/')}/A-01`;
    const containment = `${nc.workflowId}/containment`;
    await eventually(() => stack.client.workflow.getHandle(`${audit}/audit-plan`).query(taskStatusQuery).catch(() => undefined), (t) => t?.assignee.id === 'sofia.lind' && t.state === 'open');
    await eventually(() => stack.client.workflow.getHandle(containment).query(taskStatusQuery).catch(() => undefined), (t) => t?.assignee.id === 'sofia.lind');
    // Visibility shows her work before anything is handed over.
    const work = await eventually(
      async () => JSON.parse((await app.inject({ method: 'GET', url: '/admin/people/sofia.lind/work', headers: TEST_ADMIN_HEADERS })).body) as { items: Array<{ workflowId: string }> },
      (w) => [task.workflowId, approval.workflowId, nc.workflowId, containment, pid].every((id) => w.items.some((i) => i.workflowId === id)),
    );
    expect(work.items.length).toBeGreaterThanOrEqual(5);

    // A file with no internal auditors while an audit programme runs: refused, naming the role and the work.
    const versionBefore = (await stack.records.organizations.latest())!.seq;
    await writeOrganization(['internalAuditors: [aisha.khan, liam.walsh]', 'internalAuditors: []']);
    const refused = await reload('auditors moved to the group');
    expect(refused.statusCode).toBe(409);
    expect(refused.json<{ message: string }>().message).toContain('roles.internalAuditors: nobody holds this role any more, but running work needs it');
    expect(refused.json<{ message: string }>().message).toContain(pid);
    expect((await stack.records.organizations.latest())!.seq).toBe(versionBefore);

    // She leaves; her process, her AI system and the objective she measures go to marco.rossi.
    await writeOrganization(
      [/^ {2}- \{ id: sofia\.lind.*\n/m, ''],
      ['data-management: sofia.lind', 'data-management: marco.rossi'],
      ['owner: sofia.lind', 'owner: marco.rossi'],
      ['by: sofia.lind', 'by: marco.rossi'],
    );
    const accepted = await reload('Sofia Lind left Northwind');
    expect(accepted.statusCode, accepted.body).toBe(200);
    const body = accepted.json<{ status: string; leavers: string[]; changeWorkflowId: string }>();
    expect(body).toMatchObject({ status: 'accepted', leavers: ['sofia.lind'] });
    const change = await stack.client.workflow.getHandle<OrganizationChangeWorkflow>(body.changeWorkflowId).result();

    // Every piece handed over by rule: her own work to her manager, ownership to the AIMS manager,
    // the audit's lead to another internal auditor (through the programme).
    const outcome = (id: string) => change.outcomes.find((o) => o.workflowId === id);
    expect(outcome(task.workflowId)).toMatchObject({ moved: true, parts: [{ part: 'assignee', to: 'marco.rossi' }] });
    expect(outcome(approval.workflowId)).toMatchObject({ moved: true, parts: [{ part: 'approver', to: 'marco.rossi' }] });
    expect(outcome(nc.workflowId)).toMatchObject({ moved: true, parts: [{ part: 'owner', to: 'priya.raman' }] });
    expect(outcome(containment)).toMatchObject({ moved: true, parts: [{ part: 'assignee', to: 'marco.rossi' }] });
    expect(outcome(pid)).toMatchObject({ moved: true, parts: [{ part: 'lead-auditor', to: 'aisha.khan' }] });
    expect(await assigneeOf(task.workflowId)).toBe('marco.rossi');
    expect(await assigneeOf(containment)).toBe('marco.rossi');
    await eventually(() => stack.client.workflow.getHandle(audit).query(auditStatusQuery), (s) => s.leadAuditor === 'aisha.khan');

    // Recorded and mailed: a handover record per piece, the summary, the new assignees told.
    for (const subject of [task.workflowId, approval.workflowId, nc.workflowId, containment, pid]) {
      const [record] = await stack.records.list({ subject, kind: 'handover' });
      expect(record?.content, subject).toMatchObject({ from: 'sofia.lind', reason: 'Sofia Lind is no longer in the organization' });
    }
    const [summary] = await stack.records.list({ subject: body.changeWorkflowId, kind: 'organization.handed-over' });
    expect(summary?.content).toMatchObject({ moves: [{ from: 'sofia.lind' }] });
    await stack.smtp.waitFor((m) => isNotification(m, body.changeWorkflowId, 'organization.handover-summary', 'priya.raman@northwind.example'), 20_000);
    await stack.smtp.waitFor((m) => isNotification(m, task.workflowId, 'task.assigned', 'marco.rossi@northwind.example'), 20_000);
    // Visibility no longer names her.
    await eventually(
      async () => JSON.parse((await app.inject({ method: 'GET', url: '/admin/people/sofia.lind/work', headers: TEST_ADMIN_HEADERS })).body) as { items: unknown[] },
      (w) => w.items.length === 0,
      { timeoutMs: 30_000 },
    );

    // The work goes on with those who took over, and the NC closes.
    await complete(task.workflowId, 'marco.rossi', evidence('Lineage diagram attached.'));
    await approve(approval.workflowId, 'marco.rossi');
    await approve(approval.workflowId, 'tom.baker');
    expect((await approval.result()).status).toBe('approved');
    await complete(containment, 'marco.rossi', evidence('Old training data deleted.'));
    await complete(`${nc.workflowId}/root-cause-1`, 'priya.raman', {
      method: '5-whys',
      analysis: 'No retention job.',
      rootCause: 'Retention never automated',
      similarElsewhere: 'no',
      similarDetail: 'Checked the other datasets: each has a retention job.',
    });
    await complete(`${nc.workflowId}/action-plan-1-1`, 'priya.raman', { actions: [{ owner: 'tom.baker', dueDate: '2030-01-31', description: 'Automate the retention job' }] });
    // The AIMS manager owns the NC now, so top management approves its plan.
    await approve(`${nc.workflowId}/plan-approval-1-1`, 'hannah.okafor');
    await complete(`${nc.workflowId}/action-1-1`, 'tom.baker', evidence('Job live.'));
    await complete(`${nc.workflowId}/effectiveness-1`, 'priya.raman', { answer: 'yes', justification: 'No data past retention since.' });
    await complete(`${nc.workflowId}/system-change-1`, 'priya.raman', { answer: 'no', justification: 'The procedure was right; the job was missing.' });
    expect(await nc.result()).toMatchObject({ status: 'closed' });
    expect((await nc.query(ncStatusQuery)).owner).toBe('priya.raman');

    // Nothing failed.
    for (const id of [task.workflowId, approval.workflowId, nc.workflowId, containment, pid, audit, body.changeWorkflowId]) {
      expect((await stack.client.workflow.getHandle(id).describe()).status.name, id).not.toBe('FAILED');
    }
  }, 240_000);

  it('hands a person’s work over on purpose to whom the admin names', async () => {
    const task = await stack.start<[HumanTaskInput], HumanTaskResult>('humanTask', [
      {
        title: 'Review the support assistant prompts',
        instructions: 'Check the prompts against the policy.',
        process: 'customer-operations',
        assignee: { person: 'tom.baker' },
        dueAt: inMs(3_600_000),
        form: 'text',
        policy: quiet,
      },
    ]);
    cleanup.push(task.workflowId);
    await eventually(
      async () => JSON.parse((await app.inject({ method: 'GET', url: '/admin/people/tom.baker/work', headers: TEST_ADMIN_HEADERS })).body) as { items: Array<{ workflowId: string }> },
      (w) => w.items.some((i) => i.workflowId === task.workflowId),
    );
    const unknown = await app.inject({ method: 'POST', url: '/admin/people/tom.baker/handover', headers: TEST_ADMIN_HEADERS, payload: { to: 'nobody.here', reason: 'leave' } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json<{ message: string }>().message).toBe('to: unknown person "nobody.here"');

    const res = await app.inject({ method: 'POST', url: '/admin/people/tom.baker/handover', headers: TEST_ADMIN_HEADERS, payload: { to: 'liam.walsh', reason: 'Parental leave from Monday' } });
    expect(res.statusCode, res.body).toBe(202);
    const { workflowId } = res.json<{ workflowId: string }>();
    const change = await stack.client.workflow.getHandle<OrganizationChangeWorkflow>(workflowId).result();
    expect(change.outcomes.find((o) => o.workflowId === task.workflowId)).toMatchObject({ moved: true, parts: [{ part: 'assignee', to: 'liam.walsh' }] });
    expect(await assigneeOf(task.workflowId)).toBe('liam.walsh');
    const [record] = await stack.records.list({ subject: task.workflowId, kind: 'handover' });
    expect(record?.content).toMatchObject({ from: 'tom.baker', to: 'liam.walsh', reason: 'Parental leave from Monday' });
    await stack.smtp.waitFor((m) => isNotification(m, task.workflowId, 'task.assigned', 'liam.walsh@northwind.example'), 20_000);
  }, 120_000);

  it('lists a failed workflow as failed and reports it to operations', async () => {
    // A client that bypasses the API's checks sends a task without a title: the workflow refuses its input and fails.
    const bad = await stack.start('humanTask', [{ title: '', instructions: 'x', process: 'adhoc', assignee: { person: 'tom.baker' }, dueAt: inMs(3_600_000), form: 'text', policy: quiet }]);
    await expect(bad.result()).rejects.toThrow();
    const alert = await stack.smtp.waitFor((m) => isNotification(m, `operations/workflow-failed/${bad.workflowId}`, 'operations.workflow-failed', ALERT_EMAIL), 30_000);
    expect(alert.text).toContain(bad.workflowId);
    const failed = await eventually(
      async () => JSON.parse((await app.inject({ method: 'GET', url: '/admin/work?state=failed', headers: TEST_ADMIN_HEADERS })).body) as { items: Array<{ id: string; state: string }> },
      (w) => w.items.some((i) => i.id === bad.workflowId),
      { timeoutMs: 30_000 },
    );
    expect(failed.items.find((i) => i.id === bad.workflowId)?.state).toBe('failed');
  }, 90_000);
});
