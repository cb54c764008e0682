/**
 * Activities of an organization change: find the running work a person holds and who takes
 * each part by default (src/people/rules.ts), and send each workflow its handover update.
 * Safe to retry: finding is a read, and a workflow answers a handover it already took with
 * "nothing held".
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { handoverUpdate } from '../src/common/messages.js';
import type { Handover } from '../src/common/schemas.js';
import type { Organization } from '../src/organization/schema.js';
import type { HandoverOutcome, PlannedHandover } from '../src/people/contract.js';
import { handoverOrder, handoverTarget, type PersonMove, type PersonWorkItem } from '../src/people/rules.js';
import { personWork, workKeepingRoles } from '../src/people/work.js';

export interface PeopleActivityDeps {
  organization: () => Organization;
  temporal: { client: Client; taskQueue: string };
}

/** How long one workflow may take to answer a handover before the activity is retried. */
const HANDOVER_TIMEOUT_MS = 20_000;

export function createPeopleActivities({ organization, temporal }: PeopleActivityDeps) {
  return {
    /**
     * The running work `move.from` holds (only about `move.aiSystem` when given), with the work
     * that keeps a role they held, in the order to hand it over, and who is asked to take each part.
     */
    async planHandovers(input: { move: PersonMove }): Promise<PlannedHandover[]> {
      const { move } = input;
      const org = organization();
      const items = (await personWork(temporal.client, temporal.taskQueue, move.from)).filter((i) => !move.aiSystem || i.aiSystem === move.aiSystem);
      const byId = new Map(items.map((i) => [i.workflowId, i]));
      for (const kept of await workKeepingRoles(temporal.client, temporal.taskQueue, move.roles ?? [])) {
        const held = byId.get(kept.workflowId);
        if (held) held.parts.push('role');
        else byId.set(kept.workflowId, kept);
      }
      return handoverOrder([...byId.values()]).map((item) => ({ item, to: move.to ?? handoverTarget(item, move.from, move.managerBefore, org, move.roles) }));
    },

    /** Sends one workflow its handover; a refusal or a workflow that closed meanwhile is an outcome, not a failure. */
    async sendHandover(input: { item: PersonWorkItem; handover: Handover }): Promise<HandoverOutcome> {
      const { item, handover } = input;
      const base = { workflowId: item.workflowId, type: item.type, title: item.title, from: handover.from, to: handover.to };
      try {
        // The same update id for the same handover: a retried activity gets the first answer.
        const updateId = `handover/${handover.ref ?? 'direct'}/${handover.from}`;
        const ack = await temporal.client.withDeadline(Date.now() + HANDOVER_TIMEOUT_MS, () =>
          temporal.client.workflow.getHandle(item.workflowId).executeUpdate(handoverUpdate, { args: [handover], updateId }),
        );
        return { ...base, moved: ack.moved, parts: ack.parts, ...(ack.moved ? {} : { reason: ack.message }) };
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) return { ...base, moved: false, parts: [], reason: (err.cause?.message ?? err.message).replace(/\.$/, '') };
        if (err instanceof WorkflowNotFoundError) return { ...base, moved: false, parts: [], reason: 'the workflow closed before the handover reached it' };
        throw err;
      }
    },
  };
}

export type PeopleActivities = ReturnType<typeof createPeopleActivities>;
