/**
 * The certification cycle against the real stack (Temporal dev server, worker, ledger, SMTP):
 * a whole three-year cycle through continue-as-new with audits seconds apart, the body's
 * findings starting corrective actions, date validation at start and on moves, readiness with
 * and without an internal audit and a management review, and a missed surveillance window.
 */
import { randomBytes } from 'node:crypto';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CertificationInput, type CertificationResult, type CertificationStatus, type ReadinessReport } from '../src/certification/schema.js';
import {
  certificationStatusQuery,
  certificationWorkflowId,
  endCycleUpdate,
  moveAuditDatesUpdate,
  recordAuditOutcomeUpdate,
  recordDecisionUpdate,
} from '../src/certification/contract.js';
import { approvalStatusQuery, decideUpdate } from '../src/approval/contract.js';
import { cancelUpdate, handoverUpdate } from '../src/common/messages.js';
import { ncStatusQuery } from '../src/corrective-action/contract.js';
import { listNonconformities } from '../src/corrective-action/visibility.js';
import { MANAGEMENT_REVIEW_WORKFLOW } from '../src/management-review/contract.js';
import { StartInputError } from '../src/temporal/start.js';
import { startCorrectiveAction } from '../src/corrective-action/start.js';
import { startCertificationCycle } from '../src/certification/start.js';
import { completeTaskUpdate, taskStatusQuery } from '../src/task/contract.js';
import { recordHistory } from './helpers/histories.js';
import { isNotification, recipients } from './helpers/smtp.js';
import { eventually, startInputOf, startTestStack, updateRejection, type TestStack } from './helpers/temporal.js';

let stack: TestStack;
const openNcs: string[] = [];
const reviews: string[] = [];

beforeAll(async () => {
  stack = await startTestStack({ randomNcNumbers: true });
});
afterAll(async () => {
  for (const id of openNcs) {
    await stack.client.workflow
      .getHandle(id)
      .executeUpdate(cancelUpdate, { args: [{ by: 'system', reason: 'test finished' }] })
      .catch(() => undefined);
  }
  for (const id of reviews) await stack.client.workflow.getHandle(id).terminate('test finished').catch(() => undefined);
  await stack?.stop();
});

type CycleHandle = WorkflowHandle<(input: CertificationInput) => Promise<CertificationResult>>;

const at = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();
const certId = () => `CERT-T${randomBytes(4).toString('hex').toUpperCase()}`;
const quietNc = { stepDue: '1h', tasks: { reminderOffsets: [], escalation: [] } };
const top = ['hannah.okafor@northwind.example', 'david.chen@northwind.example'];
const manager = 'priya.raman@northwind.example';

async function start(input: CertificationInput): Promise<CycleHandle> {
  const { handle } = await startCertificationCycle(stack.client, stack.taskQueue, input, { organization: stack.organization });
  return handle;
}

const status = (cycle: CycleHandle) => cycle.query(certificationStatusQuery);
const waitFor = (cycle: CycleHandle, predicate: (s: CertificationStatus) => boolean, timeoutMs = 30_000) =>
  eventually(() => status(cycle).catch(() => undefined), (s) => s !== undefined && predicate(s), { timeoutMs }) as Promise<CertificationStatus>;

/** An existing certificate decided yesterday (the cycle starts at its first surveillance). */
function certified(overrides: Partial<CertificationInput> = {}): CertificationInput {
  const day = 86_400;
  return {
    certificateId: certId(),
    certificate: { decisionDate: at(-day), expiresOn: at(500 * day) },
    plan: { surveillance1: at(8), surveillance2: at(200 * day), recertification: at(400 * day) },
    policy: { reminderOffsets: [], readinessChecks: [], auditWindow: '1h', correctiveAction: quietNc },
    ...overrides,
  };
}

