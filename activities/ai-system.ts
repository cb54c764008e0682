/**
 * Activities for AI systems and their impact assessments: the organization's settings, a
 * system's registration from the inventory, and what the ledger already holds about a system
 * (its last signed-off assessment and the assessment numbers used), so a system whose workflow
 * starts afresh continues where its evidence left off. Read-only, so safe to retry.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { LastAssessment } from '../src/ai-system/schema.js';
import { aiSystemWorkflowId, impactAssessmentsOf } from '../src/ai-system/contract.js';
import { durationMs } from '../src/common/duration.js';
import type { AiSystemRegistration, ImpactAssessmentSettings } from '../src/ai-system/impact-assessment.js';
import type { Organization } from '../src/organization/schema.js';
import type { EvidenceRecord, RecordFilter, RecordsStore } from '../src/records/types.js';

export interface AiSystemActivityDeps {
  organization: () => Organization;
  records: Pick<RecordsStore, 'list'>;
}

/** What the ledger holds about a system. */
export interface AiSystemLedgerState {
  last?: LastAssessment;
  /** Assessment numbers used per year. */
  numbers: Record<string, number>;
  assessmentsTotal: number;
}

const PAGE = 1000;

async function listAll(records: Pick<RecordsStore, 'list'>, filter: RecordFilter): Promise<EvidenceRecord[]> {
  const out: EvidenceRecord[] = [];
  for (let afterSeq = 0; ; ) {
    const page = await records.list({ ...filter, afterSeq, limit: PAGE });
    out.push(...page);
    if (page.length < PAGE) return out;
    afterSeq = page[page.length - 1]?.seq ?? afterSeq;
  }
}

export function createAiSystemActivities({ organization, records }: AiSystemActivityDeps) {
  return {
    /** The impact-assessment settings of the organization file, durations in milliseconds. */
    async impactAssessmentSettings(): Promise<ImpactAssessmentSettings> {
      const org = organization();
      const s = org.impactAssessment;
      return {
        reassessEveryMs: durationMs(s.reassessEvery),
        startBeforeMs: durationMs(s.startBefore),
        changeDebounceMs: durationMs(s.changeDebounce),
        firstAssessmentInMs: durationMs(s.firstAssessmentIn),
        retryAfterMs: durationMs(s.retryAfter),
        severityScale: [...s.severityScale],
        likelihoodScale: [...s.likelihoodScale],
        signOffThreshold: s.signOffThreshold,
        riskTreatmentThreshold: s.riskTreatmentThreshold,
        stepDueMs: {
          scoping: durationMs(s.stepDue.scoping),
          assessment: durationMs(s.stepDue.assessment),
          review: durationMs(s.stepDue.review),
          signOff: durationMs(s.stepDue.signOff),
          riskTreatment: durationMs(s.stepDue.riskTreatment),
        },
        aimsManagerId: org.roles.aimsManager,
      };
    },

    /** A system of the organization file's inventory; one that is not there fails without retries. */
    async aiSystemFromInventory(systemId: string): Promise<AiSystemRegistration> {
      const system = organization().aiSystems.find((s) => s.id === systemId);
      if (!system) throw ApplicationFailure.nonRetryable(`unknown AI system "${systemId}" (not in the inventory of the organization file)`, 'OrganizationLookupError');
      return { ...system };
    },

    /** The last signed-off assessment of a system and the assessment numbers used, from the ledger. */
    async aiSystemLedgerState(systemId: string): Promise<AiSystemLedgerState> {
      const started = await listAll(records, { subject: aiSystemWorkflowId(systemId), kind: 'ai-system.assessment-started' });
      const numbers: Record<string, number> = {};
      for (const r of started) {
        const ref = (r.content as { assessmentRef?: unknown }).assessmentRef;
        const m = typeof ref === 'string' ? /^(\d{4})-(\d+)$/.exec(ref) : null;
        if (m?.[1] && m[2]) numbers[m[1]] = Math.max(numbers[m[1]] ?? 0, Number(m[2]));
      }
      const recorded = await listAll(records, { subjectPrefix: impactAssessmentsOf(systemId), kind: 'impact-assessment.recorded' });
      const lastRecord = recorded.at(-1);
      let last: LastAssessment | undefined;
      if (lastRecord) {
        const c = lastRecord.content as Record<string, unknown>;
        const signOff = (c.signOff ?? {}) as Record<string, unknown>;
        const str = (value: unknown, fallback: string) => (typeof value === 'string' ? value : fallback);
        last = {
          assessmentRef: str(c.assessmentRef, ''),
          workflowId: lastRecord.subject,
          level: Number(c.level ?? 0),
          signOffRole: signOff.role === 'top-management' ? 'top-management' : 'aims-manager',
          signedOffBy: str(signOff.by, lastRecord.actor),
          signedOffAt: str(signOff.at, lastRecord.occurredAt),
          recordedAt: str(c.recordedAt, lastRecord.occurredAt),
        };
      }
      return { ...(last ? { last } : {}), numbers, assessmentsTotal: recorded.length };
    },
  };
}

export type AiSystemActivities = ReturnType<typeof createAiSystemActivities>;
