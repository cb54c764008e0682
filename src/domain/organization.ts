/**
 * The organization file: who is who, which roles they hold, the AI systems inventory,
 * certification details and the defaults for reminders and escalation.
 *
 * Workflow-safe (zod only); src/organization.ts loads the YAML from disk.
 */
import { z } from 'zod';
import { calendarDate } from './dates.js';
import { durationString } from './duration.js';

const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be lowercase letters, digits, ".", "_" or "-" (max 64)');

const isoDate = calendarDate;

export const personSchema = z.object({
  id,
  name: z.string().min(1),
  email: z.email(),
  manager: id.optional(),
  title: z.string().optional(),
});

export const impactTiers = ['low', 'medium', 'high', 'critical'] as const;

export const aiSystemSchema = z.object({
  id,
  name: z.string().min(1),
  owner: id,
  purpose: z.string().min(1),
  impactTier: z.enum(impactTiers),
  lifecycle: z.enum(['design', 'development', 'deployed', 'retired']).default('deployed'),
});

export const escalationTargets = ['manager', 'top-management', 'aims-manager'] as const;

export const escalationStepSchema = z.object({
  /** Time after the due date, e.g. `2d`. */
  after: durationString,
  to: z.enum(escalationTargets),
});

export const organizationSchema = z
  .object({
    organization: z.object({
      id,
      name: z.string().min(1),
      timezone: z.string().default('UTC'),
    }),
    aims: z.object({
      scope: z.string().min(1),
      standards: z.array(z.string().min(1)).min(1).default(['ISO/IEC 42001:2023']),
      clauses: z.array(z.string().regex(/^(4|5|6|7|8|9|10)(\.\d+)*$/, 'must be a clause number 4-10')).min(1),
      annexA: z.object({
        applicable: z.array(z.string().regex(/^A\.\d+(\.\d+)+$/, 'must be an Annex A control id like A.5.4')),
        excluded: z
          .array(
            z.object({
              control: z.string().regex(/^A\.\d+(\.\d+)+$/, 'must be an Annex A control id like A.5.4'),
              justification: z.string().min(1),
            }),
          )
          .default([]),
      }),
    }),
    people: z.array(personSchema).min(1),
    roles: z.object({
      topManagement: z.array(id).min(1),
      aimsManager: id,
      internalAuditors: z.array(id).default([]),
      aiGovernance: z.array(id).default([]),
      /** Owner per process, e.g. `corrective-action: alice`. */
      processOwners: z.record(id, id).default({}),
    }),
    aiSystems: z.array(aiSystemSchema).default([]),
    certification: z
      .object({
        body: z.object({ name: z.string().min(1), contactEmail: z.email().optional() }),
        certificate: z
          .object({
            id: z.string().min(1),
            standard: z.string().default('ISO/IEC 42001:2023'),
            decisionDate: isoDate,
            expiresOn: isoDate,
          })
          .optional(),
      })
      .optional(),
    defaults: z
      .object({
        reminderOffsets: z.array(durationString).default(['7d', '1d']),
        escalation: z.array(escalationStepSchema).default([
          { after: '2d', to: 'manager' },
          { after: '7d', to: 'top-management' },
        ]),
        linkValidity: durationString.default('14d'),
        /** Corrective action (10.2): step due dates and targets by severity, and the effectiveness waiting period. */
        correctiveAction: z
          .object({
            /** Due date of the containment and of each analysis step, after it starts. */
            stepDue: z
              .object({ major: durationString.default('7d'), minor: durationString.default('30d') })
              .prefault({}),
            /** Time after the actions are done before their effectiveness is reviewed. */
            effectivenessWait: durationString.default('60d'),
            /** Overall target from raising to closure; an NC still open after it goes to top management. */
            overallTarget: z
              .object({ major: durationString.default('90d'), minor: durationString.default('180d') })
              .prefault({}),
          })
          .prefault({}),
      })
      .prefault({}),
  })
  .superRefine((org, ctx) => {
    const people = new Map<string, number>();
    org.people.forEach((person, i) => {
      if (people.has(person.id)) {
        ctx.addIssue({ code: 'custom', path: ['people', i, 'id'], message: `duplicate person id "${person.id}"` });
      }
      people.set(person.id, i);
    });
    const known = (path: (string | number)[], personId: string | undefined) => {
      if (personId !== undefined && !people.has(personId)) {
        ctx.addIssue({ code: 'custom', path, message: `unknown person "${personId}" (not in people)` });
      }
    };
    org.people.forEach((person, i) => {
      known(['people', i, 'manager'], person.manager);
      if (person.manager === person.id) {
        ctx.addIssue({ code: 'custom', path: ['people', i, 'manager'], message: 'a person cannot be their own manager' });
      }
    });
    org.roles.topManagement.forEach((p, i) => known(['roles', 'topManagement', i], p));
    known(['roles', 'aimsManager'], org.roles.aimsManager);
    org.roles.internalAuditors.forEach((p, i) => known(['roles', 'internalAuditors', i], p));
    org.roles.aiGovernance.forEach((p, i) => known(['roles', 'aiGovernance', i], p));
    for (const [process, owner] of Object.entries(org.roles.processOwners)) {
      known(['roles', 'processOwners', process], owner);
    }
    const systems = new Set<string>();
    org.aiSystems.forEach((system, i) => {
      if (systems.has(system.id)) {
        ctx.addIssue({ code: 'custom', path: ['aiSystems', i, 'id'], message: `duplicate AI system id "${system.id}"` });
      }
      systems.add(system.id);
      known(['aiSystems', i, 'owner'], system.owner);
    });
    const cert = org.certification?.certificate;
    if (cert && cert.expiresOn <= cert.decisionDate) {
      ctx.addIssue({
        code: 'custom',
        path: ['certification', 'certificate', 'expiresOn'],
        message: 'must be after decisionDate',
      });
    }
  });

