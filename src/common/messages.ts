/**
 * Messages several processes answer the same way: the acknowledgement of an update, the
 * comment and cancel updates (human task, approval, corrective action), and the handover every
 * workflow that holds people's work answers when a person leaves or changes role.
 * Workflow-safe.
 */
import { defineUpdate } from '@temporalio/workflow';
import type { Cancel, Comment, Handover } from './schemas.js';

export interface UpdateAck {
  ok: true;
  state: string;
  message: string;
}

export const commentUpdate = defineUpdate<UpdateAck, [Comment]>('comment');
export const cancelUpdate = defineUpdate<UpdateAck, [Cancel]>('cancel');

export interface HandoverAck extends UpdateAck {
  /** False when the person held nothing in this workflow (a handover is safe to send twice). */
  moved: boolean;
  /** Who took over each part the person held, e.g. `{ part: 'assignee', to: 'marco.rossi' }`. */
  parts: Array<{ part: string; to: string; note?: string }>;
}

/**
 * Moves what `from` holds in the workflow (a task they must do, a decision they must take, a
 * nonconformity or AI system they own, an audit they lead) to `to`, or to whoever the
 * workflow's own rules name instead (a role's new holder; top management when `to` would break
 * separation of duties). Recorded in the ledger as `handover` and mailed to whoever takes over.
 */
export const handoverUpdate = defineUpdate<HandoverAck, [Handover]>('handover');
