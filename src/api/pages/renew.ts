/**
 * `POST /renew`: e-mails a fresh link for an expired one, to the person the expired link was
 * issued to (their address from the organization file, never one given in the request).
 *
 * The expired token's signature is still checked: its claims are authentic. The mail goes
 * through the send-once notification path with the id `link-renewal/<jti>`, so a double
 * click (or a second tab) sends one mail; concurrent requests for the same link in this
 * process wait for the first one's result.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { linkPaths } from '../../links/paths.js';
import type { LinkClaims } from '../../links/signer.js';
import type { SendNotificationResult } from '../../../activities/notifications.js';
import { APPROVAL_WORKFLOW } from '../../approval/contract.js';
import { TASK_WORKFLOW } from '../../task/contract.js';
import {
  checkLink,
  invalidLink,
  PageError,
  personName,
  requireSameSiteForm,
  notFoundPage,
  pageGateway,
  sendMessage,
  timeText,
  type PageContext,
} from './common.js';

const mailUnavailable = () =>
  new PageError(503, {
    heading: 'We cannot send e-mail right now',
    paragraphs: ['Please try again in a few minutes.'],
  });

/** What the fresh link is for, as its title; refuses work that no longer needs a link. */
async function subjectOf(ctx: PageContext, claims: LinkClaims): Promise<string> {
  if (claims.action === 'tasks.mine') return 'Your open tasks';
  const [type, what] = claims.action === 'approval.decide' ? [APPROVAL_WORKFLOW, 'approval'] : [TASK_WORKFLOW, 'task'];
  const found = await pageGateway(ctx).find(claims.task, type);
  if (!found) throw notFoundPage(what);
  const title = typeof found.description.memo?.title === 'string' ? found.description.memo.title : what;
  if (!found.running) {
    throw new PageError(409, {
      heading: `This ${what} is already closed`,
      paragraphs: [`“${title}” is closed, so there is nothing more to do and no new link is needed.`],
    });
  }
  return title;
}

export function renewLink(ctx: PageContext) {
  const inFlight = new Map<string, Promise<{ result: SendNotificationResult; expiresAt: string }>>();

  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const { token, claims: current, error } = await checkLink(ctx, request);
    if (current) {
      if (current.action === 'link.renew') {
        ctx.linkRefused('wrong-action');
        throw invalidLink();
      }
      return sendMessage(ctx, request, reply, 200, {
        heading: 'Your link still works',
        paragraphs: ['This link has not expired, so there is no need for a new one.'],
        link: { url: ctx.links.url(linkPaths[current.action], token ?? ''), label: 'Open it' },
      });
    }
    if (error.code !== 'expired' || !error.claims) {
      ctx.linkRefused(error.code);
      throw invalidLink();
    }
    const claims = error.claims;
    requireSameSiteForm(ctx, request, token ?? '');
    if (claims.action === 'link.renew') {
      ctx.linkRefused('wrong-action');
      throw invalidLink();
    }
    const { organization, sendNotification } = ctx;
    if (!organization || !sendNotification) throw mailUnavailable();
    const org = organization();
    const person = org.people.find((p) => p.id === claims.person);
    if (!person) {
      throw new PageError(404, {
        heading: 'We cannot send a new link',
        paragraphs: ['The person this link was sent to is no longer in our directory. Please ask your AIMS manager.'],
      });
    }
    const title = await subjectOf(ctx, claims);

    const jti = claims.jti;
    let sending = inFlight.get(jti);
    if (!sending) {
      const renewed = claims;
      sending = (async () => {
        const fresh = await ctx.links.sign({ wf: renewed.wf, task: renewed.task, action: renewed.action, person: person.id });
        const expiresAt = new Date((await ctx.links.verify(fresh)).exp * 1000).toISOString();
        const mine = await ctx.links.sign({ wf: renewed.wf, action: 'tasks.mine', person: person.id });
        const result = await sendNotification({
          notificationId: `link-renewal/${jti}`,
          kind: 'link.renewed',
          to: [{ name: person.name, email: person.email }],
          data: {
            recipientName: person.name,
            organizationName: org.organization.name,
            title,
            actionUrl: ctx.links.url(linkPaths[renewed.action], fresh),
            myTasksUrl: ctx.links.url(linkPaths['tasks.mine'], mine),
            expiresAt,
          },
        });
        return { result, expiresAt };
      })().finally(() => inFlight.delete(jti));
      inFlight.set(jti, sending);
    }
    let outcome: { result: SendNotificationResult; expiresAt: string };
    try {
      outcome = await sending;
    } catch (err) {
      request.log.warn({ err, notificationId: `link-renewal/${jti}` }, 'renewed link could not be sent');
      throw mailUnavailable();
    }
    request.log.info({ notificationId: `link-renewal/${jti}`, status: outcome.result.status }, 'link renewal');
    const already = outcome.result.status === 'already-sent';
    return sendMessage(
      ctx,
      request,
      reply,
      200,
      {
        heading: 'Check your e-mail',
        paragraphs: [
          already
            ? `We already sent a fresh link for this one to ${personName(ctx, person.id)}. Please look in your inbox (and the spam folder).`
            : `We have sent a fresh link for “${title}” to the e-mail address we have for ${personName(ctx, person.id)}.`,
          ...(already ? [] : [`The new link works until ${timeText(outcome.expiresAt)}.`]),
        ],
      },
      { pageTitle: 'Check your e-mail' },
    );
  };
}
