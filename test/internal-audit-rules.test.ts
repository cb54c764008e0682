/** The internal audit plan rules over the example organization: impartiality, windows, coverage. */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  auditProblems,
  coverage,
  coveredBy,
  plannedAuditSchema,
  windowChangeProblems,
  windowEndMs,
  windowStartMs,
  type PlannedAudit,
  type PlannedAuditInput,
} from '../src/internal-audit/schema.js';
import type { Organization } from '../src/organization/schema.js';
import { exampleOrganization } from './helpers/temporal.js';

let org: Organization;
beforeAll(async () => {
  org = await exampleOrganization();
});

const audit = (overrides: Partial<PlannedAuditInput> = {}): PlannedAudit =>
  plannedAuditSchema.parse({
    auditId: 'A-01',
    title: 'Customer operations',
    scope: { processes: ['customer-operations'], aiSystems: ['support-assistant'], clauses: ['8.1'] },
    window: { start: '2027-03-01', end: '2027-03-05' },
    leadAuditor: 'aisha.khan',
    auditee: 'tom.baker',
    ...overrides,
  });

describe('internal audit rules', () => {
  it('accepts an impartial auditor and a window inside the year', () => {
    expect(auditProblems(org, 2027, audit(), 'audits.0')).toEqual([]);
  });

  it('names each impartiality rule an auditor breaks', () => {
    const rules = (a: PlannedAudit) => auditProblems(org, 2027, a, 'audits.0').map((p) => p.rule);
    expect(rules(audit({ leadAuditor: 'tom.baker' }))).toEqual([
      'impartiality: auditor is the auditee',
      'impartiality: auditor owns a process in scope',
      'impartiality: auditor owns an AI system in scope',
    ]);
    // The AIMS manager may audit operational clauses, not the audit, review and corrective action work she runs.
    expect(rules(audit({ leadAuditor: 'priya.raman', scope: { clauses: ['8.1'] } }))).toEqual([]);
    expect(rules(audit({ leadAuditor: 'priya.raman', scope: { clauses: ['9'] } }))).toEqual(['impartiality: auditor performs the audited AIMS process']);
    expect(rules(audit({ leadAuditor: 'priya.raman', scope: { clauses: ['10.2.1'] } }))).toEqual(['impartiality: auditor performs the audited AIMS process']);
  });

  it('keeps windows inside the year and names unknown people, processes and systems', () => {
    const problems = auditProblems(
      org,
      2027,
      audit({ leadAuditor: 'nobody', scope: { processes: ['payroll'], aiSystems: ['robot'] }, window: { start: '2026-12-30', end: '2027-01-02' } }),
      'audits.3',
    );
    expect(problems.map((p) => `${p.field}: ${p.message}`)).toEqual([
      'audits.3.leadAuditor: unknown person "nobody"',
      'audits.3.scope.processes.0: unknown process "payroll" (not in roles.processOwners)',
      'audits.3.scope.aiSystems.0: unknown AI system "robot"',
      'audits.3.window.start: must be within 2027',
    ]);
    // A window of dates counts whole days: the last day of the year is inside it.
    expect(auditProblems(org, 2027, audit({ window: { start: '2027-12-31', end: '2027-12-31' } }), 'a')).toEqual([]);
    const w = { start: '2027-03-01', end: '2027-03-05' };
    expect(windowEndMs(w) - windowStartMs(w)).toBe(5 * 86_400_000);
    expect(plannedAuditSchema.safeParse({ ...audit(), window: { start: '2027-03-05', end: '2027-03-01' } }).error?.issues[0]?.message).toBe('must not be before start');
    expect(plannedAuditSchema.safeParse({ ...audit(), window: { start: '2027-03-05', end: '2027-03-06T10:00:00Z' } }).error?.issues[0]?.message).toBe(
      'must be a date when start is a date, a date-time when start is one',
    );
    expect(plannedAuditSchema.safeParse({ ...audit(), scope: {} }).error?.issues[0]?.message).toBe('needs at least one clause, control, process or AI system');
  });

  it('counts coverage over the cycle, a clause covering its sub-clauses and earlier years within the cycle only', () => {
    expect(coveredBy(['9.2', '9.3', 'A.5.4', 'A.5.5'], [{ clauses: ['9'], controls: ['A.5.4'] }])).toEqual(['9.2', '9.3', 'A.5.4']);
    const result = coverage(org, 2027, 3, [{ clauses: ['4', '5', '6', '7', '8', '9'], controls: [] }], [
      { year: 2026, scope: { clauses: ['10.1'], controls: ['A.2.2'] } },
      // Outside the 2025-2027 cycle: does not count.
      { year: 2024, scope: { clauses: ['10.2'], controls: ['A.2.3'] } },
    ]);
    expect(result.years).toEqual([2025, 2026, 2027]);
    expect(result.covered).toContain('10.1');
    expect(result.covered).toContain('A.2.2');
    expect(result.uncovered).toContain('10.2');
    expect(result.uncovered).toContain('A.2.3');
    expect(result.uncovered.filter((i) => !i.startsWith('A.'))).toEqual(['10.2']);
    expect(result.covered.length + result.uncovered.length).toBe(org.aims.clauses.length + org.aims.annexA.applicable.length);
  });

  it('refuses a window moved into the past, unless it records an audit already held with a reason', () => {
    const now = Date.parse('2027-06-10T12:00:00Z');
    const refusal = (change: Parameters<typeof windowChangeProblems>[0]) => windowChangeProblems(change, now).map((p) => `${p.field}: ${p.message} [${p.rule}]`);
    // Dates count by day: a window starting today is not in the past.
    expect(refusal({ window: { start: '2027-06-10', end: '2027-06-11' } })).toEqual([]);
    expect(refusal({ window: { start: '2027-06-09', end: '2027-06-11' }, reason: 'Auditee on leave' })).toEqual([
      'window: starts 2027-06-09, before today (2027-06-10); a window may lie in the past only to record an audit that already took place (alreadyHeld, with a reason) [window not in the past]',
    ]);
    expect(refusal({ window: { start: '2027-06-10T11:59:00Z', end: '2027-06-10T15:00:00Z' } })[0]).toBe(
      'window: starts 2027-06-10T11:59:00Z, before now (2027-06-10T12:00:00.000Z); a window may lie in the past only to record an audit that already took place (alreadyHeld, with a reason) [window not in the past]',
    );
    expect(refusal({ window: { start: '2027-06-10T12:01:00Z', end: '2027-06-10T15:00:00Z' } })).toEqual([]);
    // An audit already held: its window has begun, and a reason says why it is recorded after the fact.
    expect(refusal({ window: { start: '2027-05-03', end: '2027-05-04' }, alreadyHeld: true, reason: 'Held on site; recorded late' })).toEqual([]);
    expect(refusal({ window: { start: '2027-05-03', end: '2027-05-04' }, alreadyHeld: true })).toEqual([
      'reason: a reason is required to record an audit that already took place [an audit already held needs a reason]',
    ]);
    expect(refusal({ window: { start: '2027-06-11', end: '2027-06-12' }, alreadyHeld: true, reason: 'x' })).toEqual([
      'window: starts 2027-06-11, after today (2027-06-10): an audit that already took place cannot start in the future [an audit already held has begun]',
    ]);
  });
});
