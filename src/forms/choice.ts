/** `choice`: one of the task's choices, with an optional note. */
import { z } from 'zod';
import type { FormDefinition } from './definition.js';
import { field, noteOf, radios, textarea } from './fields.js';
import { note } from './keys.js';

export const choiceForm: FormDefinition = {
  key: 'choice',
  schema: z.object({ choice: z.string().min(1, 'is required'), note }).strict(),
  check: (data, choices) =>
    choices.includes(data.choice as string) ? [] : [{ field: 'choice', message: `must be one of: ${choices.join(', ')}` }],
  parse: (body) => {
    const { note: typed, withNote } = noteOf(body);
    return { data: { choice: field(body, 'choice'), ...withNote }, values: { choice: field(body, 'choice'), note: typed } };
  },
  fields: (ctx, choices) => [
    radios(
      ctx,
      'choice',
      'Your choice',
      choices.map((c) => ({ value: c, label: c })),
    ),
    textarea(ctx, 'note', 'Note (optional)', undefined, false),
  ],
  subjects: { choice: 'The choice', note: 'The note' },
  labels: { choice: 'Choice', note: 'Note' },
  sentence: (name, message) => (name === 'choice' ? `Choose one of the options${/^must be one of/.test(message) ? '' : ` (${message})`}` : undefined),
  anchor: (name) => (name === 'choice' ? 'f-choice-0' : undefined),
};
