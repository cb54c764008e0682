/**
 * `system-change`: whether the AI management system must change because of a nonconformity
 * (10.2 e), with a justification, and whether the risks and opportunities determined in
 * planning must be updated (10.2 e): `updateRisks: yes` puts a risk in the register, linked to
 * the nonconformity.
 */
import { z } from 'zod';
import type { FormDefinition } from './definition.js';
import { field, radios, textarea } from './fields.js';

export const systemChangeForm: FormDefinition = {
  key: 'system-change',
  schema: z
    .object({
      answer: z.enum(['yes', 'no'], { message: 'must be "yes" or "no"' }),
      justification: z.string().trim().min(1, 'is required').max(5000),
      updateRisks: z.enum(['yes', 'no'], { message: 'must be "yes" or "no"' }).default('no'),
      risk: z.string().trim().max(5000).optional(),
    })
    .strict()
    .superRefine((v, ctx) => {
      if (v.updateRisks === 'yes' && !v.risk) ctx.addIssue({ code: 'custom', path: ['risk'], message: 'is required when the risks must be updated: describe the risk' });
    }),
  parse: (body) => {
    const answer = field(body, 'answer');
    const updateRisks = field(body, 'updateRisks');
    const risk = field(body, 'risk');
    return {
      data: { ...(answer ? { answer } : {}), justification: field(body, 'justification'), ...(updateRisks ? { updateRisks } : {}), ...(risk.trim() ? { risk } : {}) },
      values: { answer, justification: field(body, 'justification'), updateRisks, risk },
    };
  },
  fields: (ctx) => [
    radios(ctx, 'answer', 'Must the management system change?', [
      { value: 'yes', label: 'Yes' },
      { value: 'no', label: 'No' },
    ]),
    textarea(ctx, 'justification', 'Justification', 'Why: needed whichever way you answer.', true),
    radios(ctx, 'updateRisks', 'Must the risks and opportunities be updated (10.2 e)?', [
      { value: 'yes', label: 'Yes: add a risk to the register' },
      { value: 'no', label: 'No' },
    ]),
    textarea(ctx, 'risk', 'The risk', 'What could happen again, and why; required with yes.', false),
  ],
  subjects: { answer: 'Yes or no', justification: 'The justification', updateRisks: 'Updating the risks', risk: 'The risk' },
  labels: { answer: 'Management system must change', justification: 'Justification', updateRisks: 'Risks updated', risk: 'Risk' },
  sentence: (name) => (name === 'answer' ? 'Choose yes or no' : undefined),
  anchor: (name) => (name === 'answer' || name === 'updateRisks' ? `f-${name}-0` : undefined),
};
