/**
 * The policy table (src/auth/permissions.ts): each role against a representative action of each
 * family, written out here so a change to the policy shows as a change to this table; and the
 * roles the example organization gives its people and the keys give their services.
 */
import { describe, expect, it } from 'vitest';
import { keyRing } from '../src/auth/api-keys.js';
import { describePrincipal, permits, personRoles, principalRoles, ROLES, type Permission, type Role } from '../src/auth/permissions.js';
import { parseConfig } from '../src/config.js';
import { TEST_API_KEYS } from './helpers/keys.js';
import { exampleOrganization } from './helpers/temporal.js';

const COLUMNS: Record<string, Role> = {
  aims: 'aims-manager',
  top: 'top-management',
  ia: 'internal-auditor',
  aig: 'ai-governance',
  po: 'process-owner',
  so: 'system-owner',
  ext: 'external-auditor',
  ops: 'operations-admin',
};

// Y: allowed, .: refused.
const TABLE = `
action                       aims top ia aig po so ext ops
management-review.start      Y    .   .  .   .  .  .   .
certification.start          Y    .   .  .   .  .  .   .
internal-audit.start         Y    .   .  .   .  .  .   .
internal-audit.plan          Y    .   Y  .   .  .  .   .
certification.plan           Y    .   .  .   .  .  .   .
management-review.minutes    Y    .   .  .   .  .  .   .
certification.decide         Y    .   .  .   .  .  .   .
concern.triage               Y    .   .  .   .  .  .   .
improvement.triage           Y    .   .  .   .  .  .   .
corrective-action.cancel     Y    .   .  .   .  .  .   .
tasks.cancel                 Y    .   .  .   .  .  .   .
corrective-action.raise      Y    .   Y  .   Y  Y  .   .
corrective-action.comment    Y    .   .  .   Y  Y  .   .
ai-system.register           Y    .   .  Y   .  .  .   .
ai-system.change             Y    .   .  Y   .  Y  .   .
records.read                 Y    Y   Y  Y   Y  Y  Y   Y
records.verify               Y    Y   .  .   .  .  Y   Y
records.export               Y    Y   .  .   .  .  Y   Y
certification.read           Y    Y   .  .   .  .  Y   Y
management-review.read       Y    Y   .  .   .  .  Y   Y
schedules.manage             Y    .   .  .   .  .  .   Y
organization.reload          Y    .   .  .   .  .  .   Y
ai-system.sync               Y    .   .  .   .  .  .   Y
people.handover              Y    .   .  .   .  .  .   .
`;

const [header = '', ...rows] = TABLE.trim().split('\n');
const columns = header.trim().split(/\s+/).slice(1);
const cases = rows.flatMap((row) => {
  const [action = '', ...marks] = row.trim().split(/\s+/);
  return columns.map((column, i) => ({ role: COLUMNS[column]!, action: action as Permission, allowed: marks[i] === 'Y' }));
});

describe('the policy table', () => {
  it('has a column for every role', () => {
    expect(new Set(columns.map((c) => COLUMNS[c]))).toEqual(new Set(ROLES));
    expect(cases.length).toBe(rows.length * ROLES.length);
  });

  it.each(cases)('$role: $action → $allowed', ({ role, action, allowed }) => {
    expect(permits([role], action)).toBe(allowed);
  });

  it('lets the external auditor read, verify and export, but never start, plan, decide, triage or cancel', () => {
    const ext: Role[] = ['external-auditor'];
    for (const p of ['records.read', 'records.verify', 'records.export', 'certification.read', 'internal-audit.read', 'corrective-action.read'] as const) {
      expect(permits(ext, p), p).toBe(true);
    }
    const writes = ['start', 'plan', 'decide', 'triage', 'cancel', 'minutes', 'raise', 'comment', 'manage', 'reload', 'register', 'change', 'sync', 'handover', 'close'];
    for (const action of rows.map((r) => r.trim().split(/\s+/)[0] as Permission).filter((a) => writes.includes(a.split('.')[1]!))) {
      expect(permits(ext, action), action).toBe(false);
    }
  });

  it('allows what any of several roles allows, and nothing with no role', () => {
    expect(permits(['process-owner', 'internal-auditor'], 'internal-audit.plan')).toBe(true);
    expect(permits([], 'records.read')).toBe(false);
  });
});

describe('roles of a principal', () => {
  it('come from the organization file for a person', async () => {
    const org = await exampleOrganization();
    expect(personRoles(org, 'priya.raman').sort()).toEqual(['ai-governance', 'aims-manager', 'process-owner']);
    expect(personRoles(org, 'hannah.okafor')).toEqual(['top-management']);
    expect(personRoles(org, 'david.chen').sort()).toEqual(['process-owner', 'top-management']);
    expect(personRoles(org, 'aisha.khan')).toEqual(['internal-auditor']);
    expect(personRoles(org, 'sofia.lind').sort()).toEqual(['process-owner', 'system-owner']);
    expect(personRoles(org, 'ines.moreau')).toEqual(['external-auditor']);
    expect(personRoles(org, 'nobody.here')).toEqual([]);
  });

  it('come from the key for a service, and a key names its principal but never holds the key', async () => {
    const org = await exampleOrganization();
    const config = parseConfig({ LINK_SECRET: 'a'.repeat(32), API_KEYS: TEST_API_KEYS });
    const ring = keyRing(config.API_KEYS);
    const ops = ring.principal('test-key-operations-0123456789abcdef');
    expect(ops).toEqual({ kind: 'service', id: 'operations', via: 'api-key', key: 'test-operations' });
    expect(principalRoles(ops!, { organization: org, serviceRoles: ring.serviceRoles })).toEqual(['operations-admin']);
    const priya = ring.principal('test-admin-key-0123456789abcdef');
    expect(priya).toEqual({ kind: 'person', id: 'priya.raman', via: 'api-key', key: 'test-priya.raman' });
    expect(principalRoles(priya!, { organization: org, serviceRoles: ring.serviceRoles })).toContain('aims-manager');
    expect(describePrincipal(priya!)).toBe('person priya.raman (key test-priya.raman)');
    expect(ring.principal('test-admin-key-0123456789abcdeX')).toBeUndefined();
    expect(ring.serviceRoles('test-priya.raman')).toEqual([]);
  });
});
