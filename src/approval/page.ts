/**
 * The approval page (`/a?token=`): the summary, the content fingerprint and a link to the
 * full content, the rule and the progress, who decided what, and Approve / Reject with a
 * comment. The form carries the hash of the content it showed, so a decision on content that
 * changed in the meantime is refused and the page shows the new version.
 */
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
  timeText,
  tokenFrom,
  verifyPageLink,
  verifyPostedLink,
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

/** The approval and its status, read once; a 404 page when there is none. */
async function loadApproval(gateway: WorkflowGateway, workflowId: string): Promise<LoadedApproval> {
  const work = await gateway.load(workflowId, APPROVAL_WORKFLOW, approvalStatusQuery);
  if (!work) throw notFoundPage('approval');
  return { ...work, clauses: work.description.typedSearchAttributes.get(searchAttributes.clauses) ?? [] };
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
  closedInsteadOfExpired(ctx, loadApproval, ({ status }) => (isOpen(status) ? undefined : closedPage(status)));

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
    const claims = await verifyPageLink(ctx, token, 'approval.decide', closedApprovalInsteadOfExpired(ctx));
    const { status, running, clauses } = await loadApproval(pageGateway(ctx), claims.task);
    return renderApproval(ctx, request, reply, 200, { status, running, clauses, claims, token: token ?? '' });
  };
}

export function submitApproval(ctx: PageContext) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const token = tokenFrom(request);
    const body = formBody(request);
    const comment = field(body, 'comment');
    const claims = await verifyPostedLink(
      () => verifyPageLink(ctx, token, 'approval.decide', closedApprovalInsteadOfExpired(ctx)),
      [{ label: 'Comment', value: comment }],
    );
    requireSameSiteForm(ctx, request, token ?? '');
    const gateway = pageGateway(ctx);
    const work = await loadApproval(gateway, claims.task);
    const { status } = work;
    if (!isOpen(status)) throw closedPage(status);
    const view: ApprovalView = { status, running: work.running, clauses: work.clauses, claims, token: token ?? '', comment };
    const decision = field(body, 'decision');
    const shownHash = field(body, 'contentHash');

    // The workflow decides; the page only explains its answer.
    const outcome = await gateway.update(work, decideUpdate, {
      by: claims.person,
      decision: decision as 'approve' | 'reject',
      contentHash: shownHash,
      ...(comment.trim() ? { comment: comment.trim() } : {}),
    });
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
