/**
 * Workflow message definitions (updates and queries), shared by workflows, the API and tests.
 * Workflow-safe.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type {
  Cancel,
  Comment,
  CompleteTask,
  DelegateTask,
  ExtendDue,
  ReassignTask,
  TaskStatus,
} from '../domain/task.js';
import type { ApprovalStatus, Decide, Revise } from '../domain/approval.js';
import type { MergeConcern, NcStatus } from '../domain/corrective-action.js';

export interface UpdateAck {
  ok: true;
  state: string;
  message: string;
}

// Human task
export const taskStatusQuery = defineQuery<TaskStatus>('taskStatus');
export const completeTaskUpdate = defineUpdate<UpdateAck, [CompleteTask]>('completeTask');
export const reassignTaskUpdate = defineUpdate<UpdateAck, [ReassignTask]>('reassignTask');
export const delegateTaskUpdate = defineUpdate<UpdateAck, [DelegateTask]>('delegateTask');
export const extendDueUpdate = defineUpdate<UpdateAck, [ExtendDue]>('extendDue');
export const commentUpdate = defineUpdate<UpdateAck, [Comment]>('comment');
export const cancelUpdate = defineUpdate<UpdateAck, [Cancel]>('cancel');

// Approval
export const approvalStatusQuery = defineQuery<ApprovalStatus>('approvalStatus');
export const decideUpdate = defineUpdate<UpdateAck, [Decide]>('decide');
export const reviseUpdate = defineUpdate<UpdateAck, [Revise]>('revise');

// Corrective action (also answers commentUpdate and cancelUpdate)
export const ncStatusQuery = defineQuery<NcStatus>('ncStatus');
export const mergeConcernUpdate = defineUpdate<UpdateAck, [MergeConcern]>('mergeConcern');
