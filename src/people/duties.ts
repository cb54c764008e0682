/**
 * Separation of duties and auditor impartiality, in one place: who must not hold a piece of
 * work, and why. Every rule has an id that reads as its name (`impartiality: auditor is the
 * auditee`), and every refusal ends with that id in brackets, so a refused person, an operator
 * and an auditor can all tell which rule was applied.
 *
 * The rules (see `dutyRules` for the table):
 * - nobody approves content they prepared or completed;
 * - the auditee and the owner of an area in an audit's scope (a process, an AI system, a clause
 *   or control a process implements) never approve that audit's report: top management does when
 *   the AIMS manager is one of them;
 * - a task is never delegated or reassigned to someone its parent named as conflicting;
 * - the owner of a nonconformity never approves its action plan, whoever completed the plan;
 * - the AI-governance reviewer of an impact assessment is not the system's owner;
 * - a concern about the AIMS manager is triaged by top management;
 * - an auditor is not the auditee, owns no process, AI system, clause or control in the audit's
 *   scope, and does not audit the AIMS work they run (9.2, 9.3, 10.2 for the AIMS manager).
 *
 * Pure and workflow-safe: the organization comes in as `DutyFacts`, the projection of the
 * organization file these rules read (`dutyFacts`), which an activity hands to workflows.
 */
import { z } from 'zod';
import { personIdSchema } from '../common/schemas.js';
import type { AssigneeRef, Organization } from '../organization/schema.js';

/** The rules, by id; the id is what a refusal names in brackets. */
export const dutyRules = {
  'separation of duties: approver prepared or completed the content': 'Nobody approves content they prepared or completed (the preparer, the assignee and whoever completed the task).',
  'separation of duties: auditee or area owner approves the audit report':
    "The auditee and the owners of the processes, AI systems, clauses and controls in an audit's scope never approve its report; top management does when the AIMS manager is one of them.",
  'separation of duties: task given to a conflicting person': 'A task is not delegated or reassigned to someone its process named as conflicting (e.g. an auditor\'s task to the auditee, a review to the preparer).',
  'separation of duties: NC owner approves their action plan': "The owner of a nonconformity never approves its action plan, whoever completed the plan; top management does when the AIMS manager owns the NC.",
  'separation of duties: reviewer owns the AI system': 'The AI-governance reviewer of an impact assessment is not the owner of the AI system (nor the person who assessed it).',
  'separation of duties: concern about the AIMS manager': 'A concern about the AIMS manager is triaged by top management, never by the AIMS manager.',
  'separation of duties: risk owner accepts their residual risk':
    'A residual risk at or above the acceptance criterion is accepted by top management, never by its risk owner nor by whoever prepared its treatment.',
  'separation of duties: residual risk accepted below top management': 'Only top management accepts a residual risk at or above the acceptance criterion of the organization file (riskCriteria.topManagementAcceptanceFrom).',
  'separation of duties: plan approved by who prepared it': 'A risk treatment plan is approved by the owners of its risks other than whoever prepared it; the AIMS manager (else top management) when that leaves nobody.',
  'impartiality: auditor is the auditee': 'An auditor does not audit themselves.',
  'impartiality: auditor owns a process in scope': "An auditor owns no process in the audit's scope.",
  'impartiality: auditor owns an AI system in scope': "An auditor owns no AI system in the audit's scope.",
  'impartiality: auditor owns a clause in scope': "An auditor owns no process that implements a clause or control in the audit's scope.",
  'impartiality: auditor performs the audited AIMS process': 'The AIMS manager does not audit the AIMS work they run (9.2, 9.3, 10.2).',
  'competence: lead auditor without valid audit competence':
    'A lead auditor holds the audit competence the organization file names (`competence.leadAuditor`), with evidence valid through the audit window (7.2).',
} as const;

export type DutyRuleId = keyof typeof dutyRules;

export const dutyRuleIds = Object.keys(dutyRules) as DutyRuleId[];

