/**
 * The corrective action's contract with its callers: workflow type and id, messages, and the
 * search attributes an NC starts with. It also answers `commentUpdate` and `cancelUpdate`
 * (src/common/messages.ts). Workflow-safe.
 */
import type { SearchAttributePair } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { UpdateAck } from '../common/messages.js';
import { searchAttributes } from '../temporal/search-attributes.js';
import type { CorrectiveActionInput, CorrectiveActionResult, MergeConcern, NcStatus } from './schema.js';

export const CORRECTIVE_ACTION_WORKFLOW = 'correctiveAction';
export type CorrectiveActionWorkflow = (input: CorrectiveActionInput) => Promise<CorrectiveActionResult>;

/** The workflow id of an NC: `corrective-action/NC-2027-004`. */
export function correctiveActionWorkflowId(ncId: string): string {
  return `corrective-action/${ncId}`;
}

export const ncStatusQuery = defineQuery<NcStatus>('ncStatus');
export const mergeConcernUpdate = defineUpdate<UpdateAck, [MergeConcern]>('mergeConcern');

/** The search attributes a nonconformity starts with, so it is findable before its first step. */
export function nonconformityAttributes(nc: {
  ncId: string;
  severity: string;
  source: string;
  owner: string;
  clauses: string[];
  aiSystem?: string | undefined;
  targetAt?: Date;
}): SearchAttributePair[] {
  return [
    { key: searchAttributes.process, value: 'corrective-action' },
    { key: searchAttributes.ref, value: nc.ncId },
    { key: searchAttributes.severity, value: nc.severity },
    { key: searchAttributes.source, value: nc.source },
    { key: searchAttributes.owner, value: nc.owner },
    { key: searchAttributes.state, value: 'containment' },
    { key: searchAttributes.clauses, value: [...new Set(['10.2', ...nc.clauses])] },
    ...(nc.aiSystem ? [{ key: searchAttributes.aiSystem, value: nc.aiSystem }] : []),
    ...(nc.targetAt ? [{ key: searchAttributes.dueDate, value: nc.targetAt }] : []),
  ];
}
