/**
 * The task page (`/t?token=`): what, why, the clauses, the due date, who holds the task, the
 * form for its form key and the recent history. GET reads the live status through the
 * workflow's status query; POST validates the form (re-rendering it with the errors beside
 * the fields and every value kept) and completes the task through the workflow's update.
 *
 * When no worker answers the status query in time, the page is drawn from what the task last
 * published (title, due date, state, assignee, its start input, its ledger record once closed)
 * with a "refreshing" note, and the form still shows while the task is open. A POST then checks
 * the form but does not send it: the form comes back with the answers kept, "not saved yet",
 * 503 and Retry-After. An update that no worker takes in time gets the same page; sending it
 * again is safe, because a task is completed once (a second answer finds it done).
 */
import { WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { answerLabel, errorSummary, formFields, forms, validateForm, type FormKey, type FormProblem, type Values } from '../forms/index.js';
import { linkPaths } from '../links/paths.js';
import { humanTaskInputSchema, type TaskState, type TaskStatus } from './schema.js';
import type { LinkClaims } from '../links/signer.js';
import { completeTaskUpdate, TASK_WORKFLOW, taskStatusQuery } from './contract.js';
import type { FoundWorkflow, ReadWorkflow, WorkflowGateway } from '../api/gateway.js';
import { csrfToken } from '../api/csrf.js';
import { describeClause } from '../api/views/clauses.js';
import {
  dayText,
  formBody,
  myTasksUrl,
  PageError,
  paragraphs,
  personName,
  requireSameSiteForm,
  notFoundPage,
  pageGateway,
  sentenceCase,
  sendMessage,
  sendWorkPage,
  closedInsteadOfExpired,
  latestRecord,
  notSavedYetNotice,
  publishedState,
  refreshingNotice,
  RETRY_AFTER_SECONDS,
  timeText,
  tokenFrom,
  verifyPageLink,
  verifyPostedLink,
  type MessageModel,
  type PageContext,
} from '../api/pages/common.js';

const HISTORY_SHOWN = 10;

const isHttpUrl = (value: unknown): value is string => typeof value === 'string' && /^https?:\/\//i.test(value);

function completionEntries(form: FormKey, data: Record<string, unknown>): Array<{ label: string; value?: string; links?: string[] }> {
  return Object.entries(data).map(([key, value]) => {
    const label = answerLabel(form, key);
    if (Array.isArray(value) && value.every(isHttpUrl)) return { label, links: value };
    return { label, value: typeof value === 'string' ? value : JSON.stringify(value) };
  });
}

interface TaskView {
  status: TaskStatus;
  running: boolean;
  /** False when the status is the last published one (no worker answered in time). */
  live: boolean;
  claims: LinkClaims;
  token: string;
  values?: Values;
  problems?: FormProblem[];
  notice?: { kind: 'info' | 'warn' | 'error' | 'done'; title?: string; paragraphs: string[] };
}

const actorsOf = (status: TaskStatus) => [status.assignee.id, ...(status.delegate ? [status.delegate.id] : [])].filter(Boolean);
const isOpen = (status: TaskStatus) => status.state === 'open' || status.state === 'overdue';

/** Why the person sees the task read-only, or undefined when they may complete it. */
function readOnlyReasons(ctx: PageContext, view: TaskView): string[] | undefined {
  const { status, claims, running } = view;
  if (!isOpen(status)) return undefined;
  if (!running) return ['This task was stopped by an operator and can no longer be completed here.'];
  if (!status.assignee.id) return ['This task is still being set up. Reload this page in a moment.'];
  if (actorsOf(status).includes(claims.person)) return undefined;
  const holders = `${status.assignee.name}${status.delegate ? ` or ${status.delegate.name}` : ''}`;
  const escalated = status.history.some(
    (e) => e.type === 'escalated' && Array.isArray(e.data?.to) && (e.data.to as unknown[]).includes(claims.person),
  );
  return [
    escalated
      ? `This task was escalated to you because it is overdue. Only ${holders} can complete it; please follow up with them.`
      : `Only ${holders} can complete this task. This link was sent to ${personName(ctx, claims.person)} for information.`,
  ];
}

export function taskPageModel(ctx: PageContext, view: TaskView, now = new Date()): Record<string, unknown> {
  const { status, token } = view;
  const open = isOpen(status);
  const overdue = open && (status.state === 'overdue' || Date.parse(status.dueAt) < now.getTime());
  const readOnly = readOnlyReasons(ctx, view);
  const canAct = open && view.running && readOnly === undefined;
  const problems = view.problems ?? [];
  const notice =
    view.notice ??
    (!view.live ? refreshingNotice : undefined) ??
    (status.state === 'completed' && status.completion
      ? { kind: 'done', paragraphs: [`This task was completed by ${personName(ctx, status.completion.by)} on ${timeText(status.completion.at)}.`] }
      : undefined);
  return {
    title: status.title,
    state: status.state,
    stateLabel: open ? 'Open' : status.state === 'completed' ? 'Completed' : 'Cancelled',
    stateClass: open ? 'open' : status.state === 'completed' ? 'done' : 'closed',
    dueAt: status.dueAt,
    dueText: dayText(status.dueAt),
    overdue,
    notice,
    assigneeName: status.assignee.name || 'not yet known',
    delegateName: status.delegate?.name,
    clauses: status.clauses.map(describeClause),
    process: status.process,
    aiSystem: status.aiSystem,
    requestedByName: personName(ctx, status.requestedBy),
    instructions: paragraphs(status.instructions),
    completion: status.completion
      ? {
          byName: personName(ctx, status.completion.by),
          at: status.completion.at,
          atText: timeText(status.completion.at),
          entries: completionEntries(status.form, status.completion.data),
        }
      : undefined,
    form: canAct
      ? {
          action: ctx.links.url(linkPaths['task.view'], token),
          csrf: csrfToken(ctx.config.LINK_SECRET, token),
          fields: formFields(status.form, status.choices, view.values ?? {}, problems),
          errorSummary: errorSummary(status.form, problems),
        }
      : undefined,
    readOnly,
    history: status.history
      .slice(-HISTORY_SHOWN)
      .reverse()
      .map((e) => ({
        at: e.at,
        atText: timeText(e.at),
        detail: e.detail,
        byName: e.by === 'system' ? undefined : personName(ctx, e.by),
      })),
  };
}

type LoadedTask = FoundWorkflow & { status: TaskStatus; live: boolean };

/** The task and its status, read once (live, or as last published); a 404 page when there is none. */
async function loadTask(ctx: PageContext, gateway: WorkflowGateway, workflowId: string, log?: FastifyRequest['log']): Promise<LoadedTask> {
  const work = await gateway.read(workflowId, TASK_WORKFLOW, taskStatusQuery);
  if (!work) throw notFoundPage('task');
  if (work.live) return work;
  log?.warn({ workflowId, reason: work.unanswered }, 'task page shows the last published state: no worker answered in time');
  return { ...work, live: false, status: await publishedTask(ctx, gateway, work) };
}

const taskStates: readonly TaskState[] = ['open', 'overdue', 'completed', 'cancelled'];

/**
 * The task as it last published itself: search attributes and memo (state, assignee and
 * delegate, due date), the start input (instructions, form), and for a closed task its ledger
 * record (the answer, or why it was cancelled). No history: only the workflow keeps it.
 */
async function publishedTask(ctx: PageContext, gateway: WorkflowGateway, work: ReadWorkflow<TaskStatus>): Promise<TaskStatus> {
  const published = publishedState(work);
  const [input] = await gateway.startArgs(work);
  const parsed = humanTaskInputSchema.safeParse(input);
  if (!parsed.success) throw new Error(`task ${work.workflowId}: its start input cannot be read (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  const spec = parsed.data;
  const recorded = taskStates.find((s) => s === published.state);
  const state: TaskState = recorded ?? (work.running ? 'open' : 'completed');
  const owner = published.owner;
  const delegate = published.assignees.find((id) => id !== owner);
  const status: TaskStatus = {
    taskId: work.workflowId,
    title: published.title ?? spec.title,
    instructions: spec.instructions,
    clauses: published.clauses ?? spec.clauses,
    process: published.process ?? spec.process,
    ...(published.aiSystem ?? spec.aiSystem ? { aiSystem: published.aiSystem ?? spec.aiSystem } : {}),
    form: spec.form,
    choices: spec.choices ?? [],
    state,
    assignee: owner
      ? { id: owner, name: personName(ctx, owner), email: '' }
      : 'person' in spec.assignee
        ? { id: spec.assignee.person, name: personName(ctx, spec.assignee.person), email: '' }
        : { id: '', name: `${spec.assignee.role}${spec.assignee.of ? ` of ${spec.assignee.of}` : ''}`, email: '' },
    ...(delegate ? { delegate: { id: delegate, name: personName(ctx, delegate), email: '' } } : {}),
    requestedBy: spec.requestedBy,
    dueAt: published.dueAt ?? spec.dueAt,
    createdAt: work.description.startTime.toISOString(),
    escalationLevel: 0,
    history: [],
  };
  if (state === 'completed') {
    const record = await latestRecord(ctx, work.workflowId, 'task.completed');
    const data = (record?.content as { data?: unknown } | undefined)?.data;
    if (record) status.completion = { by: record.actor, at: record.occurredAt, data: data && typeof data === 'object' ? (data as Record<string, unknown>) : {} };
  }
  if (state === 'cancelled') {
    const record = await latestRecord(ctx, work.workflowId, 'task.cancelled');
    const reason = (record?.content as { reason?: unknown } | undefined)?.reason;
    if (record) status.cancellation = { by: record.actor, at: record.occurredAt, reason: typeof reason === 'string' ? reason : 'not recorded' };
  }
  return status;
}


/** The page for a task that was cancelled. */
function cancelledPage(ctx: PageContext, status: TaskStatus): PageError {
  const c = status.cancellation;
  return new PageError(410, {
    heading: 'This task was cancelled',
    paragraphs: [
      `“${status.title}” was cancelled${c ? ` on ${timeText(c.at)} by ${personName(ctx, c.by)}` : ''}. There is nothing more to do.`,
      ...(c ? [`Reason: ${c.reason}`] : []),
    ],
  });
}

function alreadyDonePage(ctx: PageContext, status: TaskStatus): PageError {
  const c = status.completion;
  return new PageError(409, {
    heading: 'This task is already done',
    paragraphs: [
      `“${status.title}” was completed${c ? ` by ${personName(ctx, c.by)} on ${timeText(c.at)}` : ''}. Your answer was not needed again, and nothing was changed.`,
    ],
  });
}

/** What the person typed, for pages that cannot keep it in the form. */
function enteredValues(values: Values): NonNullable<MessageModel['entered']> {
  return Object.entries(values)
    .map(([key, value]) => ({ label: answerLabel(undefined, key), value: Array.isArray(value) ? value.join('\n') : value }))
    .filter((e) => e.value.trim() !== '');
}

function renderTask(ctx: PageContext, request: FastifyRequest, reply: FastifyReply, statusCode: number, view: TaskView): Promise<FastifyReply> {
  return sendWorkPage(ctx, request, reply, statusCode, 'task', taskPageModel(ctx, view), { title: view.status.title, claims: view.claims });
}

/** For an expired link to a task that is already closed: say so instead of offering a fresh link. */
const closedWorkInsteadOfExpired = (ctx: PageContext) =>
  closedInsteadOfExpired(ctx, (gateway, workflowId) => loadTask(ctx, gateway, workflowId), ({ status }) =>
    status.state === 'completed' ? alreadyDonePage(ctx, status) : status.state === 'cancelled' ? cancelledPage(ctx, status) : undefined,
  );

export function showTask(ctx: PageContext) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const token = tokenFrom(request);
    const claims = await verifyPageLink(ctx, request, 'task.view', closedWorkInsteadOfExpired(ctx));
    const { status, running, live } = await loadTask(ctx, pageGateway(ctx), claims.task, request.log);
    if (status.state === 'cancelled') throw cancelledPage(ctx, status);
    return renderTask(ctx, request, reply, 200, { status, running, live, claims, token: token ?? '' });
  };
}

export function submitTask(ctx: PageContext) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const token = tokenFrom(request);
    const body = formBody(request);
    const claims = await verifyPostedLink(
      () => verifyPageLink(ctx, request, 'task.view', closedWorkInsteadOfExpired(ctx)),
      enteredValues(Object.fromEntries(Object.entries(body).filter(([k]) => k !== 'csrf' && k !== 'token'))),
    );
    requireSameSiteForm(ctx, request, token ?? '');
    const gateway = pageGateway(ctx);
    const work = await loadTask(ctx, gateway, claims.task, request.log);
    const { status, running, live } = work;
    if (status.state === 'completed') throw alreadyDonePage(ctx, status);
    if (status.state === 'cancelled') throw cancelledPage(ctx, status);

    const { data, values } = forms[status.form].parse(body);
    const view: TaskView = { status, running, live, claims, token: token ?? '', values };
    const form = validateForm(status.form, data, status.choices);
    if (!form.ok) return renderTask(ctx, request, reply, 400, { ...view, problems: form.problems });
    const notSaved = (sent: boolean) => {
      request.log.warn({ workflowId: claims.task, sent }, 'task answer not saved: no worker took it in time');
      reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      return renderTask(ctx, request, reply, 503, { ...view, notice: notSavedYetNotice('answer', sent) });
    };
    // No worker answered the status query: the update would wait on the same missing worker.
    if (!live) return notSaved(false);

    // The workflow decides whether this person may complete it now; the page explains its answer.
    let outcome;
    try {
      outcome = await gateway.update(work, completeTaskUpdate, { by: claims.person, data: form.data, via: 'link' });
    } catch (err) {
      if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return notSaved(true);
      throw err;
    }
    if (outcome.kind === 'ok') {
      request.log.info({ workflowId: claims.task, person: claims.person }, 'task completed from its page');
      return sendMessage(
        ctx,
        request,
        reply,
        200,
        {
          heading: 'Thank you',
          paragraphs: [
            sentenceCase(outcome.result.message.replace(/^thank you[:,.!]?\s*/i, '')),
            `Your answer to “${status.title}” is recorded as evidence. A receipt is on its way by e-mail.`,
          ],
          link: { url: await myTasksUrl(ctx, claims), label: 'See your other open tasks', secondary: true },
        },
        { pageTitle: 'Thank you' },
      );
    }
    if (outcome.kind !== 'refused') throw alreadyDonePage(ctx, status);
    request.log.info({ workflowId: claims.task, reason: outcome.reason }, 'task completion refused by the workflow');
    const mayAct = readOnlyReasons(ctx, view) === undefined;
    return renderTask(ctx, request, reply, mayAct ? 409 : 403, {
      ...view,
      notice: { kind: 'error', title: 'Your answer was not saved', paragraphs: readOnlyReasons(ctx, view) ?? [`${sentenceCase(outcome.reason)}.`] },
    });
  };
}