export const APPROVER_PREPARED: DutyRuleId = 'separation of duties: approver prepared or completed the content';
export const REPORT_APPROVER_AUDITED: DutyRuleId = 'separation of duties: auditee or area owner approves the audit report';
export const TASK_HOLDER_CONFLICT: DutyRuleId = 'separation of duties: task given to a conflicting person';
export const PLAN_APPROVER_OWNS_NC: DutyRuleId = 'separation of duties: NC owner approves their action plan';
export const REVIEWER_OWNS_SYSTEM: DutyRuleId = 'separation of duties: reviewer owns the AI system';
export const CONCERN_ABOUT_AIMS_MANAGER: DutyRuleId = 'separation of duties: concern about the AIMS manager';
export const RISK_OWNER_ACCEPTS: DutyRuleId = 'separation of duties: risk owner accepts their residual risk';
export const ACCEPTOR_NOT_TOP_MANAGEMENT: DutyRuleId = 'separation of duties: residual risk accepted below top management';
export const PLAN_APPROVER_PREPARED: DutyRuleId = 'separation of duties: plan approved by who prepared it';
export const AUDITOR_IS_AUDITEE: DutyRuleId = 'impartiality: auditor is the auditee';
export const AUDITOR_OWNS_PROCESS: DutyRuleId = 'impartiality: auditor owns a process in scope';
export const AUDITOR_OWNS_SYSTEM: DutyRuleId = 'impartiality: auditor owns an AI system in scope';
export const AUDITOR_OWNS_CLAUSE: DutyRuleId = 'impartiality: auditor owns a clause in scope';
export const AUDITOR_RUNS_AIMS_PROCESS: DutyRuleId = 'impartiality: auditor performs the audited AIMS process';
export const LEAD_AUDITOR_COMPETENCE: DutyRuleId = 'competence: lead auditor without valid audit competence';

/** Someone who must not hold a piece of work, the rule and why (`reason` names the person). */
export const conflictSchema = z.object({
  person: personIdSchema,
  rule: z.enum(dutyRuleIds as [DutyRuleId, ...DutyRuleId[]]),
  reason: z.string().trim().min(1).max(500),
});
export type Conflict = z.infer<typeof conflictSchema>;

/** The conflicts of a piece of work, as task and approval inputs carry them (parents set them). */
export const conflictsSchema = z.array(conflictSchema).max(100).default([]);

/** `reason [rule]`: the words of a refusal. */
export const conflictText = (c: Conflict): string => `${c.reason} [${c.rule}]`;

/** The first conflict that keeps `person` from the work, if any. */
export const conflictOf = (conflicts: readonly Conflict[] | undefined, person: string): Conflict | undefined => conflicts?.find((c) => c.person === person);

/** Conflicts without repeats of the same person and rule, first reason kept. */
export function uniqueConflicts(conflicts: readonly Conflict[]): Conflict[] {
  return conflicts.filter((c, i) => conflicts.findIndex((o) => o.person === c.person && o.rule === c.rule) === i);
}

/**
 * Why a task may not go to `to` (delegated or reassigned), naming both the task rule and the
 * rule its process gave; undefined when it may.
 */
export function taskHolderRefusal(conflicts: readonly Conflict[] | undefined, to: string, action: 'delegated' | 'reassigned'): string | undefined {
  const c = conflictOf(conflicts, to);
  return c ? `this task cannot be ${action} to ${to}: ${c.reason} [${TASK_HOLDER_CONFLICT}] [${c.rule}]` : undefined;
}

// ---------------------------------------------------------------------------------------------
// The organization as these rules read it

/** The projection of the organization file the rules read. */
export interface DutyFacts {
  aimsManager: string;
  topManagement: string[];
  /** Owner per process. */
  processOwners: Record<string, string>;
  /** Clauses and Annex A controls each process implements (`aims.processClauses`). */
  processClauses: Record<string, string[]>;
  /** Owner per AI system. */
  aiSystemOwners: Record<string, string>;
}

export function dutyFacts(org: Organization): DutyFacts {
  return {
    aimsManager: org.roles.aimsManager,
    topManagement: [...org.roles.topManagement],
    processOwners: { ...org.roles.processOwners },
    processClauses: Object.fromEntries(Object.entries(org.aims.processClauses).map(([p, cs]) => [p, [...cs]])),
    aiSystemOwners: Object.fromEntries(org.aiSystems.map((s) => [s.id, s.owner])),
  };
}

