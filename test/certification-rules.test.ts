/**
 * The certification date rules as pure functions: each rule refused with the field and the
 * rule named, risky dates as warnings, and the input schema.
 */
import { describe, expect, it } from 'vitest';
import {
  addMonths,
  certificationInputSchema,
  certificationState,
  checkCycleDates,
  dateMs,
  defaultExpiry,
  defaultNextPlan,
  defaultRiskyThresholds,
  readinessLines,
  type CycleDates,
  type ReadinessReport,
} from '../src/certification/schema.js';
import { assessReadiness } from '../src/certification/readiness.js';
import { completionIssues, decisionIssues, defaultDecisionDue, issuesText, type NcOfAudit } from '../src/certification/rules.js';
import { certificationSettingsOf } from '../src/certification/settings.js';
import type { EvidenceRecord } from '../src/records/types.js';
import { organizationSchema } from '../src/organization/schema.js';
import { renderNotification } from '../src/mail/templates.js';
import { exampleOrganization } from './helpers/temporal.js';

const good: CycleDates = {
  stage1: '2027-01-11',
  stage2: '2027-02-22',
  decision: '2027-03-16',
  surveillance1: '2028-02-14',
  surveillance2: '2029-01-22',
  recertification: '2029-11-05',
};

const rules = (dates: Partial<CycleDates>) => checkCycleDates({ ...good, ...dates });
const errorOf = (dates: Partial<CycleDates>) => rules(dates).errors.map((e) => ({ path: e.path, rule: e.rule }));

describe('certification date rules', () => {
  it('accepts a plan that keeps every rule, without warnings', () => {
    expect(rules({})).toEqual({ errors: [], warnings: [] });
  });

  it('refuses Stage 2 before Stage 1', () => {
    expect(errorOf({ stage2: '2027-01-10' })).toContainEqual({ path: 'plan.stage2', rule: 'stage2-after-stage1' });
  });

  it('refuses a decision before Stage 2', () => {
    expect(errorOf({ decision: '2027-02-20' })).toContainEqual({ path: 'plan.decision', rule: 'decision-after-stage2' });
  });

  it('refuses a first surveillance later than 12 months after the decision, and accepts the last allowed day', () => {
    const late = rules({ surveillance1: '2028-03-17' });
    expect(late.errors).toMatchObject([{ path: 'plan.surveillance1', rule: 'first-surveillance-within-12-months' }]);
    expect(late.errors[0]!.message).toContain('by 2028-03-16');
    expect(rules({ surveillance1: '2028-03-16' }).errors).toEqual([]);
  });

  it('refuses a first surveillance before the decision', () => {
    expect(errorOf({ surveillance1: '2027-03-01' })).toContainEqual({ path: 'plan.surveillance1', rule: 'surveillance-after-decision' });
  });

  it('refuses a calendar year without an audit in certificate years 1 and 2', () => {
    // Decision in March 2027, first surveillance in April 2027: 2028 would have no audit.
    const gap = rules({ surveillance1: '2027-04-20', surveillance2: '2029-02-01' });
    expect(gap.errors).toMatchObject([{ path: 'plan.surveillance2', rule: 'surveillance-every-calendar-year' }]);
    expect(gap.errors[0]!.message).toContain('2028');
  });

  it('refuses a second surveillance after the second certificate year', () => {
    expect(errorOf({ surveillance2: '2029-03-20' })).toContainEqual({ path: 'plan.surveillance2', rule: 'second-surveillance-within-24-months' });
  });

  it('refuses surveillance audits out of order', () => {
    expect(errorOf({ surveillance2: '2028-01-10' })).toContainEqual({ path: 'plan.surveillance2', rule: 'surveillance-in-order' });
  });

  it('refuses a recertification not completed before the three-year expiry', () => {
    expect(errorOf({ recertification: '2030-03-16' })).toContainEqual({ path: 'plan.recertification', rule: 'recertification-before-expiry' });
    expect(errorOf({ expiresOn: '2029-12-31', recertification: '2030-01-05' })).toContainEqual({
      path: 'plan.recertification',
      rule: 'recertification-before-expiry',
    });
  });

  it('refuses an expiry more than three years after the decision', () => {
    expect(errorOf({ expiresOn: '2030-04-01' })).toContainEqual({ path: 'certificate.expiresOn', rule: 'certificate-runs-three-years' });
  });

  it('refuses a pending audit planned in the past, naming it', () => {
    const result = checkCycleDates(good, { nowMs: Date.parse('2027-02-01T00:00:00Z'), future: ['stage1', 'stage2'] });
    expect(result.errors.map((e) => e.path)).toEqual(['plan.stage1']);
    expect(result.errors[0]!.rule).toBe('not-in-the-past');
  });

  it('warns about risky dates: a late Stage 2, a surveillance close to its limit, a recertification close to expiry', () => {
    const risky = rules({ stage2: '2027-05-20', decision: '2027-06-01', surveillance1: '2028-05-20', surveillance2: '2029-03-01', recertification: '2030-04-15' });
    expect(risky.errors).toEqual([]);
    expect(risky.warnings.map((w) => w.rule)).toEqual(['stage2-soon-after-stage1', 'surveillance-margin', 'recertification-lead-time']);
    expect(risky.warnings.map((w) => w.path)).toEqual(['plan.stage2', 'plan.surveillance1', 'plan.recertification']);
  });

  it('works on instants seconds apart (short test cycles)', () => {
    const t = Date.parse('2027-06-01T10:00:00Z');
    const at = (s: number) => new Date(t + s * 1000).toISOString();
    expect(checkCycleDates({ stage1: at(1), stage2: at(2), decision: at(3), surveillance1: at(4), surveillance2: at(5), recertification: at(6) }).errors).toEqual([]);
    expect(checkCycleDates({ stage1: at(2), stage2: at(1), surveillance1: at(4), surveillance2: at(5), recertification: at(6) }).errors.map((e) => e.rule)).toEqual([
      'stage2-after-stage1',
    ]);
  });

  it('adds calendar months with the day clamped, and derives expiry and the next plan', () => {
    expect(new Date(addMonths(dateMs('2027-01-31'), 1)).toISOString().slice(0, 10)).toBe('2027-02-28');
    expect(defaultExpiry('2027-03-16')).toBe('2030-03-15');
    const next = defaultNextPlan('2030-02-01', '2033-03-15');
    expect(next).toEqual({ surveillance1: '2031-01-01', surveillance2: '2031-12-01', recertification: '2032-11-15' });
    // A renewal runs three years from the expiry it renews, not from its decision.
    expect(checkCycleDates({ decision: '2030-02-01', expiresOn: '2033-03-15', renewalOf: '2030-03-15', ...next }).errors).toEqual([]);
    expect(checkCycleDates({ decision: '2030-02-01', expiresOn: '2033-03-15', ...next }).errors.map((e) => e.rule)).toEqual(['certificate-runs-three-years']);
  });
});

