// Workflow entry points registered with the worker. Deterministic code only.
export { humanTask } from './task/task.js';
export { approval } from './approval/approval.js';
export { correctiveAction } from './corrective-action/corrective-action.js';
export { concern } from './concern/concern.js';
export { certificationCycle } from './certification/certification.js';
export { scheduledCycle } from './schedules/scheduled-cycle.js';
export { managementReview } from './management-review/management-review.js';
export { aiSystem } from './ai-system/ai-system.js';
export { impactAssessment } from './ai-system/impact-assessment.js';
export { internalAuditProgramme } from './internal-audit/programme.js';
export { internalAudit } from './internal-audit/audit.js';
export { organizationChange } from './people/organization-change.js';
export { ledgerAnchor } from './ledger-anchor/ledger-anchor.js';
export { objectiveMeasurement } from './objectives/objective.js';
export { policyReview } from './policy/policy-review.js';
export { competenceRenewals } from './competence/renewals.js';
