/**
 * The organization file: who is who, which roles they hold, the AI systems inventory,
 * certification details and the defaults for reminders and escalation.
 *
 * Workflow-safe (zod only); src/organization.ts loads the YAML from disk.
 */
import { z } from 'zod';
import { ANNEX_A_CONTROL, CLAUSE_NUMBER, CLAUSE_OR_CONTROL } from '../common/clauses.js';
import { SINGLE_LINE } from '../common/text.js';
import { calendarDate, timeZoneName } from '../common/dates.js';
import { durationString } from '../common/duration.js';
import { objectiveDefinitionSchema } from '../objectives/definition.js';
import { riskCriteriaSchema } from '../risk/criteria.js';

const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be lowercase letters, digits, ".", "_" or "-" (max 64)');

const isoDate = calendarDate;

export const personSchema = z.object({
  id,
  name: z.string().min(1).max(200).regex(...SINGLE_LINE),
  email: z.email(),
  manager: id.optional(),
  title: z.string().optional(),
  /** Evidence of the person's competences (7.2), each with the date it stops being valid. */
  competences: z
    .array(
      z
        .object({
          competence: id,
          /** What shows it: a certificate, a course, a link. */
          evidence: z.string().trim().min(1).max(2000),
          expiresOn: isoDate.optional(),
        })
        .strict(),
    )
    .default([]),
});

export const impactTiers = ['low', 'medium', 'high', 'critical'] as const;

