/**
 * The rules of people changing, without Temporal: who left between two organization files,
 * which roles a new file leaves vacant while running work needs them, and who takes over each
 * part of a leaver's work by default.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseOrganizationYaml } from '../src/organization/load.js';
import type { Organization } from '../src/organization/schema.js';
import { ORGANIZATION_REFRESH_MS } from '../src/organization/holder.js';
import { ORGANIZATION_SETTLE_MS } from '../src/people/contract.js';
import { defaultSuccessor, handoverOrder, handoverTarget, leaversBetween, movesBetween, vacantRoles, vacantRolesMessage, type PersonWorkItem } from '../src/people/rules.js';
import { exampleOrgFile } from './helpers/temporal.js';

const example = async () => parseOrganizationYaml(await readFile(exampleOrgFile, 'utf8'));

/** The example organization without one person (and whatever names them, handed to `heir`). */
function without(org: Organization, id: string, heir: string): Organization {
  const swap = (p: string) => (p === id ? heir : p);
  return {
    ...org,
    people: org.people.filter((p) => p.id !== id).map((p) => (p.manager === id ? { ...p, manager: heir } : p)),
    roles: {
      ...org.roles,
      topManagement: org.roles.topManagement.map(swap),
      aimsManager: swap(org.roles.aimsManager),
      internalAuditors: org.roles.internalAuditors.filter((a) => a !== id),
      aiGovernance: org.roles.aiGovernance.filter((a) => a !== id),
      processOwners: Object.fromEntries(Object.entries(org.roles.processOwners).map(([k, v]) => [k, swap(v)])),
    },
    aiSystems: org.aiSystems.map((s) => ({ ...s, owner: swap(s.owner) })),
  };
}

const item = (overrides: Partial<PersonWorkItem>): PersonWorkItem => ({
  workflowId: 'task/adhoc/2027/x',
  type: 'humanTask',
  process: 'adhoc',
  ref: undefined,
  aiSystem: undefined,
  title: 'A task',
  state: 'open',
  dueAt: undefined,
  parts: ['owner', 'assignee'],
  ...overrides,
});

