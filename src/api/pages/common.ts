/**
 * What every page reached from an e-mailed link shares: the link check, the person-readable
 * error pages, rendering with the layout, and access to Temporal.
 *
 * Pages always answer HTML (whatever the Accept header says), never cache, and never change
 * anything on GET.
 *
 * Pages never hang on a worker: a workflow's status query that no worker answers within
 * `PAGE_QUERY_TIMEOUT_MS` gives way to the state the workflow last published (search
 * attributes, memo, start input, ledger) with a short "refreshing" note; a form whose answer
 * cannot be passed to the workflow comes back with everything typed kept, a "not saved yet"
 * note and 503 with Retry-After.
 */
import type { Client } from '@temporalio/client';
import {
  isGrpcServiceError,
  QueryNotRegisteredError,
  ServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import { linkPaths } from '../../links/paths.js';
import type { Organization } from '../../organization/schema.js';
import type { RecordsStore } from '../../records/types.js';
import { searchAttributes } from '../../temporal/search-attributes.js';
import { createLinkSigner, LinkError, type LinkAction, type LinkClaims, type LinkErrorCode, type LinkSigner } from '../../links/signer.js';
import { formatDate, formatDateTime } from '../../mail/templates.js';
import { checkFormPost, csrfToken } from '../csrf.js';
import type { AppDeps } from '../deps.js';
import { HttpError, statusText } from '../errors.js';
import { WorkflowGateway, type FoundWorkflow } from '../gateway.js';
import { renderPage, type LayoutModel, type PageName } from '../views/render.js';

export interface PageContext {
  config: Config;
  links: LinkSigner;
  temporal: Client | undefined;
  organization: (() => Organization) | undefined;
  sendNotification: AppDeps['sendNotification'];
  /** Counts a refused link in the API's metrics. */
  linkRefused: (reason: LinkErrorCode) => void;
  /** The ledger, for what a closed piece of work recorded when its workflow cannot answer. */
  records: RecordsStore | undefined;
}

export function pageContext(app: FastifyInstance): PageContext {
  const { deps } = app;
  const { config } = deps;
  return {
    config,
    links:
      deps.links ??
      createLinkSigner({ secret: config.LINK_SECRET, ttlHours: config.LINK_TTL_HOURS, baseUrl: config.PUBLIC_BASE_URL }),
    temporal: deps.temporal,
    organization: deps.organization,
    sendNotification: deps.sendNotification,
    linkRefused: (reason) => app.metrics.linkRefused(reason),
    records: deps.records,
  };
}

/** The model of the message page: a heading, paragraphs and an optional form or link. */
export interface MessageModel {
  heading: string;
  paragraphs: string[];
  /** What the person typed, shown back when it could not be saved. */
  entered?: Array<{ label: string; value: string }>;
  /** A one-button form (e.g. "E-mail me a fresh link"). */
  form?: { action: string; csrf: string; hidden: Array<{ name: string; value: string }>; button: string };
  link?: { url: string; label: string; secondary?: boolean };
}

/** A page-level refusal or problem, rendered as the message page with its status. */
export class PageError extends Error {
  constructor(
    readonly statusCode: number,
    readonly model: MessageModel,
    readonly frame: { pageTitle?: string; myTasksUrl?: string } = {},
  ) {
    super(model.paragraphs[0] ?? model.heading);
    this.name = 'PageError';
  }
}

/** The organization's name for the page header, when the organization is known. */
function siteName(ctx: PageContext): string | undefined {
  try {
    return ctx.organization?.().organization.name;
  } catch {
    return undefined;
  }
}

export function sendPage(
  ctx: PageContext,
  request: FastifyRequest,
  reply: FastifyReply,
  statusCode: number,
  page: PageName,
  model: object,
  frame: Omit<LayoutModel, 'requestId'>,
): FastifyReply {
  const html = renderPage(page, model, { ...frame, requestId: request.id, siteName: frame.siteName ?? siteName(ctx) });
  return reply
    .code(statusCode)
    .header('cache-control', 'no-store')
    .header('x-robots-tag', 'noindex, nofollow')
    .type('text/html; charset=utf-8')
    .send(html);
}

export function sendMessage(
  ctx: PageContext,
  request: FastifyRequest,
  reply: FastifyReply,
  statusCode: number,
  model: MessageModel,
  frame: { pageTitle?: string | undefined; myTasksUrl?: string | undefined } = {},
): FastifyReply {
  return sendPage(ctx, request, reply, statusCode, 'message', model, {
    pageTitle: frame.pageTitle ?? model.heading,
    myTasksUrl: frame.myTasksUrl,
  });
}

/**
 * gRPC codes of a call to the Temporal service that went unanswered or was turned away for now
 * (deadline exceeded, resource exhausted, unavailable, cancelled): a raw service call (such as
 * the history read of `WorkflowGateway.startArgs`) reports these without the SDK's ServiceError.
 */
const UNANSWERED_GRPC_CODES = new Set([1 /* CANCELLED */, 4 /* DEADLINE_EXCEEDED */, 8 /* RESOURCE_EXHAUSTED */, 14 /* UNAVAILABLE */]);

function isUnansweredCall(err: unknown): boolean {
  return isGrpcServiceError(err) && UNANSWERED_GRPC_CODES.has(err.code);
}

/**
 * Wraps a page handler: PageErrors become their message page; Temporal being unreachable
 * becomes a 503 page; anything else is logged and becomes a 500 page quoting the request id.
 */
export type MessageSender = (
  ctx: PageContext,
  request: FastifyRequest,
  reply: FastifyReply,
  statusCode: number,
  model: MessageModel,
  frame?: { pageTitle?: string | undefined; myTasksUrl?: string | undefined },
) => FastifyReply;

export function pageHandler(
  ctx: PageContext,
  handler: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>,
  send: MessageSender = sendMessage,
): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  return async (request, reply) => {
    const sendMessage = send;
    try {
      return await handler(request, reply);
    } catch (err) {
      if (err instanceof PageError) {
        request.log.info({ statusCode: err.statusCode, reason: err.message }, 'page refused');
        return sendMessage(ctx, request, reply, err.statusCode, err.model, err.frame);
      }
      // A refusal of the shared route functions (not found, conflict, bad input, Temporal not configured) is a page with its reason.
      if (err instanceof HttpError && (err.statusCode < 500 || err.statusCode === 503)) {
        request.log.info({ statusCode: err.statusCode, reason: err.message }, 'page refused');
        for (const [name, value] of Object.entries(err.headers)) reply.header(name, value);
        return sendMessage(ctx, request, reply, err.statusCode, { heading: statusText(err.statusCode), paragraphs: [err.message] });
      }
      if (err instanceof WorkflowNotFoundError || err instanceof QueryNotRegisteredError) {
        request.log.info({ reason: err.message }, 'page for unknown work');
        const page = notFoundPage('work item');
        return sendMessage(ctx, request, reply, page.statusCode, page.model);
      }
      if (err instanceof ServiceError || err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isUnansweredCall(err)) {
        request.log.warn({ err }, 'Temporal did not answer a page request');
        reply.header('retry-after', String(RETRY_AFTER_SECONDS));
        return sendMessage(ctx, request, reply, 503, {
          heading: 'Please try again in a minute',
          paragraphs: [
            'The workflow service did not answer in time.',
            'If you submitted something, open your link again in a minute to see whether it was saved.',
          ],
        });
      }
      request.log.error({ err }, 'page failed');
      return sendMessage(ctx, request, reply, 500, {
        heading: 'Something went wrong',
        paragraphs: ['The page could not be shown. Please try again later, and quote the reference below if you report it.'],
      });
    }
  };
}

