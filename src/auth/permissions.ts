/**
 * Who may do what: the one policy table of role → permitted actions, and the roles of a
 * principal. Routes declare the permission they need (`requirePermission` in
 * src/api/plugins/admin-auth.ts); the CLI is a client of those routes, so it is refused by the
 * same table. Workflows still check who acts on their own content (the owner of an NC, the
 * assignee of a task, separation of duties); this table is the gate in front of them.
 *
 * Roles of a person come from the organization file (`roles`, and the owners of its AI
 * systems); roles of a service (a key of API_KEYS naming a service) come from its key entry.
 * Workflow-safe: zod-free, no Node built-ins.
 */
import type { Organization } from '../organization/schema.js';
import type { Principal } from './principal.js';

export const ROLES = [
  'top-management',
  'aims-manager',
  'internal-auditor',
  'ai-governance',
  'process-owner',
  'system-owner',
  'external-auditor',
  'operations-admin',
] as const;
export type Role = (typeof ROLES)[number];

/** Roles a service key may hold (persons get theirs from the organization file). */
export const SERVICE_ROLES = ['operations-admin', 'external-auditor'] as const satisfies readonly Role[];

/**
 * Every action a route can ask for, by process. `<process>.read` covers the lists, details,
 * summaries and packs of that process.
 */
export const PERMISSIONS = {
  'records.read': 'list the evidence ledger',
  'records.verify': 'verify the evidence ledger',
  'records.export': 'export the audit pack',
  'tasks.read': 'list tasks, approvals and their status',
  'tasks.start': 'start a task or an approval',
  'tasks.cancel': 'cancel a task or an approval',
  'corrective-action.read': 'list nonconformities and their status',
  'corrective-action.raise': 'raise a nonconformity (start its corrective action)',
  'corrective-action.comment': 'post an update on a nonconformity',
  'corrective-action.cancel': 'cancel a nonconformity',
  'concern.read': 'read concerns',
  'concern.triage': 'triage a concern',
  'improvement.read': 'list improvement items',
  'improvement.triage': 'action or dismiss an improvement item',
  'people.read': 'list the work a person holds',
  'people.handover': 'hand a person\'s work over to someone else',
  'organization.reload': 'put the organization file into force',
  'schedules.read': 'list the yearly schedules',
  'schedules.manage': 'set, pause, trigger or delete a yearly schedule',
  'ai-system.read': 'list AI systems and their assessments',
  'ai-system.register': 'register, update or retire an AI system',
  'ai-system.change': 'announce a significant change of an AI system',
  'ai-system.sync': 'sync the AI systems of the organization file',
  'certification.read': 'read certification cycles',
  'certification.start': 'start a certification cycle',
  'certification.plan': 'change the plan of a certification cycle',
  'certification.decide': 'record external audit outcomes and certification decisions',
  'certification.cancel': 'cancel a certification cycle',
  'management-review.read': 'read management reviews and their packs',
  'management-review.start': 'start a management review',
  'management-review.minutes': 'record the minutes of a management review',
  'management-review.cancel': 'cancel a management review',
  'internal-audit.read': 'read internal audit programmes and their summary',
  'internal-audit.start': 'start an internal audit programme',
  'internal-audit.plan': 'plan, add, reschedule or reassign internal audits',
  'internal-audit.cancel': 'cancel an internal audit',
  'internal-audit.close': 'close an internal audit year',
  'objective.read': 'list AI objectives and their measurements',
  'objective.manage': 'register, change or retire an AI objective',
  'policy.read': 'read the AI policy versions and acknowledgements',
  'policy.review': 'start a review of the AI policy',
  'competence.read': 'read competence gaps and renewals',
  'risk.read': 'read the AI risk register and risk assessments',
  'risk.manage': 'add a risk to the register or change one outside an assessment',
  'risk.accept': 'accept a residual risk (top management only, never the risk owner)',
  'risk-assessment.start': 'start a risk assessment of an AI system or the AIMS',
  'soa.read': 'read the Statement of Applicability, its versions, diff and exports',
  'soa.edit': 'change the Statement of Applicability or start its review',
  'console.attention': 'see what needs attention across processes on the console home: overdue work, approvals waiting, the next external audit\'s readiness',
  'payloads.codec': 'read and write decrypted workflow payloads through the codec endpoint of the Temporal UI',
} as const;
export type Permission = keyof typeof PERMISSIONS;

