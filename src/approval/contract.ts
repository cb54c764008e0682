/**
 * The approval's contract with its callers: workflow type and messages. An approval also
 * answers `commentUpdate` and `cancelUpdate` (src/common/messages.ts). Workflow-safe.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { UpdateAck } from '../common/messages.js';
import type { ApprovalInput, ApprovalResult, ApprovalStatus, Decide, Revise } from './schema.js';

export const APPROVAL_WORKFLOW = 'approval';
export type ApprovalWorkflow = (input: ApprovalInput) => Promise<ApprovalResult>;

export const approvalStatusQuery = defineQuery<ApprovalStatus>('approvalStatus');
export const decideUpdate = defineUpdate<UpdateAck, [Decide]>('decide');
export const reviseUpdate = defineUpdate<UpdateAck, [Revise]>('revise');
