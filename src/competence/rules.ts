/**
 * Competence (ISO/IEC 42001 7.2) from the organization file: what each person's roles require,
 * the evidence they hold and when it expires, and which evidence needs renewing soon.
 * Workflow-safe (pure).
 */
import type { Organization } from '../organization/schema.js';

export const COMPETENCE_CLAUSES = ['7.2'] as const;
export const COMPETENCE_PROCESS = 'competence';

export interface RenewalDue {
  person: string;
  competence: string;
  evidence: string;
  expiresOn: string;
}

/** The competences a person's roles require. */
export function requiredOf(org: Organization, personId: string): string[] {
  const { roles } = org;
  const req = org.competence.required;
  return [
    ...new Set([
      ...(roles.topManagement.includes(personId) ? req.topManagement : []),
      ...(roles.aimsManager === personId ? req.aimsManager : []),
      ...(roles.internalAuditors.includes(personId) ? req.internalAuditors : []),
      ...(roles.aiGovernance.includes(personId) ? req.aiGovernance : []),
      ...(Object.values(roles.processOwners).includes(personId) ? req.processOwners : []),
      ...(org.aiSystems.some((s) => s.owner === personId) ? req.systemOwners : []),
      ...(roles.internalAuditors.includes(personId) && org.competence.leadAuditor ? [org.competence.leadAuditor] : []),
    ]),
  ];
}

/**
 * Evidence that expires within `[today, until]`, for competences the person's roles require (or
 * any they listed, when their roles require none); one entry per person and competence, its
 * latest expiry.
 */
export function renewalsDue(org: Organization, todayDay: string, untilDay: string): RenewalDue[] {
  const out: RenewalDue[] = [];
  for (const person of org.people) {
    const required = new Set(requiredOf(org, person.id));
    const latest = new Map<string, { evidence: string; expiresOn?: string | undefined }>();
    for (const c of person.competences) {
      const prev = latest.get(c.competence);
      // Evidence without an expiry never needs renewing; otherwise the latest expiry counts.
      if (!prev || (prev.expiresOn && (!c.expiresOn || c.expiresOn > prev.expiresOn))) latest.set(c.competence, c);
    }
    for (const [competence, c] of latest) {
      if (required.size && !required.has(competence)) continue;
      if (c.expiresOn && c.expiresOn >= todayDay && c.expiresOn <= untilDay) out.push({ person: person.id, competence, evidence: c.evidence, expiresOn: c.expiresOn });
    }
  }
  return out;
}

/** Required competences a person holds no valid evidence of on `day`: the gaps a competence report shows. */
export function competenceGaps(org: Organization, day: string): Array<{ person: string; competence: string; reason: string }> {
  return org.people.flatMap((p) =>
    requiredOf(org, p.id).flatMap((competence) => {
      const held = p.competences.filter((c) => c.competence === competence);
      if (held.some((c) => !c.expiresOn || c.expiresOn >= day)) return [];
      return [{ person: p.id, competence, reason: held.length ? 'evidence expired' : 'no evidence' }];
    }),
  );
}
