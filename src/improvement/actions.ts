/**
 * What the AIMS manager does with an open improvement item (ISO/IEC 42001 10.1): turn it into an
 * action, a human task that outlives the request (`improvement/<id>/action`), or a corrective
 * action when it is a nonconformity after all (10.2); or dismiss it with a reason. Each writes
 * the one record that closes the item, so a second closing is refused.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { correctiveActionWorkflowId } from '../corrective-action/contract.js';
import { allocateNcId } from '../corrective-action/nc-id.js';
import { checkNonconformityPeople, startCorrectiveAction } from '../corrective-action/start.js';
import type { Organization } from '../organization/schema.js';
import { RecordConflictError } from '../records/errors.js';
import type { RecordsStore } from '../records/types.js';
import { startHumanTask } from '../task/start.js';
import { StartInputError } from '../temporal/start.js';
import { findImprovementItem, type ImprovementItem } from './items.js';
import {
  actionRequestProblems,
  IMPROVEMENT_ACTIONED,
  IMPROVEMENT_CLAUSE,
  IMPROVEMENT_DISMISSED,
  improvementActionWorkflowId,
  improvementClosingRecordId,
  improvementSubject,
  type ImprovementAction,
  type ImprovementActionedContent,
  type ImprovementActionRequest,
  type ImprovementDismissedContent,
  type ImprovementDismissRequest,
} from './schema.js';

export interface ImprovementDeps {
  records: Pick<RecordsStore, 'list' | 'append' | 'allocateSequence'>;
  organization?: Organization | undefined;
  temporal?: { client: Client; taskQueue: string } | undefined;
}

/** Why a request about an improvement item was refused: `not-found` (404) or `refused` (409). */
export class ImprovementRefusal extends Error {
  constructor(
    readonly kind: 'not-found' | 'refused',
    message: string,
  ) {
    super(message);
    this.name = 'ImprovementRefusal';
  }
}

const describeClosure = (item: ImprovementItem) => {
  const c = item.closure!;
  if (item.state === 'dismissed') return `dismissed by ${c.by} on ${c.at.slice(0, 10)}: ${c.reason ?? ''}`;
  const action = c.action;
  const what = action?.type === 'corrective-action' ? `corrective action ${action.ncId}` : `task ${action?.workflowId ?? ''}`;
  return `turned into an action (${what}) by ${c.by} on ${c.at.slice(0, 10)}`;
};

/** The open item `id`, checked for `by` (the AIMS manager's person id); refuses otherwise. */
async function openItem(deps: ImprovementDeps, id: string, by: string, what: string): Promise<ImprovementItem> {
  const item = await findImprovementItem(deps.records, id);
  if (!item) throw new ImprovementRefusal('not-found', `No improvement item ${id}.`);
  const aimsManager = deps.organization?.roles.aimsManager;
  if (aimsManager !== undefined && by !== aimsManager) throw new ImprovementRefusal('refused', `only the AIMS manager can ${what}`);
  if (item.closure) throw new ImprovementRefusal('refused', `${id} is already closed: ${describeClosure(item)}`);
  return item;
}

/** Appends the record that closes `item`; a closing written meanwhile by another request refuses this one. */
async function close(deps: ImprovementDeps, item: ImprovementItem, kind: string, by: string, content: ImprovementActionedContent | ImprovementDismissedContent) {
  try {
    return await deps.records.append({
      id: improvementClosingRecordId(item.improvementId),
      kind,
      subject: improvementSubject(item.improvementId),
      clauses: [...new Set([IMPROVEMENT_CLAUSE, ...item.clauses])],
      actor: by,
      occurredAt: new Date().toISOString(),
      content,
    });
  } catch (err) {
    if (err instanceof RecordConflictError) throw new ImprovementRefusal('refused', `${item.improvementId} was closed by another request in the meantime`);
    throw err;
  }
}

const origin = (item: ImprovementItem) =>
  `${item.type === 'observation' ? 'Observation' : 'Opportunity for improvement'} ${item.sourceRef}${item.audit ? ` of internal audit ${item.audit.auditId} (${item.audit.year}): ${item.audit.title}` : ''}`;

