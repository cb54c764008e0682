/** `impact-scoping`: the scope of an AI system impact assessment (6.1.4): use, misuse, context, jurisdictions and who is affected. */
import { z } from 'zod';
import type { FormDefinition } from './definition.js';
import { field, input, noteOf, textarea, type Values } from './fields.js';
import { note, required } from './keys.js';

const names = ['intendedUse', 'foreseeableMisuse', 'deploymentContext', 'affectedIndividuals', 'affectedGroups', 'society'] as const;

export const impactScopingForm: FormDefinition = {
  key: 'impact-scoping',
  schema: z
    .object({
      intendedUse: required(5000),
      foreseeableMisuse: required(5000),
      deploymentContext: required(5000),
      jurisdictions: z.array(z.string().trim().min(1).max(100)).min(1, 'needs at least one jurisdiction').max(50),
      affectedIndividuals: required(5000),
      affectedGroups: required(5000),
      society: required(5000),
      note,
    })
    .strict(),
  parse: (body) => {
    const { note: typed, withNote } = noteOf(body);
    const texts = Object.fromEntries(names.map((n) => [n, field(body, n)]));
    const values: Values = { ...texts, jurisdictions: field(body, 'jurisdictions'), note: typed };
    // Jurisdictions are typed as one list separated by commas or new lines.
    const jurisdictions = field(body, 'jurisdictions')
      .split(/[,\n]/)
      .map((j) => j.trim())
      .filter(Boolean);
    return { data: { ...texts, jurisdictions, ...withNote }, values };
  },
  fields: (ctx) => [
    textarea(ctx, 'intendedUse', 'Intended use', 'What the AI system is for, who uses it and how its outputs are used.', true),
    textarea(ctx, 'foreseeableMisuse', 'Reasonably foreseeable misuse', 'How it could be used other than intended, by users or others.', true),
    textarea(ctx, 'deploymentContext', 'Deployment context', 'Where and how it runs: channels, human oversight, volumes, other systems involved.', true),
    input(ctx, 'jurisdictions', 'Jurisdictions', 'Where it is used or has effects, separated by commas, e.g. UK, Ireland, EU.', { required: true }),
    textarea(ctx, 'affectedIndividuals', 'Affected individuals', 'Who is affected directly: users, customers, employees, others.', true),
    textarea(ctx, 'affectedGroups', 'Affected groups', 'Groups that could be affected differently, e.g. by age, disability or income.', true),
    textarea(ctx, 'society', 'Society', 'Wider effects: on markets, public services, the environment, trust.', true),
    textarea(ctx, 'note', 'Note (optional)', undefined, false),
  ],
  subjects: {
    intendedUse: 'The intended use',
    foreseeableMisuse: 'The foreseeable misuse',
    deploymentContext: 'The deployment context',
    jurisdictions: 'The jurisdictions',
    affectedIndividuals: 'The affected individuals',
    affectedGroups: 'The affected groups',
    society: 'The effect on society',
    note: 'The note',
  },
  labels: {
    intendedUse: 'Intended use',
    foreseeableMisuse: 'Reasonably foreseeable misuse',
    deploymentContext: 'Deployment context',
    jurisdictions: 'Jurisdictions',
    affectedIndividuals: 'Affected individuals',
    affectedGroups: 'Affected groups',
    society: 'Society',
    note: 'Note',
  },
};