/** Held by operations only: the decrypted payloads of every workflow, as the Temporal UI shows them. */
const OPERATIONS_ONLY: Permission[] = ['payloads.codec'];
const ALL = (Object.keys(PERMISSIONS) as Permission[]).filter((p) => !OPERATIONS_ONLY.includes(p));
const READS = ALL.filter((p) => p.endsWith('.read'));
const EVIDENCE: Permission[] = ['records.read', 'records.verify', 'records.export'];
const OPERATIONS: Permission[] = ['schedules.manage', 'organization.reload', 'ai-system.sync'];

/** The policy: what each role may do. A principal may do what any of its roles may. */
export const POLICY: Readonly<Record<Role, readonly Permission[]>> = {
  // Runs the AIMS: plans, starts cycles, records minutes and the certification body's decisions, triages
  // (everything but the operations-only codec: they read a workflow's content through the API).
  'aims-manager': ALL,
  // Reads everything and the evidence; decides through approval links, not the admin API.
  'top-management': [...READS, ...EVIDENCE, 'risk.accept', 'console.attention'],
  'internal-auditor': [
    'internal-audit.read',
    'internal-audit.plan',
    'corrective-action.read',
    'corrective-action.raise',
    'improvement.read',
    'tasks.read',
    'records.read',
    'ai-system.read',
    'risk.read',
    'soa.read',
  ],
  'ai-governance': ['ai-system.read', 'ai-system.register', 'ai-system.change', 'corrective-action.read', 'tasks.read', 'records.read', 'risk.read', 'risk.manage', 'soa.read'],
  'process-owner': ['tasks.read', 'corrective-action.read', 'corrective-action.raise', 'corrective-action.comment', 'improvement.read', 'records.read', 'risk.read', 'soa.read'],
  'system-owner': ['ai-system.read', 'ai-system.change', 'tasks.read', 'corrective-action.read', 'corrective-action.raise', 'corrective-action.comment', 'records.read', 'risk.read', 'risk-assessment.start'],
  // Read-only: status, ledger, export, verify; never starts or decides.
  'external-auditor': [...READS, ...EVIDENCE],
  // Keeps the system running: schedules, the organization file, syncs; reads everything.
  'operations-admin': [...READS, ...EVIDENCE, ...OPERATIONS, ...OPERATIONS_ONLY],
};

/** Whether any of `roles` permits `permission`. */
export function permits(roles: Iterable<Role>, permission: Permission): boolean {
  for (const role of roles) if (POLICY[role].includes(permission)) return true;
  return false;
}

/** The roles the organization file gives a person (none for someone not in it). */
export function personRoles(organization: Organization, personId: string): Role[] {
  if (!organization.people.some((p) => p.id === personId)) return [];
  const { roles } = organization;
  const held: Role[] = [];
  if (roles.topManagement.includes(personId)) held.push('top-management');
  if (roles.aimsManager === personId) held.push('aims-manager');
  if (roles.internalAuditors.includes(personId)) held.push('internal-auditor');
  if (roles.aiGovernance.includes(personId)) held.push('ai-governance');
  if (Object.values(roles.processOwners).includes(personId)) held.push('process-owner');
  if (organization.aiSystems.some((s) => s.owner === personId)) held.push('system-owner');
  if (roles.externalAuditors.includes(personId)) held.push('external-auditor');
  if (roles.operationsAdmins.includes(personId)) held.push('operations-admin');
  return held;
}

/** Where a principal's roles come from: the organization file, and the roles of each service key by name. */
export interface RoleSources {
  organization: Organization | undefined;
  serviceRoles: (keyName: string) => readonly Role[];
}

/** The roles of a principal. */
export function principalRoles(principal: Principal, sources: RoleSources): readonly Role[] {
  if (principal.kind === 'service') return sources.serviceRoles(principal.key);
  return sources.organization ? personRoles(sources.organization, principal.id) : [];
}

/** How a principal is named in refusals and logs: `person priya.raman (key ci-priya)`, `service ci (key ci-deploy)`. */
export function describePrincipal(principal: Principal): string {
  const key = principal.key ? ` (key ${principal.key})` : principal.via === 'session' ? ' (signed in)' : '';
  return `${principal.kind} ${principal.id}${key}`;
}

/**
 * The actor an action is recorded under: a person's id, or `service:<name>` for a service
 * (which the policy lets act only where the API itself records the action: schedules, the
 * organization file, syncs).
 */
export function actorOf(principal: Principal): string {
  return principal.kind === 'person' ? principal.id : `service:${principal.id}`;
}
