/** The competence renewal run (7.2): its type name, input and result. Workflow-safe. */
import type { z } from 'zod';
import type { timingPolicySchema } from '../common/schemas.js';

type TimingPolicy = z.input<typeof timingPolicySchema>;
import type { RenewalDue } from './rules.js';

export const COMPETENCE_RENEWALS_WORKFLOW = 'competenceRenewals';

export interface CompetenceRenewalsInput {
  requestedBy?: string;
  /** Overrides `competence.renewBefore` (tests). */
  renewBefore?: string;
  /** Reminders and escalation of the renewal tasks. */
  tasks?: TimingPolicy;
}

export interface CompetenceRenewalsResult {
  requested: Array<RenewalDue & { taskId: string }>;
  alreadyRequested: string[];
}

export type CompetenceRenewalsWorkflow = (input: CompetenceRenewalsInput) => Promise<CompetenceRenewalsResult>;

/** One renewal task per person, competence and expiry: `competence-renewal/liam.walsh/internal-audit/2027-03-01`. */
export function renewalTaskId(r: Pick<RenewalDue, 'person' | 'competence' | 'expiresOn'>): string {
  return `competence-renewal/${r.person}/${r.competence}/${r.expiresOn}`;
}
