/** The internal audit summary read from a real in-memory evidence ledger. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INTERNAL_AUDIT_PROGRAMME_INTERIM_REPORT, INTERNAL_AUDIT_PROGRAMME_REPORT, INTERNAL_AUDIT_REPORTED } from '../src/internal-audit/schema.js';
import { summarizeInternalAudits } from '../src/internal-audit/summary.js';
import { IN_MEMORY, openRecordsStore, type RecordsStore } from '../src/records/index.js';

let store: RecordsStore;
beforeEach(async () => {
  store = await openRecordsStore({ dataDir: IN_MEMORY });
});
afterEach(async () => {
  await store.close();
});

const reported = (auditId: string, occurredAt: string, findingCounts: Record<string, number>, ncIds: string[]) => ({
  id: `internal-audit/2027/${auditId}/run/reported`,
  kind: INTERNAL_AUDIT_REPORTED,
  subject: `internal-audit/2027/${auditId}`,
  clauses: ['9.2'],
  actor: 'system',
  occurredAt,
  content: {
    year: 2027,
    auditId,
    workflowId: `internal-audit/2027/${auditId}`,
    title: `Audit ${auditId}`,
    scope: { clauses: ['8.4'], controls: ['A.5.4'], processes: ['data-management'], aiSystems: [] },
    window: { start: '2027-03-01', end: '2027-03-05' },
    reportedAt: occurredAt,
    findingCounts,
    ncIds,
  },
});

describe('summarizeInternalAudits', () => {
  it('sums the audits reported and the programme reports of the period', async () => {
    await store.append(reported('A-01', '2027-03-10T10:00:00.000Z', { majorNc: 1, minorNc: 2, observation: 0, opportunity: 1 }, ['NC-2027-001', 'NC-2027-002', 'NC-2027-003']));
    await store.append(reported('A-02', '2027-06-10T10:00:00.000Z', { majorNc: 0, minorNc: 0, observation: 3, opportunity: 0 }, []));
    await store.append(reported('A-03', '2028-02-10T10:00:00.000Z', { majorNc: 5, minorNc: 0, observation: 0, opportunity: 0 }, ['NC-2028-001']));
    await store.append({
      id: 'internal-audit-programme/2027/run/report',
      kind: INTERNAL_AUDIT_PROGRAMME_REPORT,
      subject: 'internal-audit-programme/2027',
      clauses: ['9.2'],
      actor: 'system',
      occurredAt: '2028-01-01T00:00:00.000Z',
      content: { year: 2027, workflowId: 'internal-audit-programme/2027', reportedAt: '2028-01-01T00:00:00.000Z', coverage: { covered: ['8.4', 'A.5.4'], uncovered: ['4.1'] } },
    });

    const summary = await summarizeInternalAudits(store, { from: '2027-01-01T00:00:00.000Z', to: '2028-01-01T00:00:00.000Z' });
    expect(summary.available).toBe(true);
    if (!summary.available) return;
    expect(summary.auditsReported).toBe(2);
    expect(summary.audits.map((a) => a.auditId)).toEqual(['A-01', 'A-02']);
    expect(summary.findingsByType).toEqual({ majorNc: 1, minorNc: 2, observation: 3, opportunity: 1 });
    expect(summary.ncIds).toEqual(['NC-2027-001', 'NC-2027-002', 'NC-2027-003']);
    expect(summary.audits[0]!.scope.processes).toEqual(['data-management']);
    // The year-end report is written on 1 January: outside [2027-01-01, 2028-01-01).
    expect(summary.programmes).toEqual([]);

    const next = await summarizeInternalAudits(store, { from: '2028-01-01T00:00:00.000Z', to: '2029-01-01T00:00:00.000Z' });
    if (!next.available) throw new Error(next.reason);
    expect(next.auditsReported).toBe(1);
    expect(next.programmes).toEqual([
      { year: 2027, workflowId: 'internal-audit-programme/2027', status: 'final', reportedAt: '2028-01-01T00:00:00.000Z', coverage: { covered: ['8.4', 'A.5.4'], uncovered: ['4.1'] } },
    ]);
  });

  it("shows a programme's interim report until its final report supersedes it", async () => {
    const programmeReport = (kind: string, key: string, occurredAt: string, content: Record<string, unknown>) =>
      store.append({
        id: `internal-audit-programme/2028/run/${key}`,
        kind,
        subject: 'internal-audit-programme/2028',
        clauses: ['9.2'],
        actor: 'system',
        occurredAt,
        content: { year: 2028, workflowId: 'internal-audit-programme/2028', reportedAt: occurredAt, ...content },
      });
    const interim = await programmeReport(INTERNAL_AUDIT_PROGRAMME_INTERIM_REPORT, 'interim-report', '2029-01-01T00:00:00.000Z', {
      status: 'interim',
      underWay: ['A-04'],
      coverage: { covered: ['8.4'], uncovered: ['4.1', '6.1'] },
    });
    const period = { from: '2029-01-01T00:00:00.000Z', to: '2030-01-01T00:00:00.000Z' };
    const before = await summarizeInternalAudits(store, period);
    if (!before.available) throw new Error(before.reason);
    expect(before.programmes).toEqual([
      { year: 2028, workflowId: 'internal-audit-programme/2028', status: 'interim', reportedAt: '2029-01-01T00:00:00.000Z', coverage: { covered: ['8.4'], uncovered: ['4.1', '6.1'] } },
    ]);
    await programmeReport(INTERNAL_AUDIT_PROGRAMME_REPORT, 'report', '2029-02-14T09:00:00.000Z', {
      status: 'final',
      supersedes: interim.id,
      coverage: { covered: ['6.1', '8.4'], uncovered: ['4.1'] },
    });
    const after = await summarizeInternalAudits(store, period);
    if (!after.available) throw new Error(after.reason);
    expect(after.programmes).toEqual([
      { year: 2028, workflowId: 'internal-audit-programme/2028', status: 'final', reportedAt: '2029-02-14T09:00:00.000Z', coverage: { covered: ['6.1', '8.4'], uncovered: ['4.1'] } },
    ]);
  });

  it('reports an unreadable ledger as unavailable, never as zeros', async () => {
    await store.close();
    const summary = await summarizeInternalAudits(store, { from: '2027-01-01T00:00:00.000Z', to: '2028-01-01T00:00:00.000Z' });
    expect(summary.available).toBe(false);
    if (summary.available) return;
    expect(summary.reason).toMatch(/evidence ledger/);
    store = await openRecordsStore({ dataDir: IN_MEMORY });
  });
});
