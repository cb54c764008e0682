/**
 * The organization's `certificationCycle` settings as the cycle uses them: the people it tells,
 * its timing in milliseconds and the risky-date thresholds. Shared by the settings activity and
 * the starter, which checks the dates with the same thresholds before the cycle starts.
 */
import { durationMs } from '../common/duration.js';
import { findPerson, type Organization } from '../organization/schema.js';
import type { CertificationSettings } from './schema.js';

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
