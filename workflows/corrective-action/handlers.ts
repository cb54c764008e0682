/**
 * What people can do to a running nonconformity: read its status, post an update, merge a
 * reported concern into it, and cancel it (the AIMS manager, with a reason; a major NC, or one
 * the certification body raised, only once top management approves).
 */
import { patched, setHandler, type CancellationScope } from '@temporalio/workflow';
import { cancelUpdate, type UpdateAck } from '../../src/common/messages.js';
import { cancelSchema } from '../../src/common/schemas.js';
import { mergeConcernUpdate, ncStatusQuery } from '../../src/corrective-action/contract.js';
import { cancelNeedsApproval, mergeConcernSchema } from '../../src/corrective-action/schema.js';
import { onComment, onUpdate, type Permission } from '../lib/handlers.js';
import { formatDay, reject } from '../lib/util.js';
import { requestCancellation } from './cancellation.js';
import { registerNonconformityHandover } from './handover.js';
import { CANCEL_APPROVAL_PATCH } from './patches.js';
import type { Nonconformity } from './state.js';

export function registerNonconformityHandlers(nc: Nonconformity, lifecycle: CancellationScope): void {
  const ack = (message: string): UpdateAck => ({ ok: true, state: nc.state, message });
  const ready = () => nc.aimsManagerId !== undefined;
  const aimsManagerOnly = (what: string): Permission => ({ ready, allowed: () => ['system', nc.aimsManagerId], refusal: `only the AIMS manager can ${what}` });

  setHandler(ncStatusQuery, () => nc.status());

  onComment(
    { ready, allowed: () => ['system', nc.owner, nc.aimsManagerId], refusal: 'only the owner or the AIMS manager can post an update on this nonconformity' },
    async (input) => {
      nc.event('commented', input.by, input.text);
      await nc.recorder.append('nonconformity.comment', input.by, { text: input.text });
    },
    ack,
    'Update posted.',
  );

  const mayMerge = aimsManagerOnly('merge a concern into a nonconformity');
  onUpdate(mergeConcernUpdate, {
    schema: mergeConcernSchema,
    ready,
    check: (input) => {
      nc.ensureOpen();
      if (!mayMerge.allowed().includes(input.by)) reject(mayMerge.refusal);
      if (nc.mergedConcerns.includes(input.concernId)) reject(`concern ${input.concernId} is already merged into ${nc.ncId}`);
    },
    apply: async (input) => {
      nc.mergedConcerns.push(input.concernId);
      nc.event('concern-merged', input.by, `concern ${input.concernId} merged${input.note ? `: ${input.note}` : ''}`, {
        data: { concernId: input.concernId, summary: input.summary },
      });
      await nc.recorder.append('nonconformity.concern-merged', input.by, { concernId: input.concernId, summary: input.summary, note: input.note ?? null });
      return ack(`Concern ${input.concernId} merged into ${nc.ncId}.`);
    },
  });

  registerNonconformityHandover(nc);

  const mayCancel = aimsManagerOnly('cancel a nonconformity');
  onUpdate(cancelUpdate, {
    schema: cancelSchema,
    ready,
    check: (input) => {
      nc.ensureOpen();
      if (!mayCancel.allowed().includes(input.by)) reject(mayCancel.refusal);
      const asked = nc.cancelRequest;
      if (asked) reject(`a cancellation asked by ${asked.by} on ${formatDay(Date.parse(asked.at))} is waiting for top management's decision`);
    },
    apply: async (input) => {
      if (cancelNeedsApproval(nc.spec) && patched(CANCEL_APPROVAL_PATCH)) {
        await requestCancellation(nc, input);
        return ack(`Cancelling a ${nc.spec.severity} nonconformity from ${nc.spec.source} needs top management's approval: they are asked; it stays open until they approve.`);
      }
      nc.cancellation = { by: input.by, at: new Date().toISOString(), reason: input.reason };
      lifecycle.cancel();
      return ack('The nonconformity is being cancelled.');
    },
  });
}