describe('certification input', () => {
  const plan = { stage1: '2027-01-11', stage2: '2027-02-22', surveillance1: '2028-02-14', surveillance2: '2029-01-22', recertification: '2029-11-05' };

  it('names each bad field', () => {
    const parsed = certificationInputSchema.safeParse({ certificateId: 'cert 1', plan: { ...plan, stage2: '2027-02-30', surveillance1: 'soon' } });
    expect(parsed.success).toBe(false);
    const paths = parsed.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['certificateId', 'plan.stage2', 'plan.surveillance1']));
  });

  it('needs Stage 1 and 2 for an initial certification, and refuses them for an existing certificate', () => {
    const initial = certificationInputSchema.safeParse({ certificateId: 'CERT-2027-01', plan: { ...plan, stage1: undefined } });
    expect(initial.error?.issues.map((i) => i.path.join('.'))).toEqual(['plan.stage1']);
    const existing = certificationInputSchema.safeParse({
      certificateId: 'CERT-2027-01',
      certificate: { decisionDate: '2027-03-16', expiresOn: '2030-03-15' },
      plan,
    });
    expect(existing.error?.issues.map((i) => i.path.join('.'))).toEqual(['plan.stage1', 'plan.stage2']);
  });
});

describe('certificate state', () => {
  const base = { standing: 'valid' as const, ended: false, missed: false, nowMs: 1_000, dueHorizonMs: 100 };
  it('follows the cycle', () => {
    expect(certificationState({ ...base, standing: 'none', current: 'stage1', dueMs: 5_000 })).toBe('stage-1');
    expect(certificationState({ ...base, current: 'surveillance1', dueMs: 5_000 })).toBe('valid');
    expect(certificationState({ ...base, current: 'surveillance1', dueMs: 1_050 })).toBe('surveillance-due');
    expect(certificationState({ ...base, current: 'surveillance2', dueMs: 500, missed: true })).toBe('overdue');
    expect(certificationState({ ...base, current: 'recertification', dueMs: 1_050 })).toBe('recertification');
    expect(certificationState({ ...base, standing: 'suspended', current: 'surveillance1', dueMs: 1_050 })).toBe('suspended');
    expect(certificationState({ ...base, standing: 'expired', current: 'recertification', dueMs: 1_050 })).toBe('expired');
  });
});

