/**
 * The state of the actions a management review raised: live from each action's workflow (a
 * human task or a corrective action), or, when Temporal no longer knows the workflow, the last
 * state the evidence ledger recorded for it. Used for input (a) of the next review and for the
 * list of past reviews.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { PreviousActionStatus, ReviewActionOutcome } from './schema.js';
import type { RecordsStore } from '../records/types.js';
import { ncStatusQuery } from '../corrective-action/contract.js';
import { taskStatusQuery } from '../task/contract.js';

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

const ledgerStates: Record<string, string> = {
  'task.completed': 'completed',
  'task.cancelled': 'cancelled',
  'nonconformity.closed': 'closed',
  'nonconformity.cancelled': 'cancelled',
};

export async function actionState(
  client: Client,
  records: Pick<RecordsStore, 'list'>,
  action: Pick<ReviewActionOutcome, 'kind' | 'workflowId'>,
): Promise<Pick<PreviousActionStatus, 'state' | 'stateSource'>> {
  try {
    const handle = client.workflow.getHandle(action.workflowId);
    if (action.kind === 'corrective-action') {
      const status = await handle.query(ncStatusQuery);
      const open = status.state !== 'closed' && status.state !== 'cancelled';
      return { state: status.overdue && open ? `${status.state} (overdue)` : status.state, stateSource: 'live' };
    }
    const status = await handle.query(taskStatusQuery);
    return { state: status.state, stateSource: 'live' };
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError) && !/not found/i.test(reasonOf(err))) throw err;
    const recorded = await records.list({ subject: action.workflowId, limit: 1000 });
    const known = recorded.map((r) => ledgerStates[r.kind]).filter((s): s is string => s !== undefined);
    return { state: known.at(-1) ?? 'open (as created)', stateSource: 'ledger' };
  }
}

/** Every action with its state, in order. */
export function actionStates(
  client: Client,
  records: Pick<RecordsStore, 'list'>,
  actions: ReviewActionOutcome[],
): Promise<PreviousActionStatus[]> {
  return Promise.all(
    actions.map(async (a) => ({
      n: a.n,
      title: a.title,
      owner: a.owner,
      dueDate: a.dueDate,
      input: a.input,
      workflowId: a.workflowId,
      kind: a.kind,
      ...(a.ncId ? { ncId: a.ncId } : {}),
      ...(await actionState(client, records, a)),
    })),
  );
}
