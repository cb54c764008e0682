/**
 * Activities of the certification cycle: the organization's settings for it (people to tell,
 * reminder and readiness offsets, risky-date thresholds, the body's NC deadlines) and the
 * readiness check before an external audit.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { assessReadiness, type ReadinessFindings, type ReadinessInput } from '../src/certification/readiness.js';
import type { CertificationSettings } from '../src/certification/schema.js';
import { durationMs } from '../src/common/duration.js';
import { findPerson, OrganizationLookupError, type Organization } from '../src/organization/schema.js';
import type { RecordsStore } from '../src/records/types.js';

export interface CertificationActivityDeps {
  organization: () => Organization;
  records: Pick<RecordsStore, 'list'>;
  temporal?: { client: Client; taskQueue: string };
}

export function certificationSettingsOf(org: Organization): CertificationSettings {
  const s = org.certificationCycle;
  const person = (id: string) => {
    const p = findPerson(org, id);
    return { id: p.id, name: p.name, email: p.email };
  };
  return {
    people: org.people.map((p) => p.id),
    aimsManager: person(org.roles.aimsManager),
    topManagement: org.roles.topManagement.map(person),
    body: org.certification?.body,
    reminderOffsetsMs: s.reminderOffsets.map(durationMs),
    readinessChecksMs: s.readinessChecks.map(durationMs),
    auditWindowMs: durationMs(s.auditWindow),
    ncDeadlinesMs: { major: durationMs(s.ncDeadlines.major), minor: durationMs(s.ncDeadlines.minor) },
    risky: {
      stage2MaxAfterStage1Ms: durationMs(s.riskyWarnings.stage2MaxAfterStage1),
      recertificationMinBeforeExpiryMs: durationMs(s.riskyWarnings.recertificationMinBeforeExpiry),
      surveillanceMinMarginMs: durationMs(s.riskyWarnings.surveillanceMinMargin),
    },
  };
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
    /** Internal audit, management review and open majors for the period before an external audit. Read-only. */
    async certificationReadiness(input: ReadinessInput): Promise<ReadinessFindings> {
      return assessReadiness({ records: deps.records, temporal: deps.temporal }, input);
    },
  };
}

export type CertificationActivities = ReturnType<typeof createCertificationActivities>;