/** Clauses 9.2, 9.3 and 10.2 are AIMS processes run by the AIMS manager. */
export const aimsManagerOwnClauses = ['9.2', '9.3', '10.2'] as const;

/** Whether two clause or control references overlap (`9` and `9.2`, `9.2` and `9.2.1`, `A.7` and `A.7.2`). */
export const clausesOverlap = (a: string, b: string): boolean => a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);

/** What an audit covers. */
export interface DutyScope {
  processes?: readonly string[];
  aiSystems?: readonly string[];
  clauses?: readonly string[];
  controls?: readonly string[];
}

/** An area in scope and its owner: `process "x"`, `AI system "y"`, `clause 8.2 (process "x")`. */
export interface AreaOwner {
  person: string;
  kind: 'process' | 'ai-system' | 'clause';
  /** In words, for refusals. */
  area: string;
  /** For `clause`: the clauses and controls in scope, and the process that implements them. */
  items?: string[];
  process?: string;
}

const clauseArea = (items: readonly string[], process: string) => `${items.join(', ')} (implemented by the process "${process}")`;

/**
 * The owners of the areas in a scope: of each process, of each AI system, and of each process
 * that implements a clause or control in scope. A clause of a process already in scope is not
 * repeated.
 */
export function areaOwners(facts: DutyFacts, scope: DutyScope): AreaOwner[] {
  const out: AreaOwner[] = [];
  const processes = scope.processes ?? [];
  for (const process of processes) {
    const owner = facts.processOwners[process];
    if (owner) out.push({ person: owner, kind: 'process', area: `the process "${process}"` });
  }
  for (const system of scope.aiSystems ?? []) {
    const owner = facts.aiSystemOwners[system];
    if (owner) out.push({ person: owner, kind: 'ai-system', area: `the AI system "${system}"` });
  }
  const items = [...(scope.clauses ?? []), ...(scope.controls ?? [])];
  for (const [process, implemented] of Object.entries(facts.processClauses)) {
    const owner = facts.processOwners[process];
    if (!owner || processes.includes(process)) continue;
    const hit = items.filter((i) => implemented.some((c) => clausesOverlap(i, c)));
    if (hit.length) out.push({ person: owner, kind: 'clause', area: clauseArea(hit, process), items: hit, process });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Approvals

/** Nobody approves content they prepared or completed: the people who did, as conflicts. */
export function approverConflicts(input: { preparedBy?: readonly (string | undefined)[]; completedBy?: readonly (string | undefined)[] }): Conflict[] {
  const out: Conflict[] = [];
  for (const person of input.preparedBy ?? []) {
    if (person && person !== 'system') out.push({ person, rule: APPROVER_PREPARED, reason: `${person} prepared the content` });
  }
  for (const person of input.completedBy ?? []) {
    if (person && person !== 'system') out.push({ person, rule: APPROVER_PREPARED, reason: `${person} completed the work to be approved` });
  }
  return uniqueConflicts(out);
}

/** Who approves, and who must not. */
export interface ApprovalRouting {
  approvers: AssigneeRef[];
  conflicts: Conflict[];
}

/** The AIMS manager approves unless a conflict keeps them from it; then top management does. */
function aimsManagerOrTop(aimsManager: string, conflicts: Conflict[]): ApprovalRouting {
  return { approvers: conflictOf(conflicts, aimsManager) ? [{ role: 'top-management' }] : [{ person: aimsManager }], conflicts };
}

/**
 * An internal audit report's approval: the AIMS manager, unless they lead or recorded the audit,
 * are the auditee or own an area in scope; then top management (without those of them who are).
 */
export function auditReportApproval(facts: DutyFacts, audit: { auditee: string; leadAuditor: string; recordedBy: string; scope: DutyScope }): ApprovalRouting {
  const conflicts = [
    ...approverConflicts({ preparedBy: [audit.leadAuditor], completedBy: [audit.recordedBy] }),
    { person: audit.auditee, rule: REPORT_APPROVER_AUDITED, reason: `${audit.auditee} is the auditee` },
    ...areaOwners(facts, audit.scope).map((o) => ({ person: o.person, rule: REPORT_APPROVER_AUDITED, reason: `${o.person} owns ${o.area} in the audit scope` })),
  ];
  return aimsManagerOrTop(facts.aimsManager, uniqueConflicts(conflicts));
}

/**
 * A corrective action plan's approval: chosen from the NC owner, not from who completed the plan.
 * The owner and whoever prepared or completed the plan never approve it; the AIMS manager
 * approves unless they are one of them, then top management.
 */
export function actionPlanApproval(input: { aimsManager: string; ncOwner: string; assignee?: string | undefined; completedBy: string }): ApprovalRouting {
  const conflicts = uniqueConflicts([
    { person: input.ncOwner, rule: PLAN_APPROVER_OWNS_NC, reason: `${input.ncOwner} owns the nonconformity` },
    ...approverConflicts({ preparedBy: [input.assignee], completedBy: [input.completedBy] }),
  ]);
  return aimsManagerOrTop(input.aimsManager, conflicts);
}

// ---------------------------------------------------------------------------------------------
// Reviews and triage

/**
 * The AI-governance reviewer of an impact assessment: the first member who neither owns the
 * system nor assessed it. `reviewer` is undefined when no member may; then `fallback` (the AIMS
 * manager, else top management) reviews.
 */
export function impactReviewer(input: { members: readonly string[]; systemOwner: string; assessedBy?: string | undefined; aimsManager: string }): {
  reviewer: AssigneeRef;
  conflicts: Conflict[];
} {
  const conflicts = uniqueConflicts([
    { person: input.systemOwner, rule: REVIEWER_OWNS_SYSTEM, reason: `${input.systemOwner} owns the AI system` },
    ...approverConflicts({ completedBy: [input.assessedBy] }),
  ]);
  const member = input.members.find((m) => !conflictOf(conflicts, m));
  const reviewer: AssigneeRef = member ? { person: member } : conflictOf(conflicts, input.aimsManager) ? { role: 'top-management' } : { person: input.aimsManager };
  return { reviewer, conflicts };
}

/** A concern's triage: the AIMS manager, or top management when the concern is about the AIMS manager. */
export function concernTriage(input: { aimsManager: string; aboutAimsManager: boolean }): { assignee: AssigneeRef; conflicts: Conflict[] } {
  if (!input.aboutAimsManager) return { assignee: { role: 'aims-manager' }, conflicts: [] };
  return {
    assignee: { role: 'top-management' },
    conflicts: [{ person: input.aimsManager, rule: CONCERN_ABOUT_AIMS_MANAGER, reason: 'the concern is about the AIMS manager' }],
  };
}

// ---------------------------------------------------------------------------------------------
// Auditors

/**
 * Why `auditor` may not audit: they are the auditee, own a process, an AI system or a clause in
 * scope, or are the AIMS manager auditing the AIMS work they run. Empty when impartial.
 */
export function auditorConflicts(facts: DutyFacts, audit: { leadAuditor: string; auditee: string; scope: DutyScope }): Conflict[] {
  const auditor = audit.leadAuditor;
  const out: Conflict[] = [];
  if (auditor === audit.auditee) out.push({ person: auditor, rule: AUDITOR_IS_AUDITEE, reason: `${auditor} cannot audit themselves (they are the auditee)` });
  const aimsOwn = auditor === facts.aimsManager ? (audit.scope.clauses ?? []).filter((c) => aimsManagerOwnClauses.some((o) => clausesOverlap(o, c))) : [];
  for (const owned of areaOwners(facts, audit.scope)) {
    if (owned.person !== auditor) continue;
    if (owned.kind === 'process') out.push({ person: auditor, rule: AUDITOR_OWNS_PROCESS, reason: `${auditor} owns ${owned.area} in the audit scope` });
    else if (owned.kind === 'ai-system') out.push({ person: auditor, rule: AUDITOR_OWNS_SYSTEM, reason: `${auditor} owns ${owned.area} in the audit scope` });
    else {
      // Clauses the AIMS-process rule below names already are not named twice.
      const items = (owned.items ?? []).filter((i) => !aimsOwn.includes(i));
      if (items.length) out.push({ person: auditor, rule: AUDITOR_OWNS_CLAUSE, reason: `${auditor} owns ${clauseArea(items, owned.process ?? '')} in the audit scope` });
    }
  }
  if (aimsOwn.length) {
    out.push({
      person: auditor,
      rule: AUDITOR_RUNS_AIMS_PROCESS,
      reason: `${auditor} is the AIMS manager and runs the work of clause(s) ${aimsOwn.join(', ')} in the audit scope`,
    });
  }
  return out;
}

/**
 * The people an auditor's tasks (plan, fieldwork, findings) must not go to: the auditee and the
 * owners of the areas in scope, under the impartiality rule each would break.
 */
export function auditorTaskConflicts(facts: DutyFacts | undefined, audit: { auditee: string; scope: DutyScope }): Conflict[] {
  const out: Conflict[] = [{ person: audit.auditee, rule: AUDITOR_IS_AUDITEE, reason: `${audit.auditee} is the auditee` }];
  for (const o of facts ? areaOwners(facts, audit.scope) : []) {
    const rule = o.kind === 'process' ? AUDITOR_OWNS_PROCESS : o.kind === 'ai-system' ? AUDITOR_OWNS_SYSTEM : AUDITOR_OWNS_CLAUSE;
    out.push({ person: o.person, rule, reason: `${o.person} owns ${o.area} in the audit scope` });
  }
  // One reason per person is enough to keep them from the task.
  return out.filter((c, i) => out.findIndex((o) => o.person === c.person) === i);
}

/**
 * Why `auditor` may not lead an audit ending `untilDay` (YYYY-MM-DD) for want of competence: the
 * organization names a lead-auditor competence and the auditor has no evidence of it, or only
 * evidence that expires before the audit ends. Undefined when competent or when no competence is
 * required.
 */
export function leadAuditorCompetenceConflict(org: Organization, auditor: string, untilDay: string): Conflict | undefined {
  const required = org.competence.leadAuditor;
  if (!required) return undefined;
  const held = org.people.find((p) => p.id === auditor)?.competences.filter((c) => c.competence === required) ?? [];
  if (held.some((c) => !c.expiresOn || c.expiresOn >= untilDay)) return undefined;
  const expired = held.map((c) => c.expiresOn).sort().at(-1);
  return {
    person: auditor,
    rule: LEAD_AUDITOR_COMPETENCE,
    reason: expired
      ? `${auditor}'s evidence of the competence "${required}" expires on ${expired}, before the audit ends on ${untilDay}`
      : `${auditor} has no evidence of the competence "${required}" in the organization file`,
  };
}

/**
 * A risk treatment plan's approval: the owners of its risks other than the preparer; when that
 * leaves nobody, the AIMS manager, or top management when the AIMS manager prepared it.
 */
export function treatmentPlanApproval(input: { owners: readonly string[]; preparedBy: string; aimsManager: string }): ApprovalRouting {
  const conflicts = uniqueConflicts([{ person: input.preparedBy, rule: PLAN_APPROVER_PREPARED, reason: `${input.preparedBy} prepared the treatment plan` }]);
  const owners = [...new Set(input.owners)].filter((o) => o !== input.preparedBy);
  if (owners.length) return { approvers: owners.map((person) => ({ person })), conflicts };
  return aimsManagerOrTop(input.aimsManager, conflicts);
}

/** Who must not accept a residual risk: its owner and whoever prepared its treatment (top management accepts). */
export function residualAcceptanceConflicts(input: { riskOwner: string; preparedBy: string }): Conflict[] {
  return uniqueConflicts([
    { person: input.riskOwner, rule: RISK_OWNER_ACCEPTS, reason: `${input.riskOwner} owns the risk` },
    ...(input.preparedBy !== 'system' ? [{ person: input.preparedBy, rule: RISK_OWNER_ACCEPTS, reason: `${input.preparedBy} prepared its treatment` }] : []),
  ]);
}

/** Why `person` may not accept a residual risk outside a cycle, or undefined when they may. */
export function residualAcceptanceRefusal(input: { person: string; topManagement: readonly string[]; riskOwner: string }): string | undefined {
  if (!input.topManagement.includes(input.person)) return `${input.person} is not top management: a residual risk at or above the acceptance criterion is accepted by top management [${ACCEPTOR_NOT_TOP_MANAGEMENT}]`;
  if (input.person === input.riskOwner) return `${input.person} owns the risk [${RISK_OWNER_ACCEPTS}]`;
  return undefined;
}
