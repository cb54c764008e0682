/**
 * Activities of the internal audit programme (ISO/IEC 42001 9.2): the organization's settings,
 * plan validation (impartiality, windows, coverage over the cycle from the ledger), the people
 * an audit report goes to, and the state of the nonconformities raised by audits. Read-only, so
 * safe to retry.
 */
import type { Client } from '@temporalio/client';
import { durationMs } from '../src/common/duration.js';
import { dutyFacts, type DutyFacts } from '../src/people/duties.js';
import type { AuditScope, CoverageResult, PlannedAudit } from '../src/internal-audit/schema.js';
import type { Organization } from '../src/organization/schema.js';
import type { PersonRef } from '../src/common/schemas.js';
import { correctiveActionWorkflowId } from '../src/corrective-action/contract.js';
import { cycleCoverage } from '../src/internal-audit/coverage.js';
import { validatePlan, type PlanValidation } from '../src/internal-audit/rules.js';
import type { RecordsStore } from '../src/records/types.js';
import { searchAttributes } from '../src/temporal/search-attributes.js';

export interface InternalAuditDeps {
  organization: () => Organization;
  records: Pick<RecordsStore, 'list'>;
  temporal: { client: Client; taskQueue: string };
}

export interface InternalAuditSettings {
  aimsManagerId: string;
  topManagementIds: string[];
  internalAuditorIds: string[];
  coverageCycleYears: number;
  reminderBeforeMs: number;
  planDueMs: number;
  stepDueMs: number;
  approvalDueMs: number;
  /** The organization as the separation-of-duties rules read it; absent in settings recorded before it existed. */
  duties?: DutyFacts;
}

export function createInternalAuditActivities({ organization, records, temporal }: InternalAuditDeps) {
  return {
    /** The internal audit settings of the organization file. */
    async internalAuditSettings(): Promise<InternalAuditSettings> {
      const org = organization();
      const s = org.internalAudit;
      return {
        aimsManagerId: org.roles.aimsManager,
        topManagementIds: [...org.roles.topManagement],
        internalAuditorIds: [...org.roles.internalAuditors],
        coverageCycleYears: s.coverageCycleYears,
        reminderBeforeMs: durationMs(s.auditorReminderBefore),
        planDueMs: durationMs(s.planDue),
        stepDueMs: durationMs(s.stepDue),
        approvalDueMs: durationMs(s.approvalDue),
        duties: dutyFacts(org),
      };
    },

    /**
     * Validates a programme's audits (or only `checkIds` among them, e.g. an added audit or a new
     * auditor) and computes the coverage over the audit cycle.
     */
    async validateInternalAuditPlan(input: { year: number; audits: PlannedAudit[]; checkIds?: string[] }): Promise<PlanValidation> {
      return validatePlan(organization(), records, input);
    },

    /** Coverage achieved by the scopes audited in `year` together with the earlier years of the cycle. */
    async internalAuditCoverage(input: { year: number; scopes: AuditScope[] }): Promise<CoverageResult> {
      return cycleCoverage(organization(), records, input.year, input.scopes);
    },

    /**
     * Who receives an audit report: the auditee and their manager, the owners of the processes
     * and AI systems in scope, and the AIMS manager. Someone no longer in the organization is
     * left out (a look-up never fails: people leave while audits run).
     */
    async internalAuditReportRecipients(input: { auditee: string; scope: AuditScope }): Promise<PersonRef[]> {
      const org = organization();
      const auditee = org.people.find((p) => p.id === input.auditee);
      const ids = [
        input.auditee,
        ...(auditee?.manager ? [auditee.manager] : []),
        ...input.scope.processes.map((p) => org.roles.processOwners[p]).filter((x): x is string => !!x),
        ...input.scope.aiSystems.map((s) => org.aiSystems.find((a) => a.id === s)?.owner).filter((x): x is string => !!x),
        org.roles.aimsManager,
      ];
      return [...new Set(ids)].flatMap((id) => {
        const p = org.people.find((x) => x.id === id);
        return p ? [{ id: p.id, name: p.name, email: p.email }] : [];
      });
    },

    /** The current state of each nonconformity (the corrective action's AimsState), or `unknown`. */
    async nonconformityStates(ncIds: string[]): Promise<Array<{ ncId: string; state: string }>> {
      const out: Array<{ ncId: string; state: string }> = [];
      for (const ncId of ncIds) {
        try {
          const d = await temporal.client.workflow.getHandle(correctiveActionWorkflowId(ncId)).describe();
          const state = d.typedSearchAttributes.get(searchAttributes.state);
          out.push({ ncId, state: state ?? (d.status.name === 'RUNNING' ? 'open' : d.status.name.toLowerCase()) });
        } catch {
          out.push({ ncId, state: 'unknown' });
        }
      }
      return out;
    },
  };
}
