/**
 * The certification cycle's messages: the status query and the admin's updates (move audit
 * dates, record an audit's outcome and findings, record a decision, end the cycle).
 * Workflow-safe.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { z } from 'zod';
import type {
  CertificationStatus,
  DateIssue,
  endCycleSchema,
  moveDatesSchema,
  recordDecisionSchema,
  recordOutcomeSchema,
} from './schema.js';

export const CERTIFICATION_WORKFLOW = 'certificationCycle';

export type MoveDates = z.output<typeof moveDatesSchema>;
export type RecordOutcome = z.output<typeof recordOutcomeSchema>;
export type RecordDecision = z.output<typeof recordDecisionSchema>;
export type EndCycle = z.output<typeof endCycleSchema>;

export interface CertificationAck {
  ok: true;
  state: string;
  message: string;
  /** Risky dates accepted (moves and decisions). */
  warnings: DateIssue[];
  /** Nonconformities raised from the body's findings (outcomes). */
  nonconformities?: Array<{ ref: string; ncId: string; workflowId: string; severity: string; deadlineAt: string }>;
}

export const certificationStatusQuery = defineQuery<CertificationStatus>('certificationStatus');
export const moveAuditDatesUpdate = defineUpdate<CertificationAck, [MoveDates]>('moveAuditDates');
export const recordAuditOutcomeUpdate = defineUpdate<CertificationAck, [RecordOutcome]>('recordAuditOutcome');
export const recordDecisionUpdate = defineUpdate<CertificationAck, [RecordDecision]>('recordCertificationDecision');
export const endCycleUpdate = defineUpdate<CertificationAck, [EndCycle]>('endCertificationCycle');
