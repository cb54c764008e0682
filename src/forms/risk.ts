/**
 * The forms of a risk assessment (ISO/IEC 42001 6.1.2, 6.1.3, 8.2, 8.3):
 * - `risk-identification`: confirm or close each open risk of the scope, and add new ones;
 * - `risk-analysis`: rate each risk's likelihood and consequence on the organization's scales;
 * - `risk-treatment`: per risk the option, the controls and the residual rating; the Annex A
 *   comparison (every control covered or not needed, and why); the treatment plan.
 * The task carries what the form is checked against as its choices: `risk:<id>` (the risks of
 * the step; for treatment `risk:<id>:<likelihood>:<consequence>`, the inherent rating),
 * `likelihood:<level>` and `consequence:<level>` (the scales). Workflow-safe.
 */
import { z } from 'zod';
import { calendarDate } from '../common/dates.js';
import { riskCategories, treatmentOptions } from '../risk/schema.js';
import { ANNEX_A, isAnnexAControl } from '../soa/annex-a.js';
import type { FormDefinition } from './definition.js';
import { input, noteOf, postedRows, radios, rowCount, rowSentence, textarea, type FieldModel, type FormProblem } from './fields.js';
import { note, personId, required } from './keys.js';

export const MAX_STEP_RISKS = 20;

const riskId = z.string().trim().regex(/^R-\d{3,6}$/, 'must be a risk id such as R-001');
const level = z.string().trim().min(1, 'is required').max(32);
const list = (max: number) => z.array(z.string().trim().min(1).max(200)).max(max);

/** The choices a risk-assessment step's task carries. */
export function riskStepChoices(risks: ReadonlyArray<{ riskId: string; inherent?: { likelihood: string; consequence: string } | undefined }>, scales?: { likelihood: readonly string[]; consequence: readonly string[] }, withRating = false): string[] {
  return [
    ...risks.map((r) => (withRating && r.inherent ? `risk:${r.riskId}:${r.inherent.likelihood}:${r.inherent.consequence}` : `risk:${r.riskId}`)),
    ...(scales ? [...scales.likelihood.map((l) => `likelihood:${l}`), ...scales.consequence.map((l) => `consequence:${l}`)] : []),
  ];
}

function choicesOf(choices: readonly string[]) {
  const of = (prefix: string) => choices.filter((c) => c.startsWith(prefix)).map((c) => c.slice(prefix.length));
  const risks = of('risk:').map((r) => {
    const [id = '', likelihood, consequence] = r.split(':');
    return { id, likelihood, consequence };
  });
  return { risks, likelihood: of('likelihood:'), consequence: of('consequence:') };
}

/** Each risk of the step once, and only those. */
function everyRiskOnce(rows: ReadonlyArray<{ riskId: string }>, ids: readonly string[], listName: string): FormProblem[] {
  const problems: FormProblem[] = [];
  const seen = new Set<string>();
  rows.forEach((row, i) => {
    if (!ids.includes(row.riskId)) problems.push({ field: `${listName}.${i}.riskId`, message: `${row.riskId} is not one of the risks of this step (${ids.join(', ') || 'none'})` });
    else if (seen.has(row.riskId)) problems.push({ field: `${listName}.${i}.riskId`, message: `${row.riskId} is listed twice` });
    seen.add(row.riskId);
  });
  const missing = ids.filter((id) => !seen.has(id));
  if (missing.length) problems.push({ field: listName, message: `needs a row for ${missing.join(', ')}` });
  return problems;
}

function onScale(value: string, scale: readonly string[], field: string, what: string): FormProblem[] {
  return scale.length && !scale.includes(value) ? [{ field, message: `"${value}" is not on the ${what} scale (${scale.join(', ')})` }] : [];
}

// ---- risk-identification ----

const existingRowSchema = z.object({ riskId, decision: z.enum(['confirm', 'close'], { message: 'must be "confirm" or "close"' }), reason: z.string().trim().max(2000).optional() }).strict();
const newRiskRowSchema = z
  .object({
    title: z.string().trim().min(3, 'needs at least 3 characters').max(200),
    description: required(5000),
    categories: z.array(z.enum(riskCategories, { message: `must be Annex C categories: ${riskCategories.join(', ')}` })).min(1, 'needs at least one Annex C category').max(10),
    owner: personId.optional(),
  })
  .strict();
export type NewRiskRow = z.output<typeof newRiskRowSchema>;

const identSubjects = { existing: 'The existing risks', risks: 'The new risks', riskId: 'The risk', decision: 'The decision', reason: 'The reason', title: 'The title', description: 'The description', categories: 'The categories', owner: 'The owner' };

