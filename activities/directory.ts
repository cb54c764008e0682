/**
 * Directory look-ups against the organization file: resolve roles to people, people to their
 * e-mail addresses, and the escalation ladder for an assignee. Read-only, so safe to retry.
 */
import { ApplicationFailure } from '@temporalio/common';
import {
  findPerson,
  OrganizationLookupError,
  resolveAssignees,
  resolveEscalationTarget,
  type AssigneeRef,
  type EscalationStep,
  type Organization,
} from '../src/organization/schema.js';
import type { PersonRef } from '../src/common/schemas.js';
import { durationMs } from '../src/common/duration.js';

export interface DirectoryDeps {
  /** The current organization (loaded and validated at worker start). */
  organization: () => Organization;
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
}

function lookup<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof OrganizationLookupError) {
      throw ApplicationFailure.nonRetryable(err.message, 'OrganizationLookupError');
    }
    throw err;
  }
}

function personRef(org: Organization, id: string): PersonRef {
  const p = findPerson(org, id);
  return { id: p.id, name: p.name, email: p.email };
}

export function createDirectoryActivities({ organization }: DirectoryDeps) {
  return {
    /** Resolves a task's assignee and the timing defaults from the organization file. */
    async resolveTaskPeople(input: {
      assignee: AssigneeRef;
      policy: { reminderOffsets?: string[]; escalation?: EscalationStep[] };
    }): Promise<ResolvedTaskPeople> {
      const org = organization();
      return lookup(() => {
        const [assigneeId] = resolveAssignees(org, input.assignee);
        if (!assigneeId) throw new OrganizationLookupError('nobody holds that role');
        const assignee = personRef(org, assigneeId);
        const reminderOffsets = input.policy.reminderOffsets ?? org.defaults.reminderOffsets;
        const escalation = input.policy.escalation ?? org.defaults.escalation;
        const manager = findPerson(org, assigneeId).manager;
        return {
          assignee,
          ...(manager ? { managerId: manager } : {}),
          aimsManagerId: org.roles.aimsManager,
          reminderOffsets,
          escalation,
          reminderOffsetsMs: reminderOffsets.map(durationMs),
          escalationAfterMs: escalation.map((s) => durationMs(s.after)),
        };
      });
    },

    /** A person by id; an unknown id is a non-retryable error naming it. */
    async resolvePerson(personId: string): Promise<PersonRef & { managerId?: string }> {
      const org = organization();
      return lookup(() => {
        const manager = findPerson(org, personId).manager;
        return { ...personRef(org, personId), ...(manager ? { managerId: manager } : {}) };
      });
    },

    /** Everyone named by a list of people and roles, de-duplicated, in order. */
    async resolvePeople(refs: AssigneeRef[]): Promise<PersonRef[]> {
      const org = organization();
      return lookup(() => {
        const ids = [...new Set(refs.flatMap((ref) => resolveAssignees(org, ref)))];
        return ids.map((id) => personRef(org, id));
      });
    },

    /** Who an escalation step reaches for an assignee. */
    async resolveEscalation(input: { assigneeId: string; to: EscalationStep['to'] }): Promise<PersonRef[]> {
      const org = organization();
      return lookup(() => resolveEscalationTarget(org, input.assigneeId, input.to).map((id) => personRef(org, id)));
    },
  };
}

export type DirectoryActivities = ReturnType<typeof createDirectoryActivities>;
