/**
 * Activities of the AI policy review (5.2, A.2.4, 7.3): the owner, the timing and the people in
 * scope of acknowledgements from the organization file, and the version in force from the ledger.
 */
import { ApplicationFailure } from '@temporalio/common';
import { durationMs } from '../src/common/duration.js';
import { findPerson, OrganizationLookupError, type Organization } from '../src/organization/schema.js';
import { acknowledgementScope, type PolicySetup } from '../src/policy/schema.js';
import { policyVersions } from '../src/policy/versions.js';
import type { RecordsStore } from '../src/records/types.js';

export interface PolicyActivityDeps {
  organization: () => Organization;
  records: Pick<RecordsStore, 'list'>;
}

export function createPolicyActivities(deps: PolicyActivityDeps) {
  return {
    async policySetup(input: { reviewDue?: string; approvalDue?: string; acknowledgementDue?: string }): Promise<PolicySetup> {
      const org = deps.organization();
      const settings = org.aiPolicy;
      try {
        const ownerId = findPerson(org, settings.owner ?? org.roles.aimsManager).id;
        const current = (await policyVersions(deps.records)).at(-1) ?? null;
        return {
          ownerId,
          organizationName: org.organization.name,
          current,
          reviewDueMs: durationMs(input.reviewDue ?? settings.reviewDue),
          approvalDueMs: durationMs(input.approvalDue ?? settings.approvalDue),
          acknowledgementDueMs: durationMs(input.acknowledgementDue ?? settings.acknowledgementDue),
          inScope: acknowledgementScope(org),
        };
      } catch (err) {
        if (err instanceof OrganizationLookupError) throw ApplicationFailure.nonRetryable(`aiPolicy: ${err.message}`, 'OrganizationLookupError');
        throw err;
      }
    },
  };
}

export type PolicyActivities = ReturnType<typeof createPolicyActivities>;
