/**
 * The contract of the internal audit programme and its audits: workflow types and ids, status
 * queries, the programme's updates (plan, reschedule, change auditor, add, cancel, close the
 * year) and the signals between a programme and its audits. Workflow-safe.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  InternalAuditProgrammeInput,
  ProgrammeResult,
  AddAudit,
  AuditChange,
  AuditProgress,
  AuditStatus,
  CancelAudit,
  CloseYear,
  ChangeAuditor,
  InternalAuditInput,
  InternalAuditResult,
  ProgrammeStatus,
  RescheduleAudit,
  SubmitPlan,
} from './schema.js';
import type { UpdateAck } from '../common/messages.js';

export const INTERNAL_AUDIT_PROGRAMME_WORKFLOW = 'internalAuditProgramme';
export const INTERNAL_AUDIT_WORKFLOW = 'internalAudit';
export type InternalAuditProgrammeWorkflow = (input: InternalAuditProgrammeInput) => Promise<ProgrammeResult>;
export type InternalAuditWorkflow = (input: InternalAuditInput) => Promise<InternalAuditResult>;

/** `internal-audit-programme/2027` */
export function internalAuditProgrammeWorkflowId(year: number): string {
  return `internal-audit-programme/${year}`;
}

/** `internal-audit/2027/A-03` */
export function internalAuditWorkflowId(year: number | string, auditId: string): string {
  return `internal-audit/${year}/${auditId}`;
}

/**
 * The key the programme's audits are filed under: the part of the programme's workflow id after
 * `internal-audit-programme/` (the year in production), or the year itself.
 */
export function programmeKey(programmeWorkflowId: string, year: number): string {
  const prefix = 'internal-audit-programme/';
  return programmeWorkflowId.startsWith(prefix) && programmeWorkflowId.length > prefix.length
    ? programmeWorkflowId.slice(prefix.length)
    : String(year);
}

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
