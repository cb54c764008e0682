/**
 * For route plugins that work through Temporal: without a configured client they answer 503
 * before looking at the request, and a Temporal server that does not answer is a 503 the
 * caller should hear about (a temporary condition), not a 500.
 */
import { ServiceError } from '@temporalio/client';
import type { FastifyError, FastifyInstance } from 'fastify';
import { errorHandler, sendError } from '../errors.js';
import '../deps.js';

export function requireTemporal(app: FastifyInstance, what: string): void {
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof ServiceError) {
      request.log.warn({ err: error }, 'Temporal did not answer');
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
