/**
 * The risk criteria of the organization file, the register as the ledger holds it, and the
 * Statement of Applicability's versions and diff, on an in-memory records store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cycleCoverage } from '../src/internal-audit/coverage.js';
import { OrganizationFileError, parseOrganization } from '../src/organization/load.js';
import type { Organization } from '../src/organization/schema.js';
import { openRecordsStore, IN_MEMORY, type RecordsStore } from '../src/records/index.js';
import { needsTopManagementAcceptance, needsTreatment, ratingProblems, reviewInterval, scoreRisk } from '../src/risk/criteria.js';
import { appendRisk, readRegister, readRisk, registerFigures } from '../src/risk/register.js';
import type { Risk } from '../src/risk/schema.js';
import { ANNEX_A } from '../src/soa/annex-a.js';
import { soaDiff, soaEditsFromTreatment, soaEditsSchema } from '../src/soa/schema.js';
import { appendSoaChange, readSoa, soaVersions } from '../src/soa/store.js';
import { exampleOrganization } from './helpers/temporal.js';

let org: Organization;
let records: RecordsStore;
beforeAll(async () => {
  org = await exampleOrganization();
  records = await openRecordsStore({ dataDir: IN_MEMORY });
});
afterAll(async () => {
  await records?.close();
});

async function problemsOf(mutate: (doc: Organization) => void): Promise<string[]> {
  const doc = structuredClone(org);
  mutate(doc);
  try {
    parseOrganization(doc, 'org.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(OrganizationFileError);
    return (err as OrganizationFileError).problems;
  }
  throw new Error('expected the organization to be rejected');
}

describe('risk criteria', () => {
  it('rates through the example matrix and says what needs treatment and top-management acceptance', () => {
    const c = org.riskCriteria;
    expect(scoreRisk(c, { likelihood: 'likely', consequence: 'severe' })).toEqual({ score: 20, level: 'critical', rank: 4 });
    expect(scoreRisk(c, { likelihood: 'rare', consequence: 'minor' }).level).toBe('low');
    expect(needsTreatment(c, 'low')).toBe(false);
    expect(needsTreatment(c, 'medium')).toBe(true);
    expect(needsTopManagementAcceptance(c, 'medium')).toBe(false);
    expect(needsTopManagementAcceptance(c, 'high')).toBe(true);
    expect(reviewInterval(c, 'critical')).toBe('30d');
    expect(ratingProblems(c, { likelihood: 'often', consequence: 'huge' }).map((p) => p.field)).toEqual(['likelihood', 'consequence']);
  });

  it('rates by bands when there is no matrix', () => {
    const c = { ...org.riskCriteria, matrix: undefined, levels: [{ name: 'low', from: 1, reviewEvery: '1y' }, { name: 'high', from: 9, reviewEvery: '30d' }] };
    expect(scoreRisk(c, { likelihood: 'possible', consequence: 'moderate' }).level).toBe('high');
    expect(scoreRisk(c, { likelihood: 'unlikely', consequence: 'major' }).level).toBe('low');
  });

  it('refuses criteria that do not fit together, naming the field', async () => {
    expect(await problemsOf((d) => d.riskCriteria.matrix!.pop())).toEqual(['riskCriteria.matrix: must have one row per likelihood level (5), has 4']);
    expect(await problemsOf((d) => (d.riskCriteria.matrix![1]![2] = 'severe-ish'))).toEqual([
      'riskCriteria.matrix[1][2]: unknown level "severe-ish" (not in levels: low, medium, high, critical)',
    ]);
    expect(await problemsOf((d) => (d.riskCriteria.topManagementAcceptanceFrom = 'extreme'))).toEqual([
      'riskCriteria.topManagementAcceptanceFrom: unknown level "extreme" (not in levels: low, medium, high, critical)',
    ]);
    expect(
      await problemsOf((d) => {
        delete d.riskCriteria.matrix;
      }),
    ).toContain('riskCriteria.levels[0].from: is required when there is no matrix');
    expect(await problemsOf((d) => (d.riskCriteria.stepDue.treat = 'soon'))).toEqual(['riskCriteria.stepDue.treat: must be a duration such as "7d", "12h", "30m" or "10s"']);
  });
});

function risk(over: Partial<Risk>): Risk {
  return {
    riskId: 'R-900',
    title: 'Biased scores for thin-file applicants',
    description: 'Applicants with short credit histories score lower.',
    aiSystems: ['credit-scoring'],
    source: { type: 'manual' },
    categories: ['fairness'],
    owner: 'marco.rossi',
    state: 'identified',
    controls: [],
    links: [],
    updatedAt: '2026-01-01T00:00:00.000Z',
    updatedBy: 'priya.raman',
    ...over,
  };
}

describe('risk register', () => {
  it('is the latest ledger record of each risk, with its history and figures', async () => {
    await appendRisk(records, { id: 'risk-test/1', kind: 'risk.identified', risk: risk({}), actor: 'priya.raman', change: 'identified' });
    await appendRisk(records, {
      id: 'risk-test/2',
      kind: 'risk.accepted',
      risk: risk({
        state: 'accepted',
        inherent: { likelihood: 'likely', consequence: 'major', score: 16, level: 'high' },
        residual: { likelihood: 'possible', consequence: 'major', score: 12, level: 'high' },
        acceptance: { by: 'hannah.okafor', at: '2026-01-02T00:00:00.000Z', approvalId: 'x', contentHash: 'a'.repeat(64), role: 'top-management' },
        treatment: { option: 'modify', plan: [{ action: 'Reweigh', owner: 'sofia.lind', dueDate: '2026-01-10' }], decidedBy: 'marco.rossi', decidedAt: '2026-01-02T00:00:00.000Z' },
        reviewDueAt: '2026-04-01T00:00:00.000Z',
      }),
      actor: 'hannah.okafor',
      change: 'accepted',
    });
    await appendRisk(records, { id: 'risk-test/3', kind: 'risk.identified', risk: risk({ riskId: 'R-901', aiSystems: [], categories: ['accountability'] }), actor: 'priya.raman', change: 'identified' });

    const before = await readRegister(records, {}, Date.parse('2026-02-01'));
    expect(before.map((r) => [r.riskId, r.state, r.version])).toEqual([
      ['R-900', 'accepted', 2],
      ['R-901', 'identified', 1],
    ]);
    // Past its review date an accepted risk shows as review due.
    expect((await readRegister(records, { state: 'review-due' }, Date.parse('2026-05-01'))).map((r) => r.riskId)).toEqual(['R-900']);
    expect((await readRegister(records, { scope: 'aims' })).map((r) => r.riskId)).toEqual(['R-901']);
    expect((await readRegister(records, { scope: 'credit-scoring', level: 'high' })).map((r) => r.riskId)).toEqual(['R-900']);
    const one = await readRisk(records, 'R-900');
    expect(one?.history.map((h) => h.kind)).toEqual(['risk.identified', 'risk.accepted']);
    const figures = registerFigures(before, Date.parse('2026-02-01'));
    expect(figures).toMatchObject({ open: 2, openByLevel: { high: 1, 'not rated': 1 }, reviewDue: 0 });
    expect(figures.overdueTreatments).toEqual([{ riskId: 'R-900', action: 'Reweigh', owner: 'sofia.lind', dueDate: '2026-01-10' }]);
    expect(figures.acceptedResidual.map((a) => a.riskId)).toEqual(['R-900']);
  });
});

describe('Statement of Applicability', () => {
  it('starts from the organization file, versions every change and shows the diff', async () => {
    const v0 = await readSoa(records, org);
    expect(v0?.version).toBe(0);
    expect(v0?.controls).toHaveLength(ANNEX_A.length);
    expect(v0?.controls.find((c) => c.control === 'A.10.4')).toMatchObject({ included: false, implementation: null });
    expect(v0?.controls.find((c) => c.control === 'A.7.4')).toMatchObject({ included: true, implementation: 'planned', owner: 'sofia.lind' });

    const edits = soaEditsFromTreatment([{ riskId: 'R-900', title: 't', controls: [{ ref: 'A.7.4', annexA: true }, { ref: 'four-eyes review', annexA: false }] }], { verified: true, evidence: ['rec-1'] });
    const first = await appendSoaChange(records, org, { id: 'soa-test/1', actor: 'system', changes: edits, reason: 'treatment of R-900' });
    expect(first.version).toBe(1);
    // The same write again is the same version.
    expect(await appendSoaChange(records, org, { id: 'soa-test/1', actor: 'system', changes: edits, reason: 'treatment of R-900' })).toEqual(first);
    const second = await appendSoaChange(records, org, { id: 'soa-test/2', actor: 'priya.raman', changes: [{ control: 'A.8.3', included: false, justification: 'no external reporting duty' }], reason: 'scope' });
    expect(second.version).toBe(2);

    const versions = await soaVersions(records, org);
    expect(versions.map((v) => v.version)).toEqual([0, 1, 2]);
    expect(soaDiff(versions[0]!.controls, versions[1]!.controls)).toEqual([
      { control: 'A.7.4', field: 'justification', from: 'applicable in the AIMS scope (organization file)', to: 'selected to treat R-900 (6.1.3)' },
      { control: 'A.7.4', field: 'implementation', from: 'planned', to: 'implemented' },
      { control: 'A.7.4', field: 'evidence', from: [], to: ['rec-1'] },
      { control: 'A.7.4', field: 'risks', from: [], to: ['R-900'] },
    ]);
    expect(soaDiff(versions[1]!.controls, versions[2]!.controls).map((d) => `${d.control}.${d.field}`)).toEqual(['A.8.3.included', 'A.8.3.justification', 'A.8.3.implementation']);
    expect(versions[2]!.hash).not.toBe(versions[1]!.hash);
  });

  it('gives internal audit planning the controls the SoA includes as the scope to cover', async () => {
    // The version in force (from the test above) excludes A.8.3, which the organization file lists as applicable.
    const result = await cycleCoverage(org, records, 2027, []);
    expect(org.aims.annexA.applicable).toContain('A.8.3');
    expect(result.required).not.toContain('A.8.3');
    expect(result.required).toContain('A.7.4');
    expect(result.required).not.toContain('A.10.4');
  });

  it('refuses an unknown control and an exclusion without justification, naming the field', () => {
    const bad = soaEditsSchema.safeParse({ changes: [{ control: 'A.99.1', included: true }, { control: 'A.8.2', included: false }], reason: 'x' });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(paths).toContain('changes.0.control: unknown Annex A control id (see ISO/IEC 42001 Annex A, e.g. A.7.4)');
  });
});
