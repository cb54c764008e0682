/**
 * The approval page (`/a?token=`): the summary, the content fingerprint and a link to the
 * full content, the rule and the progress, who decided what, and Approve / Reject with a
 * comment. The form carries the hash of the content it showed, so a decision on content that
 * changed in the meantime is refused and the page shows the new version.
 *
 * When no worker answers the status query in time, the page shows what the approval last
 * published (title, state, due date, who it waits for) with a "refreshing" note and no decision
 * form: a decision is bound to exactly the version shown, and only the workflow knows the current
 * version and the decisions so far. A decision POSTed then (or one no worker takes in time) comes
 * back with the comment kept, "not saved yet", 503 and Retry-After. Sending it again is safe: the
 * workflow takes one decision per approver and version.
 */
import { WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { contentHashSchema, type ApprovalStatus } from './schema.js';
import { linkPaths } from '../links/paths.js';
import type { LinkClaims } from '../links/signer.js';
import { APPROVAL_WORKFLOW, approvalStatusQuery, decideUpdate } from './contract.js';

import { searchAttributes } from '../temporal/search-attributes.js';
import { csrfToken } from '../api/csrf.js';
import type { FoundWorkflow, WorkflowGateway } from '../api/gateway.js';
import { describeClause } from '../api/views/clauses.js';
import {
  dayText,
  field,
  formBody,
  myTasksUrl,
  PageError,
  paragraphs,
  personName,
  requireSameSiteForm,
  pageGateway,
  notFoundPage,
  sentenceCase,
  sendMessage,
  sendWorkPage,
  closedInsteadOfExpired,
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

const isOpen = (status: ApprovalStatus) => status.state === 'pending' || status.state === 'overdue';

const stateLabels: Record<ApprovalStatus['state'], [string, string]> = {
  pending: ['Waiting for decisions', 'open'],
  overdue: ['Waiting for decisions', 'open'],
  approved: ['Approved', 'done'],
  rejected: ['Rejected', 'closed'],
  expired: ['Expired', 'closed'],
  cancelled: ['Cancelled', 'closed'],
};

function ruleText(status: ApprovalStatus): string {
  const m = status.approvers.length;
  switch (status.rule.type) {
    case 'all':
      return `All ${m} approver${m === 1 ? '' : 's'} must approve`;
    case 'any':
      return `Any one of ${m} approver${m === 1 ? '' : 's'} can approve`;
    case 'n-of-m':
      return `${status.required} of ${m} approvers must approve`;
  }
}

function kindLabel(kind: string): string {
  const words = kind.replace(/-/g, ' ');
  return words === 'adhoc' ? 'Ad-hoc approval' : `${words.charAt(0).toUpperCase()}${words.slice(1)}`;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'another site';
  }
}

interface ApprovalView {
  status: ApprovalStatus;
  running: boolean;
  /** Clauses and controls the approval is filed under (from its search attributes). */
  clauses: string[];
  claims: LinkClaims;
  token: string;
  comment?: string;
  commentError?: string;
  notice?: { kind: 'info' | 'warn' | 'error' | 'done'; title?: string; paragraphs: string[] };
}

/** Why the person cannot decide now, or undefined when they can. */
function readOnlyReasons(ctx: PageContext, view: ApprovalView): string[] | undefined {
  const { status, claims, running } = view;
  if (!isOpen(status)) return undefined;
  if (!running) return ['This approval was stopped by an operator and can no longer be decided here.'];
  if (status.approvers.length === 0) return ['This approval is still being set up. Reload this page in a moment.'];
  if (claims.person === status.preparer.id) {
    return ['You prepared this content, so you cannot approve it yourself (separation of duties).'];
  }
  if (!status.approvers.some((a) => a.id === claims.person)) {
    return [`You are not one of the approvers. This link was sent to ${personName(ctx, claims.person)} for information.`];
  }
  const mine = status.decisions.find((d) => d.by === claims.person && !d.voided);
  if (mine) {
    return [`You ${mine.decision === 'approve' ? 'approved' : 'rejected'} this version on ${timeText(mine.at)}. Each approver decides once per version.`];
  }
  return undefined;
}

export function approvalPageModel(ctx: PageContext, view: ApprovalView, now = new Date()): Record<string, unknown> {
  const { status, token } = view;
  const open = isOpen(status);
  const readOnly = readOnlyReasons(ctx, view);
  const canAct = open && view.running && readOnly === undefined;
  const [stateLabel, stateClass] = stateLabels[status.state];
  const current = status.decisions.filter((d) => !d.voided);
  const approvals = current.filter((d) => d.decision === 'approve').length;
  const rejections = current.length - approvals;
  const nameOf = (id: string) => status.approvers.find((a) => a.id === id)?.name ?? personName(ctx, id);
  const closedNotice = !open
    ? { kind: status.state === 'approved' ? 'done' : 'warn', paragraphs: [`This approval is closed: ${stateLabel.toLowerCase()}.`] }
    : undefined;
  return {
    title: status.title,
    stateLabel,
    stateClass,
    dueAt: status.dueAt,
    dueText: dayText(status.dueAt),
    overdue: open && (status.state === 'overdue' || Date.parse(status.dueAt) < now.getTime()),
    notice: view.notice ?? closedNotice,
    kindLabel: kindLabel(status.kind),
    preparerName: status.preparer.name,
    version: status.version,
    ruleText: ruleText(status),
    progressText: `${approvals} of ${status.required} approval${status.required === 1 ? '' : 's'} so far${rejections ? `, ${rejections} rejection${rejections === 1 ? '' : 's'}` : ''}`,
    pendingNames: open ? status.pending.map(nameOf).join(', ') : '',
    clauses: view.clauses.map(describeClause),
    summary: paragraphs(status.summary),
    contentUrl: status.contentUrl,
    contentHost: status.contentUrl ? hostOf(status.contentUrl) : undefined,
    contentHash: status.contentHash,
    decisions: status.decisions.map((d) => ({
      byName: nameOf(d.by),
      verb: d.decision === 'approve' ? 'approved' : 'rejected',
      voided: d.voided,
      at: d.at,
      atText: timeText(d.at),
      comment: d.comment,
    })),
    form: canAct
      ? {
          action: ctx.links.url(linkPaths['approval.decide'], token),
          csrf: csrfToken(ctx.config.LINK_SECRET, token),
          comment: view.comment ?? '',
          commentError: view.commentError,
          errorSummary: view.commentError ? [{ id: 'comment', text: view.commentError }] : [],
        }
      : undefined,
    readOnly,
    history: status.history
      .slice(-HISTORY_SHOWN)
      .reverse()
      .map((e) => ({ at: e.at, atText: timeText(e.at), detail: e.detail, byName: e.by === 'system' ? undefined : nameOf(e.by) })),
  };
}

type LoadedApproval = FoundWorkflow & { status: ApprovalStatus; clauses: string[] };

/** The approval, read once: live, or as last published; a 404 page when there is none. */
async function readApproval(gateway: WorkflowGateway, workflowId: string, log?: FastifyRequest['log']): Promise<LoadedApproval | (FoundWorkflow & { status?: undefined })> {
  const work = await gateway.read(workflowId, APPROVAL_WORKFLOW, approvalStatusQuery);
  if (!work) throw notFoundPage('approval');
  if (!work.live) {
    log?.warn({ workflowId, reason: work.unanswered }, 'approval page shows the last published state: no worker answered in time');
    return work;
  }
  return { ...work, clauses: work.description.typedSearchAttributes.get(searchAttributes.clauses) ?? [] };
}

/** Whether an approval as last published still waits for decisions. */
function publishedOpen(work: FoundWorkflow): boolean {
  const { state } = publishedState(work);
  return work.running && (state === undefined || state === 'pending' || state === 'overdue');
}

/**
 * The message page of an approval as last published, because no worker answered in time: a
 * "refreshing" note for a GET; "not saved yet" with what the person entered for a decision
 * that could not be sent.
 */
function stalePage(
  work: FoundWorkflow,
  person: string,
  entered?: Array<{ label: string; value: string }>,
): { model: MessageModel; frame: { pageTitle: string } } {
  const published = publishedState(work);
  const open = publishedOpen(work);
  const state = (published.state ?? 'pending') as ApprovalStatus['state'];
  const label = state in stateLabels ? stateLabels[state][0] : state;
  const title = published.title ?? 'Approval';
  return {
    model: {
      heading: title,
      paragraphs: [
        ...(entered ? notSavedYetNotice('decision', false).paragraphs : refreshingNotice.paragraphs),
        open ? `${label}${published.dueAt ? `, decide by ${dayText(published.dueAt)}` : ''}.` : `This approval is closed: ${label.toLowerCase()}.`,
        ...(open && published.assignees.includes(person)
          ? ['Your decision form shows again once the page is up to date, because a decision is bound to exactly the version you read.']
          : []),
      ],
      ...(entered && entered.length > 0 ? { entered } : {}),
    },
    frame: { pageTitle: title },
  };
}

function closedPage(status: ApprovalStatus): PageError {
  const [label] = stateLabels[status.state];
  return new PageError(409, {
    heading: 'This approval is already closed',
    paragraphs: [`“${status.title}” is ${label.toLowerCase()}. Nothing more is needed from you, and nothing was changed.`],
  });
}

function renderApproval(
  ctx: PageContext,
  request: FastifyRequest,
  reply: FastifyReply,
  statusCode: number,
  view: ApprovalView,
): Promise<FastifyReply> {
  return sendWorkPage(ctx, request, reply, statusCode, 'approval', approvalPageModel(ctx, view), { title: view.status.title, claims: view.claims });
}

const closedApprovalInsteadOfExpired = (ctx: PageContext) =>
  closedInsteadOfExpired(
    ctx,
    (gateway, workflowId) => readApproval(gateway, workflowId),
    (work, claims) => {
      if (work.status) return isOpen(work.status) ? undefined : closedPage(work.status);
      if (publishedOpen(work)) return undefined;
      const { model, frame } = stalePage(work, claims.person);
      return new PageError(409, model, frame);
    },
  );

const contentChangedNotice = (status: ApprovalStatus) => ({
  kind: 'warn' as const,
  title: 'The content changed since you opened this page',
  paragraphs: [
    `This is version ${status.version}. Your decision was not recorded: please review the current version below, then decide again.`,
  ],
});

export function showApproval(ctx: PageContext) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const token = tokenFrom(request);
    const claims = await verifyPageLink(ctx, request, 'approval.decide', closedApprovalInsteadOfExpired(ctx));
    const work = await readApproval(pageGateway(ctx), claims.task, request.log);
    if (!work.status) {
      const { model, frame } = stalePage(work, claims.person);
      return sendMessage(ctx, request, reply, 200, model, frame);
    }
    const { status, running, clauses } = work;
    return renderApproval(ctx, request, reply, 200, { status, running, clauses, claims, token: token ?? '' });
  };
}

