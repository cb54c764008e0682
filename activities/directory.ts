/**
 * Directory look-ups against the organization file: resolve roles to people, people to their
 * e-mail addresses, and the escalation ladder for an assignee. Read-only, so safe to retry.
 *
 * A look-up never fails: people leave and roles change hands while work runs. A person who is
 * not in the file (any more) comes back as a value (`unknown: true`, no e-mail address), and
 * where work must reach someone the answer names the fallback and says why (`insteadOf`,
 * `rerouted`): the manager recorded at assignment when the caller passes one, else the AIMS
 * manager (for work) or top management (for escalation). Nothing here throws for an unknown
 * person; `test/directory.test.ts` checks that.
 */
import type { AssigneeRef, EscalationStep, Organization } from '../src/organization/schema.js';
import type { PersonRef } from '../src/common/schemas.js';
import { durationMs } from '../src/common/duration.js';
import { dutyFacts, type DutyFacts } from '../src/people/duties.js';

export interface DirectoryDeps {
  /** The current organization (loaded and validated at worker start, reloaded when it changes). */
  organization: () => Organization;
}

/** A person as the directory answers: known, or `unknown` (no address) when not in the file. */
export type DirectoryPerson = PersonRef & {
  /** Not in the organization file (any more): nothing can be mailed to them. */
  unknown?: true;
  /** This person stands in for someone or a role the file does not name (any more): why. */
  insteadOf?: string;
};

/** A task's assignee replaced by a fallback, and why. */
export interface Rerouted {
  /** Whom the task was asked for: a person id, or the role in words. */
  from: string;
  to: string;
  reason: string;
}

export interface ResolvedTaskPeople {
  assignee: PersonRef;
  /** The assignee's manager, if any. */
  managerId?: string;
  aimsManagerId: string;
  reminderOffsets: string[];
  escalation: EscalationStep[];
  /** Reminder offsets and escalation delays in milliseconds, for the workflow's timers. */
  reminderOffsetsMs: number[];
  escalationAfterMs: number[];
  /** Set when the assignee asked for is not in the organization (or the role is vacant) and a fallback holds the task. */
  rerouted?: Rerouted;
}

const isKnown = (org: Organization, id: string | undefined): id is string => id !== undefined && org.people.some((p) => p.id === id);

/** A person by id, or an `unknown` one without an address. */
function personOf(org: Organization, id: string): DirectoryPerson {
  const p = org.people.find((x) => x.id === id);
  return p ? { id: p.id, name: p.name, email: p.email } : { id, name: id, email: '', unknown: true };
}

function managerOf(org: Organization, id: string): string | undefined {
  return org.people.find((p) => p.id === id)?.manager;
}

/** A role in words, e.g. `process-owner of data-management`. */
function roleText(ref: Extract<AssigneeRef, { role: string }>): string {
  return `${ref.role}${ref.of ? ` of ${ref.of}` : ''}`;
}

/** Who holds a role now, known people only; empty when nobody does. */
function roleHolders(org: Organization, ref: Extract<AssigneeRef, { role: string }>): string[] {
  const { roles } = org;
  const ids = (() => {
    switch (ref.role) {
      case 'top-management':
        return roles.topManagement;
      case 'aims-manager':
        return [roles.aimsManager];
      case 'internal-auditor':
        return roles.internalAuditors;
      case 'ai-governance':
        return roles.aiGovernance;
      case 'process-owner':
        return ref.of !== undefined && roles.processOwners[ref.of] !== undefined ? [roles.processOwners[ref.of]!] : [];
      case 'system-owner': {
        const owner = org.aiSystems.find((s) => s.id === ref.of)?.owner;
        return owner !== undefined ? [owner] : [];
      }
      default:
        return [];
    }
  })();
  return ids.filter((id) => isKnown(org, id));
}

/** Top management as known people; the AIMS manager when the file names none. */
function topManagement(org: Organization): string[] {
  const top = org.roles.topManagement.filter((id) => isKnown(org, id));
  return top.length ? top : [org.roles.aimsManager];
}

