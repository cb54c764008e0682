/**
 * Console forms: the posted body as strings and lists, and a zod error as one message per
 * field (dotted path → message), so a template shows each beside its field.
 */
import type { z } from 'zod';
export { formBody, field, fieldList } from '../api/pages/common.js';

/** `{ 'audits.0.lead': 'must be ...' }`: the first message for each failing path. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.') || '(form)';
    out[path] ??= issue.message;
  }
  return out;
}

/** The errors as a summary list for the top of a form: `[{ id, text }]`, ids as `fieldId` makes them. */
export function errorSummary(errors: Record<string, string>, labels: Record<string, string> = {}): Array<{ id: string; text: string }> {
  return Object.entries(errors).map(([path, message]) => ({
    id: `f-${path.replace(/[^A-Za-z0-9-]/g, '-')}`,
    text: `${labels[path] ?? path}: ${message}`,
  }));
}