export const aiSystemSchema = z.object({
  id,
  name: z.string().trim().min(1).max(200).regex(...SINGLE_LINE),
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

/** A role or a person, for settings parsed before `assigneeRefSchema` below is defined. */
const assigneeRefLazy = z.lazy(() => assigneeRefSchema);

export const organizationSchema = z
  .object({
    organization: z.object({
      id,
      name: z.string().min(1).max(200).regex(...SINGLE_LINE),
      timezone: timeZoneName.default('UTC'),
    }),
    aims: z.object({
      scope: z.string().min(1),
      standards: z.array(z.string().min(1)).min(1).default(['ISO/IEC 42001:2023']),
      clauses: z.array(z.string().regex(CLAUSE_NUMBER, 'must be a clause number 4-10')).min(1),
      annexA: z.object({
        applicable: z.array(z.string().regex(ANNEX_A_CONTROL, 'must be an Annex A control id like A.5.4')),
        excluded: z
          .array(
            z.object({
              control: z.string().regex(ANNEX_A_CONTROL, 'must be an Annex A control id like A.5.4'),
              justification: z.string().min(1),
            }),
          )
          .default([]),
      }),
      /**
       * The clauses and Annex A controls each process implements, e.g. `ai-risk-management: [6.1.2,
       * 8.2]`: whoever owns the process owns them, for auditor impartiality and report approval.
       */
      processClauses: z
        .record(id, z.array(z.string().regex(CLAUSE_OR_CONTROL, 'must be a clause number 4-10 or an Annex A control id like A.5.4')).min(1))
        .default({}),
    }),
    people: z.array(personSchema).min(1),
    roles: z.object({
      topManagement: z.array(id).min(1),
      aimsManager: id,
      internalAuditors: z.array(id).default([]),
      aiGovernance: z.array(id).default([]),
      /** Owner per process, e.g. `corrective-action: alice`. */
      processOwners: z.record(id, id).default({}),
      /** People of the certification body (or any outside auditor) who read status, the ledger and the audit pack. */
      externalAuditors: z.array(id).default([]),
      /** People who keep the system running: schedules, the organization file, syncs (services get this role from their key). */
      operationsAdmins: z.array(id).default([]),
    }),
    aiSystems: z.array(aiSystemSchema).default([]),
    /** AI objectives (6.2), each measured by its own long-lived workflow (9.1). */
    objectives: z.array(objectiveDefinitionSchema).default([]),
    certification: z
      .object({
        body: z.object({ name: z.string().min(1).max(200).regex(...SINGLE_LINE), contactEmail: z.email().optional() }),
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
    /** Certification cycle: reminders and readiness checks before each external audit, risky-date thresholds, the body's NC deadlines. */
    certificationCycle: z
      .object({
        /** Reminders to the AIMS manager before each external audit. */
        reminderOffsets: z.array(durationString).default(['120d', '90d', '60d', '30d', '7d']),
        /** Readiness checks (internal audit, management review, open majors) before each external audit. */
        readinessChecks: z.array(durationString).default(['60d', '30d']),
        /** How long after its planned date an audit's outcome may be recorded before the window counts as missed. */
        auditWindow: durationString.default('30d'),
        /** Dates that keep the rules but leave little room are accepted with a warning. */
        riskyWarnings: z
          .object({
            stage2MaxAfterStage1: durationString.default('90d'),
            recertificationMinBeforeExpiry: durationString.default('60d'),
            surveillanceMinMargin: durationString.default('30d'),
          })
          .prefault({}),
        /** The certification body's usual deadlines for its nonconformities (a finding may give its own). */
        ncDeadlines: z
          .object({ major: durationString.default('90d'), minor: durationString.default('180d') })
          .prefault({}),
      })
      .prefault({}),
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
    /** Internal audit (9.2): the audit cycle that must cover the AIMS scope, the reminder before each window and step due dates. */
    internalAudit: z
      .object({
        /** Years within which clauses 4-10 and the applicable Annex A controls must all be audited. */
        coverageCycleYears: z.number().int().min(1).max(5).default(3),
        /** How long before an audit window the lead auditor is reminded. */
        auditorReminderBefore: durationString.default('30d'),
        /** How long the AIMS manager has to plan a programme started without a plan. */
        planDue: durationString.default('30d'),
        /** Due date of each audit step task (plan, acknowledgement, findings) after it starts. */
        stepDue: durationString.default('14d'),
        /** How long the approver has for a programme or an audit report. */
        approvalDue: durationString.default('14d'),
      })
      .prefault({}),
    /** Management review (9.3): who supplies each input, when inputs are due, the meeting and the approval of the results. */
    managementReview: z
      .object({
        /** Owner of each input (9.3.2 a-e): a role or a person. */
        inputOwners: z
          .object({
            a: assigneeRefLazy.default({ role: 'aims-manager' }),
            b: assigneeRefLazy.default({ role: 'aims-manager' }),
            c: assigneeRefLazy.default({ role: 'aims-manager' }),
            d: assigneeRefLazy.default({ role: 'aims-manager' }),
            e: assigneeRefLazy.default({ role: 'aims-manager' }),
          })
          .prefault({}),
        /** Inputs are due this long before the meeting. */
        inputsDueBefore: durationString.default('14d'),
        /** Meeting start (HH:MM in the organization's timezone) and length. */
        meetingTime: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time as HH:MM').default('10:00'),
        meetingLength: durationString.default('2h'),
        /** People invited besides top management, the AIMS manager and the input owners. */
        attendees: z.array(id).default([]),
        /** Top management approves the results under this rule. */
        approvalRule: z
          .discriminatedUnion('type', [
            z.object({ type: z.literal('all') }),
            z.object({ type: z.literal('any') }),
            z.object({ type: z.literal('n-of-m'), n: z.number().int().min(1).max(50) }),
          ])
          .default({ type: 'all' }),
        /** How long top management has to approve the results after the minutes are recorded. */
        approvalDue: durationString.default('14d'),
        /** Reminders and escalation of the input tasks; the organization defaults when left out. */
        reminderOffsets: z.array(durationString).optional(),
        escalation: z.array(escalationStepSchema).optional(),
      })
      .prefault({}),
    /** Competence (7.2): what each role requires, what a lead auditor must hold, and when renewals are asked. */
    competence: z
      .object({
        /** Competences each role requires, e.g. `internalAuditors: [internal-audit]`. */
        required: z
          .object({
            topManagement: z.array(id).default([]),
            aimsManager: z.array(id).default([]),
            internalAuditors: z.array(id).default([]),
            aiGovernance: z.array(id).default([]),
            processOwners: z.array(id).default([]),
            systemOwners: z.array(id).default([]),
          })
          .prefault({}),
        /** The competence a lead auditor must hold, valid through the audit window; unset: not checked. */
        leadAuditor: id.optional(),
        /** A person gets a renewal task this long before a competence's evidence expires. */
        renewBefore: durationString.default('30d'),
        /** How often the renewals are looked for (the `daily/competence-renewals` schedule). */
        checkEvery: durationString.default('1d'),
      })
      .prefault({}),
    /** The AI policy as a controlled document (5.2, A.2.2-A.2.4): its owner, its review cycle and who acknowledges each version (7.3). */
    aiPolicy: z
      .object({
        /** Who reviews and revises it; the AIMS manager when left out. */
        owner: id.optional(),
        /** The planned interval of its review (the `yearly/policy-review` schedule fires once a year). */
        reviewEvery: durationString.default('365d'),
        /** How long the owner has for the review, and for a new version's text. */
        reviewDue: durationString.default('30d'),
        /** How long top management has to approve a new version. */
        approvalDue: durationString.default('14d'),
        /** Who acknowledges each approved version: everyone holding a role in `roles` (the default), or the people listed. */
        acknowledgedBy: z.union([z.literal('everyone-with-a-role'), z.array(id).min(1)]).default('everyone-with-a-role'),
        /** How long each person has to acknowledge a new version. */
        acknowledgementDue: durationString.default('14d'),
      })
      .prefault({}),
    /** AI system impact assessment (6.1.4, 8.4, Annex A.5): intervals, scales, thresholds and step due dates. */
    impactAssessment: z
      .object({
        /** A system is reassessed this long after its last signed-off assessment. */
        reassessEvery: durationString.default('365d'),
        /** The periodic reassessment starts this long before it is due. */
        startBefore: durationString.default('30d'),
        /** Significant changes announced within this window of the first one start one reassessment. */
        changeDebounce: durationString.default('24h'),
        /** A system with no assessment in the ledger starts its first one this long after its workflow starts. */
        firstAssessmentIn: durationString.default('0s'),
        /** After an assessment that was cancelled or failed, the next one starts this long after (8.4: assessment at planned intervals). */
        retryAfter: durationString.default('30d'),
        /** Severity levels, lowest first; a level's rank is its position from 1. */
        severityScale: z
          .array(z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a lowercase level name such as moderate'))
          .min(2)
          .max(10)
          .default(['negligible', 'minor', 'moderate', 'major', 'severe']),
        /** Likelihood levels, lowest first. */
        likelihoodScale: z
          .array(z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a lowercase level name such as possible'))
          .min(2)
          .max(10)
          .default(['rare', 'unlikely', 'possible', 'likely', 'almost-certain']),
        /** Impact level = severity rank × likelihood rank; at or above this, top management signs off (else the AIMS manager). */
        signOffThreshold: z.number().int().min(1).default(12),
        /** A residual impact level at or above this opens a risk-treatment task for the system owner. */
        riskTreatmentThreshold: z.number().int().min(1).default(10),
        /** How long each step has after it starts. */
        stepDue: z
          .object({
            scoping: durationString.default('14d'),
            assessment: durationString.default('21d'),
            review: durationString.default('7d'),
            signOff: durationString.default('7d'),
            riskTreatment: durationString.default('30d'),
          })
          .prefault({}),
      })
      .superRefine((ia, ctx) => {
        const max = ia.severityScale.length * ia.likelihoodScale.length;
        for (const key of ['severityScale', 'likelihoodScale'] as const) {
          const seen = new Set<string>();
          ia[key].forEach((level, i) => {
            if (seen.has(level)) ctx.addIssue({ code: 'custom', path: [key, i], message: `duplicate level "${level}"` });
            seen.add(level);
          });
        }
        for (const key of ['signOffThreshold', 'riskTreatmentThreshold'] as const) {
          if (ia[key] > max) ctx.addIssue({ code: 'custom', path: [key], message: `must be at most ${max} (the highest severity rank × likelihood rank)` });
        }
      })
      .prefault({}),
    /** AI risk criteria (6.1.1, 6.1.2): scales, the matrix, treatment and acceptance levels, review intervals, step due dates. */
    riskCriteria: riskCriteriaSchema.prefault({}),
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
    org.roles.externalAuditors.forEach((p, i) => known(['roles', 'externalAuditors', i], p));
    org.roles.operationsAdmins.forEach((p, i) => known(['roles', 'operationsAdmins', i], p));
    for (const [process, owner] of Object.entries(org.roles.processOwners)) {
      known(['roles', 'processOwners', process], owner);
    }
    for (const process of Object.keys(org.aims.processClauses)) {
      if (!(process in org.roles.processOwners)) {
        ctx.addIssue({ code: 'custom', path: ['aims', 'processClauses', process], message: `unknown process "${process}" (not in roles.processOwners)` });
      }
    }
    const systems = new Set<string>();
    org.aiSystems.forEach((system, i) => {
      if (systems.has(system.id)) {
        ctx.addIssue({ code: 'custom', path: ['aiSystems', i, 'id'], message: `duplicate AI system id "${system.id}"` });
      }
      systems.add(system.id);
      known(['aiSystems', i, 'owner'], system.owner);
    });
    const objectives = new Set<string>();
    org.objectives.forEach((objective, i) => {
      if (objectives.has(objective.id)) ctx.addIssue({ code: 'custom', path: ['objectives', i, 'id'], message: `duplicate objective id "${objective.id}"` });
      objectives.add(objective.id);
      known(['objectives', i, 'owner'], objective.owner);
      known(['objectives', i, 'measurement', 'by'], objective.measurement.by);
    });
    for (const [key, ref] of Object.entries(org.managementReview.inputOwners)) {
      if ('person' in ref) {
        known(['managementReview', 'inputOwners', key, 'person'], ref.person);
        continue;
      }
      try {
        if (resolveAssignees(org, ref).length === 0) throw new OrganizationLookupError(`nobody holds the role ${ref.role}`);
      } catch (err) {
        if (!(err instanceof OrganizationLookupError)) throw err;
        ctx.addIssue({ code: 'custom', path: ['managementReview', 'inputOwners', key], message: err.message });
      }
    }
    org.managementReview.attendees.forEach((p, i) => known(['managementReview', 'attendees', i], p));
    known(['aiPolicy', 'owner'], org.aiPolicy.owner);
    if (Array.isArray(org.aiPolicy.acknowledgedBy)) org.aiPolicy.acknowledgedBy.forEach((p, i) => known(['aiPolicy', 'acknowledgedBy', i], p));

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

/** "the AIMS manager (Name)", for telling someone who to ask. */
export function aimsManagerName(org: Organization | undefined): string {
  const id = org?.roles.aimsManager;
  const person = id ? org?.people.find((p) => p.id === id) : undefined;
  return person ? `the AIMS manager (${person.name})` : 'the AIMS manager';
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
