/**
 * Activities of the risk assessment: the organization's risk criteria and who assesses a
 * scope, the register's open risks of a scope, risk ids from the records store's sequence,
 * and writes of risk versions and SoA changes to the ledger. Every write has a record id
 * chosen by the workflow, so a retried activity appends once; reads are safe to retry.
 */
import { ApplicationFailure } from '@temporalio/common';
import { durationMs } from '../src/common/duration.js';
import type { Organization } from '../src/organization/schema.js';
import type { RecordsStore } from '../src/records/types.js';
import { riskAssessmentSequence } from '../src/risk/contract.js';
import { appendRisk, readRegister, type RiskRecord } from '../src/risk/register.js';
import { aimsScope, riskIdOf, type RegisterEntry, type RiskAssessmentSettings } from '../src/risk/schema.js';
import type { SoaEdit } from '../src/soa/schema.js';
import { appendSoaChange, readSoa } from '../src/soa/store.js';
import { SOA_APPROVED, SOA_CLAUSES, SOA_SUBJECT } from '../src/soa/schema.js';

export interface RiskActivityDeps {
  organization: () => Organization;
  records: Pick<RecordsStore, 'list' | 'append' | 'get' | 'allocateSequence'>;
}

export function createRiskActivities({ organization, records }: RiskActivityDeps) {
  return {
    /** The risk criteria, who assesses `scope` (the system owner; for the AIMS the owner of `ai-risk-management`, else the AIMS manager) and step durations. */
    async riskAssessmentSettings(scope: string, registered?: { name: string; owner: string }): Promise<RiskAssessmentSettings> {
      const org = organization();
      const c = org.riskCriteria;
      const system = scope === aimsScope ? undefined : (registered ?? org.aiSystems.find((s) => s.id === scope));
      if (scope !== aimsScope && !system) throw ApplicationFailure.nonRetryable(`unknown AI system "${scope}" (not in the inventory of the organization file)`, 'OrganizationLookupError');
      const stepDueMs = Object.fromEntries(Object.entries(c.stepDue).map(([k, v]) => [k, durationMs(v)])) as RiskAssessmentSettings['stepDueMs'];
      return {
        criteria: structuredClone(c),
        assessor: system?.owner ?? org.roles.processOwners['ai-risk-management'] ?? org.roles.aimsManager,
        ...(system ? { systemName: system.name } : {}),
        aimsManagerId: org.roles.aimsManager,
        stepDueMs,
      };
    },

    /** The open risks of a scope (an AI system's, or the AIMS-wide ones). */
    async scopeRisks(scope: string): Promise<RegisterEntry[]> {
      return readRegister(records, { scope });
    },

    /** A risk id per key (`R-001`, ...); the same key always gets the same id. */
    async allocateRiskIds(keys: string[]): Promise<string[]> {
      const ids: string[] = [];
      for (const key of keys) ids.push(riskIdOf(await records.allocateSequence('risk', key)));
      return ids;
    },

    /** The next assessment number of a scope in a year, for `key` (the same key, the same number). */
    async allocateRiskAssessmentNumber(input: { scope: string; year: number; key: string }): Promise<number> {
      return records.allocateSequence(riskAssessmentSequence(input.scope, input.year), input.key);
    },

    /** The planned assessments of a year: the AIMS-wide one and one per AI system of the inventory, numbered once per year. */
    async plannedRiskAssessments(input: { year: number }): Promise<Array<{ scope: string; assessmentRef: string; system?: { name: string; owner: string } }>> {
      const systems = organization().aiSystems.filter((s) => s.lifecycle !== 'retired');
      const scopes = [{ scope: aimsScope }, ...systems.map((s) => ({ scope: s.id, system: { name: s.name, owner: s.owner } }))];
      const out: Array<{ scope: string; assessmentRef: string; system?: { name: string; owner: string } }> = [];
      for (const s of scopes) {
        const n = await records.allocateSequence(riskAssessmentSequence(s.scope, input.year), `planned/${input.year}`);
        out.push({ ...s, assessmentRef: `${input.year}-${n}` });
      }
      return out;
    },

    /** Appends versions of risks, in order. */
    async recordRisks(versions: RiskRecord[]): Promise<string[]> {
      const ids: string[] = [];
      for (const v of versions) ids.push((await appendRisk(records, v)).id);
      return ids;
    },

    /** Who reviews the SoA. */
    async soaReviewSettings(): Promise<{ aimsManagerId: string }> {
      return { aimsManagerId: organization().roles.aimsManager };
    },

    /** The SoA version in force: its number, hash and the text an approver reads. */
    async currentSoa(): Promise<{ version: number; hash: string; text: string }> {
      const soa = (await readSoa(records, organization()))!;
      const lines = soa.controls.map((c) => `${c.control} ${c.title}: ${c.included ? `included, ${c.implementation}` : 'excluded'}; ${c.justification}${c.owner ? `; owner ${c.owner}` : ''}${c.risks.length ? `; risks ${c.risks.join(', ')}` : ''}`);
      return { version: soa.version, hash: soa.hash, text: `Statement of Applicability, version ${soa.version} (sha256 ${soa.hash}):\n${lines.join('\n')}` };
    },

    /** Records top management's approval of a SoA version, bound to its hash. */
    async recordSoaApproval(input: { id: string; version: number; hash: string; approvalId: string; approvedBy: string; review: string; at: string }): Promise<string> {
      const stored = await records.append({
        id: input.id,
        kind: SOA_APPROVED,
        subject: SOA_SUBJECT,
        clauses: [...SOA_CLAUSES],
        actor: input.approvedBy,
        occurredAt: input.at,
        content: { version: input.version, hash: input.hash, approvalId: input.approvalId, approvedBy: input.approvedBy, review: input.review },
      });
      return stored.id;
    },

    /** Records a change of the Statement of Applicability (a new version); returns the version. */
    async recordSoaChange(input: { id: string; actor: string; changes: SoaEdit[]; reason: string; source?: string }): Promise<{ recordId: string; version: number }> {
      return appendSoaChange(records, organization(), input);
    },
  };
}