export function submitApproval(ctx: PageContext) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const token = tokenFrom(request);
    const body = formBody(request);
    const comment = field(body, 'comment');
    const claims = await verifyPostedLink(
      () => verifyPageLink(ctx, request, 'approval.decide', closedApprovalInsteadOfExpired(ctx)),
      [{ label: 'Comment', value: comment }],
    );
    requireSameSiteForm(ctx, request, token ?? '');
    const gateway = pageGateway(ctx);
    const read = await readApproval(gateway, claims.task, request.log);
    if (!read.status) {
      request.log.warn({ workflowId: claims.task, sent: false }, 'decision not saved: no worker answered in time');
      reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      const entered = [{ label: 'Decision', value: field(body, 'decision') }, { label: 'Comment', value: comment }].filter((e) => e.value.trim() !== '');
      const { model, frame } = stalePage(read, claims.person, entered);
      return sendMessage(ctx, request, reply, 503, model, frame);
    }
    const work = read;
    const { status } = work;
    if (!isOpen(status)) throw closedPage(status);
    const view: ApprovalView = { status, running: work.running, clauses: work.clauses, claims, token: token ?? '', comment };
    const decision = field(body, 'decision');
    const shownHash = field(body, 'contentHash');

    // The workflow decides; the page only explains its answer.
    const decide = {
      by: claims.person,
      decision: decision as 'approve' | 'reject',
      contentHash: shownHash,
      ...(comment.trim() ? { comment: comment.trim() } : {}),
      via: 'link' as const,
    };
    let outcome;
    try {
      outcome = await gateway.update(work, decideUpdate, decide);
    } catch (err) {
      if (!(err instanceof WorkflowUpdateRPCTimeoutOrCancelledError)) throw err;
      request.log.warn({ workflowId: claims.task, sent: true }, 'decision not saved: no worker took it in time');
      reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      return renderApproval(ctx, request, reply, 503, { ...view, notice: notSavedYetNotice('decision', true) });
    }
    if (outcome.kind === 'ok') {
      request.log.info({ workflowId: claims.task, person: claims.person, decision }, 'approval decided from its page');
      const ack = outcome.result;
      const after =
        ack.state === 'approved' || ack.state === 'rejected'
          ? `With your decision, “${status.title}” is now ${ack.state}.`
          : `“${status.title}” is still waiting for other approvers.`;
      return sendMessage(
        ctx,
        request,
        reply,
        200,
        { heading: 'Thank you', paragraphs: [ack.message, after], link: { url: await myTasksUrl(ctx, claims), label: 'See your other open tasks', secondary: true } },
        { pageTitle: 'Thank you' },
      );
    }
    if (outcome.kind !== 'refused') throw closedPage(status);
    request.log.info({ workflowId: claims.task, reason: outcome.reason }, 'decision refused by the workflow');
    return renderRefusal(ctx, request, reply, view, shownHash, outcome.reason);
  };
}