/** The `token` query parameter (or form field), when given exactly once as text. */
export function tokenFrom(request: FastifyRequest): string | undefined {
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = query?.token;
  if (typeof fromQuery === 'string') return fromQuery;
  const fromBody = formBody(request).token;
  return typeof fromBody === 'string' ? fromBody : undefined;
}

/** The parsed form body as strings and string lists; anything else is dropped. */
export function formBody(request: FastifyRequest): Record<string, string | string[]> {
  const body = request.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return {};
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (typeof value === 'string') out[key] = value;
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out[key] = value;
  }
  return out;
}

/** The first value of a form field, or '' when absent. */
export function field(body: Record<string, string | string[]>, name: string): string {
  const value = body[name];
  return typeof value === 'string' ? value : (value?.[0] ?? '');
}

/** Every value of a repeated form field. */
export function fieldList(body: Record<string, string | string[]>, name: string): string[] {
  const value = body[name];
  return value === undefined ? [] : typeof value === 'string' ? [value] : value;
}

/**
 * Runs a link check for a form POST; when the link has expired, the expired page also shows
 * what the person typed (`entered`), so nothing is lost.
 */
export async function verifyPostedLink(
  verify: () => Promise<LinkClaims>,
  entered: Array<{ label: string; value: string }>,
): Promise<LinkClaims> {
  try {
    return await verify();
  } catch (err) {
    if (err instanceof PageError && err.statusCode === 410 && err.model.form) {
      throw new PageError(410, { ...err.model, entered: entered.filter((e) => e.value.trim() !== '') }, err.frame);
    }
    throw err;
  }
}

