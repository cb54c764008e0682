// Workflow entry points registered with the worker. Deterministic code only.
export { humanTask } from './human-task.js';
export { approval } from './approval.js';
export { correctiveAction } from './corrective-action.js';
export { concern } from './concern.js';
export { certificationCycle } from './certification.js';
export { scheduledCycle } from './scheduled-cycle.js';
export { managementReview } from './management-review.js';
export { aiSystem } from './ai-system.js';
export { impactAssessment } from './impact-assessment.js';
export { internalAuditProgramme } from './internal-audit-programme.js';
export { internalAudit } from './internal-audit.js';
