/**
 * Looking up a person never fails a workflow (issue #21): the directory activities answer an
 * unknown person, a vacant role or an unknown AI system with a value, and no code path of a
 * directory look-up throws for one. The mail activity skips recipients it cannot mail.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDirectoryActivities } from '../activities/directory.js';
import { createInternalAuditActivities } from '../activities/internal-audit.js';
import { createNotifyActivities } from '../activities/notifications.js';
import type { Organization } from '../src/organization/schema.js';
import { exampleOrganization } from './helpers/temporal.js';

const root = path.resolve(import.meta.dirname, '..');

/** The example organization after sofia.lind left (her process and AI system went to marco.rossi) and with nobody in AI governance. */
async function afterSofiaLeft(): Promise<Organization> {
  const org = structuredClone(await exampleOrganization());
  org.people = org.people.filter((p) => p.id !== 'sofia.lind');
  org.roles.processOwners['data-management'] = 'marco.rossi';
  org.roles.aiGovernance = [];
  for (const s of org.aiSystems) if (s.owner === 'sofia.lind') s.owner = 'marco.rossi';
  return org;
}

/** The body of the function or method named `name` in `source` (from its name to the matching closing brace). */
function bodyOf(source: string, name: string): string {
  const start = source.indexOf(`${name}(`);
  expect(start, `${name} not found`).toBeGreaterThanOrEqual(0);
  const open = source.indexOf('{', source.indexOf(')', start));
  let depth = 0;
  for (let i = open; i < source.length; i += 1) {
    if (source[i] === '{') depth += 1;
    if (source[i] === '}' && --depth === 0) return source.slice(start, i + 1);
  }
  throw new Error(`unbalanced braces after ${name}`);
}