const shorten = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 3)}...` : s);

/**
 * Starts the task or the corrective action the request asks for; one started before for this
 * item (a retried request) is taken as it. `started`: this call started it.
 */
async function startAction(
  deps: ImprovementDeps,
  item: ImprovementItem,
  request: ImprovementActionRequest,
  by: string,
): Promise<{ action: ImprovementAction; started: boolean }> {
  const { client, taskQueue } = deps.temporal!;
  const org = deps.organization ? { organization: deps.organization } : {};
  const id = item.improvementId;
  const clauses = [...new Set([IMPROVEMENT_CLAUSE, ...item.clauses])].slice(0, 20);
  let started = true;
  if (request.as === 'task') {
    const workflowId = improvementActionWorkflowId(id);
    const title = request.title ?? shorten(`${id}: ${item.statement}`, 200);
    try {
      await startHumanTask(
        client,
        taskQueue,
        {
          title,
          instructions: [
            request.instructions ?? 'Carry out this improvement of the AI management system (ISO/IEC 42001 10.1) and record what was done, with links to the evidence.',
            `${origin(item)}\n${item.statement}\nEvidence: ${item.evidence}`,
            request.note ? `Note from ${by}: ${request.note}` : '',
          ]
            .filter(Boolean)
            .join('\n\n'),
          clauses,
          process: 'improvement',
          assignee: { person: request.assignee },
          dueAt: request.dueAt,
          form: 'evidence',
          requestedBy: by,
        },
        { ...org, workflowId },
      );
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      started = false;
    }
    return { action: { type: 'task', workflowId, title, assignee: request.assignee, dueAt: request.dueAt }, started };
  }
  const owner = request.owner ?? item.audit?.auditee;
  if (!owner) throw new StartInputError('corrective action', [{ path: 'owner', message: 'is required (the item names no auditee)' }]);
  if (deps.organization) checkNonconformityPeople(deps.organization, { owner, raisedBy: by });
  const ncId = await allocateNcId(deps.records, new Date().getUTCFullYear(), `improvement:${id}`);
  try {
    await startCorrectiveAction(
      client,
      taskQueue,
      {
        ncId,
        title: shorten(`${item.sourceRef || id}: ${item.statement}`, 200),
        description: `${item.statement}\n\nEvidence: ${item.evidence}\n\n${origin(item)}, raised as improvement item ${id}; a nonconformity after all: ${request.reason}`,
        severity: request.severity,
        source: item.source === 'internal-audit' ? 'internal-audit' : 'admin',
        sourceRef: item.sourceRef || id,
        clauses: item.clauses.slice(0, 20),
        owner,
        raisedBy: by,
      },
      org,
    );
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    started = false;
  }
  return { action: { type: 'corrective-action', workflowId: correctiveActionWorkflowId(ncId), ncId, severity: request.severity, owner, reason: request.reason }, started };
}

/**
 * Turns an open item into an action and records it (`improvement.actioned`). Throws
 * ImprovementRefusal (unknown item, not the AIMS manager, already closed), StartInputError
 * (a bad field: an unknown person, a due date not in the future).
 */
export async function actionImprovement(deps: ImprovementDeps, id: string, request: ImprovementActionRequest): Promise<{ item: ImprovementItem; action: ImprovementAction }> {
  const by = request.by ?? 'system';
  const item = await openItem(deps, id, by, 'turn an improvement item into an action');
  const problems = actionRequestProblems(request, Date.now());
  if (problems.length) throw new StartInputError('improvement action', problems.map((p) => ({ path: p.field, message: `${p.message} [${p.rule}]` })));
  const { action, started } = await startAction(deps, item, request, by);
  const content: ImprovementActionedContent = { improvementId: id, action, by, note: request.as === 'task' ? (request.note ?? null) : null };
  try {
    await close(deps, item, IMPROVEMENT_ACTIONED, by, content);
  } catch (err) {
    // Another request closed the item meanwhile: the work this one started is withdrawn.
    if (err instanceof ImprovementRefusal && started) await deps.temporal!.client.workflow.getHandle(action.workflowId).terminate(err.message).catch(() => undefined);
    throw err;
  }
  return { item, action };
}

/** Dismisses an open item with a reason and records it (`improvement.dismissed`). */
export async function dismissImprovement(deps: ImprovementDeps, id: string, request: ImprovementDismissRequest): Promise<ImprovementItem> {
  const by = request.by ?? 'system';
  const item = await openItem(deps, id, by, 'dismiss an improvement item');
  await close(deps, item, IMPROVEMENT_DISMISSED, by, { improvementId: id, by, reason: request.reason });
  return item;
}