export const riskIdentificationForm: FormDefinition = {
  key: 'risk-identification',
  schema: z.object({ existing: z.array(existingRowSchema).max(MAX_STEP_RISKS).default([]), risks: z.array(newRiskRowSchema).max(MAX_STEP_RISKS).default([]), note }).strict(),
  check: (data, choices) => {
    const existing = data.existing as Array<z.output<typeof existingRowSchema>>;
    const problems = everyRiskOnce(existing, choicesOf(choices).risks.map((r) => r.id), 'existing');
    existing.forEach((row, i) => {
      if (row.decision === 'close' && !row.reason) problems.push({ field: `existing.${i}.reason`, message: 'is required to close a risk' });
    });
    return problems;
  },
  parse: (body) => {
    const { note: typed, withNote } = noteOf(body);
    const old = postedRows(body, 'existing', ['riskId', 'decision', 'reason'], MAX_STEP_RISKS);
    const fresh = postedRows(body, 'risks', ['title', 'description', 'categories', 'owner'], MAX_STEP_RISKS);
    return {
      data: {
        existing: old.rows.map((r) => ({ riskId: r.riskId, decision: r.decision, ...(r.reason ? { reason: r.reason } : {}) })),
        risks: fresh.rows.map((r) => ({ title: r.title, description: r.description, categories: (r.categories ?? '').split(/[,\s]+/).filter(Boolean), ...(r.owner ? { owner: r.owner } : {}) })),
        ...withNote,
      },
      values: { note: typed, ...old.values, ...fresh.values },
    };
  },
  fields: (ctx, choices) => {
    const fields: FieldModel[] = [];
    choicesOf(choices).risks.forEach((r, i) => {
      fields.push(
        { kind: 'input', id: `f-existing.${i}.riskId`, name: `existing.${i}.riskId`, type: 'hidden', label: r.id, value: r.id },
        radios(ctx, `existing.${i}.decision`, `${r.id}: still a risk?`, [
          { value: 'confirm', label: 'Confirm: still a risk' },
          { value: 'close', label: 'Close: no longer a risk' },
        ]),
        input(ctx, `existing.${i}.reason`, `${r.id}: why it is closed`, 'Required to close.'),
      );
    });
    const rows = rowCount(ctx.values, 'risks', { min: 1, spare: 1, max: MAX_STEP_RISKS });
    for (let i = 0; i < rows; i += 1) {
      const n = i + 1;
      fields.push(
        input(ctx, `risks.${i}.title`, `New risk ${n}: title`, 'Leave empty when there is none.'),
        textarea(ctx, `risks.${i}.description`, `New risk ${n}: what could happen, and why`, undefined, false),
        input(ctx, `risks.${i}.categories`, `New risk ${n}: Annex C categories`, `Separated by commas: ${riskCategories.join(', ')}.`),
        input(ctx, `risks.${i}.owner`, `New risk ${n}: owner`, 'Person id; empty for the assessor.'),
      );
    }
    return [...fields, textarea(ctx, 'note', 'Note (optional)', undefined, false)];
  },
  subjects: { ...identSubjects, note: 'The note' },
  labels: { existing: 'Existing risks', risks: 'New risks', note: 'Note' },
  sentence: (name, message) => rowSentence(name, 'existing', 'Existing risk', identSubjects, message) ?? rowSentence(name, 'risks', 'New risk', identSubjects, message),
};

// ---- risk-analysis ----

const ratingRowSchema = z.object({ riskId, likelihood: level, consequence: level, note: z.string().trim().max(2000).optional() }).strict();
const analysisSubjects = { ratings: 'The ratings', riskId: 'The risk', likelihood: 'The likelihood', consequence: 'The consequence', note: 'The note' };

export const riskAnalysisForm: FormDefinition = {
  key: 'risk-analysis',
  schema: z.object({ ratings: z.array(ratingRowSchema).max(MAX_STEP_RISKS), note }).strict(),
  check: (data, choices) => {
    const c = choicesOf(choices);
    const ratings = data.ratings as Array<z.output<typeof ratingRowSchema>>;
    const problems = everyRiskOnce(ratings, c.risks.map((r) => r.id), 'ratings');
    ratings.forEach((row, i) => {
      problems.push(...onScale(row.likelihood, c.likelihood, `ratings.${i}.likelihood`, 'likelihood'), ...onScale(row.consequence, c.consequence, `ratings.${i}.consequence`, 'consequence'));
    });
    return problems;
  },
  parse: (body) => {
    const { note: typed, withNote } = noteOf(body);
    const { rows, values } = postedRows(body, 'ratings', ['riskId', 'likelihood', 'consequence', 'note'], MAX_STEP_RISKS);
    return { data: { ratings: rows.map((r) => ({ riskId: r.riskId, likelihood: r.likelihood, consequence: r.consequence, ...(r.note ? { note: r.note } : {}) })), ...withNote }, values: { note: typed, ...values } };
  },
  fields: (ctx, choices) => {
    const c = choicesOf(choices);
    const scale = (levels: string[]) => levels.map((l) => ({ value: l, label: l.replace(/-/g, ' ') }));
    const fields: FieldModel[] = [];
    c.risks.forEach((r, i) => {
      fields.push(
        { kind: 'input', id: `f-ratings.${i}.riskId`, name: `ratings.${i}.riskId`, type: 'hidden', label: r.id, value: r.id },
        radios(ctx, `ratings.${i}.likelihood`, `${r.id}: likelihood`, scale(c.likelihood)),
        radios(ctx, `ratings.${i}.consequence`, `${r.id}: consequence (for the organization, individuals and society)`, scale(c.consequence)),
        input(ctx, `ratings.${i}.note`, `${r.id}: why (optional)`, 'What the rating rests on.'),
      );
    });
    return [...fields, textarea(ctx, 'note', 'Note (optional)', undefined, false)];
  },
  subjects: analysisSubjects,
  labels: { ratings: 'Ratings', note: 'Note' },
  sentence: (name, message) => rowSentence(name, 'ratings', 'Rating', analysisSubjects, message),
};