/** The page after the workflow refused a decision: beside the field it names, or as a notice saying why. */
function renderRefusal(
  ctx: PageContext,
  request: FastifyRequest,
  reply: FastifyReply,
  view: ApprovalView,
  shownHash: string,
  reason: string,
): Promise<FastifyReply> {
  const { status } = view;
  if (status.contentHash !== shownHash && contentHashSchema.safeParse(shownHash).success) {
    return renderApproval(ctx, request, reply, 409, { ...view, notice: contentChangedNotice(status) });
  }
  const field = /^(comment|decision|contentHash): (.*)$/.exec(reason);
  if (field?.[1] === 'comment') return renderApproval(ctx, request, reply, 400, { ...view, commentError: `${sentenceCase(field[2] ?? reason)}.` });
  const notRecorded = (paragraph: string) => ({ kind: 'error' as const, title: 'Your decision was not recorded', paragraphs: [paragraph] });
  if (field?.[1] === 'decision') return renderApproval(ctx, request, reply, 400, { ...view, notice: notRecorded('Choose Approve or Reject.') });
  if (field) return renderApproval(ctx, request, reply, 400, { ...view, notice: notRecorded('The form was incomplete. Please review the content and decide again.') });
  const mayDecide = status.approvers.some((a) => a.id === view.claims.person) && status.preparer.id !== view.claims.person;
  return renderApproval(ctx, request, reply, mayDecide ? 409 : 403, { ...view, notice: notRecorded(`${sentenceCase(reason)}.`) });
}
