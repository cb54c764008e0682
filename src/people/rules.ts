/**
 * When people change (ISO/IEC 42001 5.3, 7.2): who left between two versions of the
 * organization file, which roles a new version leaves vacant, and who takes over each part of
 * a person's running work. Pure: the organization files and the work items come in as values.
 *
 * The rules:
 * - A person's own work (a task to do, a decision to take) goes to their manager as the file
 *   recorded them when the work was assigned (the earlier version), when that manager is still
 *   in the organization; else to the AIMS manager. Work assigned by role goes to the role's new
 *   holder: the workflow resolves the role again.
 * - Ownership (an AI system, a nonconformity) goes to the new owner the new file names, else
 *   to the AIMS manager.
 * - Leading an audit goes to another internal auditor; the audit checks impartiality again and
 *   sends a conflict to top management.
 * - A role a workflow holds on to (the AIMS manager, top management) goes to the role's holder
 *   in the new file.
 * - Parents are handed over before their steps: an audit programme first (it restarts the
 *   auditor's running step itself), then the other processes, then tasks and approvals.
 */
import type { Organization } from '../organization/schema.js';

/**
 * A part someone holds in running work: as visibility shows it (owner, who must act), or
 * through a role the workflow resolved at its start (the AIMS manager of every open NC, top
 * management of a certification cycle), which visibility does not show.
 */
export type WorkPart = 'owner' | 'assignee' | 'role';

/** Roles whose holder running workflows resolve once and keep: they are told when the holder leaves. */
export type HeldRole = 'aims-manager' | 'top-management';

/** The workflow types that keep each held role. */
export const workflowsKeepingRole: Record<HeldRole, string[]> = {
  'aims-manager': ['correctiveAction', 'managementReview', 'certificationCycle'],
  'top-management': ['certificationCycle'],
};

export interface PersonWorkItem {
  workflowId: string;
  /** The workflow type, e.g. `humanTask`, `correctiveAction`. */
  type: string;
  /** The ISO process (AimsProcess), e.g. `corrective-action`. */
  process: string | undefined;
  /** The business id (AimsRef), e.g. `NC-2027-004`, or the AI system for an AI-system workflow. */
  ref: string | undefined;
  aiSystem: string | undefined;
  title: string;
  state: string | undefined;
  dueAt: string | undefined;
  parts: WorkPart[];
}

/** Person ids in `before` that `after` no longer has. */
export function leaversBetween(before: Organization | undefined, after: Organization): string[] {
  if (!before) return [];
  const now = new Set(after.people.map((p) => p.id));
  return before.people.map((p) => p.id).filter((id) => !now.has(id));
}

export interface VacantRole {
  /** The role as the file names it, e.g. `roles.aiGovernance`, `roles.processOwners.data-management`. */
  role: string;
  /** Running work that needs it (workflow ids). */
  neededBy: string[];
}

/** What running work there is, by workflow type and by process, for the vacant-role check. */
export interface RunningWork {
  types: Record<string, string[]>;
  processes: Record<string, string[]>;
}

/** Workflow types that need each list role while they run. */
const roleNeededBy: Record<'aiGovernance' | 'internalAuditors', string[]> = {
  aiGovernance: ['impactAssessment', 'aiSystem'],
  internalAuditors: ['internalAuditProgramme', 'internalAudit'],
};

/**
 * Roles `after` leaves with nobody in them that `before` had someone in, and the running work
 * that needs them. A new file with a vacant role that running work needs is refused.
 */
export function vacantRoles(before: Organization | undefined, after: Organization, running: RunningWork): VacantRole[] {
  const out: VacantRole[] = [];
  for (const role of ['aiGovernance', 'internalAuditors'] as const) {
    const had = before ? before.roles[role].length > 0 : true;
    if (after.roles[role].length > 0 || !had) continue;
    const neededBy = roleNeededBy[role].flatMap((type) => running.types[type] ?? []);
    if (neededBy.length) out.push({ role: `roles.${role}`, neededBy });
  }
  for (const process of Object.keys(before?.roles.processOwners ?? {})) {
    if (after.roles.processOwners[process]) continue;
    const neededBy = running.processes[process] ?? [];
    if (neededBy.length) out.push({ role: `roles.processOwners.${process}`, neededBy });
  }
  return out;
}

