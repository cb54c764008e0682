/**
 * The forms a human task can ask for. A task names its form by key; its completion must match
 * that form's schema. Workflow-safe.
 */
import { z } from 'zod';
import { ncIdSchema, severities } from '../corrective-action/nc-id.js';
import { calendarDate } from '../common/dates.js';

export const formKeys = ['text', 'evidence', 'yes-no', 'date', 'choice', 'root-cause', 'action-plan', 'triage', 'impact-scoping', 'impact-assessment', 'audit-findings'] as const;
export type FormKey = (typeof formKeys)[number];
export const formKeySchema = z.enum(formKeys);

const note = z.string().trim().max(5000).optional();
const required = (max: number) => z.string().trim().min(1, 'is required').max(max);

/** Root-cause analysis methods offered by the `root-cause` form. */
export const rootCauseMethods = ['5-whys', 'cause-categories'] as const;

/** Most actions one action plan may hold. */
export const MAX_PLAN_ACTIONS = 10;

/** What the triage of a reported concern (Annex A.3.3) can decide. */
export const triageDecisions = ['accept', 'reject', 'merge'] as const;
export type TriageDecision = (typeof triageDecisions)[number];

const personId = z.string().trim().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be a person id such as sofia.lind');

export const planActionSchema = z
  .object({
    owner: z.string().trim().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be a person id such as sofia.lind'),
    dueDate: calendarDate,
    description: required(5000),
  })
  .strict();
export type PlanAction = z.output<typeof planActionSchema>;

/** Who or what an impact falls on: individuals or groups (A.5.4) or society (A.5.5). */
export const impactAreas = ['individuals', 'groups', 'society'] as const;
export type ImpactArea = (typeof impactAreas)[number];

/** Most impacts one impact assessment may hold. */
export const MAX_IMPACTS = 20;

const level = z.string().trim().min(1, 'is required').max(32);

/** One impact of an AI system: where it falls, how severe and likely, the mitigation and what remains after it. */
export const impactRowSchema = z
  .object({
    area: z.enum(impactAreas, { message: 'must be "individuals", "groups" or "society"' }),
    description: required(5000),
    severity: level,
    likelihood: level,
    mitigation: required(5000),
    residualSeverity: level,
    residualLikelihood: level,
  })
  .strict();
export type ImpactRow = z.output<typeof impactRowSchema>;

/**
 * The scales of an `impact-assessment` task travel as its choices (`severity:<level>`,
 * `likelihood:<level>`), so the form is checked against the organization's scales.
 */
export function impactScaleChoices(severityScale: readonly string[], likelihoodScale: readonly string[]): string[] {
  return [...severityScale.map((l) => `severity:${l}`), ...likelihoodScale.map((l) => `likelihood:${l}`)];
}

/** The scales carried by an `impact-assessment` task's choices. */
export function impactScalesOf(choices: readonly string[]): { severity: string[]; likelihood: string[] } {
  const of = (prefix: string) => choices.filter((c) => c.startsWith(prefix)).map((c) => c.slice(prefix.length));
  return { severity: of('severity:'), likelihood: of('likelihood:') };
}

/** How an internal audit finding is graded (ISO/IEC 42001 9.2). */
export const auditFindingTypes = ['major-nc', 'minor-nc', 'observation', 'opportunity'] as const;

/** Most findings one audit report may hold. */
export const MAX_AUDIT_FINDINGS = 30;

/** One internal audit finding: its grade, the clauses or controls concerned, the statement and the evidence. */
export const auditFindingRowSchema = z
  .object({
    type: z.enum(auditFindingTypes, { message: 'must be "major-nc", "minor-nc", "observation" or "opportunity"' }),
    refs: z
      .array(z.string().trim().regex(/^((4|5|6|7|8|9|10)(\.\d+)*|A\.\d+(\.\d+)+)$/, 'must be a clause (e.g. 9.2) or an Annex A control (e.g. A.5.4)'))
      .min(1, 'needs at least one clause or control')
      .max(20),
    statement: required(5000),
    evidence: required(5000),
    /** For a nonconformity: who owns the corrective action (default: the auditee). */
    owner: personId.optional(),
  })
  .strict();
export type AuditFindingRow = z.output<typeof auditFindingRowSchema>;