export function renewFormFor(ctx: PageContext, token: string): NonNullable<MessageModel['form']> {
  return {
    action: `${ctx.config.PUBLIC_BASE_URL}${linkPaths['link.renew']}`,
    csrf: csrfToken(ctx.config.LINK_SECRET, token),
    hidden: [{ name: 'token', value: token }],
    button: 'E-mail me a fresh link',
  };
}

export const invalidLink = () =>
  new PageError(400, {
    heading: 'This link does not work',
    paragraphs: [
      'The link is not valid. It may have been cut off or changed on its way.',
      'Please open the link exactly as it appears in your e-mail, or copy the whole address into your browser.',
    ],
  });

export const notFoundPage = (what: string) =>
  new PageError(404, {
    heading: `This ${what} no longer exists`,
    paragraphs: [
      `We could not find the ${what} this link points to. It may have been closed a long time ago and archived.`,
      'If you still need it, ask your AIMS manager.',
    ],
  });

export const temporalMissing = () =>
  new PageError(503, {
    heading: 'Please try again later',
    paragraphs: ['The workflow service is not available right now.'],
  });

/** What checking a request's link found: the link's claims, or why it was refused. */
export type LinkCheck =
  | { token: string | undefined; claims: LinkClaims; error?: undefined }
  | { token: string | undefined; claims?: undefined; error: LinkError };

const linkChecks = new WeakMap<FastifyRequest, { action: LinkAction | undefined; check: Promise<LinkCheck> }>();

/**
 * Verifies the request's link (the `token` query parameter or form field) for `action` (any
 * action when undefined), once per request: the rate limit and the page share the answer.
 */
export function checkLink(ctx: PageContext, request: FastifyRequest, action?: LinkAction): Promise<LinkCheck> {
  const known = linkChecks.get(request);
  if (known && known.action === action) return known.check;
  const token = tokenFrom(request);
  const check = ctx.links.verify(token, action === undefined ? {} : { action }).then(
    (claims): LinkCheck => ({ token, claims }),
    (err: unknown): LinkCheck => {
      if (err instanceof LinkError) return { token, error: err };
      throw err;
    },
  );
  linkChecks.set(request, { action, check });
  return check;
}

/**
 * The person a link check proves: the one a valid link names (also a valid link opened on the
 * wrong page); with `expired`, also the one an expired link names (its signature still checks
 * out). Undefined when the link proves nobody.
 */
export function provenPerson(check: LinkCheck, options: { expired?: boolean } = {}): string | undefined {
  if (check.claims) return check.claims.person;
  const { error } = check;
  if (!error.claims) return undefined;
  return error.code !== 'expired' || options.expired ? error.claims.person : undefined;
}