/** The refusal of a file that leaves roles vacant: each role and the work that needs it. */
export function vacantRolesMessage(vacant: VacantRole[]): string {
  return vacant
    .map((v) => {
      const shown = v.neededBy.slice(0, 5).join(', ');
      const more = v.neededBy.length > 5 ? ` and ${v.neededBy.length - 5} more` : '';
      return `${v.role}: nobody holds this role any more, but running work needs it (${shown}${more})`;
    })
    .join('; ');
}

const inOrg = (org: Organization, id: string | undefined): id is string => id !== undefined && org.people.some((p) => p.id === id);

/** Whom a person's part moves to when nobody is named: their manager, else the AIMS manager. */
export function defaultSuccessor(leaver: string, managerBefore: string | undefined, after: Organization): string {
  if (inOrg(after, managerBefore) && managerBefore !== leaver) return managerBefore;
  return after.roles.aimsManager === leaver ? (after.roles.topManagement[0] ?? after.roles.aimsManager) : after.roles.aimsManager;
}

/**
 * Who takes over `leaver`'s part in `item` by default. The workflow may still choose another
 * (a role's new holder, top management when separation of duties forbids this person).
 */
export function handoverTarget(item: PersonWorkItem, leaver: string, managerBefore: string | undefined, after: Organization, roles: readonly HeldRole[] = []): string {
  const fallback = defaultSuccessor(leaver, undefined, after);
  if (item.parts.length === 1 && item.parts[0] === 'role') {
    const keepsAimsManager = roles.includes('aims-manager') && workflowsKeepingRole['aims-manager'].includes(item.type);
    const holder = keepsAimsManager ? after.roles.aimsManager : after.roles.topManagement.find((id) => id !== leaver);
    return holder && holder !== leaver && inOrg(after, holder) ? holder : fallback;
  }
  if (item.parts.includes('owner') && item.type === 'aiSystem') {
    const named = after.aiSystems.find((s) => s.id === (item.aiSystem ?? item.ref))?.owner;
    return named && named !== leaver && inOrg(after, named) ? named : fallback;
  }
  if (item.type === 'internalAuditProgramme' || (item.parts.includes('owner') && item.type === 'internalAudit')) {
    return after.roles.internalAuditors.find((a) => a !== leaver && inOrg(after, a)) ?? fallback;
  }
  if (item.parts.includes('owner') && !item.parts.includes('assignee') && item.type !== 'humanTask' && item.type !== 'approval') return fallback;
  return defaultSuccessor(leaver, managerBefore, after);
}

const STEP_TYPES = new Set(['humanTask', 'approval']);

/** The order handovers are sent in: audit programmes, then the other processes, then their steps. */
export function handoverOrder(items: readonly PersonWorkItem[]): PersonWorkItem[] {
  const rank = (i: PersonWorkItem) => (i.type === 'internalAuditProgramme' ? 0 : STEP_TYPES.has(i.type) ? 2 : 1);
  return [...items].sort((a, b) => rank(a) - rank(b) || a.workflowId.localeCompare(b.workflowId));
}

/** A person whose running work moves, and why. */
export interface PersonMove {
  from: string;
  /** Who takes over, when named (a handover on purpose, a new AI system owner). */
  to?: string;
  /** Their manager as the earlier organization file had them, for their own work. */
  managerBefore?: string;
  /** Only the work about this AI system (its owner changed). */
  aiSystem?: string;
  /** Roles they held that running workflows keep (they left while holding them). */
  roles?: HeldRole[];
  reason: string;
}

/** The moves an organization change calls for: people who left, and AI systems with a new owner. */
export function movesBetween(before: Organization | undefined, after: Organization, leavers: readonly string[]): PersonMove[] {
  const nameOf = (id: string) => before?.people.find((p) => p.id === id)?.name ?? id;
  const moves: PersonMove[] = leavers.map((from) => {
    const managerBefore = before?.people.find((p) => p.id === from)?.manager;
    const roles: HeldRole[] = [];
    if (before?.roles.aimsManager === from) roles.push('aims-manager');
    if (before?.roles.topManagement.includes(from)) roles.push('top-management');
    return {
      from,
      ...(managerBefore ? { managerBefore } : {}),
      ...(roles.length ? { roles } : {}),
      reason: `${nameOf(from)} is no longer in the organization`,
    };
  });
  for (const system of after.aiSystems) {
    const previous = before?.aiSystems.find((s) => s.id === system.id)?.owner;
    if (!previous || previous === system.owner || leavers.includes(previous)) continue;
    moves.push({ from: previous, to: system.owner, aiSystem: system.id, reason: `the AI system ${system.id} is now owned by ${system.owner}` });
  }
  return moves;
}