// ---- risk-treatment ----

const treatmentRowSchema = z
  .object({
    riskId,
    option: z.enum(treatmentOptions, { message: `must be one of: ${treatmentOptions.join(', ')}` }),
    controls: list(20).default([]),
    residualLikelihood: level,
    residualConsequence: level,
  })
  .strict();
const comparisonRowSchema = z.object({ control: z.string().trim(), decision: z.enum(['covered', 'not-needed'], { message: 'must be "covered" or "not-needed"' }), why: required(2000) }).strict();
const planRowSchema = z.object({ riskId, action: required(2000), owner: personId, dueDate: calendarDate }).strict();
export type TreatmentRow = z.output<typeof treatmentRowSchema>;
export type ComparisonRow = z.output<typeof comparisonRowSchema>;
export type TreatmentPlanRow = z.output<typeof planRowSchema>;

const treatSubjects = {
  treatments: 'The treatments',
  annexA: 'The Annex A comparison',
  plan: 'The treatment plan',
  riskId: 'The risk',
  option: 'The option',
  controls: 'The controls',
  residualLikelihood: 'The residual likelihood',
  residualConsequence: 'The residual consequence',
  control: 'The control',
  decision: 'The decision',
  why: 'The reason',
  action: 'The action',
  owner: 'The owner',
  dueDate: 'The due date',
};

function treatmentProblems(data: Record<string, unknown>, choices: readonly string[]): FormProblem[] {
  const c = choicesOf(choices);
  const treatments = data.treatments as TreatmentRow[];
  const comparison = data.annexA as ComparisonRow[];
  const plan = data.plan as TreatmentPlanRow[];
  const problems = everyRiskOnce(treatments, c.risks.map((r) => r.id), 'treatments');
  const selected = new Set<string>();
  treatments.forEach((t, i) => {
    const at = (f: string) => `treatments.${i}.${f}`;
    t.controls.forEach((ref, j) => {
      if (/^A\.\d/.test(ref) && !isAnnexAControl(ref)) problems.push({ field: `${at('controls')}.${j}`, message: `unknown Annex A control "${ref}"` });
      else if (isAnnexAControl(ref)) selected.add(ref);
    });
    if (t.option === 'modify' && t.controls.length === 0) problems.push({ field: at('controls'), message: 'needs at least one control to modify the risk' });
    problems.push(...onScale(t.residualLikelihood, c.likelihood, at('residualLikelihood'), 'likelihood'), ...onScale(t.residualConsequence, c.consequence, at('residualConsequence'), 'consequence'));
    const inherent = c.risks.find((r) => r.id === t.riskId);
    for (const [field, value, scale, before] of [
      ['residualLikelihood', t.residualLikelihood, c.likelihood, inherent?.likelihood],
      ['residualConsequence', t.residualConsequence, c.consequence, inherent?.consequence],
    ] as const) {
      if (before && scale.indexOf(value) > scale.indexOf(before) && scale.includes(before)) problems.push({ field: at(field), message: `${value} is above the rating before treatment (${before}): a treatment cannot raise it` });
    }
    if ((t.option === 'modify' || t.option === 'share') && !plan.some((p) => p.riskId === t.riskId)) problems.push({ field: at('option'), message: `${t.option} needs at least one action in the treatment plan for ${t.riskId}` });
  });
  const seen = new Set<string>();
  comparison.forEach((row, i) => {
    if (!isAnnexAControl(row.control)) problems.push({ field: `annexA.${i}.control`, message: `unknown Annex A control "${row.control}"` });
    else if (seen.has(row.control)) problems.push({ field: `annexA.${i}.control`, message: `${row.control} is compared twice` });
    seen.add(row.control);
    if (row.decision === 'not-needed' && selected.has(row.control)) problems.push({ field: `annexA.${i}.decision`, message: `${row.control} is selected for a treatment, so it is covered` });
  });
  const missing = ANNEX_A.filter((ctl) => !seen.has(ctl.id)).map((ctl) => ctl.id);
  if (missing.length) problems.push({ field: 'annexA', message: `must compare every Annex A control (6.1.3 c); missing ${missing.join(', ')}` });
  const ids = c.risks.map((r) => r.id);
  plan.forEach((p, i) => {
    if (!ids.includes(p.riskId)) problems.push({ field: `plan.${i}.riskId`, message: `${p.riskId} is not one of the risks of this step` });
  });
  return problems;
}

