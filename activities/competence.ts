/** Activities of competence (7.2): the evidence that needs renewing soon, from the organization file. */
import { durationMs } from '../src/common/duration.js';
import { renewalsDue, type RenewalDue } from '../src/competence/rules.js';
import type { Organization } from '../src/organization/schema.js';

export function createCompetenceActivities(deps: { organization: () => Organization }) {
  return {
    /** Evidence expiring from today to `renewBefore` ahead (default the organization's `competence.renewBefore`). */
    async competenceRenewalsDue(input: { renewBefore?: string }): Promise<RenewalDue[]> {
      const org = deps.organization();
      const now = Date.now();
      const within = durationMs(input.renewBefore ?? org.competence.renewBefore);
      return renewalsDue(org, new Date(now).toISOString().slice(0, 10), new Date(now + within).toISOString().slice(0, 10));
    },
  };
}