describe('certification notifications', () => {
  const common = { myTasksUrl: 'https://aims.example.com/tasks/mine?token=a.b.c', recipientName: 'Priya Raman', organizationName: 'Northwind Lending Ltd', title: 'CERT-2027-01: Stage 2 audit', certificateId: 'CERT-2027-01', dueDate: '2027-02-22', auditName: 'Stage 2 audit' };

  it('renders the reminder, the readiness report and the escalation', () => {
    const reminder = renderNotification('certification.reminder', { ...common, bodyName: 'Meridian Certification Services' });
    expect(reminder.subject).toBe('Coming up: Stage 2 audit by Meridian Certification Services on Mon 22 Feb 2027 (CERT-2027-01)');
    const report: ReadinessReport = {
      audit: 'stage2',
      check: '60d',
      at: '2026-12-24T00:00:00Z',
      period: { from: '2026-01-01T00:00:00Z', to: '2027-02-22T00:00:00Z' },
      internalAudit: { available: true, complete: true, audits: [{ auditId: 'IA-2026-01', workflowId: 'internal-audit/2026/ia-01', reportedAt: '2026-11-01T00:00:00Z' }] },
      managementReview: { available: false, reason: 'the evidence ledger could not be read: timeout' },
      openMajors: { available: true, items: [{ ncId: 'NC-2026-004', workflowId: 'corrective-action/NC-2026-004', title: 'No model cards', state: 'root-cause' }] },
      ready: false,
    };
    const lines = readinessLines(report);
    expect(lines).toEqual([
      'Internal audit covering the period: complete (IA-2026-01)',
      'Management review covering the period: unknown (the evidence ledger could not be read: timeout)',
      'Open major nonconformities (1): NC-2026-004 No model cards (root-cause)',
    ]);
    const readiness = renderNotification('certification.readiness', { ...common, ready: false, checks: lines });
    expect(readiness.subject).toBe('Not ready yet: Stage 2 audit on Mon 22 Feb 2027 (CERT-2027-01)');
    for (const line of lines) expect(readiness.text).toContain(line);
    const escalated = renderNotification('certification.escalated', { ...common, problem: 'the Stage 2 audit has no recorded outcome' });
    expect(escalated.text).toContain('Certificate CERT-2027-01: the Stage 2 audit has no recorded outcome');
  });
});

describe('certification settings', () => {
  it('reads the organization file section, with the defaults when it is left out', async () => {
    const org = await exampleOrganization();
    const settings = certificationSettingsOf(org);
    expect(settings.reminderOffsetsMs).toEqual([120, 90, 60, 30, 7].map((d) => d * 86_400_000));
    expect(settings.readinessChecksMs).toEqual([60, 30].map((d) => d * 86_400_000));
    expect(settings.aimsManager.id).toBe('priya.raman');
    expect(settings.topManagement.map((p) => p.id)).toEqual(['hannah.okafor', 'david.chen']);
    expect(settings.body?.name).toBe('Meridian Certification Services');
    const { certificationCycle: _section, ...rest } = org;
    const defaults = certificationSettingsOf(organizationSchema.parse(rest));
    expect(defaults).toMatchObject({ ncDeadlinesMs: { major: 90 * 86_400_000, minor: 180 * 86_400_000 }, auditWindowMs: 30 * 86_400_000 });
    expect(defaults.risky).toEqual(defaultRiskyThresholds);
    const bad = organizationSchema.safeParse({ ...rest, certificationCycle: { reminderOffsets: ['soon'] } });
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual(['certificationCycle.reminderOffsets.0']);
  });
});

