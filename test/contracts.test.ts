/**
 * Every workflow the worker registers is named by exactly one process contract, under that
 * contract's name, and has the signature its contract declares (checked by the compiler
 * below), so clients that start workflows by contract cannot drift from the workflow code.
 */
import { describe, expect, it } from 'vitest';
import * as workflows from '../workflows/index.js';
import { AI_SYSTEM_WORKFLOW, IMPACT_ASSESSMENT_WORKFLOW, type AiSystemWorkflow, type ImpactAssessmentWorkflow } from '../src/ai-system/contract.js';
import { APPROVAL_WORKFLOW, type ApprovalWorkflow } from '../src/approval/contract.js';
import { CERTIFICATION_WORKFLOW, type CertificationWorkflow } from '../src/certification/contract.js';
import { CONCERN_WORKFLOW, type ConcernWorkflow } from '../src/concern/contract.js';
import { CORRECTIVE_ACTION_WORKFLOW, type CorrectiveActionWorkflow } from '../src/corrective-action/contract.js';
import {
  INTERNAL_AUDIT_PROGRAMME_WORKFLOW,
  INTERNAL_AUDIT_WORKFLOW,
  type InternalAuditProgrammeWorkflow,
  type InternalAuditWorkflow,
} from '../src/internal-audit/contract.js';
import { MANAGEMENT_REVIEW_WORKFLOW, type ManagementReviewWorkflow } from '../src/management-review/contract.js';
import { SCHEDULED_CYCLE_WORKFLOW, type ScheduledCycleWorkflow } from '../src/schedules/contract.js';
import { TASK_WORKFLOW, type HumanTaskWorkflow } from '../src/task/contract.js';
import { ORGANIZATION_CHANGE_WORKFLOW, type OrganizationChangeWorkflow } from '../src/people/contract.js';
import { RISK_ASSESSMENT_WORKFLOW, type RiskAssessmentWorkflow } from '../src/risk/contract.js';
import { SOA_REVIEW_WORKFLOW, type SoaReviewWorkflow } from '../src/soa/contract.js';
import { LEDGER_ANCHOR_WORKFLOW, type LedgerAnchorWorkflow } from '../src/ledger-anchor/contract.js';
import { OBJECTIVE_WORKFLOW, type ObjectiveWorkflow } from '../src/objectives/contract.js';
import { POLICY_REVIEW_WORKFLOW, type PolicyReviewWorkflow } from '../src/policy/contract.js';
import { COMPETENCE_RENEWALS_WORKFLOW, type CompetenceRenewalsWorkflow } from '../src/competence/contract.js';

/** Each contract's name with the workflow it names, typed by the contract's signature. */
const byContract: Record<string, unknown> = {
  [TASK_WORKFLOW]: workflows.humanTask satisfies HumanTaskWorkflow,
  [APPROVAL_WORKFLOW]: workflows.approval satisfies ApprovalWorkflow,
  [CORRECTIVE_ACTION_WORKFLOW]: workflows.correctiveAction satisfies CorrectiveActionWorkflow,
  [CONCERN_WORKFLOW]: workflows.concern satisfies ConcernWorkflow,
  [CERTIFICATION_WORKFLOW]: workflows.certificationCycle satisfies CertificationWorkflow,
  [SCHEDULED_CYCLE_WORKFLOW]: workflows.scheduledCycle satisfies ScheduledCycleWorkflow,
  [MANAGEMENT_REVIEW_WORKFLOW]: workflows.managementReview satisfies ManagementReviewWorkflow,
  [AI_SYSTEM_WORKFLOW]: workflows.aiSystem satisfies AiSystemWorkflow,
  [IMPACT_ASSESSMENT_WORKFLOW]: workflows.impactAssessment satisfies ImpactAssessmentWorkflow,
  [INTERNAL_AUDIT_PROGRAMME_WORKFLOW]: workflows.internalAuditProgramme satisfies InternalAuditProgrammeWorkflow,
  [INTERNAL_AUDIT_WORKFLOW]: workflows.internalAudit satisfies InternalAuditWorkflow,
  [ORGANIZATION_CHANGE_WORKFLOW]: workflows.organizationChange satisfies OrganizationChangeWorkflow,
  [RISK_ASSESSMENT_WORKFLOW]: workflows.riskAssessment satisfies RiskAssessmentWorkflow,
  [SOA_REVIEW_WORKFLOW]: workflows.soaReview satisfies SoaReviewWorkflow,
  [LEDGER_ANCHOR_WORKFLOW]: workflows.ledgerAnchor satisfies LedgerAnchorWorkflow,
  [OBJECTIVE_WORKFLOW]: workflows.objectiveMeasurement satisfies ObjectiveWorkflow,
  [POLICY_REVIEW_WORKFLOW]: workflows.policyReview satisfies PolicyReviewWorkflow,
  [COMPETENCE_RENEWALS_WORKFLOW]: workflows.competenceRenewals satisfies CompetenceRenewalsWorkflow,
};

describe('workflow contracts', () => {
  it('register every workflow under the name its contract declares, and nothing else', () => {
    const registered = workflows as Record<string, unknown>;
    expect(Object.keys(registered).sort()).toEqual(Object.keys(byContract).sort());
    for (const [name, fn] of Object.entries(byContract)) expect(registered[name], name).toBe(fn);
  });
});
