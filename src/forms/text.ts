/** `text`: a free-text answer. */
import { z } from 'zod';
import type { FormDefinition } from './definition.js';
import { field, textarea } from './fields.js';

export const textForm: FormDefinition = {
  key: 'text',
  schema: z.object({ text: z.string().trim().min(1, 'is required').max(20000) }).strict(),
  parse: (body) => ({ data: { text: field(body, 'text') }, values: { text: field(body, 'text') } }),
  fields: (ctx) => [textarea(ctx, 'text', 'Your answer', undefined, true)],
  subjects: { text: 'Your answer' },
  labels: { text: 'Answer' },
};
