/**
 * What every form module shares: the posted values, the field models the task page renders
 * (with the value to show back and an error beside each failing field), and the problems a
 * form reports. Workflow-safe (pure).
 */

/** A form as posted: each field's value, or its values when repeated. */
export type Values = Record<string, string | string[]>;

export interface FormProblem {
  field: string;
  message: string;
}

export interface FieldModel {
  kind: 'textarea' | 'input' | 'radios' | 'links';
  id: string;
  name: string;
  label: string;
  hint?: string;
  type?: string;
  value?: string;
  required?: boolean;
  error?: string;
  describedBy?: string;
  options?: Array<{ id: string; value: string; label: string; checked: boolean }>;
  inputs?: Array<{ id: string; value: string; label: string; required: boolean; error?: string }>;
}

/** The first value of a posted field, or '' when absent. */
export function field(body: Values, name: string): string {
  const value = body[name];
  return typeof value === 'string' ? value : (value?.[0] ?? '');
}

/** Every value of a repeated posted field. */
export function fieldList(body: Values, name: string): string[] {
  const value = body[name];
  return value === undefined ? [] : typeof value === 'string' ? [value] : value;
}

/** `{ note }` when a note was typed, for the many forms with an optional note. */
export function noteOf(body: Values): { note: string; withNote: { note?: string } } {
  const note = field(body, 'note');
  return { note, withNote: note.trim() ? { note } : {} };
}

export const sentenceCase = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}`;

/** How a field's problem reads as a sentence, and which element it points to. */
export type Sentence = (fieldName: string, message: string) => string;

export interface FieldContext {
  values: Values;
  problems: FormProblem[];
  sentence: Sentence;
}

export function errorFor(ctx: FieldContext, name: string): string | undefined {
  const found = ctx.problems.filter((p) => p.field === name);
  return found.length ? found.map((p) => ctx.sentence(name, p.message)).join('; ') : undefined;
}

export const describedBy = (id: string, hint: boolean, error: string | undefined) =>
  [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;

const valueOf = (ctx: FieldContext, name: string) => {
  const value = ctx.values[name];
  return typeof value === 'string' ? value : '';
};

export function textarea(ctx: FieldContext, name: string, label: string, hint: string | undefined, required: boolean): FieldModel {
  const id = `f-${name}`;
  const error = errorFor(ctx, name);
  const by = describedBy(id, !!hint, error);
  return {
    kind: 'textarea',
    id,
    name,
    label,
    ...(hint ? { hint } : {}),
    value: valueOf(ctx, name),
    required,
    ...(error ? { error } : {}),
    ...(by ? { describedBy: by } : {}),
  };
}

export function radios(ctx: FieldContext, name: string, label: string, options: Array<{ value: string; label: string }>): FieldModel {
  const id = `f-${name}`;
  const error = errorFor(ctx, name);
  const current = valueOf(ctx, name);
  return {
    kind: 'radios',
    id,
    name,
    label,
    required: true,
    ...(error ? { error, describedBy: `${id}-error` } : {}),
    options: options.map((o, i) => ({ id: `${id}-${i}`, value: o.value, label: o.label, checked: o.value === current })),
  };
}

export function input(ctx: FieldContext, name: string, label: string, hint: string, options: { type?: string; required?: boolean } = {}): FieldModel {
  const id = `f-${name}`;
  const error = errorFor(ctx, name);
  return {
    kind: 'input',
    id,
    name,
    type: options.type ?? 'text',
    label,
    hint,
    value: valueOf(ctx, name),
    required: options.required ?? false,
    ...(error ? { error } : {}),
    describedBy: describedBy(id, true, error) ?? `${id}-hint`,
  };
}

/**
 * How many rows a repeated-row form offers: at least `min`, every filled row, and `spare`
 * empty ones, up to `max`. Rows are posted as `<prefix>.<i>.<field>`.
 */
export function rowCount(values: Values, prefix: string, bounds: { min: number; spare: number; max: number }): number {
  const pattern = new RegExp(`^${prefix}\\.\\d+\\.\\w+$`);
  const filled = Object.keys(values)
    .filter((k) => pattern.test(k) && values[k])
    .map((k) => Number(k.split('.')[1]));
  return Math.min(bounds.max, Math.max(bounds.min, (filled.length ? Math.max(...filled) + 1 : 0) + bounds.spare));
}

/**
 * The rows posted as `<prefix>.<i>.<field>` (a row left wholly empty is ignored), and every
 * posted value to show back.
 */
export function postedRows(body: Values, prefix: string, fields: readonly string[], max: number, trim = true): { rows: Array<Record<string, string>>; values: Values } {
  const values: Values = {};
  const rows: Array<Record<string, string>> = [];
  for (let i = 0; i < max; i += 1) {
    const row: Record<string, string> = Object.fromEntries(
      fields.map((f) => {
        const v = field(body, `${prefix}.${i}.${f}`);
        return [f, trim ? v.trim() : v];
      }),
    );
    for (const [k, v] of Object.entries(row)) values[`${prefix}.${i}.${k}`] = v;
    if (Object.values(row).some((v) => v.trim())) rows.push(row);
  }
  return { rows, values };
}

/** `<Row> <n>: <subject> <message>` for a problem in a repeated row, e.g. "Impact 2: the likelihood is required". */
export function rowSentence(fieldName: string, prefix: string, noun: string, subjects: Record<string, string>, message: string): string | undefined {
  const match = new RegExp(`^${prefix}\\.(\\d+)\\.(\\w+)(\\.\\d+)?$`).exec(fieldName);
  if (!match) return undefined;
  return `${noun} ${Number(match[1]) + 1}: ${(subjects[match[2] ?? ''] ?? match[2] ?? '').toLowerCase()} ${message}`;
}
