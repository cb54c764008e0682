/**
 * Messages several processes answer the same way: the acknowledgement of an update, and the
 * comment and cancel updates (human task, approval, corrective action). Workflow-safe.
 */
import { defineUpdate } from '@temporalio/workflow';
import type { Cancel, Comment } from './schemas.js';

export interface UpdateAck {
  ok: true;
  state: string;
  message: string;
}

export const commentUpdate = defineUpdate<UpdateAck, [Comment]>('comment');
export const cancelUpdate = defineUpdate<UpdateAck, [Cancel]>('cancel');
