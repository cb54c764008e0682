/**
 * The certification cycle's contract with its callers: the workflow type and id, the clauses
 * and search attributes it is found by, the status query and the admin's updates (move audit
 * dates, record an audit's outcome and findings, record a decision, end the cycle).
 * Workflow-safe.
 */
import type { SearchAttributePair } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { z } from 'zod';
import { searchAttributes } from '../temporal/search-attributes.js';
import type {
  CertificationInput,
  CertificationResult,
  CertificationStatus,
  DateIssue,
  endCycleSchema,
  moveDatesSchema,
  recordDecisionSchema,
  recordOutcomeSchema,
} from './schema.js';

export const CERTIFICATION_WORKFLOW = 'certificationCycle';
export type CertificationWorkflow = (input: CertificationInput) => Promise<CertificationResult>;

export const CERTIFICATION_WORKFLOW_PREFIX = 'certification/iso42001/';

/** The workflow id of one certificate's cycle: `certification/iso42001/CERT-2027-01`. */
export function certificationWorkflowId(certificateId: string): string {
  return `${CERTIFICATION_WORKFLOW_PREFIX}${certificateId}`;
}

/** The clauses a certification cycle is filed under: internal audit, management review, corrective action. */
export const CERTIFICATION_CLAUSES: readonly string[] = ['9.2', '9.3', '10.2'];

/** The search attributes of a certificate's cycle, at its start and as it goes on. */
export function certificationAttributes(cycle: {
  certificateId: string;
  state: string;
  owner?: string | undefined;
  dueAt?: Date | undefined;
}): SearchAttributePair[] {
  return [
    { key: searchAttributes.process, value: 'certification' },
    { key: searchAttributes.ref, value: cycle.certificateId },
    { key: searchAttributes.state, value: cycle.state },
    { key: searchAttributes.clauses, value: [...CERTIFICATION_CLAUSES] },
    ...(cycle.owner !== undefined ? [{ key: searchAttributes.owner, value: cycle.owner }] : []),
    ...(cycle.dueAt !== undefined ? [{ key: searchAttributes.dueDate, value: cycle.dueAt }] : []),
  ];
}

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
