/**
 * The console's handler wrapper: the link pages' (refusals as pages, Temporal not answering
 * as 503 with Retry-After, anything else a 500 page quoting the request id), rendered in the
 * console's layout.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { pageHandler, type MessageSender, type PageContext } from '../api/pages/common.js';
import { sendConsoleMessage } from './guard.js';

const sendInConsole: MessageSender = (_ctx, request, reply, statusCode, model) =>
  sendConsoleMessage(request, reply, statusCode, { heading: model.heading, paragraphs: model.paragraphs, link: model.link ?? { url: '/console', label: 'Back to the console home' } });

export function consoleHandler(
  ctx: PageContext,
  handler: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>,
): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  return pageHandler(ctx, handler, sendInConsole);
}