/** What would make a look-up throw: a throw, a Temporal failure, or a helper of the organization schema that throws for an unknown person or a vacant role. */
const errorPaths = [/\bthrow\b/, /ApplicationFailure/, /OrganizationLookupError/, /\bfindPerson\(/, /\bresolveAssignees\(/, /\bresolveEscalationTarget\(/, /\.nonRetryable\(/];

describe('directory look-ups never fail for an unknown person', () => {
  it('has no error path in activities/directory.ts or the audit report recipients', async () => {
    const directory = await readFile(path.join(root, 'activities/directory.ts'), 'utf8');
    const code = directory.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    for (const pattern of errorPaths) expect(code, `activities/directory.ts matches ${pattern}`).not.toMatch(pattern);
    const audit = await readFile(path.join(root, 'activities/internal-audit.ts'), 'utf8');
    const recipients = bodyOf(audit, 'internalAuditReportRecipients');
    for (const pattern of errorPaths) expect(recipients, `internalAuditReportRecipients matches ${pattern}`).not.toMatch(pattern);
  });

  it('answers an unknown person as a value without an address', async () => {
    const org = await afterSofiaLeft();
    const dir = createDirectoryActivities({ organization: () => org });
    expect(await dir.resolvePerson('sofia.lind')).toEqual({ id: 'sofia.lind', name: 'sofia.lind', email: '', unknown: true });
    expect(await dir.resolvePerson('marco.rossi')).toMatchObject({ id: 'marco.rossi', email: 'marco.rossi@northwind.example', managerId: 'david.chen' });
    const people = await dir.resolvePeople([{ person: 'marco.rossi' }, { person: 'sofia.lind' }, { role: 'top-management' }]);
    expect(people.map((p) => [p.id, p.unknown ?? false])).toEqual([
      ['marco.rossi', false],
      ['sofia.lind', true],
      ['hannah.okafor', false],
      ['david.chen', false],
    ]);
  });

  it('stands the AIMS manager in for a vacant role and an unknown AI system', async () => {
    const org = await afterSofiaLeft();
    const dir = createDirectoryActivities({ organization: () => org });
    const [governance] = await dir.resolvePeople([{ role: 'ai-governance' }]);
    expect(governance).toMatchObject({ id: 'priya.raman', insteadOf: 'nobody holds the role ai-governance' });
    const [owner] = await dir.resolvePeople([{ role: 'system-owner', of: 'no-such-system' }]);
    expect(owner).toMatchObject({ id: 'priya.raman', insteadOf: 'nobody holds the role system-owner of no-such-system' });
    const byRole = await dir.resolveTaskPeople({ assignee: { role: 'process-owner', of: 'nothing' }, policy: {} });
    expect(byRole.assignee.id).toBe('priya.raman');
    expect(byRole.rerouted).toMatchObject({ from: 'process-owner of nothing', to: 'priya.raman' });
  });

  it('resolves a task for an unknown assignee to the manager recorded at assignment, else the AIMS manager', async () => {
    const org = await afterSofiaLeft();
    const dir = createDirectoryActivities({ organization: () => org });
    const withManager = await dir.resolveTaskPeople({ assignee: { person: 'sofia.lind' }, policy: {}, managerId: 'marco.rossi' });
    expect(withManager.assignee.id).toBe('marco.rossi');
    expect(withManager.managerId).toBe('david.chen');
    expect(withManager.rerouted).toEqual({
      from: 'sofia.lind',
      to: 'marco.rossi',
      reason: 'sofia.lind is not in the organization; the task goes to Marco Rossi, the manager recorded at assignment',
    });
    const without = await dir.resolveTaskPeople({ assignee: { person: 'sofia.lind' }, policy: {} });
    expect(without.assignee.id).toBe('priya.raman');
    expect(without.rerouted?.reason).toContain('the AIMS manager');
    // A recorded manager who left too is no fallback.
    const managerGone = await dir.resolveTaskPeople({ assignee: { person: 'sofia.lind' }, policy: {}, managerId: 'zoe.gone' });
    expect(managerGone.assignee.id).toBe('priya.raman');
    const known = await dir.resolveTaskPeople({ assignee: { person: 'tom.baker' }, policy: {}, managerId: 'marco.rossi' });
    expect(known.assignee.id).toBe('tom.baker');
    expect(known.rerouted).toBeUndefined();
  });

  it('escalates an unknown assignee to the manager recorded at assignment, else top management', async () => {
    const org = await afterSofiaLeft();
    const dir = createDirectoryActivities({ organization: () => org });
    const recorded = await dir.resolveEscalation({ assigneeId: 'sofia.lind', to: 'manager', managerId: 'marco.rossi' });
    expect(recorded).toEqual([{ id: 'marco.rossi', name: 'Marco Rossi', email: 'marco.rossi@northwind.example', insteadOf: 'sofia.lind is not in the organization' }]);
    const top = await dir.resolveEscalation({ assigneeId: 'sofia.lind', to: 'manager' });
    expect(top.map((p) => p.id)).toEqual(['hannah.okafor', 'david.chen']);
    expect((await dir.resolveEscalation({ assigneeId: 'sofia.lind', to: 'aims-manager' })).map((p) => p.id)).toEqual(['priya.raman']);
    expect((await dir.resolveEscalation({ assigneeId: 'tom.baker', to: 'manager' })).map((p) => p.id)).toEqual(['hannah.okafor']);
  });

  it('leaves people who left out of an audit report', async () => {
    const org = await afterSofiaLeft();
    const audit = createInternalAuditActivities({ organization: () => org, records: { list: async () => ({ records: [] }) } as never, temporal: {} as never });
    const to = await audit.internalAuditReportRecipients({ auditee: 'sofia.lind', scope: { clauses: ['8.2'], controls: [], processes: ['data-management'], aiSystems: [] } });
    expect(to.map((p) => p.id)).toEqual(['marco.rossi', 'priya.raman']);
  });
});

describe('notify', () => {
  it('skips recipients without an address and logs them', async () => {
    const sent: string[] = [];
    const warnings: unknown[] = [];
    const activities = createNotifyActivities({
      sendNotification: async (input) => {
        sent.push(input.to[0]!.email);
        return { status: 'sent' } as never;
      },
      links: { sign: async () => 'token', url: (p: string, t: string) => `http://127.0.0.1:3999${p}?token=${t}` } as never,
      organizationName: () => 'Northwind Lending Ltd',
      logger: { warn: (obj: unknown) => warnings.push(obj) },
    });
    const result = await activities.notify({
      notificationId: 'test/notify/1',
      kind: 'task.reminder',
      to: [
        { id: 'sofia.lind', name: 'sofia.lind', email: '' },
        { id: 'marco.rossi', name: 'Marco Rossi', email: 'marco.rossi@northwind.example' },
      ],
      data: { title: 'Drift review', dueDate: '2027-03-01' },
      invite: { uid: 'x@aimsflow', title: 'Audit', start: '2027-03-01', end: '2027-03-02', sequence: 0, organizer: { id: 'priya.raman', name: 'Priya Raman', email: 'priya.raman@northwind.example' } },
    });
    expect(result).toEqual({ sent: 1, alreadySent: 0, skipped: ['sofia.lind'] });
    expect(sent).toEqual(['marco.rossi@northwind.example']);
    expect(warnings).toEqual([expect.objectContaining({ skipped: ['sofia.lind'] })]);
  });
});
