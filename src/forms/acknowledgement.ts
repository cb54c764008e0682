/** `acknowledgement`: the person confirms they have read a document (the AI policy, 7.3); one click, an optional comment. */
import { z } from 'zod';
import type { FormDefinition } from './definition.js';
import { field, radios, textarea } from './fields.js';

export const acknowledgementForm: FormDefinition = {
  key: 'acknowledgement',
  schema: z
    .object({
      acknowledged: z.literal('yes', { message: 'must be "yes"' }),
      comment: z.string().trim().max(5000).optional(),
    })
    .strict(),
  parse: (body) => {
    const acknowledged = field(body, 'acknowledged');
    const comment = field(body, 'comment').trim();
    return {
      data: { ...(acknowledged ? { acknowledged } : {}), ...(comment ? { comment } : {}) },
      values: { acknowledged, comment: field(body, 'comment') },
    };
  },
  fields: (ctx) => [
    radios(ctx, 'acknowledged', 'Acknowledgement', [{ value: 'yes', label: 'I have read and understood this document' }]),
    textarea(ctx, 'comment', 'Comment (optional)', undefined, false),
  ],
  subjects: { acknowledged: 'The acknowledgement', comment: 'The comment' },
  labels: { acknowledged: 'Acknowledged', comment: 'Comment' },
  sentence: (name) => (name === 'acknowledged' ? 'Tick the acknowledgement' : undefined),
  anchor: (name) => (name === 'acknowledged' ? 'f-acknowledged-0' : undefined),
};
