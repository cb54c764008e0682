/**
 * Messages of the internal audit programme and its audits: status queries, the programme's
 * updates (plan, reschedule, change auditor, add, cancel) and the signals between a programme
 * and its audits. Workflow-safe.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  AddAudit,
  AuditChange,
  AuditProgress,
  AuditStatus,
  CancelAudit,
  CloseYear,
  ChangeAuditor,
  ProgrammeStatus,
  RescheduleAudit,
  SubmitPlan,
} from './schema.js';
import type { UpdateAck } from '../common/messages.js';

export const INTERNAL_AUDIT_PROGRAMME_WORKFLOW = 'internalAuditProgramme';
export const INTERNAL_AUDIT_WORKFLOW = 'internalAudit';

export const programmeStatusQuery = defineQuery<ProgrammeStatus>('internalAuditProgrammeStatus');
export const submitPlanUpdate = defineUpdate<UpdateAck & { warnings: string[] }, [SubmitPlan]>('submitAuditPlan');
export const rescheduleAuditUpdate = defineUpdate<UpdateAck, [RescheduleAudit]>('rescheduleAudit');
export const changeAuditorUpdate = defineUpdate<UpdateAck, [ChangeAuditor]>('changeAuditor');
export const addAuditUpdate = defineUpdate<UpdateAck & { warnings: string[] }, [AddAudit]>('addAudit');
export const cancelAuditUpdate = defineUpdate<UpdateAck, [CancelAudit]>('cancelAudit');
export const closeYearUpdate = defineUpdate<UpdateAck, [CloseYear]>('closeAuditYear');

export const auditStatusQuery = defineQuery<AuditStatus>('internalAuditStatus');
/** From the programme to one of its audits. */
export const auditChangeSignal = defineSignal<[AuditChange]>('internalAuditChange');
/** From an audit to its programme. */
export const auditProgressSignal = defineSignal<[AuditProgress]>('internalAuditProgress');