/**
 * Verifies a page link for `action` (through `checkLink`, so once per request). Refusals are
 * counted by reason in the API's metrics and become person-readable pages: an expired link
 * offers a fresh one by e-mail (`onExpired` may replace that page, e.g. when the work is
 * already closed), a link for another page points there.
 */
export async function verifyPageLink(
  ctx: PageContext,
  request: FastifyRequest,
  action: LinkAction,
  onExpired?: (claims: LinkClaims) => Promise<void>,
): Promise<LinkClaims> {
  const { token, claims, error: err } = await checkLink(ctx, request, action);
  if (claims) return claims;
  ctx.linkRefused(err.code);
  if (err.code === 'expired' && err.claims && token) {
    await onExpired?.(err.claims);
    throw new PageError(410, {
      heading: 'This link has expired',
      paragraphs: [
        'Links in our e-mails work for a limited time, so that an old e-mail cannot be used by someone else.',
        'We can e-mail a fresh link to you, at the address we have on file for the person this link was sent to.',
      ],
      form: renewFormFor(ctx, token),
    });
  }
  if (err.code === 'wrong-action' && err.claims && token) {
    const path = linkPaths[err.claims.action];
    throw new PageError(400, {
      heading: 'This link belongs to another page',
      paragraphs: ['The link you opened is meant for a different page.'],
      ...(err.claims.action !== 'link.renew' ? { link: { url: ctx.links.url(path, token), label: 'Open the right page' } } : {}),
    });
  }
  throw invalidLink();
}

/** Refuses a form POST that fails the cross-site checks, with a 403 page. */
export function requireSameSiteForm(ctx: PageContext, request: FastifyRequest, token: string): void {
  const verdict = checkFormPost(request, {
    secret: ctx.config.LINK_SECRET,
    publicBaseUrl: ctx.config.PUBLIC_BASE_URL,
    linkToken: token,
    presented: formBody(request).csrf,
  });
  if (!verdict.ok) {
    throw new PageError(403, {
      heading: 'This form cannot be accepted',
      paragraphs: [
        verdict.reason,
        'Nothing was saved. Please open the link from your e-mail again and submit the form from that page.',
      ],
    });
  }
}

/**
 * The workflow gateway for a page, with the page deadlines (describe, history and query within
 * `PAGE_QUERY_TIMEOUT_MS`, an update within `PAGE_UPDATE_TIMEOUT_MS`); the "try again later"
 * page when Temporal is not configured.
 */
export function pageGateway(ctx: PageContext): WorkflowGateway {
  if (!ctx.temporal) throw temporalMissing();
  const { PAGE_QUERY_TIMEOUT_MS, PAGE_UPDATE_TIMEOUT_MS } = ctx.config;
  return new WorkflowGateway(ctx.temporal, { callMs: PAGE_QUERY_TIMEOUT_MS, queryMs: PAGE_QUERY_TIMEOUT_MS, updateMs: PAGE_UPDATE_TIMEOUT_MS });
}

/** Seconds a person (or their browser) is asked to wait before sending a form again. */
export const RETRY_AFTER_SECONDS = 10;

/** The note on a page drawn from the last published state, because no worker answered in time. */
export const refreshingNotice = {
  kind: 'info' as const,
  title: 'Refreshing',
  paragraphs: ['This page may be a moment behind while the latest state loads. Reload it in a moment to see the current state.'],
};

/**
 * The note on a form that came back because its answer was not taken in time: `sent` false when
 * it was never passed on (nothing is saved), true when it was passed on but not confirmed (it may
 * still be saved; sending the same answer again is safe, it is never recorded twice).
 */
export const notSavedYetNotice = (what: string, sent: boolean) => ({
  kind: 'error' as const,
  title: 'Not saved yet',
  paragraphs: sent
    ? [
        `We could not confirm that your ${what} was saved. Everything you entered is still below: please send it again in a moment. If it was saved in the meantime, you will be told so, and it is not recorded twice.`,
      ]
    : [`We could not pass your ${what} on just now, so it is not saved yet. Everything you entered is still below: please send it again in a moment.`],
});

