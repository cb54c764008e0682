/**
 * Who may open a console page or send one of its forms. The console is for people who signed
 * in (the session hook sets `request.principal`); an API key in `Authorization` is accepted as
 * on the admin API. The permission module decides, as for every admin route:
 *
 * - nobody signed in: a page is sent on to `/login?returnTo=<the page>`; a form gets 401;
 * - signed in without the permission: 403, a page naming who they are, the roles they hold
 *   and what the page needs, and who to ask;
 * - a form (POST) must also carry its CSRF field and come from this site (./csrf.ts): 403 page
 *   otherwise.
 *
 * GET handlers never change anything (mail scanners and prefetchers follow links).
 */
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { permits, type Permission } from '../auth/permissions.js';
import { refusal, rolesOf } from '../api/plugins/admin-auth.js';
import { consoleCsrfRefusal } from './csrf.js';
import { consoleView, organizationOf, sendConsole } from './render.js';
import { CONSOLE_MESSAGE } from './templates.js';
import { aimsManagerName } from '../organization/schema.js';
import '../api/deps.js';

const message = consoleView(CONSOLE_MESSAGE);


export interface ConsoleMessage {
  heading: string;
  paragraphs: string[];
  link?: { url: string; label: string } | undefined;
}

/** Answers with the console's message page. */
export function sendConsoleMessage(request: FastifyRequest, reply: FastifyReply, status: number, model: ConsoleMessage): FastifyReply {
  return sendConsole(request, reply, message, model, { title: model.heading, status });
}

function authenticateKey(request: FastifyRequest): void {
  if (request.principal) return;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(request.headers.authorization ?? '');
  const principal = match?.[1] ? request.server.adminKeys.principal(match[1]) : undefined;
  if (principal) request.principal = principal;
}

function refuse(request: FastifyRequest, reply: FastifyReply, permission: Permission): FastifyReply {
  const principal = request.principal;
  if (!principal) throw new Error('refuse() needs a principal');
  const why = refusal(principal, rolesOf(request), permission);
  request.log.info({ permission }, 'console page refused: missing permission');
  return sendConsoleMessage(request, reply, 403, {
    heading: 'This page is not open to you',
    paragraphs: [`You are signed in, but ${why}.`, `If your work needs it, ask ${aimsManagerName(organizationOf(request))} to give you a role that may.`],
    link: { url: '/console', label: 'Back to the console home' },
  });
}

/** Route options of a console page that needs `permission` (`null`: any signed-in person). */
export function consoleGet(permission: Permission | null): { preHandler: preHandlerAsyncHookHandler; schema: { hide: true } } {
  return {
    schema: { hide: true },
    preHandler: async function consolePageGuard(request, reply) {
      authenticateKey(request);
      if (!request.principal) {
        const returnTo = request.url.length <= 2048 ? request.url : '/console';
        return reply.header('cache-control', 'no-store').redirect(`/login?returnTo=${encodeURIComponent(returnTo)}`, 303);
      }
      if (permission && !permits(rolesOf(request), permission)) return refuse(request, reply, permission);
      return undefined;
    },
  };
}

/** Route options of a console form that needs `permission`: signed in, permitted, CSRF field and same site. */
export function consolePost(permission: Permission | null): { preHandler: preHandlerAsyncHookHandler; schema: { hide: true } } {
  return {
    schema: { hide: true },
    preHandler: async function consoleFormGuard(request, reply) {
      authenticateKey(request);
      if (!request.principal) {
        return sendConsoleMessage(request, reply.header('www-authenticate', 'Bearer realm="aimsflow admin"'), 401, {
          heading: 'You are not signed in',
          paragraphs: ['Sign in, then send the form again from its page (your session may have ended).'],
          link: { url: '/login?returnTo=%2Fconsole', label: 'Sign in' },
        });
      }
      if (permission && !permits(rolesOf(request), permission)) return refuse(request, reply, permission);
      const csrf = consoleCsrfRefusal(request);
      if (csrf) {
        request.log.warn({ reason: csrf }, 'console form refused: CSRF');
        return sendConsoleMessage(request, reply, 403, { heading: 'The form was not accepted', paragraphs: [csrf], link: { url: '/console', label: 'Back to the console home' } });
      }
      return undefined;
    },
  };
}
