/**
 * The Statement of Applicability (ISO/IEC 42001 6.1.3 d): every Annex A control, included or
 * excluded, the justification, the implementation state, the owner and the evidence. A
 * controlled document: each change is a `soa.changed` ledger record (a new version, numbered
 * in ledger order), version n is the first n changes applied to the baseline the first one
 * carries, and a version is approved by top management through an approval bound to its hash.
 * Workflow-safe (zod and pure functions).
 */
import { z } from 'zod';
import type { Organization } from '../organization/schema.js';
import { ANNEX_A, isAnnexAControl } from './annex-a.js';

export const SOA_SUBJECT = 'soa';
export const SOA_CHANGED = 'soa.changed';
export const SOA_APPROVED = 'soa.approved';
export const SOA_CLAUSES = ['6.1.3'] as const;

export const implementationStates = ['planned', 'partial', 'implemented'] as const;
export type ImplementationState = (typeof implementationStates)[number];

export interface SoaControl {
  control: string;
  title: string;
  included: boolean;
  justification: string;
  /** For an included control; null for an excluded one. */
  implementation: ImplementationState | null;
  owner: string | null;
  /** Ledger record ids and links that show it in place. */
  evidence: string[];
  /** Risks whose treatment selected it. */
  risks: string[];
}

/** One edit of one control; fields left out stay as they are. `addEvidence`/`addRisks` add to the lists. */
export const soaEditSchema = z
  .object({
    control: z.string().refine(isAnnexAControl, { message: 'unknown Annex A control id (see ISO/IEC 42001 Annex A, e.g. A.7.4)' }),
    included: z.boolean().optional(),
    justification: z.string().trim().min(1).max(2000).optional(),
    implementation: z.enum(implementationStates).nullable().optional(),
    owner: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be a person id').nullable().optional(),
    evidence: z.array(z.string().trim().min(1).max(500)).max(50).optional(),
    addEvidence: z.array(z.string().trim().min(1).max(500)).max(50).optional(),
    addRisks: z.array(z.string().regex(/^R-\d{3,6}$/, 'must be a risk id such as R-001')).max(50).optional(),
  })
  .strict();
export type SoaEdit = z.output<typeof soaEditSchema>;

/** The AIMS manager's edits through the admin API: one or more controls, and why. */
export const soaEditsSchema = z
  .object({
    changes: z.array(soaEditSchema).min(1).max(ANNEX_A.length),
    reason: z.string().trim().min(1).max(2000),
    by: z.string().optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    const seen = new Set<string>();
    v.changes.forEach((c, i) => {
      if (seen.has(c.control)) ctx.addIssue({ code: 'custom', path: ['changes', i, 'control'], message: `${c.control} is changed twice` });
      seen.add(c.control);
      if (c.included === false && !c.justification) ctx.addIssue({ code: 'custom', path: ['changes', i, 'justification'], message: 'is required to exclude a control (6.1.3 d)' });
    });
  });
export type SoaEdits = z.input<typeof soaEditsSchema>;

/** What a `soa.changed` record holds. */
export interface SoaChangeContent {
  changes: SoaEdit[];
  reason: string;
  /** The first change carries the baseline it applies to (from the organization file). */
  baseline?: SoaControl[];
  /** The risk assessment or review it came from. */
  source?: string;
}

/** The version 0 a Statement of Applicability starts from: the organization file's applicable and excluded controls. */
export function baselineSoa(org: Pick<Organization, 'aims' | 'roles'>): SoaControl[] {
  const ownerOf = (control: string): string | null => {
    for (const [process, refs] of Object.entries(org.aims.processClauses)) {
      if (refs.includes(control)) return org.roles.processOwners[process] ?? null;
    }
    return null;
  };
  return ANNEX_A.map(({ id, title }) => {
    const excluded = org.aims.annexA.excluded.find((e) => e.control === id);
    const applicable = org.aims.annexA.applicable.includes(id);
    return {
      control: id,
      title,
      included: !excluded && applicable,
      justification: excluded ? excluded.justification : applicable ? 'applicable in the AIMS scope (organization file)' : 'not yet decided: neither applicable nor excluded in the organization file',
      implementation: !excluded && applicable ? 'planned' : null,
      owner: ownerOf(id),
      evidence: [],
      risks: [],
    };
  });
}

/** Applies edits to a version, giving the next (a new array; the input is left alone). */
export function applySoaEdits(controls: readonly SoaControl[], edits: readonly SoaEdit[]): SoaControl[] {
  return controls.map((c) => {
    const edit = edits.find((e) => e.control === c.control);
    if (!edit) return c;
    const next: SoaControl = { ...c, evidence: [...c.evidence], risks: [...c.risks] };
    if (edit.included !== undefined) next.included = edit.included;
    if (edit.justification !== undefined) next.justification = edit.justification;
    if (edit.implementation !== undefined) next.implementation = edit.implementation;
    if (edit.owner !== undefined) next.owner = edit.owner;
    if (edit.evidence !== undefined) next.evidence = [...edit.evidence];
    for (const e of edit.addEvidence ?? []) if (!next.evidence.includes(e)) next.evidence.push(e);
    for (const r of edit.addRisks ?? []) if (!next.risks.includes(r)) next.risks.push(r);
    if (!next.included) next.implementation = null;
    else if (next.implementation === null) next.implementation = 'planned';
    return next;
  });
}

export interface SoaFieldChange {
  control: string;
  field: keyof Omit<SoaControl, 'control' | 'title'>;
  from: unknown;
  to: unknown;
}

/** What changed between two versions, control by control and field by field. */
export function soaDiff(from: readonly SoaControl[], to: readonly SoaControl[]): SoaFieldChange[] {
  const fields = ['included', 'justification', 'implementation', 'owner', 'evidence', 'risks'] as const;
  const out: SoaFieldChange[] = [];
  for (const after of to) {
    const before = from.find((c) => c.control === after.control);
    for (const field of fields) {
      const a = before?.[field] ?? null;
      const b = after[field];
      if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ control: after.control, field, from: a, to: b });
    }
  }
  return out;
}

/** The controls a risk treatment selected, as SoA edits: included, justified by the risks, implemented once the treatment is verified. */
export function soaEditsFromTreatment(
  risks: ReadonlyArray<{ riskId: string; title: string; controls: ReadonlyArray<{ ref: string; annexA: boolean }> }>,
  opts: { verified: boolean; evidence: string[] },
): SoaEdit[] {
  const byControl = new Map<string, string[]>();
  for (const r of risks) {
    for (const c of r.controls) {
      if (!c.annexA) continue;
      byControl.set(c.ref, [...(byControl.get(c.ref) ?? []), r.riskId]);
    }
  }
  return [...byControl.entries()].map(([control, riskIds]) => ({
    control,
    included: true,
    justification: `selected to treat ${riskIds.join(', ')} (6.1.3)`,
    implementation: opts.verified ? 'implemented' : 'planned',
    addEvidence: opts.evidence,
    addRisks: riskIds,
  }));
}
