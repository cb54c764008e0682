/**
 * The form registry: every form a human task can ask for, one module per key (its schema,
 * fields, labels and parsing), used by the task workflow to check a completion and by the task
 * page to render and read the form. A task names its form by key; its completion must match
 * that form. Workflow-safe.
 */
import { actionPlanForm } from './action-plan.js';
import { auditFindingsForm } from './audit-findings.js';
import { choiceForm } from './choice.js';
import { dateForm } from './date.js';
import type { FormDefinition } from './definition.js';
import { evidenceForm } from './evidence.js';
import type { FieldContext, FieldModel, FormProblem, Values } from './fields.js';
import { impactAssessmentForm } from './impact-assessment.js';
import { impactScopingForm } from './impact-scoping.js';
import { measurementForm } from './measurement.js';
import { acknowledgementForm } from './acknowledgement.js';
import type { FormKey } from './keys.js';
import { riskAnalysisForm, riskIdentificationForm, riskTreatmentForm } from './risk.js';
import { rootCauseForm } from './root-cause.js';
import { systemChangeForm } from './system-change.js';
import { textForm } from './text.js';
import { triageForm } from './triage.js';
import { yesNoForm } from './yes-no.js';

export { formKeys, formKeySchema, type FormKey } from './keys.js';
export type { FieldModel, FormProblem, Values } from './fields.js';
export { MAX_PLAN_ACTIONS, planActionSchema, type PlanAction } from './action-plan.js';
export { auditFindingRowSchema, auditFindingTypes, MAX_AUDIT_FINDINGS, type AuditFindingRow } from './audit-findings.js';
export { impactAreas, impactRowSchema, impactScaleChoices, impactScalesOf, MAX_IMPACTS, type ImpactArea, type ImpactRow } from './impact-assessment.js';
export { rootCauseMethods } from './root-cause.js';
export { MAX_STEP_RISKS, riskStepChoices, type ComparisonRow, type NewRiskRow, type TreatmentPlanRow, type TreatmentRow } from './risk.js';
export { triageDecisions, triageSchema, type TriageDecision } from './triage.js';

export const forms: Record<FormKey, FormDefinition> = {
  text: textForm,
  evidence: evidenceForm,
  'yes-no': yesNoForm,
  date: dateForm,
  choice: choiceForm,
  'root-cause': rootCauseForm,
  'action-plan': actionPlanForm,
  triage: triageForm,
  'impact-scoping': impactScopingForm,
  'impact-assessment': impactAssessmentForm,
  'audit-findings': auditFindingsForm,
  measurement: measurementForm,
  acknowledgement: acknowledgementForm,
  'risk-identification': riskIdentificationForm,
  'risk-analysis': riskAnalysisForm,
  'risk-treatment': riskTreatmentForm,
  'system-change': systemChangeForm,
};

/** Validates a completion against a form; returns the cleaned data or the problems, field by field. */
export function validateForm(
  key: FormKey,
  data: unknown,
  choices: readonly string[] = [],
): { ok: true; data: Record<string, unknown> } | { ok: false; problems: FormProblem[] } {
  const form = forms[key];
  const result = form.schema.safeParse(data);
  if (!result.success) {
    return { ok: false, problems: result.error.issues.map((issue) => ({ field: issue.path.map(String).join('.') || 'form', message: issue.message })) };
  }
  const problems = form.check?.(result.data, choices) ?? [];
  return problems.length ? { ok: false, problems } : { ok: true, data: result.data };
}

export function describeProblems(problems: FormProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.message}`).join('; ');
}

/** A problem of form `key` as a sentence a person reads ("The summary is required"). */
export function problemSentence(key: FormKey, field: string, message: string): string {
  const form = forms[key];
  return form.sentence?.(field, message) ?? `${form.subjects[field] ?? field} ${message}`;
}

/** The fields of form `key`, with the values to show and an error beside each failing field. */
export function formFields(key: FormKey, choices: readonly string[], values: Values, problems: FormProblem[]): FieldModel[] {
  const ctx: FieldContext = { values, problems, sentence: (field, message) => problemSentence(key, field, message) };
  return forms[key].fields(ctx, choices);
}

/** The error summary of form `key`: one entry per failing field, linking to it. */
export function errorSummary(key: FormKey, problems: FormProblem[]): Array<{ id: string; text: string }> {
  return problems.map((p) => ({ id: forms[key].anchor?.(p.field) ?? `f-${p.field}`, text: problemSentence(key, p.field, p.message) }));
}

/** How a field of form `key` (of any form, when the form is not known) is labelled in a completed answer. */
export function answerLabel(key: FormKey | undefined, field: string): string {
  const labels = key ? [forms[key].labels] : Object.values(forms).map((f) => f.labels);
  return labels.find((l) => l[field] !== undefined)?.[field] ?? field;
}