export type Organization = z.output<typeof organizationSchema>;
export type Person = z.output<typeof personSchema>;
export type AiSystem = z.output<typeof aiSystemSchema>;
export type EscalationStep = z.output<typeof escalationStepSchema>;

/** Who should do a piece of work: a named person or a role from the organization file. */
export const assigneeRefSchema = z.union([
  z.object({ person: id }).strict(),
  z
    .object({
      role: z.enum(['top-management', 'aims-manager', 'internal-auditor', 'ai-governance', 'process-owner', 'system-owner']),
      /** For `process-owner`: the process; for `system-owner`: the AI system id. */
      of: z.string().optional(),
    })
    .strict(),
]);
export type AssigneeRef = z.output<typeof assigneeRefSchema>;

export class OrganizationLookupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OrganizationLookupError';
  }
}

export function findPerson(org: Organization, personId: string): Person {
  const person = org.people.find((p) => p.id === personId);
  if (!person) throw new OrganizationLookupError(`unknown person "${personId}"`);
  return person;
}

/** Person ids holding a role (the first is the primary holder where one person is needed). */
export function resolveAssignees(org: Organization, ref: AssigneeRef): string[] {
  if ('person' in ref) return [findPerson(org, ref.person).id];
  switch (ref.role) {
    case 'top-management':
      return [...org.roles.topManagement];
    case 'aims-manager':
      return [org.roles.aimsManager];
    case 'internal-auditor':
      if (org.roles.internalAuditors.length === 0) throw new OrganizationLookupError('no internal auditors in roles.internalAuditors');
      return [...org.roles.internalAuditors];
    case 'ai-governance':
      if (org.roles.aiGovernance.length === 0) throw new OrganizationLookupError('no AI governance members in roles.aiGovernance');
      return [...org.roles.aiGovernance];
    case 'process-owner': {
      const owner = ref.of ? org.roles.processOwners[ref.of] : undefined;
      if (!owner) throw new OrganizationLookupError(`no owner for process "${ref.of ?? ''}" in roles.processOwners`);
      return [owner];
    }
    case 'system-owner': {
      const system = org.aiSystems.find((s) => s.id === ref.of);
      if (!system) throw new OrganizationLookupError(`unknown AI system "${ref.of ?? ''}"`);
      return [system.owner];
    }
  }
}

/**
 * The people to notify at each escalation step for an assignee: `manager` resolves to the
 * assignee's manager (or top management when they have none), `top-management` to every
 * top manager, `aims-manager` to the AIMS manager.
 */
export function resolveEscalationTarget(
  org: Organization,
  assigneeId: string,
  target: EscalationStep['to'],
): string[] {
  switch (target) {
    case 'manager': {
      const manager = findPerson(org, assigneeId).manager;
      return manager ? [manager] : [...org.roles.topManagement];
    }
    case 'top-management':
      return [...org.roles.topManagement];
    case 'aims-manager':
      return [org.roles.aimsManager];
  }
}
