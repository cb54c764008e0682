/** `measurement`: a measured value of an objective's metric, the method used, an evidence link and a comment. */
import { z } from 'zod';
import type { FormDefinition } from './definition.js';
import { field, input, noteOf, textarea } from './fields.js';

export const measurementForm: FormDefinition = {
  key: 'measurement',
  schema: z
    .object({
      value: z.number({ error: 'must be a number' }).refine(Number.isFinite, 'must be a finite number'),
      method: z.string().trim().min(1, 'is required').max(2000),
      evidence: z.url({ protocol: /^https?$/, message: 'must be an http(s) link' }).optional(),
      comment: z.string().trim().max(5000).optional(),
    })
    .strict(),
  parse: (body) => {
    const raw = field(body, 'value').trim();
    const number = raw === '' ? Number.NaN : Number(raw.replace(',', '.'));
    const evidence = field(body, 'evidence').trim();
    const { withNote } = noteOf({ note: field(body, 'comment') });
    return {
      data: {
        // A value that is not a number is passed on as typed, so the schema names the field.
        value: Number.isFinite(number) ? number : raw,
        method: field(body, 'method'),
        ...(evidence ? { evidence } : {}),
        ...(withNote.note ? { comment: withNote.note } : {}),
      },
      values: { value: field(body, 'value'), method: field(body, 'method'), evidence: field(body, 'evidence'), comment: field(body, 'comment') },
    };
  },
  fields: (ctx) => [
    input(ctx, 'value', 'Measured value', 'A number, in the metric\'s unit, e.g. 97.5.', { type: 'text', required: true }),
    textarea(ctx, 'method', 'Method', 'How the value was measured (query, sample, report).', true),
    input(ctx, 'evidence', 'Evidence link (optional)', 'A link starting with https:// (a dashboard, a report).', { type: 'url' }),
    textarea(ctx, 'comment', 'Comment (optional)', undefined, false),
  ],
  subjects: { value: 'The measured value', method: 'The method', evidence: 'The evidence link', comment: 'The comment' },
  labels: { value: 'Measured value', method: 'Method', evidence: 'Evidence link', comment: 'Comment' },
};
