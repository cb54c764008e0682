import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { resolveAssignees, resolveEscalationTarget, type Organization } from '../src/organization/schema.js';
import { loadOrganization, OrganizationFileError, parseOrganization, parseOrganizationYaml } from '../src/organization/load.js';
import { exampleOrgFile, exampleOrganization } from './helpers/temporal.js';

type Doc = ReturnType<typeof structuredClone<Organization>>;

async function problemsOf(mutate: (doc: Doc) => void): Promise<string[]> {
  const doc = structuredClone(await exampleOrganization());
  mutate(doc);
  try {
    parseOrganization(doc, 'org.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(OrganizationFileError);
    return (err as OrganizationFileError).problems;
  }
  throw new Error('expected the organization to be rejected');
}

describe('organization file', () => {
  it('loads the committed example', async () => {
    const org = await loadOrganization(exampleOrgFile);
    expect(org.organization.name).toBe('Northwind Lending Ltd');
    expect(org.aiSystems.map((s) => s.id)).toEqual(['credit-scoring', 'fraud-detection', 'support-assistant']);
    expect(org.defaults.reminderOffsets).toEqual(['7d', '1d']);
    expect(org.certification?.certificate?.id).toBe('CERT-2026-0142');
  });

  it('resolves roles and escalation targets', async () => {
    const org = await exampleOrganization();
    expect(resolveAssignees(org, { role: 'aims-manager' })).toEqual(['priya.raman']);
    expect(resolveAssignees(org, { role: 'process-owner', of: 'data-management' })).toEqual(['sofia.lind']);
    expect(resolveAssignees(org, { role: 'system-owner', of: 'credit-scoring' })).toEqual(['marco.rossi']);
    expect(resolveEscalationTarget(org, 'sofia.lind', 'manager')).toEqual(['marco.rossi']);
    // Without a manager, escalation goes to top management.
    expect(resolveEscalationTarget(org, 'hannah.okafor', 'manager')).toEqual(['hannah.okafor', 'david.chen']);
    expect(() => resolveAssignees(org, { role: 'process-owner', of: 'nope' })).toThrow(/no owner for process "nope"/);
  });

  it('names the field path of an unknown person reference', async () => {
    expect(await problemsOf((d) => (d.roles.aimsManager = 'zoe'))).toEqual([
      'roles.aimsManager: unknown person "zoe" (not in people)',
    ]);
    expect(await problemsOf((d) => (d.people[3]!.manager = 'ghost'))).toEqual([
      'people[3].manager: unknown person "ghost" (not in people)',
    ]);
    expect(await problemsOf((d) => (d.aiSystems[1]!.owner = 'nobody'))).toEqual([
      'aiSystems[1].owner: unknown person "nobody" (not in people)',
    ]);
  });

  it('names the field path and problem of invalid values', async () => {
    const problems = await problemsOf((d) => {
      d.people[0]!.email = 'not-an-email';
      (d.aiSystems[0] as { impactTier: string }).impactTier = 'extreme';
      d.defaults.reminderOffsets = ['soon'];
    });
    expect(problems).toContain('people[0].email: Invalid email address');
    expect(problems.some((p) => p.startsWith('aiSystems[0].impactTier:'))).toBe(true);
    expect(problems).toContain('defaults.reminderOffsets[0]: must be a duration such as "7d", "12h", "30m" or "10s"');
    // Cross-reference checks run once every field is well-formed.
    let index = 0;
    expect(
      await problemsOf((d) => {
        index = d.people.push({ ...d.people[1]! }) - 1;
      }),
    ).toEqual([`people[${index}].id: duplicate person id "david.chen"`]);
  });

  it('reports YAML syntax errors and missing files clearly', async () => {
    expect(() => parseOrganizationYaml('people: [unclosed', 'bad.yaml')).toThrow(/bad\.yaml:\n {2}YAML syntax:/);
    await expect(loadOrganization('/nonexistent/org.yaml')).rejects.toThrow(/file not found \(set ORG_FILE/);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'org-'));
    const file = path.join(dir, 'org.yaml');
    await writeFile(file, stringify({ organization: { id: 'x', name: 'X' } }));
    await expect(loadOrganization(file)).rejects.toThrow(/aims: /);
  });
});
