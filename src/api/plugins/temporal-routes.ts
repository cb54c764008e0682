/**
 * For route plugins that work through Temporal: without a configured client they answer 503
 * before looking at the request, and a Temporal server that does not answer is a 503 the
 * caller should hear about (a temporary condition), not a 500.
 */
import { ServiceError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { FastifyError, FastifyInstance } from 'fastify';
import { errorHandler, errorResponses, errorResponseSchema, HttpError, sendError } from '../errors.js';
import '../deps.js';
import { sendToRunning, WorkflowGateway, type FoundWorkflow, type UpdateOutcome } from '../gateway.js';

/** Seconds a caller is asked to wait when Temporal did not answer. */
const TEMPORAL_RETRY_AFTER_SECONDS = 5;

export function guardTemporalRoutes(app: FastifyInstance, what: string): void {
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof ServiceError) {
      request.log.warn({ err: error }, 'Temporal did not answer');
      reply.header('retry-after', String(TEMPORAL_RETRY_AFTER_SECONDS));
      return sendError(request, reply, 503, 'Temporal is not reachable right now; try again shortly.');
    }
    return errorHandler(error as FastifyError, request, reply);
  });
  app.addHook('onRequest', (request, reply, hookDone) => {
    if (!app.deps.temporal) {
      sendError(request, reply, 503, `Temporal is not configured for this API: ${what} routes are unavailable.`);
      return;
    }
    hookDone();
  });
}

/** Responses every admin route working through Temporal can give besides its own. */
export const temporalRouteResponses = {
  ...errorResponses,
  401: errorResponseSchema.describe('Not signed in, or a missing or wrong API key'),
  403: errorResponseSchema.describe('The principal may not do this; the message names the permission and the principal'),
  503: errorResponseSchema.describe('Temporal is not configured or not reachable'),
} as const;

/** The Temporal client of the API; a 503 when none is configured. */
export function temporalClient(app: FastifyInstance): Client {
  const client = app.deps.temporal;
  if (!client) throw new HttpError(503, 'Temporal is not configured for this API.');
  return client;
}

export type { FoundWorkflow };

/** The workflow `workflowId` of type `type` (or one of the types); a 404 saying `notFound` when there is none (or it is another type). */
export async function findWorkflow(client: Client, workflowId: string, type: string | readonly string[], notFound: string): Promise<FoundWorkflow> {
  const found = await new WorkflowGateway(client).find(workflowId, type);
  if (!found) throw new HttpError(404, notFound);
  return found;
}

/** An update's outcome as the admin API answers it: the result, or a 409 saying why not. */
export function answerUpdate<T>(outcome: UpdateOutcome<T>, what: string, messages: { closed: (status: string) => string; gone: string }): T {
  switch (outcome.kind) {
    case 'ok':
      return outcome.result;
    case 'refused':
      throw new HttpError(409, `Not ${what}: ${outcome.reason}.`);
    case 'closed':
      throw new HttpError(409, `Not ${what}: ${messages.closed(outcome.status)}.`);
    case 'gone':
      throw new HttpError(409, `Not ${what}: ${messages.gone}.`);
  }
}

/**
 * Sends an update to a running workflow. A closed workflow is a 409 (`closed` says so, given
 * its status in lower case), a refusal by the workflow a 409 with its reason, and a workflow
 * that closed in the meantime a 409 saying `gone`.
 */
export async function updateRunning<T>(
  found: FoundWorkflow,
  what: string,
  messages: { closed: (status: string) => string; gone: string },
  send: (handle: WorkflowHandle) => Promise<T>,
): Promise<T> {
  return answerUpdate(await sendToRunning(found, send), what, messages);
}
