/** `yes-no`: a yes or no, with a justification either way. */
import { z } from 'zod';
import type { FormDefinition } from './definition.js';
import { field, radios, textarea } from './fields.js';

export const yesNoForm: FormDefinition = {
  key: 'yes-no',
  schema: z
    .object({
      answer: z.enum(['yes', 'no'], { message: 'must be "yes" or "no"' }),
      justification: z.string().trim().min(1, 'is required').max(5000),
    })
    .strict(),
  parse: (body) => {
    const answer = field(body, 'answer');
    return {
      data: { ...(answer ? { answer } : {}), justification: field(body, 'justification') },
      values: { answer, justification: field(body, 'justification') },
    };
  },
  fields: (ctx) => [
    radios(ctx, 'answer', 'Your answer', [
      { value: 'yes', label: 'Yes' },
      { value: 'no', label: 'No' },
    ]),
    textarea(ctx, 'justification', 'Justification', 'Why: needed whichever way you answer.', true),
  ],
  subjects: { answer: 'Yes or no', justification: 'The justification' },
  labels: { answer: 'Yes or no', justification: 'Justification' },
  sentence: (name) => (name === 'answer' ? 'Choose yes or no' : undefined),
  anchor: (name) => (name === 'answer' ? 'f-answer-0' : undefined),
};