describe('people rules', () => {
  it('finds who left between two versions, and nobody without an earlier one', async () => {
    const before = await example();
    const after = without(before, 'sofia.lind', 'marco.rossi');
    expect(leaversBetween(before, after)).toEqual(['sofia.lind']);
    expect(leaversBetween(undefined, after)).toEqual([]);
  });

  it("routes a leaver's own work to their manager, ownership to the new owner the file names, an audit to another auditor", async () => {
    const before = await example();
    const sofia = before.people.find((p) => p.id === 'sofia.lind')!;
    const after = without(before, 'sofia.lind', 'marco.rossi');
    expect(handoverTarget(item({}), 'sofia.lind', sofia.manager, after)).toBe(sofia.manager);
    // A manager who left too: the AIMS manager.
    expect(handoverTarget(item({}), 'sofia.lind', 'nobody.here', after)).toBe(after.roles.aimsManager);
    const system = before.aiSystems.find((s) => s.owner === 'sofia.lind')!;
    expect(handoverTarget(item({ type: 'aiSystem', parts: ['owner'], aiSystem: system.id }), 'sofia.lind', sofia.manager, after)).toBe('marco.rossi');
    expect(handoverTarget(item({ type: 'correctiveAction', parts: ['owner'] }), 'sofia.lind', sofia.manager, after)).toBe(after.roles.aimsManager);
    const auditor = handoverTarget(item({ type: 'internalAudit', parts: ['owner'] }), 'sofia.lind', sofia.manager, after);
    expect(after.roles.internalAuditors).toContain(auditor);
    // The AIMS manager leaving: their fallback is top management.
    expect(defaultSuccessor(before.roles.aimsManager, undefined, before)).toBe(before.roles.topManagement[0]);
  });

  it('moves leavers and AI systems that changed hands', async () => {
    const before = await example();
    const system = before.aiSystems[0]!;
    const newOwner = before.people.find((p) => p.id !== system.owner)!.id;
    const after = { ...before, aiSystems: before.aiSystems.map((s) => (s.id === system.id ? { ...s, owner: newOwner } : s)) };
    expect(movesBetween(before, after, [])).toEqual([{ from: system.owner, to: newOwner, aiSystem: system.id, reason: `the AI system ${system.id} is now owned by ${newOwner}` }]);
    const gone = without(before, 'sofia.lind', 'marco.rossi');
    const moves = movesBetween(before, gone, ['sofia.lind']);
    expect(moves[0]).toMatchObject({ from: 'sofia.lind', reason: 'Sofia Lind is no longer in the organization' });
  });

  it('refuses a file that leaves a role vacant while running work needs it, naming the role and the work', async () => {
    const before = await example();
    const after: Organization = { ...before, roles: { ...before.roles, aiGovernance: [] } };
    const running = { types: { impactAssessment: ['impact-assessment/credit-scoring/2027-1'] }, processes: {} };
    const vacant = vacantRoles(before, after, running);
    expect(vacant).toEqual([{ role: 'roles.aiGovernance', neededBy: ['impact-assessment/credit-scoring/2027-1'] }]);
    expect(vacantRolesMessage(vacant)).toBe('roles.aiGovernance: nobody holds this role any more, but running work needs it (impact-assessment/credit-scoring/2027-1)');
    // Nothing running needs it: the file is fine.
    expect(vacantRoles(before, after, { types: {}, processes: {} })).toEqual([]);
    // A process owner removed while that process has running work.
    const process = Object.keys(before.roles.processOwners)[0]!;
    const { [process]: _gone, ...rest } = before.roles.processOwners;
    const noOwner: Organization = { ...before, roles: { ...before.roles, processOwners: rest } };
    expect(vacantRoles(before, noOwner, { types: {}, processes: { [process]: ['task/adhoc/2027/x'] } })).toEqual([{ role: `roles.processOwners.${process}`, neededBy: ['task/adhoc/2027/x'] }]);
  });

  it('tells the work that keeps a role when its holder leaves, and hands it to the role\'s new holder', async () => {
    const before = await example();
    const aims = before.roles.aimsManager;
    const heir = before.people.find((p) => p.id !== aims && !before.roles.topManagement.includes(p.id))!.id;
    const after = without(before, aims, heir);
    const [move] = movesBetween(before, after, [aims]);
    expect(move).toMatchObject({ from: aims, roles: ['aims-manager'] });
    const cycle = item({ workflowId: 'certification/2027', type: 'certificationCycle', parts: ['role'] });
    const nc = item({ workflowId: 'corrective-action/NC-2027-001', type: 'correctiveAction', parts: ['role'] });
    expect(handoverTarget(cycle, aims, undefined, after, move!.roles)).toBe(heir);
    expect(handoverTarget(nc, aims, undefined, after, move!.roles)).toBe(heir);
    // A top manager who leaves: the cycle goes to the next top manager.
    const top = before.roles.topManagement[0]!;
    const afterTop = without(before, top, heir);
    const [topMove] = movesBetween(before, afterTop, [top]);
    expect(topMove?.roles).toEqual(['top-management']);
    expect(handoverTarget(cycle, top, undefined, afterTop, topMove!.roles)).toBe(afterTop.roles.topManagement.find((id) => id !== top));
    // Someone without a role keeps none.
    expect(movesBetween(before, without(before, 'sofia.lind', 'marco.rossi'), ['sofia.lind'])[0]?.roles).toBeUndefined();
  });

  it('hands over an audit programme first, then the other processes, then their steps', () => {
    const order = handoverOrder([
      item({ workflowId: 'task/a', type: 'humanTask' }),
      item({ workflowId: 'corrective-action/NC-1', type: 'correctiveAction' }),
      item({ workflowId: 'approval/b', type: 'approval' }),
      item({ workflowId: 'internal-audit-programme/2027', type: 'internalAuditProgramme' }),
      item({ workflowId: 'internal-audit/2027/A-01', type: 'internalAudit' }),
    ]).map((i) => i.workflowId);
    expect(order).toEqual(['internal-audit-programme/2027', 'corrective-action/NC-1', 'internal-audit/2027/A-01', 'approval/b', 'task/a']);
  });

  it('waits for every process to read a new organization version before handing over', () => {
    expect(ORGANIZATION_SETTLE_MS).toBeGreaterThanOrEqual(2 * ORGANIZATION_REFRESH_MS);
  });
});
