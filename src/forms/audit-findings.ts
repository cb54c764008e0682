/** `audit-findings`: internal audit findings (9.2); an audit without findings says in the note what was checked. */
import { z } from 'zod';
import { clauseRef } from '../common/schemas.js';
import type { FormDefinition } from './definition.js';
import { input, noteOf, postedRows, radios, rowCount, rowSentence, textarea, type FieldModel } from './fields.js';
import { note, personId, required } from './keys.js';

/** How an internal audit finding is graded (ISO/IEC 42001 9.2). */
export const auditFindingTypes = ['major-nc', 'minor-nc', 'observation', 'opportunity'] as const;

/** Most findings one audit report may hold. */
export const MAX_AUDIT_FINDINGS = 30;

/** One internal audit finding: its grade, the clauses or controls concerned, the statement and the evidence. */
export const auditFindingRowSchema = z
  .object({
    type: z.enum(auditFindingTypes, { message: 'must be "major-nc", "minor-nc", "observation" or "opportunity"' }),
    refs: z.array(z.string().trim().pipe(clauseRef)).min(1, 'needs at least one clause or control').max(20),
    statement: required(5000),
    evidence: required(5000),
    /** For a nonconformity: who owns the corrective action (default: the auditee). */
    owner: personId.optional(),
  })
  .strict();
export type AuditFindingRow = z.output<typeof auditFindingRowSchema>;

const typeLabels: Record<(typeof auditFindingTypes)[number], string> = {
  'major-nc': 'Major nonconformity',
  'minor-nc': 'Minor nonconformity',
  observation: 'Observation',
  opportunity: 'Opportunity for improvement',
};
const rowFields = ['type', 'refs', 'statement', 'evidence', 'owner'] as const;
const subjects = { findings: 'The findings', type: 'The grade', refs: 'The clauses or controls', statement: 'The statement', evidence: 'The evidence', owner: 'The owner' };

export const auditFindingsForm: FormDefinition = {
  key: 'audit-findings',
  schema: z
    .object({ findings: z.array(auditFindingRowSchema).max(MAX_AUDIT_FINDINGS), note })
    .strict()
    .superRefine((v, ctx) => {
      if (!v.findings.length && !v.note) ctx.addIssue({ code: 'custom', path: ['note'], message: 'is required when there are no findings: say what was checked' });
    }),
  parse: (body) => {
    // Rows are posted as findings.<i>.<field>; clauses and controls are typed as one list.
    const { note: typed, withNote } = noteOf(body);
    const { rows, values } = postedRows(body, 'findings', rowFields, MAX_AUDIT_FINDINGS);
    const findings = rows.map((row) => ({
      type: row.type,
      refs: (row.refs ?? '').split(/[,\s]+/).filter(Boolean),
      statement: row.statement,
      evidence: row.evidence,
      ...(row.owner ? { owner: row.owner } : {}),
    }));
    return { data: { findings, ...withNote }, values: { note: typed, ...values } };
  },
  fields: (ctx) => {
    const rows = rowCount(ctx.values, 'findings', { min: 2, spare: 1, max: MAX_AUDIT_FINDINGS });
    const fields: FieldModel[] = [];
    for (let i = 0; i < rows; i += 1) {
      const n = i + 1;
      const name = (f: string) => `findings.${i}.${f}`;
      // A bad clause in the list is reported against the list's box.
      const refs = { ...ctx, problems: ctx.problems.map((p) => (p.field.startsWith(`${name('refs')}.`) ? { ...p, field: name('refs') } : p)) };
      fields.push(
        { ...radios(ctx, name('type'), `Finding ${n}: grade`, auditFindingTypes.map((t) => ({ value: t, label: typeLabels[t] }))), required: false },
        input(refs, name('refs'), `Finding ${n}: clauses or controls`, 'Separated by commas, e.g. 9.2, A.6.2.6.'),
        textarea(ctx, name('statement'), `Finding ${n}: statement`, 'What was found, against which requirement.', false),
        textarea(ctx, name('evidence'), `Finding ${n}: evidence`, 'What was seen: records sampled, interviews, observations.', false),
        input(ctx, name('owner'), `Finding ${n}: owner of the corrective action (nonconformities)`, 'Person id, e.g. sofia.lind. Leave empty for the auditee.'),
      );
    }
    return [...fields, textarea(ctx, 'note', 'Note', 'Required when there are no findings: say what was checked. Leave rows you do not need empty.', false)];
  },
  subjects: { ...subjects, note: 'The note' },
  labels: { findings: 'Findings', note: 'Note' },
  sentence: (name, message) => rowSentence(name, 'findings', 'Finding', subjects, message),
};
