/** `root-cause`: root-cause analysis (10.2 b): the method, the analysis, the cause and whether it can recur elsewhere. */
import { z } from 'zod';
import type { FormDefinition } from './definition.js';
import { field, radios, textarea, type Values } from './fields.js';
import { required } from './keys.js';

/** Root-cause analysis methods offered by the form. */
export const rootCauseMethods = ['5-whys', 'cause-categories'] as const;

const names = ['method', 'analysis', 'rootCause', 'similarElsewhere', 'similarDetail'] as const;
const choiceFields: readonly string[] = ['method', 'similarElsewhere'];

export const rootCauseForm: FormDefinition = {
  key: 'root-cause',
  schema: z
    .object({
      method: z.enum(rootCauseMethods, { message: 'must be "5-whys" or "cause-categories"' }),
      analysis: required(10000),
      rootCause: required(5000),
      similarElsewhere: z.enum(['yes', 'no'], { message: 'must be "yes" or "no"' }),
      similarDetail: required(5000),
    })
    .strict(),
  parse: (body) => {
    const values: Values = Object.fromEntries(names.map((n) => [n, field(body, n)]));
    // An unanswered choice is left out, so the schema says it is missing.
    const data = Object.fromEntries(Object.entries(values).filter(([k, v]) => v !== '' || !choiceFields.includes(k)));
    return { data, values };
  },
  fields: (ctx) => [
    radios(ctx, 'method', 'Analysis method', [
      { value: '5-whys', label: '5 whys' },
      { value: 'cause-categories', label: 'Cause categories (people, process, data, model, tooling, supplier)' },
    ]),
    textarea(ctx, 'analysis', 'Analysis', 'The whys in order, or the categories considered and what each showed.', true),
    textarea(ctx, 'rootCause', 'Root cause', 'The cause that, once removed, stops this from happening again.', true),
    radios(ctx, 'similarElsewhere', 'Could similar nonconformities exist or occur elsewhere?', [
      { value: 'yes', label: 'Yes' },
      { value: 'no', label: 'No' },
    ]),
    textarea(ctx, 'similarDetail', 'Where, or why not', 'Which other processes, AI systems or sites you checked, and what you found.', true),
  ],
  subjects: {
    method: 'The method',
    analysis: 'The analysis',
    rootCause: 'The root cause',
    similarElsewhere: 'The answer on similar nonconformities',
    similarDetail: 'The explanation',
  },
  labels: {
    method: 'Method',
    analysis: 'Analysis',
    rootCause: 'Root cause',
    similarElsewhere: 'Similar nonconformities elsewhere',
    similarDetail: 'Where, or why not',
  },
  sentence: (name) =>
    name === 'similarElsewhere' ? 'Answer whether similar nonconformities could exist or occur elsewhere' : name === 'method' ? 'Choose the analysis method' : undefined,
  anchor: (name) => (choiceFields.includes(name) ? `f-${name}-0` : undefined),
};