export const riskTreatmentForm: FormDefinition = {
  key: 'risk-treatment',
  schema: z.object({ treatments: z.array(treatmentRowSchema).max(MAX_STEP_RISKS), annexA: z.array(comparisonRowSchema).max(ANNEX_A.length + 5), plan: z.array(planRowSchema).max(40).default([]), note }).strict(),
  check: treatmentProblems,
  parse: (body) => {
    const { note: typed, withNote } = noteOf(body);
    const t = postedRows(body, 'treatments', ['riskId', 'option', 'controls', 'residualLikelihood', 'residualConsequence'], MAX_STEP_RISKS);
    const a = postedRows(body, 'annexA', ['control', 'decision', 'why'], ANNEX_A.length);
    const p = postedRows(body, 'plan', ['riskId', 'action', 'owner', 'dueDate'], 40);
    return {
      data: {
        treatments: t.rows.map((r) => ({ ...r, controls: (r.controls ?? '').split(/\s*,\s*/).filter(Boolean) })),
        annexA: a.rows,
        plan: p.rows,
        ...withNote,
      },
      values: { note: typed, ...t.values, ...a.values, ...p.values },
    };
  },
  fields: (ctx, choices) => {
    const c = choicesOf(choices);
    const scale = (levels: string[]) => levels.map((l) => ({ value: l, label: l.replace(/-/g, ' ') }));
    const fields: FieldModel[] = [];
    c.risks.forEach((r, i) => {
      const at = (f: string) => `treatments.${i}.${f}`;
      fields.push(
        { kind: 'input', id: `f-${at('riskId')}`, name: at('riskId'), type: 'hidden', label: r.id, value: r.id },
        radios(ctx, at('option'), `${r.id} (${r.likelihood ?? '?'} × ${r.consequence ?? '?'}): treatment option`, treatmentOptions.map((o) => ({ value: o, label: o }))),
        input(ctx, at('controls'), `${r.id}: controls`, 'Annex A ids (e.g. A.7.4) and other controls, separated by commas.'),
        radios(ctx, at('residualLikelihood'), `${r.id}: likelihood after treatment`, scale(c.likelihood)),
        radios(ctx, at('residualConsequence'), `${r.id}: consequence after treatment`, scale(c.consequence)),
      );
    });
    ANNEX_A.forEach((ctl, i) => {
      fields.push(
        { kind: 'input', id: `f-annexA.${i}.control`, name: `annexA.${i}.control`, type: 'hidden', label: ctl.id, value: ctl.id },
        radios(ctx, `annexA.${i}.decision`, `${ctl.id} ${ctl.title}`, [
          { value: 'covered', label: 'Covered' },
          { value: 'not-needed', label: 'Not needed' },
        ]),
        input(ctx, `annexA.${i}.why`, `${ctl.id}: why`, 'How it is covered, or why it is not needed.', { required: true }),
      );
    });
    const rows = rowCount(ctx.values, 'plan', { min: 2, spare: 1, max: 40 });
    for (let i = 0; i < rows; i += 1) {
      fields.push(
        input(ctx, `plan.${i}.riskId`, `Action ${i + 1}: risk`, 'Risk id, e.g. R-001.'),
        textarea(ctx, `plan.${i}.action`, `Action ${i + 1}: what will be done`, undefined, false),
        input(ctx, `plan.${i}.owner`, `Action ${i + 1}: owner`, 'Person id.'),
        input(ctx, `plan.${i}.dueDate`, `Action ${i + 1}: due date`, 'As YYYY-MM-DD.', { type: 'date' }),
      );
    }
    return [...fields, textarea(ctx, 'note', 'Note (optional)', undefined, false)];
  },
  subjects: { ...treatSubjects, note: 'The note' },
  labels: { treatments: 'Treatments', annexA: 'Annex A comparison', plan: 'Treatment plan', note: 'Note' },
  sentence: (name, message) =>
    rowSentence(name, 'treatments', 'Treatment', treatSubjects, message) ?? rowSentence(name, 'annexA', 'Annex A row', treatSubjects, message) ?? rowSentence(name, 'plan', 'Action', treatSubjects, message),
};
