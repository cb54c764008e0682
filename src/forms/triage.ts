/**
 * `triage`: the triage of a reported concern (A.3.3): accept it as a nonconformity (with its
 * severity and, optionally, an owner other than the triager), reject it (the note is the
 * reason the reporter is told), or merge it into an open nonconformity.
 */
import { z } from 'zod';
import { ncIdSchema, severities } from '../corrective-action/nc-id.js';
import type { FormDefinition } from './definition.js';
import { field, input, radios, textarea, type Values } from './fields.js';
import { note, personId } from './keys.js';

export const triageDecisions = ['accept', 'reject', 'merge'] as const;
export type TriageDecision = (typeof triageDecisions)[number];

const names = ['decision', 'severity', 'owner', 'ncId'] as const;
const choiceFields: readonly string[] = ['decision', 'severity'];

export const triageSchema = z
  .object({
    decision: z.enum(triageDecisions, { message: 'must be "accept", "reject" or "merge"' }),
    severity: z.enum(severities, { message: 'must be "major" or "minor"' }).optional(),
    owner: personId.optional(),
    ncId: z.string().trim().pipe(ncIdSchema).optional(),
    note,
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.decision === 'accept' && !v.severity) ctx.addIssue({ code: 'custom', path: ['severity'], message: 'is required to accept' });
    if (v.decision === 'merge' && !v.ncId) ctx.addIssue({ code: 'custom', path: ['ncId'], message: 'is required to merge' });
    if (v.decision === 'reject' && !v.note) {
      ctx.addIssue({ code: 'custom', path: ['note'], message: 'is required to reject: it is the reason the reporter is told' });
    }
  });

export const triageForm: FormDefinition = {
  key: 'triage',
  schema: triageSchema,
  parse: (body) => {
    const values: Values = { ...Object.fromEntries(names.map((n) => [n, field(body, n).trim()])), note: field(body, 'note') };
    const data = Object.fromEntries(Object.entries(values).filter(([, v]) => typeof v === 'string' && v.trim() !== ''));
    return { data, values };
  },
  fields: (ctx) => [
    radios(ctx, 'decision', 'Your decision', [
      { value: 'accept', label: 'Accept: raise a nonconformity for it' },
      { value: 'reject', label: 'Reject: the reporter, if they gave an e-mail address, is told the reason' },
      { value: 'merge', label: 'Merge: attach it to an open nonconformity' },
    ]),
    {
      ...radios(ctx, 'severity', 'Severity (to accept)', [
        { value: 'major', label: 'Major' },
        { value: 'minor', label: 'Minor' },
      ]),
      required: false,
    },
    input(ctx, 'owner', 'Owner of the corrective action (to accept, optional)', 'Person id, e.g. sofia.lind. Leave empty to own it yourself.'),
    input(ctx, 'ncId', 'Nonconformity to merge into (to merge)', 'Its id, e.g. NC-2027-004.'),
    textarea(ctx, 'note', 'Note', 'Required to reject: the reason the reporter is told. Optional otherwise.', false),
  ],
  subjects: { decision: 'The decision', severity: 'The severity', owner: 'The owner', ncId: 'The nonconformity id', note: 'The note' },
  labels: { decision: 'Decision', severity: 'Severity', owner: 'Owner', ncId: 'Nonconformity', note: 'Note' },
  sentence: (name, message) =>
    name === 'decision' ? 'Choose accept, reject or merge' : name === 'severity' ? `Choose the severity${/^must be/.test(message) ? '' : ` (${message})`}` : undefined,
  anchor: (name) => (choiceFields.includes(name) ? `f-${name}-0` : undefined),
};
