/**
 * The human task's contract with its callers: workflow type, messages and result. A task
 * also answers `commentUpdate` and `cancelUpdate` (src/common/messages.ts). Workflow-safe.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { UpdateAck } from '../common/messages.js';
import type { CompleteTask, DelegateTask, ExtendDue, HumanTaskInput, HumanTaskResult, ReassignTask, TaskStatus } from './schema.js';

export const TASK_WORKFLOW = 'humanTask';
export type HumanTaskWorkflow = (input: HumanTaskInput) => Promise<HumanTaskResult>;

export const taskStatusQuery = defineQuery<TaskStatus>('taskStatus');
export const completeTaskUpdate = defineUpdate<UpdateAck, [CompleteTask]>('completeTask');
export const reassignTaskUpdate = defineUpdate<UpdateAck, [ReassignTask]>('reassignTask');
export const delegateTaskUpdate = defineUpdate<UpdateAck, [DelegateTask]>('delegateTask');
export const extendDueUpdate = defineUpdate<UpdateAck, [ExtendDue]>('extendDue');