describe('certification decision and outcome rules', () => {
  const now = Date.parse('2027-03-20T12:00:00Z');
  const stage2 = (ncs: NcOfAudit[], result = 'recommended') => ({ nowMs: now, audit: { key: 'stage2' as const, completedOn: '2027-02-22', result, ncs } });
  const major = (ncId: string, open: boolean): NcOfAudit => ({ ncId, ref: `F-${ncId.slice(-1)}`, severity: 'major', open });
  const grant = (extra: { decidedOn?: string; acceptedPlans?: string[] } = {}) => ({ decision: 'granted' as const, decidedOn: '2027-03-16', ...extra });
  const rulesOf = (issues: Array<{ path: string; rule: string }>) => issues.map((i) => ({ path: i.path, rule: i.rule }));

  it('refuses a grant while a major from the audit is open, unless its accepted plan is stated', () => {
    const ncs = [major('NC-2027-001', true), major('NC-2027-002', false), { ncId: 'NC-2027-003', ref: 'F-3', severity: 'minor' as const, open: true }];
    const refused = decisionIssues(grant(), stage2(ncs));
    expect(rulesOf(refused)).toEqual([{ path: 'acceptedPlans', rule: 'majors-accepted-before-grant' }]);
    expect(refused[0]!.message).toContain('NC-2027-001 (F-1)');
    expect(refused[0]!.message).not.toContain('NC-2027-002');
    expect(refused[0]!.message).not.toContain('NC-2027-003');
    expect(decisionIssues(grant({ acceptedPlans: ['NC-2027-001'] }), stage2(ncs))).toEqual([]);
    // Plans of closed majors and of minors may be named too; an NC of another audit may not.
    expect(decisionIssues(grant({ acceptedPlans: ['NC-2027-001', 'NC-2027-002', 'NC-2027-003'] }), stage2(ncs))).toEqual([]);
    const foreign = decisionIssues(grant({ acceptedPlans: ['NC-2027-001', 'NC-2026-009'] }), stage2(ncs));
    expect(rulesOf(foreign)).toEqual([{ path: 'acceptedPlans.1', rule: 'accepted-plan-of-this-audit' }]);
    expect(issuesText(foreign)).toBe('acceptedPlans.1: NC-2026-009 is not a nonconformity raised from the Stage 2 audit (rule accepted-plan-of-this-audit)');
  });

  it('refuses a grant after a not-recommended audit, and accepted plans with any other decision', () => {
    expect(rulesOf(decisionIssues(grant(), stage2([], 'not-recommended')))).toEqual([{ path: 'decision', rule: 'grant-needs-recommendation' }]);
    expect(decisionIssues(grant(), stage2([], 'recommended-with-conditions'))).toEqual([]);
    expect(decisionIssues({ decision: 'refused', decidedOn: '2027-03-16' }, stage2([major('NC-2027-001', true)], 'not-recommended'))).toEqual([]);
    expect(rulesOf(decisionIssues({ decision: 'suspended', decidedOn: '2027-03-16', acceptedPlans: ['NC-2027-001'] }, { nowMs: now }))).toEqual([
      { path: 'acceptedPlans', rule: 'accepted-plans-with-a-grant' },
    ]);
  });

  it('refuses a decision dated in the future or before its audit', () => {
    const future = decisionIssues(grant({ decidedOn: '2027-03-21' }), stage2([]));
    expect(issuesText(future)).toBe('decidedOn: 2027-03-21 is in the future (rule decided-not-in-the-future)');
    expect(decisionIssues(grant({ decidedOn: '2027-03-20' }), stage2([]))).toEqual([]);
    expect(decisionIssues(grant({ decidedOn: '2027-03-20T12:00:30Z' }), stage2([]))).toEqual([]);
    expect(rulesOf(decisionIssues({ decision: 'withdrawn', decidedOn: '2027-04-01' }, { nowMs: now }))).toEqual([{ path: 'decidedOn', rule: 'decided-not-in-the-future' }]);
    expect(rulesOf(decisionIssues(grant({ decidedOn: '2027-02-21' }), stage2([])))).toEqual([{ path: 'decidedOn', rule: 'decision-after-audit' }]);
  });

  it('refuses an audit held before the audit it follows (Stage 2 before Stage 1)', () => {
    const issues = completionIssues('stage2', '2027-01-10', { key: 'stage1', completedOn: '2027-01-11' });
    expect(issuesText(issues)).toBe('completedOn: the Stage 2 audit must come after the Stage 1 audit (held on 2027-01-11) (rule audits-in-order)');
    expect(completionIssues('stage2', '2027-01-11', { key: 'stage1', completedOn: '2027-01-11' })).toHaveLength(1);
    expect(completionIssues('stage2', '2027-02-22', { key: 'stage1', completedOn: '2027-01-11' })).toEqual([]);
    expect(completionIssues('surveillance2', '2028-02-01', { key: 'surveillance1', completedOn: '2028-02-01' })).toEqual([]);
    expect(completionIssues('surveillance2', '2028-01-31', { key: 'surveillance1', completedOn: '2028-02-01' })).toHaveLength(1);
    expect(completionIssues('stage1', '2027-01-11', undefined)).toEqual([]);
  });

  it('expects the decision after Stage 2 by Stage 2 plus the audit window when none is planned', () => {
    expect(defaultDecisionDue('2027-02-22', 30 * 86_400_000)).toBe('2027-03-25T00:00:00.000Z');
    expect(defaultDecisionDue('2027-02-22T10:00:00Z', 3_600_000)).toBe('2027-02-22T11:00:00.000Z');
  });
});