export const formSchemas = {
  /** Free text. */
  text: z.object({ text: z.string().trim().min(1, 'is required').max(20000) }).strict(),
  /** A summary and one or more links to the evidence. */
  evidence: z
    .object({
      summary: z.string().trim().min(1, 'is required').max(5000),
      links: z
        .array(z.url({ protocol: /^https?$/, message: 'must be an http(s) link' }))
        .min(1, 'needs at least one evidence link')
        .max(20),
    })
    .strict(),
  /** Yes or no, with a justification either way. */
  'yes-no': z
    .object({
      answer: z.enum(['yes', 'no'], { message: 'must be "yes" or "no"' }),
      justification: z.string().trim().min(1, 'is required').max(5000),
    })
    .strict(),
  /** A calendar date. */
  date: z.object({ date: calendarDate, note }).strict(),
  /** One of the task's choices. */
  choice: z.object({ choice: z.string().min(1, 'is required'), note }).strict(),
  /** Root-cause analysis (ISO/IEC 42001 10.2 b): the method, the analysis, the cause and whether it can recur elsewhere. */
  'root-cause': z
    .object({
      method: z.enum(rootCauseMethods, { message: 'must be "5-whys" or "cause-categories"' }),
      analysis: required(10000),
      rootCause: required(5000),
      similarElsewhere: z.enum(['yes', 'no'], { message: 'must be "yes" or "no"' }),
      similarDetail: required(5000),
    })
    .strict(),
  /** An action plan: one or more actions, each with an owner, a due date and a description. */
  'action-plan': z
    .object({
      actions: z.array(planActionSchema).min(1, 'needs at least one action').max(MAX_PLAN_ACTIONS),
      note,
    })
    .strict(),
  /**
   * Triage of a reported concern: accept it as a nonconformity (with its severity and, optionally,
   * an owner other than the triager), reject it (the note is the reason the reporter is told), or
   * merge it into an open nonconformity.
   */
  triage: z
    .object({
      decision: z.enum(triageDecisions, { message: 'must be "accept", "reject" or "merge"' }),
      severity: z.enum(severities, { message: 'must be "major" or "minor"' }).optional(),
      owner: personId.optional(),
      ncId: z.string().trim().pipe(ncIdSchema).optional(),
      note,
    })
    .strict()
    .superRefine((v, ctx) => {
      if (v.decision === 'accept' && !v.severity) ctx.addIssue({ code: 'custom', path: ['severity'], message: 'is required to accept' });
      if (v.decision === 'merge' && !v.ncId) ctx.addIssue({ code: 'custom', path: ['ncId'], message: 'is required to merge' });
      if (v.decision === 'reject' && !v.note) {
        ctx.addIssue({ code: 'custom', path: ['note'], message: 'is required to reject: it is the reason the reporter is told' });
      }
    }),
  /** Scope of an AI system impact assessment (6.1.4): use, misuse, context, jurisdictions and who is affected. */
  'impact-scoping': z
    .object({
      intendedUse: required(5000),
      foreseeableMisuse: required(5000),
      deploymentContext: required(5000),
      jurisdictions: z.array(z.string().trim().min(1).max(100)).min(1, 'needs at least one jurisdiction').max(50),
      affectedIndividuals: required(5000),
      affectedGroups: required(5000),
      society: required(5000),
      note,
    })
    .strict(),
  /** Impacts on individuals or groups (A.5.4) and on society (A.5.5), each rated and mitigated. */
  'impact-assessment': z
    .object({
      impacts: z.array(impactRowSchema).min(1, 'needs at least one impact').max(MAX_IMPACTS),
      note,
    })
    .strict(),
  /** Internal audit findings; an audit without findings says in the note what was checked. */
  'audit-findings': z
    .object({
      findings: z.array(auditFindingRowSchema).max(MAX_AUDIT_FINDINGS),
      note,
    })
    .strict()
    .superRefine((v, ctx) => {
      if (!v.findings.length && !v.note) ctx.addIssue({ code: 'custom', path: ['note'], message: 'is required when there are no findings: say what was checked' });
    }),
} as const satisfies Record<FormKey, z.ZodType>;

export type FormData = { [K in FormKey]: z.output<(typeof formSchemas)[K]> }[FormKey];

export interface FormProblem {
  field: string;
  message: string;
}

/** Validates a completion against a form; returns the cleaned data or the problems, field by field. */
export function validateForm(
  key: FormKey,
  data: unknown,
  choices: readonly string[] = [],
): { ok: true; data: Record<string, unknown> } | { ok: false; problems: FormProblem[] } {
  const result = formSchemas[key].safeParse(data);
  if (!result.success) {
    return {
      ok: false,
      problems: result.error.issues.map((issue) => ({
        field: issue.path.map(String).join('.') || 'form',
        message: issue.message,
      })),
    };
  }
  if (key === 'choice') {
    const choice = (result.data as { choice: string }).choice;
    if (!choices.includes(choice)) {
      return { ok: false, problems: [{ field: 'choice', message: `must be one of: ${choices.join(', ')}` }] };
    }
  }
  if (key === 'impact-assessment') {
    const scales = impactScalesOf(choices);
    const problems: FormProblem[] = [];
    (result.data as { impacts: ImpactRow[] }).impacts.forEach((row, i) => {
      for (const [name, scale] of [
        ['severity', scales.severity],
        ['likelihood', scales.likelihood],
        ['residualSeverity', scales.severity],
        ['residualLikelihood', scales.likelihood],
      ] as const) {
        if (scale.length && !scale.includes(row[name])) problems.push({ field: `impacts.${i}.${name}`, message: `must be one of: ${scale.join(', ')}` });
      }
    });
    if (problems.length) return { ok: false, problems };
  }
  return { ok: true, data: result.data };
}

export function describeProblems(problems: FormProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.message}`).join('; ');
}
