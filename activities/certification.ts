/**
 * Activities of the certification cycle: the organization's settings for it (people to tell,
 * reminder and readiness offsets, risky-date thresholds, the body's NC deadlines) and the
 * readiness check before an external audit.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { assessReadiness, type ReadinessFindings, type ReadinessInput } from '../src/certification/readiness.js';
import type { CertificationSettings } from '../src/certification/schema.js';
import { certificationSettingsOf } from '../src/certification/settings.js';
import { OrganizationLookupError, type Organization } from '../src/organization/schema.js';
import type { RecordsStore } from '../src/records/types.js';

export interface CertificationActivityDeps {
  organization: () => Organization;
  records: Pick<RecordsStore, 'list'>;
  temporal?: { client: Client; taskQueue: string };
}

export function createCertificationActivities(deps: CertificationActivityDeps) {
  return {
    /** The organization's certification-cycle settings and the people the cycle tells. */
    async certificationSettings(): Promise<CertificationSettings> {
      try {
        return certificationSettingsOf(deps.organization());
      } catch (err) {
        if (err instanceof OrganizationLookupError) throw ApplicationFailure.nonRetryable(err.message, 'OrganizationLookupError');
        throw err;
      }
    },
    /** Internal audits and their coverage of the AIMS scope, management review and open majors for the period before an external audit. Read-only. */
    async certificationReadiness(input: ReadinessInput): Promise<ReadinessFindings> {
      return assessReadiness({ records: deps.records, organization: deps.organization, temporal: deps.temporal }, input);
    },
  };
}

export type CertificationActivities = ReturnType<typeof createCertificationActivities>;