describe('certification readiness: internal audit coverage', () => {
  const period = { from: '2027-01-01T00:00:00Z', to: '2027-06-01T00:00:00Z' };
  const reported = (auditId: string, clauses: string[], controls: string[]) => ({
    seq: 1,
    id: `internal-audit/2027/${auditId}/reported`,
    kind: 'internal-audit.reported',
    subject: `internal-audit/2027/${auditId}`,
    occurredAt: '2027-03-01T00:00:00Z',
    content: { auditId, workflowId: `internal-audit/2027/${auditId}`, reportedAt: '2027-03-01T00:00:00Z', scope: { clauses, controls, processes: [], aiSystems: [] } },
  });
  const ledger = (records: Array<ReturnType<typeof reported>>) => ({
    list: (f: { kind?: string; afterSeq?: number } = {}) =>
      Promise.resolve((f.afterSeq ? [] : records.filter((r) => r.kind === f.kind)) as unknown as EvidenceRecord[]),
  });

  it('is complete only when the audits of the period cover the AIMS scope, and names the items missing', async () => {
    const organization = await exampleOrganization();
    const input = { audit: 'surveillance1' as const, check: '60d', period };
    const partial = await assessReadiness({ records: ledger([reported('A-01', ['4', '5', '6', '7', '8', '9', '10'], ['A.2', 'A.3', 'A.4', 'A.5', 'A.6', 'A.7', 'A.8'])]), organization: () => organization }, input);
    expect(partial.internalAudit).toMatchObject({ available: true, complete: false, audits: [{ auditId: 'A-01' }] });
    const missing = partial.internalAudit.available ? partial.internalAudit.missing : [];
    expect(missing).toEqual(['A.9.2', 'A.9.3', 'A.9.4', 'A.10.2', 'A.10.3']);
    const line = readinessLines({ ...partial, at: period.to, ready: false })[0]!;
    expect(line).toBe('Internal audit covering the period: scope not covered by A-01; missing A.9.2, A.9.3, A.9.4, A.10.2, A.10.3');

    const full = await assessReadiness(
      { records: ledger([reported('A-01', ['4', '5', '6', '7', '8', '9', '10'], ['A.2', 'A.3', 'A.4', 'A.5', 'A.6', 'A.7', 'A.8']), reported('A-02', ['9.2'], ['A.9', 'A.10'])]), organization: () => organization },
      input,
    );
    expect(full.internalAudit).toMatchObject({ available: true, complete: true, missing: [] });
    expect(readinessLines({ ...full, at: period.to, ready: false })[0]).toBe('Internal audit covering the period: complete (A-01, A-02)');

    const none = await assessReadiness({ records: ledger([]), organization: () => organization }, input);
    expect(none.internalAudit).toMatchObject({ available: true, complete: false, audits: [] });
    expect(readinessLines({ ...none, at: period.to, ready: false })[0]).toBe(
      `Internal audit covering the period: none reported yet (the AIMS scope's ${organization.aims.clauses.length + organization.aims.annexA.applicable.length} items are not covered)`,
    );
  });
});
