/** `impact-assessment`: impacts on individuals or groups (A.5.4) and on society (A.5.5), each rated and mitigated. */
import { z } from 'zod';
import type { FormDefinition } from './definition.js';
import { errorFor, noteOf, postedRows, radios, rowCount, rowSentence, sentenceCase, textarea, type FieldModel, type FormProblem } from './fields.js';
import { note, required } from './keys.js';

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

/**
 * A mitigation cannot make an impact worse: the residual severity and likelihood must be at or
 * below the ratings before mitigation (ranked along the scales; levels off a scale are refused
 * on their own, so they are not compared).
 */
export function residualAboveInherent(row: ImpactRow, scales: { severity: readonly string[]; likelihood: readonly string[] }): FormProblem[] {
  const problems: FormProblem[] = [];
  for (const [residual, inherent, scale, what] of [
    ['residualSeverity', 'severity', scales.severity, 'severity'],
    ['residualLikelihood', 'likelihood', scales.likelihood, 'likelihood'],
  ] as const) {
    const after = scale.indexOf(row[residual]);
    const before = scale.indexOf(row[inherent]);
    if (after >= 0 && before >= 0 && after > before) {
      problems.push({ field: residual, message: `${row[residual]} is above the ${what} before mitigation (${row[inherent]}): a mitigation cannot raise it` });
    }
  }
  return problems;
}

const rowFields = ['area', 'description', 'severity', 'likelihood', 'mitigation', 'residualSeverity', 'residualLikelihood'] as const;
const radioFields: readonly string[] = ['area', 'severity', 'likelihood', 'residualSeverity', 'residualLikelihood'];
const subjects = {
  impacts: 'The impacts',
  area: 'The area',
  description: 'The description',
  severity: 'The severity',
  likelihood: 'The likelihood',
  mitigation: 'The mitigation',
  residualSeverity: 'The residual severity',
  residualLikelihood: 'The residual likelihood',
};

export const impactAssessmentForm: FormDefinition = {
  key: 'impact-assessment',
  schema: z.object({ impacts: z.array(impactRowSchema).min(1, 'needs at least one impact').max(MAX_IMPACTS), note }).strict(),
  check: (data, choices) => {
    const scales = impactScalesOf(choices);
    const problems: FormProblem[] = [];
    (data.impacts as ImpactRow[]).forEach((row, i) => {
      for (const [name, scale] of [
        ['severity', scales.severity],
        ['likelihood', scales.likelihood],
        ['residualSeverity', scales.severity],
        ['residualLikelihood', scales.likelihood],
      ] as const) {
        if (scale.length && !scale.includes(row[name])) problems.push({ field: `impacts.${i}.${name}`, message: `must be one of: ${scale.join(', ')}` });
      }
      problems.push(...residualAboveInherent(row, scales).map((p) => ({ ...p, field: `impacts.${i}.${p.field}` })));
    });
    return problems;
  },
  parse: (body) => {
    const { note: typed, withNote } = noteOf(body);
    const { rows, values } = postedRows(body, 'impacts', rowFields, MAX_IMPACTS);
    return { data: { impacts: rows, ...withNote }, values: { note: typed, ...values } };
  },
  fields: (ctx, choices) => {
    const scales = impactScalesOf(choices);
    const rows = rowCount(ctx.values, 'impacts', { min: 2, spare: 1, max: MAX_IMPACTS });
    const scale = (levels: string[]) => levels.map((l) => ({ value: l, label: sentenceCase(l.replace(/-/g, ' ')) }));
    const listError = errorFor(ctx, 'impacts');
    const fields: FieldModel[] = [];
    for (let i = 0; i < rows; i += 1) {
      const n = i + 1;
      const name = (f: string) => `impacts.${i}.${f}`;
      const choose = (f: string, label: string, options: Array<{ value: string; label: string }>): FieldModel => ({ ...radios(ctx, name(f), label, options), required: i === 0 });
      fields.push(
        {
          ...choose('area', `Impact ${n}: on whom`, impactAreas.map((a) => ({ value: a, label: a === 'society' ? 'Society (A.5.5)' : `${sentenceCase(a)} (A.5.4)` }))),
          ...(i === 0 && listError ? { error: listError } : {}),
        },
        textarea(ctx, name('description'), `Impact ${n}: what could happen`, undefined, i === 0),
        choose('severity', `Impact ${n}: severity`, scale(scales.severity)),
        choose('likelihood', `Impact ${n}: likelihood`, scale(scales.likelihood)),
        textarea(ctx, name('mitigation'), `Impact ${n}: mitigation`, 'What is done, or will be done, to reduce it.', i === 0),
        choose('residualSeverity', `Impact ${n}: severity after mitigation`, scale(scales.severity)),
        choose('residualLikelihood', `Impact ${n}: likelihood after mitigation`, scale(scales.likelihood)),
      );
    }
    return [...fields, textarea(ctx, 'note', 'Note (optional)', 'Leave rows you do not need empty.', false)];
  },
  subjects: { ...subjects, note: 'The note' },
  labels: { impacts: 'Impacts', note: 'Note' },
  sentence: (name, message) => rowSentence(name, 'impacts', 'Impact', subjects, message),
  anchor: (name) => {
    if (name === 'impacts') return 'f-impacts.0.area-0';
    const impact = /^impacts\.(\d+)\.(\w+)$/.exec(name);
    return impact && radioFields.includes(impact[2] ?? '') ? `f-${name}-0` : undefined;
  },
};