export function createDirectoryActivities({ organization }: DirectoryDeps) {
  return {
    /**
     * Resolves a task's assignee and the timing defaults from the organization file. An assignee
     * not in the organization (or a role nobody holds) is replaced by a fallback, said in
     * `rerouted`: `managerId` (the manager the caller recorded at assignment) when known, else
     * the AIMS manager.
     */
    async resolveTaskPeople(input: {
      assignee: AssigneeRef;
      policy: { reminderOffsets?: string[]; escalation?: EscalationStep[] };
      /** The manager recorded when the work was assigned: the fallback for an assignee who left. */
      managerId?: string;
    }): Promise<ResolvedTaskPeople> {
      const org = organization();
      const aimsManagerId = org.roles.aimsManager;
      const fallback = isKnown(org, input.managerId) ? input.managerId : aimsManagerId;
      const fallbackText = `${personOf(org, fallback).name}, ${fallback === input.managerId ? 'the manager recorded at assignment' : 'the AIMS manager'}`;
      let assigneeId: string;
      let rerouted: Rerouted | undefined;
      if ('person' in input.assignee) {
        const asked = input.assignee.person;
        assigneeId = isKnown(org, asked) ? asked : fallback;
        if (assigneeId !== asked) rerouted = { from: asked, to: assigneeId, reason: `${asked} is not in the organization; the task goes to ${fallbackText}` };
      } else {
        const [holder] = roleHolders(org, input.assignee);
        assigneeId = holder ?? fallback;
        if (!holder) rerouted = { from: roleText(input.assignee), to: assigneeId, reason: `nobody holds the role ${roleText(input.assignee)}; the task goes to ${fallbackText}` };
      }
      const reminderOffsets = input.policy.reminderOffsets ?? org.defaults.reminderOffsets;
      const escalation = input.policy.escalation ?? org.defaults.escalation;
      const manager = managerOf(org, assigneeId);
      return {
        assignee: personOf(org, assigneeId),
        ...(manager ? { managerId: manager } : {}),
        aimsManagerId,
        reminderOffsets,
        escalation,
        reminderOffsetsMs: reminderOffsets.map(durationMs),
        escalationAfterMs: escalation.map((s) => durationMs(s.after)),
        ...(rerouted ? { rerouted } : {}),
      };
    },

    /** A person by id; one not in the organization comes back `unknown`, without an address. */
    /** The organization as the separation-of-duties rules read it (src/people/duties.ts). */
    async dutyFacts(): Promise<DutyFacts> {
      return dutyFacts(organization());
    },

    async resolvePerson(personId: string): Promise<DirectoryPerson & { managerId?: string }> {
      const org = organization();
      const manager = managerOf(org, personId);
      return { ...personOf(org, personId), ...(manager ? { managerId: manager } : {}) };
    },

    /**
     * Everyone named by a list of people and roles, de-duplicated, in order. A person not in the
     * organization comes back `unknown` (the caller refuses or routes around them); a role nobody
     * holds comes back as the AIMS manager, standing in for it (`insteadOf`).
     */
    async resolvePeople(refs: AssigneeRef[]): Promise<DirectoryPerson[]> {
      const org = organization();
      const out: DirectoryPerson[] = [];
      const add = (p: DirectoryPerson) => {
        if (!out.some((o) => o.id === p.id)) out.push(p);
      };
      for (const ref of refs) {
        if ('person' in ref) {
          add(personOf(org, ref.person));
          continue;
        }
        const holders = roleHolders(org, ref);
        if (holders.length) holders.forEach((id) => add(personOf(org, id)));
        else add({ ...personOf(org, org.roles.aimsManager), insteadOf: `nobody holds the role ${roleText(ref)}` });
      }
      return out;
    },

    /**
     * Who an escalation step reaches for an assignee: `manager` is the assignee's manager (top
     * management when they have none); for an assignee not in the organization it is
     * `managerId` (recorded at assignment) when known, else top management, and each target says
     * so in `insteadOf`.
     */
    async resolveEscalation(input: { assigneeId: string; to: EscalationStep['to']; managerId?: string }): Promise<DirectoryPerson[]> {
      const org = organization();
      const gone = !isKnown(org, input.assigneeId);
      let ids: string[];
      switch (input.to) {
        case 'manager': {
          const manager = gone ? input.managerId : managerOf(org, input.assigneeId);
          ids = isKnown(org, manager) ? [manager] : topManagement(org);
          break;
        }
        case 'top-management':
          ids = topManagement(org);
          break;
        default:
          ids = [org.roles.aimsManager];
      }
      const insteadOf = gone ? `${input.assigneeId} is not in the organization` : undefined;
      return ids.map((id) => ({ ...personOf(org, id), ...(insteadOf ? { insteadOf } : {}) }));
    },
  };
}

export type DirectoryActivities = ReturnType<typeof createDirectoryActivities>;