describe('certification cycle', () => {
  it('runs a whole three-year cycle, recertifies and continues as new carrying the history', async () => {
    const certificateId = certId();
    const cycle = await start({
      certificateId,
      plan: { stage1: at(12), stage2: at(30), decision: at(60), surveillance1: at(90), surveillance2: at(120), recertification: at(150) },
      policy: { reminderOffsets: ['8s'], readinessChecks: [], auditWindow: '1h', correctiveAction: quietNc },
    });
    expect(cycle.workflowId).toBe(certificationWorkflowId(certificateId));

    // A reminder with a calendar invitation reaches the AIMS manager before Stage 1.
    const reminder = await stack.smtp.waitFor((m) => isNotification(m, cycle.workflowId, 'certification.reminder', manager), 20_000);
    expect(reminder.subject).toContain('Stage 1 audit');
    expect(reminder.attachments.some((a) => a.filename === 'invite.ics')).toBe(true);
    const s0 = await waitFor(cycle, (s) => s.state === 'stage-1' && s.audits[0]!.remindersSent.length === 1);
    expect(s0.body.name).toBe('Meridian Certification Services');

    const record = async (audit: 'stage1' | 'stage2' | 'surveillance1' | 'surveillance2' | 'recertification', findings: unknown[] = []) => {
      await waitFor(cycle, (s) => s.current === audit);
      return cycle.executeUpdate(recordAuditOutcomeUpdate, {
        args: [{ by: 'priya.raman', audit, completedOn: at(-1), result: 'recommended', findings: findings as never }],
      });
    };

    await record('stage1');
    await waitFor(cycle, (s) => s.state === 'stage-2');

    // A major Stage 2 finding with a deadline after the planned decision is refused.
    const planned = (await status(cycle)).plan.decision!;
    const late = { ref: 'F-1', severity: 'major', title: 'No impact assessment for the chatbot', description: 'A.5.2 not applied to support-assistant.', deadline: at(3600) };
    await waitFor(cycle, (s) => s.current === 'stage2');
    const refusal = await updateRejection(
      cycle.executeUpdate(recordAuditOutcomeUpdate, { args: [{ by: 'priya.raman', audit: 'stage2', completedOn: at(-1), result: 'recommended', findings: [late as never] }] }),
    );
    expect(refusal).toContain('findings.0.deadline');
    expect(refusal).toContain('before the certification decision');

    // Without a deadline the major is due by the decision; the minor gets the body's default.
    const ack = await record('stage2', [
      { ...late, deadline: undefined, clauses: ['A.5.2'], owner: 'tom.baker' },
      { ref: 'F-2', severity: 'minor', title: 'Training records incomplete', description: '7.2 evidence missing for two engineers.' },
      { ref: 'O-1', severity: 'observation', title: 'Dashboards could show trends', description: 'An observation.' },
    ]);
    expect(ack.nonconformities).toHaveLength(2);
    for (const nc of ack.nonconformities!) openNcs.push(nc.workflowId);
    const major = ack.nonconformities!.find((n) => n.severity === 'major')!;
    expect(Date.parse(major.deadlineAt)).toBeLessThanOrEqual(Date.parse(planned));
    const ncStatus = await eventually(
      () => stack.client.workflow.getHandle(major.workflowId).query(ncStatusQuery).catch(() => undefined),
      (s) => s?.targetAt !== undefined && s.state === 'containment',
    );
    expect(ncStatus).toMatchObject({ source: 'certification-audit', severity: 'major', owner: 'tom.baker', sourceRef: `${certificateId}/stage2/F-1` });
    expect(Date.parse(ncStatus!.targetAt)).toBeLessThanOrEqual(Date.parse(planned));
    await waitFor(cycle, (s) => s.state === 'decision');

    // The Stage 2 major is still in containment: no grant until the body has accepted its action plan.
    const grant = { by: 'priya.raman', decision: 'granted', decidedOn: at(0), expiresOn: at(200), reason: 'Stage 2 recommended' } as const;
    const open = await updateRejection(cycle.executeUpdate(recordDecisionUpdate, { args: [grant] }));
    expect(open).toContain('acceptedPlans');
    expect(open).toContain(major.ncId);
    expect(open).toContain('rule majors-accepted-before-grant');
    const granted = await cycle.executeUpdate(recordDecisionUpdate, { args: [{ ...grant, acceptedPlans: [major.ncId] }] });
    const [decisionRecord] = await stack.records.list({ subject: cycle.workflowId, kind: 'certification.decision' });
    expect(decisionRecord?.content).toMatchObject({ decision: 'granted', acceptedPlans: [major.ncId] });
    // The recertification is less than 60 days before this short expiry: accepted with a warning.
    expect(granted.warnings.map((w) => w.rule)).toContain('recertification-lead-time');
    const valid = await waitFor(cycle, (s) => s.current === 'surveillance1');
    expect(valid).toMatchObject({ standing: 'valid', state: 'valid' });
    expect(valid.certificate?.expiresOn).toBeDefined();

    await record('surveillance1');
    await record('surveillance2');
    await record('recertification');
    await waitFor(cycle, (s) => s.state === 'decision');
    const firstRun = (await cycle.describe()).runId;
    const nextPlan = { surveillance1: at(300), surveillance2: at(400), recertification: at(500) };
    await cycle.executeUpdate(recordDecisionUpdate, {
      args: [{ by: 'system', decision: 'granted', decidedOn: at(0), expiresOn: at(600), nextPlan }],
    });

    // Cycle 2 runs in a new run of the same workflow, with cycle 1 in its history.
    const second = await waitFor(cycle, (s) => s.cycle === 2);
    expect((await cycle.describe()).runId).not.toBe(firstRun);
    expect(second).toMatchObject({ state: 'valid', standing: 'valid', current: 'surveillance1', plan: nextPlan });
    expect(second.history).toHaveLength(1);
    expect(second.history[0]!.audits.map((a) => a.audit)).toEqual(['stage1', 'stage2', 'surveillance1', 'surveillance2', 'recertification']);
    expect(second.history[0]!.audits[1]!.ncIds).toEqual(ack.nonconformities!.map((n) => n.ncId));
    expect(second.history[0]!.decisions.map((d) => d.decision)).toEqual(['granted', 'granted']);
    const described = await cycle.describe();
    expect(described.searchAttributes).toMatchObject({ AimsProcess: ['certification'], AimsRef: [certificateId], AimsState: ['valid'] });

    await cycle.executeUpdate(endCycleUpdate, { args: [{ by: 'priya.raman', reason: 'moving to another body' }] });
    const result = await cycle.result();
    expect(result).toMatchObject({ certificateId, cycle: 2, state: 'ended' });
    expect(result.history).toHaveLength(2);

    const kinds = (await stack.records.list({ subject: cycle.workflowId, limit: 1000 })).map((r) => r.kind);
    expect(kinds.filter((k) => k === 'certification.audit-recorded')).toHaveLength(5);
    expect(kinds).toEqual(expect.arrayContaining(['certification.cycle-started', 'certification.decision', 'certification.recertified', 'certification.cycle-ended']));
  });

  it('hands over the AIMS manager and a top manager: reminders reach the current holders; twice moves nothing', async () => {
    const cycle = await start(certified({ plan: { surveillance1: at(12), surveillance2: at(200 * 86_400), recertification: at(400 * 86_400) }, policy: { reminderOffsets: ['6s'], readinessChecks: [], auditWindow: '1h', correctiveAction: quietNc } }));
    await waitFor(cycle, (s) => s.state !== undefined && s.timeline.length > 0);
    const handover = (from: string, to: string) => cycle.executeUpdate(handoverUpdate, { args: [{ by: 'system', from, to, reason: `${from} changed roles`, ref: 'org-change-14' }] });
    expect(await handover('priya.raman', 'liam.walsh')).toMatchObject({ moved: true, parts: [{ part: 'aims-manager', to: 'liam.walsh' }] });
    expect(await handover('priya.raman', 'liam.walsh')).toMatchObject({ moved: false });
    expect(await handover('hannah.okafor', 'elena.petrova')).toMatchObject({ moved: true, parts: [{ part: 'top-management', to: 'elena.petrova' }] });
    const reminder = await stack.smtp.waitFor((m) => isNotification(m, cycle.workflowId, 'certification.reminder', 'liam.walsh@northwind.example'), 20_000);
    expect(reminder.subject).toContain('surveillance');
    expect(stack.smtp.messages.filter((m) => isNotification(m, cycle.workflowId, 'certification.reminder', manager))).toEqual([]);
    // The new AIMS manager records outcomes; the one who handed over no longer can.
    expect(await updateRejection(cycle.executeUpdate(endCycleUpdate, { args: [{ by: 'priya.raman', reason: 'x' }] }))).toContain('only the AIMS manager');
    const records = await stack.records.list({ subject: cycle.workflowId, kind: 'handover' });
    expect(records.map((r) => r.content)).toMatchObject([
      { from: 'priya.raman', to: 'liam.walsh', part: 'aims-manager', ref: 'org-change-14' },
      { from: 'hannah.okafor', to: 'elena.petrova', part: 'top-management' },
    ]);
    await cycle.executeUpdate(endCycleUpdate, { args: [{ by: 'liam.walsh', reason: 'test done' }] });
    await cycle.result();
    await recordHistory('certification-handover', cycle.workflowId);
  });

  it('refuses impossible dates at start with the rule they break, and on a move; risky moves warn', async () => {
    const now = Date.now();
    const day = 86_400_000;
    const iso = (ms: number) => new Date(ms).toISOString();
    const bad = startCertificationCycle(
      stack.client,
      stack.taskQueue,
      {
        certificateId: certId(),
        plan: { stage1: iso(now + 10 * day), stage2: iso(now + 5 * day), surveillance1: iso(now + 500 * day), surveillance2: iso(now + 600 * day), recertification: iso(now + 1200 * day) },
      },
      { organization: stack.organization },
    );
    const err = await bad.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartInputError);
    const issues = (err as StartInputError).issues;
    const byField: Record<string, string> = {};
    for (const i of issues) byField[i.path] = `${byField[i.path] ?? ''} ${i.message}`;
    expect(byField['plan.stage2']).toContain('(rule stage2-after-stage1)');
    expect(byField['plan.surveillance1']).toContain('(rule first-surveillance-within-12-months)');
    expect(byField['plan.recertification']).toContain('(rule recertification-before-expiry)');

    const input = certified({
      certificate: { decisionDate: iso(now - day), expiresOn: iso(now + 1000 * day) },
      plan: { surveillance1: iso(now + 100 * day), surveillance2: iso(now + 500 * day), recertification: iso(now + 900 * day) },
    });
    const cycle = await start(input);
    await waitFor(cycle, (s) => s.current === 'surveillance1');
    const decision = Date.parse(input.certificate!.decisionDate);
    const tooLate = await updateRejection(
      cycle.executeUpdate(moveAuditDatesUpdate, { args: [{ by: 'priya.raman', dates: { surveillance1: iso(decision + 400 * day) }, reason: 'auditor unavailable' }] }),
    );
    expect(tooLate).toContain('dates.surveillance1');
    expect(tooLate).toContain('first-surveillance-within-12-months');
    const notManager = await updateRejection(
      cycle.executeUpdate(moveAuditDatesUpdate, { args: [{ by: 'sofia.lind', dates: { surveillance1: iso(now + day) }, reason: 'x' }] }),
    );
    expect(notManager).toContain('only the AIMS manager');
    const risky = await cycle.executeUpdate(moveAuditDatesUpdate, {
      args: [{ by: 'priya.raman', dates: { surveillance1: iso(decision + 350 * day) }, reason: 'auditor unavailable in spring' }],
    });
    expect(risky.warnings.map((w) => w.rule)).toEqual(['surveillance-margin']);
    const moved = await status(cycle);
    expect(moved.plan.surveillance1).toBe(iso(decision + 350 * day));
    expect(moved.timeline.some((e) => e.type === 'dates-moved' && e.detail.includes('auditor unavailable in spring'))).toBe(true);
    await cycle.executeUpdate(endCycleUpdate, { args: [{ by: 'system', reason: 'test done' }] });
    expect((await cycle.result()).state).toBe('ended');
  });

  it('escalates a missed surveillance window; the admin suspends, moves the audit and reinstates', async () => {
    const cycle = await start(certified({ plan: { surveillance1: at(3), surveillance2: at(200 * 86_400), recertification: at(400 * 86_400) }, policy: { reminderOffsets: [], readinessChecks: [], auditWindow: '2s' } }));
    const overdue = await waitFor(cycle, (s) => s.state === 'overdue');
    expect(overdue.audits[0]).toMatchObject({ audit: 'surveillance1', missed: true });
    for (const to of [manager, ...top]) {
      const mail = await stack.smtp.waitFor((m) => isNotification(m, cycle.workflowId, 'certification.escalated', to), 20_000);
      expect(mail.text).toContain('window closed');
    }
    await eventually(() => cycle.describe(), (d) => d.searchAttributes.AimsState?.[0] === 'overdue');
    const missed = await stack.records.list({ subject: cycle.workflowId, kind: 'certification.window-missed' });
    expect(missed).toHaveLength(1);

    await cycle.executeUpdate(recordDecisionUpdate, { args: [{ by: 'priya.raman', decision: 'suspended', decidedOn: at(0), reason: 'surveillance not held' }] });
    expect((await status(cycle)).state).toBe('suspended');
    await cycle.executeUpdate(moveAuditDatesUpdate, { args: [{ by: 'priya.raman', dates: { surveillance1: at(3600) }, reason: 'new date agreed with the body' }] });
    await cycle.executeUpdate(recordDecisionUpdate, { args: [{ by: 'priya.raman', decision: 'reinstated', decidedOn: at(0) }] });
    const back = await waitFor(cycle, (s) => s.state === 'valid');
    expect(back.audits[0]!.missed).toBe(false);
    await cycle.executeUpdate(recordDecisionUpdate, { args: [{ by: 'priya.raman', decision: 'withdrawn', decidedOn: at(0), reason: 'body withdrew' }] });
    expect(await cycle.result()).toMatchObject({ state: 'withdrawn' });
    await recordHistory('certification', cycle.workflowId);
  });

  it('escalates a certification decision not recorded by its planned date plus the window', async () => {
    const cycle = await start({
      certificateId: certId(),
      plan: { stage1: at(3), stage2: at(5), decision: at(7), surveillance1: at(300), surveillance2: at(400), recertification: at(500) },
      policy: { reminderOffsets: [], readinessChecks: [], auditWindow: '2s' },
    });
    for (const audit of ['stage1', 'stage2'] as const) {
      await waitFor(cycle, (s) => s.current === audit);
      await cycle.executeUpdate(recordAuditOutcomeUpdate, { args: [{ by: 'system', audit, completedOn: at(0), result: 'recommended', findings: [] }] });
    }
    const mail = await stack.smtp.waitFor((m) => isNotification(m, cycle.workflowId, 'certification.escalated', top[1]), 20_000);
    expect(mail.subject).toContain('certification decision');
    expect(mail.text).toContain('no certification decision is recorded');
    expect(await stack.records.list({ subject: cycle.workflowId, kind: 'certification.decision-late' })).toHaveLength(1);
    expect((await status(cycle)).state).toBe('decision');
    await cycle.executeUpdate(recordDecisionUpdate, { args: [{ by: 'system', decision: 'refused', decidedOn: at(0), reason: 'majors not closed' }] });
    expect(await cycle.result()).toMatchObject({ state: 'refused' });
  });

  it('refuses a grant the audits do not support: audits out of order, a future decision, a not-recommended Stage 2; majors due by the default decision', async () => {
    // No planned decision: it is expected by Stage 2 plus the audit window (1h).
    const cycle = await start({
      certificateId: certId(),
      plan: { stage1: at(3), stage2: at(5), surveillance1: at(300), surveillance2: at(400), recertification: at(500) },
      policy: { reminderOffsets: [], readinessChecks: [], auditWindow: '1h', ncDeadlines: { major: '30d' }, correctiveAction: quietNc },
    });
    await waitFor(cycle, (s) => s.current === 'stage1');
    const stage1On = at(0);
    await cycle.executeUpdate(recordAuditOutcomeUpdate, { args: [{ by: 'system', audit: 'stage1', completedOn: stage1On, result: 'recommended', findings: [] }] });
    await waitFor(cycle, (s) => s.current === 'stage2');
    const outcome = (completedOn: string, findings: unknown[] = []) =>
      cycle.executeUpdate(recordAuditOutcomeUpdate, { args: [{ by: 'system', audit: 'stage2', completedOn, result: 'not-recommended', findings: findings as never }] });

    const early = await updateRejection(outcome(at(-3600)));
    expect(early).toContain('completedOn');
    expect(early).toContain(`Stage 1 audit (held on ${stage1On})`);
    expect(early).toContain('rule audits-in-order');

    const major = { ref: 'F-9', severity: 'major', title: 'No AI risk assessment', description: '6.1.2 not performed for two systems.', owner: 'tom.baker' };
    const late = await updateRejection(outcome(at(0), [{ ...major, deadline: at(3 * 3600) }]));
    expect(late).toContain('findings.0.deadline');
    expect(late).toContain('before the certification decision');

    const heldOn = at(0);
    const ack = await outcome(heldOn, [major]);
    const nc = ack.nonconformities![0]!;
    openNcs.push(nc.workflowId);
    // Due by the default decision (Stage 2 + 1h), not by the 30-day default for a major.
    expect(Date.parse(nc.deadlineAt)).toBeLessThanOrEqual(Date.parse(heldOn) + 3_600_000);
    await waitFor(cycle, (s) => s.state === 'decision');

    const future = await updateRejection(cycle.executeUpdate(recordDecisionUpdate, { args: [{ by: 'system', decision: 'refused', decidedOn: at(2 * 86_400) }] }));
    expect(future).toContain('decidedOn');
    expect(future).toContain('is in the future');
    const notRecommended = await updateRejection(
      cycle.executeUpdate(recordDecisionUpdate, { args: [{ by: 'system', decision: 'granted', decidedOn: at(0), acceptedPlans: [nc.ncId] }] }),
    );
    expect(notRecommended).toContain('decision: the Stage 2 audit did not recommend certification');
    expect(notRecommended).toContain('rule grant-needs-recommendation');
    const foreign = await updateRejection(
      cycle.executeUpdate(recordDecisionUpdate, { args: [{ by: 'system', decision: 'granted', decidedOn: at(0), acceptedPlans: ['NC-2001-001'] }] }),
    );
    expect(foreign).toContain('acceptedPlans.0: NC-2001-001 is not a nonconformity raised from the Stage 2 audit');

    await cycle.executeUpdate(recordDecisionUpdate, { args: [{ by: 'system', decision: 'refused', decidedOn: at(0), reason: 'Stage 2 not recommended' }] });
    expect(await cycle.result()).toMatchObject({ state: 'refused' });
  });

  it('grants without an accepted plan once the Stage 2 major is closed', async () => {
    const cycle = await start({
      certificateId: certId(),
      plan: { stage1: at(3), stage2: at(5), decision: at(3600), surveillance1: at(300 * 86_400), surveillance2: at(400 * 86_400), recertification: at(700 * 86_400) },
      policy: { reminderOffsets: [], readinessChecks: [], auditWindow: '1h', correctiveAction: { ...quietNc, effectivenessWait: '1s' } },
    });
    await waitFor(cycle, (s) => s.current === 'stage1');
    await cycle.executeUpdate(recordAuditOutcomeUpdate, { args: [{ by: 'system', audit: 'stage1', completedOn: at(0), result: 'recommended', findings: [] }] });
    await waitFor(cycle, (s) => s.current === 'stage2');
    const ack = await cycle.executeUpdate(recordAuditOutcomeUpdate, {
      args: [
        {
          by: 'system',
          audit: 'stage2',
          completedOn: at(0),
          result: 'recommended-with-conditions',
          findings: [{ ref: 'F-1', severity: 'major', title: 'Impact assessments not approved', description: 'A.5.2 sign-off missing.', clauses: ['A.5.2'], owner: 'tom.baker' }],
        },
      ],
    });
    const nc = ack.nonconformities![0]!;
    openNcs.push(nc.workflowId);

    // The corrective action runs to closure: containment, root cause, an approved plan, the action and the effectiveness review.
    const evidence = { summary: 'Done.', links: ['https://wiki.northwind.example/nc/evidence'] };
    const steps: Array<[string, string, Record<string, unknown>]> = [
      ['containment', 'tom.baker', evidence],
      ['root-cause-1', 'tom.baker', { method: '5-whys', analysis: 'Why 1: no sign-off step in the procedure.', rootCause: 'Procedure gap', similarElsewhere: 'no', similarDetail: 'Checked the other processes.' }],
      ['action-plan-1-1', 'tom.baker', { actions: [{ owner: 'tom.baker', dueDate: '2030-01-31', description: 'Add the sign-off step to the procedure' }] }],
      ['plan-approval-1-1', 'priya.raman', {}],
      ['action-1-1', 'tom.baker', evidence],
      ['effectiveness-1', 'tom.baker', { answer: 'yes', justification: 'Every assessment since is signed off.' }],
      ['system-change-1', 'tom.baker', { answer: 'no', justification: 'The procedure now covers it.' }],
    ];
    for (const [key, by, data] of steps) {
      const child = stack.client.workflow.getHandle(`${nc.workflowId}/${key}`);
      if (key.startsWith('plan-approval')) {
        const s = await eventually(() => child.query(approvalStatusQuery).catch(() => undefined), (st) => st?.state === 'pending' && st.approvers.length > 0);
        await child.executeUpdate(decideUpdate, { args: [{ by, decision: 'approve', contentHash: s!.contentHash }] });
      } else {
        await eventually(() => child.query(taskStatusQuery).catch(() => undefined), (s) => s?.state === 'open' && s.assignee.id !== '');
        await child.executeUpdate(completeTaskUpdate, { args: [{ by, data }] });
      }
    }
    expect(await stack.client.workflow.getHandle(nc.workflowId).result()).toMatchObject({ status: 'closed' });
    const closed = await waitFor(cycle, (s) => s.audits.find((a) => a.audit === 'stage2')?.findings[0]?.ncClosedAs === 'closed');
    expect(closed.timeline.some((e) => e.type === 'nonconformity-closed' && e.detail.includes(nc.ncId))).toBe(true);

    await cycle.executeUpdate(recordDecisionUpdate, { args: [{ by: 'system', decision: 'granted', decidedOn: at(0) }] });
    await waitFor(cycle, (s) => s.current === 'surveillance1' && s.standing === 'valid');
    await cycle.executeUpdate(endCycleUpdate, { args: [{ by: 'system', reason: 'test done' }] });
    await cycle.result();
  });

  it('expires a certificate without a recertification decision by its expiry, and escalates', async () => {
    const cycle = await start(
      certified({
        certificate: { decisionDate: at(-60), expiresOn: at(10) },
        plan: { surveillance1: at(2), surveillance2: at(4), recertification: at(6) },
        policy: { reminderOffsets: [], readinessChecks: [], auditWindow: '1h' },
      }),
    );
    for (const audit of ['surveillance1', 'surveillance2', 'recertification'] as const) {
      await waitFor(cycle, (s) => s.current === audit);
      await cycle.executeUpdate(recordAuditOutcomeUpdate, { args: [{ by: 'system', audit, completedOn: at(0), result: 'recommended', findings: [] }] });
    }
    await waitFor(cycle, (s) => s.state === 'decision');
    const result = await cycle.result();
    expect(result.state).toBe('expired');
    const mail = await stack.smtp.waitFor((m) => isNotification(m, cycle.workflowId, 'certification.escalated', top[0]), 20_000);
    expect(mail.text).toContain('expired');
    expect(await stack.records.list({ subject: cycle.workflowId, kind: 'certification.expired' })).toHaveLength(1);
    const described = await cycle.describe();
    expect(described.searchAttributes.AimsState).toEqual(['expired']);
    // A decision after the end is refused by the closed workflow.
    await expect(
      cycle.executeUpdate(recordDecisionUpdate, { args: [{ by: 'system', decision: 'granted', decidedOn: at(0) }] }),
    ).rejects.toThrow();
  });

  describe('readiness before an external audit', () => {
    /** An internal audit reported now with `scope`, as the internal audit writes it to the ledger. */
    async function reportInternalAudit(scope: { clauses: string[]; controls: string[] }): Promise<string> {
      const workflowId = `internal-audit/${new Date().getUTCFullYear()}/t-${randomBytes(3).toString('hex')}`;
      const now = new Date().toISOString();
      await stack.records.append({
        id: `${workflowId}/reported`,
        kind: 'internal-audit.reported',
        subject: workflowId,
        clauses: ['9.2'],
        actor: 'aisha.khan',
        occurredAt: now,
        content: {
          auditId: workflowId.split('/').at(-1),
          workflowId,
          reportedAt: now,
          title: 'AI lifecycle audit',
          scope: { ...scope, processes: [], aiSystems: [] },
          findingCounts: {},
          ncIds: [],
        },
      });
      return workflowId;
    }

    /** A certificate's cycle with one readiness check 4s before its first surveillance, and that check's report. */
    async function firstReadiness(): Promise<{ cycle: CycleHandle; report: ReadinessReport }> {
      const cycle = await start(
        certified({
          certificate: { decisionDate: at(-30), expiresOn: at(500 * 86_400) },
          plan: { surveillance1: at(8), surveillance2: at(200 * 86_400), recertification: at(400 * 86_400) },
          policy: { reminderOffsets: [], readinessChecks: ['4s'], auditWindow: '1h' },
        }),
      );
      const s = await waitFor(cycle, (st) => (st.audits[0]?.readiness.length ?? 0) > 0);
      return { cycle, report: s.audits[0]!.readiness[0]! };
    }

    it('without an internal audit or management review: starts a review, lists open majors, tells the AIMS manager and top management', async () => {
      // An open major nonconformity on this task queue.
      const { ncId } = { ncId: `NC-2099-${String(Math.floor(Math.random() * 900_000) + 100_000)}` };
      const nc = await startCorrectiveAction(stack.client, stack.taskQueue, {
        ncId,
        title: 'Model cards missing for two systems',
        description: 'A.6.2.7 documentation incomplete.',
        severity: 'major',
        source: 'admin',
        owner: 'marco.rossi',
        policy: quietNc,
      });
      openNcs.push(nc.workflowId);
      await eventually(() => listNonconformities(stack.client, stack.taskQueue, { severity: 'major' }), (items) => items.some((i) => i.ncId === ncId));

      const input = certified({
        certificate: { decisionDate: at(-60), expiresOn: at(500 * 86_400) },
        plan: { surveillance1: at(10), surveillance2: at(200 * 86_400), recertification: at(400 * 86_400) },
        policy: { reminderOffsets: [], readinessChecks: ['6s'], auditWindow: '1h' },
      });
      const cycle = await start(input);
      const s = await waitFor(cycle, (st) => (st.audits[0]?.readiness.length ?? 0) > 0);
      const report = s.audits[0]!.readiness[0]!;
      expect(report).toMatchObject({ audit: 'surveillance1', ready: false, internalAudit: { available: true, complete: false }, managementReview: { available: true, complete: false } });
      expect(report.openMajors.available && report.openMajors.items.map((i) => i.ncId)).toContain(ncId);
      expect(report.reviewStarted?.workflowId).toMatch(/^management-review\/\d{4}-cert-t[0-9a-f]{8}-c1-sv1$/);
      reviews.push(report.reviewStarted!.workflowId);

      // The review was started as a child with the management-review input.
      const review = stack.client.workflow.getHandle(report.reviewStarted!.workflowId);
      const described = await review.describe();
      expect(described.type).toBe(MANAGEMENT_REVIEW_WORKFLOW);
      const reviewInput = (await startInputOf(stack.client, review)) as Record<string, unknown>;
      expect(reviewInput).toMatchObject({ reviewId: report.reviewStarted!.reviewId, requestedBy: 'system', trigger: 'certification', triggerRef: cycle.workflowId });
      expect(reviewInput.meetingDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      // The audit is moments away: the meeting is two days ahead, so its inputs can still be asked for.
      const daysAhead = (Date.parse(`${String(reviewInput.meetingDate)}T00:00:00Z`) - Date.now()) / 86_400_000;
      expect(daysAhead).toBeGreaterThan(1);
      expect(daysAhead).toBeLessThanOrEqual(2);
      // A review that fails (here: terminated) while the cycle runs is recorded and started again, fresh.
      await review.terminate('the worker lost it').catch((e: unknown) => {
        if (!(e instanceof WorkflowNotFoundError)) throw e;
      });
      const again = await waitFor(cycle, (st) => st.timeline.some((e) => e.type === 'review-failed') && st.timeline.some((e) => e.detail.includes('started in place of')));
      expect(again.timeline.find((e) => e.type === 'review-failed')?.detail).toBe(`management review ${report.reviewStarted!.reviewId} failed; a fresh one is started`);
      const fresh = `${report.reviewStarted!.workflowId}-r2`;
      reviews.push(fresh);
      expect((await stack.client.workflow.getHandle(fresh).describe()).type).toBe(MANAGEMENT_REVIEW_WORKFLOW);
      const [failed] = await stack.records.list({ subject: cycle.workflowId, kind: 'certification.review-failed' });
      expect(failed?.content).toMatchObject({ audit: 'surveillance1', reviewId: report.reviewStarted!.reviewId, failures: 1, askedAgain: true });

      for (const to of [manager, ...top]) {
        const mail = await stack.smtp.waitFor((m) => isNotification(m, cycle.workflowId, 'certification.readiness', to), 20_000);
        expect(mail.subject).toContain('Not ready yet');
        expect(mail.text).toContain('Internal audit covering the period: none reported yet');
        expect(mail.text).toContain(ncId);
      }
      const ledger = await stack.records.list({ subject: cycle.workflowId, kind: 'certification.readiness' });
      expect(ledger).toHaveLength(1);
      await cycle.executeUpdate(endCycleUpdate, { args: [{ by: 'system', reason: 'test done' }] });
      await cycle.result();
      await recordHistory('certification-review-failed', cycle.workflowId);
    });

    it('with internal audits in the period that leave part of the scope uncovered: not complete, the missing items named', async () => {
      const auditWorkflowId = await reportInternalAudit({ clauses: ['4', '5', '6', '7', '8', '9', '10'], controls: ['A.2', 'A.3', 'A.4', 'A.5', 'A.6', 'A.7', 'A.8', 'A.9'] });
      const { cycle, report } = await firstReadiness();
      expect(report.ready).toBe(false);
      expect(report.internalAudit).toMatchObject({ available: true, complete: false, audits: [{ workflowId: auditWorkflowId }], missing: ['A.10.2', 'A.10.3'] });
      const mail = await stack.smtp.waitFor((m) => isNotification(m, cycle.workflowId, 'certification.readiness', manager), 20_000);
      expect(mail.text).toContain('scope not covered');
      expect(mail.text).toContain('missing A.10.2, A.10.3');
      await cycle.executeUpdate(endCycleUpdate, { args: [{ by: 'system', reason: 'test done' }] });
    });

    it('with internal audits covering the scope and a management review in the period: both complete, no review started', async () => {
      const year = new Date().getUTCFullYear();
      const reviewWorkflowId = `management-review/${year}-t${randomBytes(3).toString('hex')}`;
      const now = new Date().toISOString();
      // With the audit of the previous case, the AIMS scope is covered.
      const auditWorkflowId = await reportInternalAudit({ clauses: ['9.2'], controls: ['A.10'] });
      await stack.records.append({
        id: `${reviewWorkflowId}/completed`,
        kind: 'management-review.completed',
        subject: reviewWorkflowId,
        clauses: ['9.3'],
        actor: 'hannah.okafor',
        occurredAt: now,
        content: { reviewId: reviewWorkflowId.split('/')[1], workflowId: reviewWorkflowId, meetingDate: now.slice(0, 10), approvedAt: now, actions: [] },
      });
      const { cycle, report } = await firstReadiness();
      expect(report.internalAudit).toMatchObject({ available: true, complete: true, missing: [] });
      expect(report.internalAudit.available && report.internalAudit.audits.map((a) => a.workflowId)).toContain(auditWorkflowId);
      expect(report.managementReview).toMatchObject({ available: true, complete: true, reviews: [{ workflowId: reviewWorkflowId }] });
      expect(report.reviewStarted).toBeUndefined();
      const mail = await stack.smtp.waitFor((m) => isNotification(m, cycle.workflowId, 'certification.readiness', manager), 20_000);
      expect(recipients(mail)).toEqual([manager]);
      expect(mail.text).toContain('Management review covering the period: complete');
      await cycle.executeUpdate(endCycleUpdate, { args: [{ by: 'system', reason: 'test done' }] });
    });
  });
});