/** What a workflow last published about itself: its search attributes and memo (no worker needed). */
export interface PublishedState {
  state?: string;
  /** Person id accountable for the work. */
  owner?: string;
  /** Person ids who must act now. */
  assignees: string[];
  dueAt?: string;
  clauses?: string[];
  process?: string;
  aiSystem?: string;
  /** The memo's title. */
  title?: string;
}

export function publishedState(found: FoundWorkflow): PublishedState {
  const attributes = found.description.typedSearchAttributes;
  const memo = found.description.memo ?? {};
  const due = attributes.get(searchAttributes.dueDate);
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  const published: PublishedState = { assignees: attributes.get(searchAttributes.assignees) ?? [] };
  const state = text(attributes.get(searchAttributes.state));
  const owner = text(attributes.get(searchAttributes.owner));
  const dueAt = text(memo.dueAt) ?? (due ? due.toISOString() : undefined);
  const clauses = attributes.get(searchAttributes.clauses);
  const process = text(attributes.get(searchAttributes.process));
  const aiSystem = text(attributes.get(searchAttributes.aiSystem));
  const title = text(memo.title);
  if (state) published.state = state;
  if (owner) published.owner = owner;
  if (dueAt) published.dueAt = dueAt;
  if (clauses) published.clauses = clauses;
  if (process) published.process = process;
  if (aiSystem) published.aiSystem = aiSystem;
  if (title) published.title = title;
  return published;
}

/** The newest ledger record of `kind` about `subject`, or undefined (also when the ledger cannot answer). */
export async function latestRecord(ctx: PageContext, subject: string, kind: string): Promise<{ actor: string; occurredAt: string; content: unknown } | undefined> {
  if (!ctx.records) return undefined;
  try {
    const records = await ctx.records.list({ subject, kind, limit: 100 });
    return records.at(-1);
  } catch {
    return undefined;
  }
}

/** A person's name from the organization file; the id itself when unknown; `the AIMS team` for `system`. */
export function personName(ctx: PageContext, id: string): string {
  if (id === 'system') return 'the AIMS team';
  try {
    return ctx.organization?.().people.find((p) => p.id === id)?.name ?? id;
  } catch {
    return id;
  }
}

/** Sends the page of a work item (a task, an approval): titled by it, with the person's "my open tasks" link. */
export async function sendWorkPage(
  ctx: PageContext,
  request: FastifyRequest,
  reply: FastifyReply,
  statusCode: number,
  page: PageName,
  model: object,
  work: { title: string; claims: LinkClaims },
): Promise<FastifyReply> {
  return sendPage(ctx, request, reply, statusCode, page, model, { pageTitle: work.title, myTasksUrl: await myTasksUrl(ctx, work.claims) });
}

/**
 * For an expired link to work that is already closed: `closedPage` says so instead of offering
 * a fresh link (it returns undefined while the work is open).
 */
export function closedInsteadOfExpired<W>(
  ctx: PageContext,
  load: (gateway: WorkflowGateway, workflowId: string) => Promise<W>,
  closedPage: (work: W, claims: LinkClaims) => PageError | undefined,
): (claims: LinkClaims) => Promise<void> {
  return async (claims) => {
    if (!ctx.temporal) return;
    const page = closedPage(await load(pageGateway(ctx), claims.task), claims);
    if (page) throw page;
  };
}

/** A freshly signed link to the person's open tasks. */
export async function myTasksUrl(ctx: PageContext, claims: Pick<LinkClaims, 'wf' | 'person'>): Promise<string> {
  return ctx.links.url(linkPaths['tasks.mine'], await ctx.links.sign({ wf: claims.wf, action: 'tasks.mine', person: claims.person }));
}

export const dayText = (iso: string) => formatDate(iso);
export const timeText = (iso: string) => formatDateTime(iso);

/** Text split into paragraphs at blank lines. */
export function paragraphs(text: string): string[] {
  return text
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter(Boolean);
}

/** `text` with its first letter in upper case. */
export const sentenceCase = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
