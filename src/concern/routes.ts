/**
 * Admin route for reported concerns (Annex A.3.3): triage a concern as the AIMS manager (or
 * the triage task's assignee or delegate) without the e-mailed link. Registered inside the
 * admin scope.
 */
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { personIdSchema } from '../common/schemas.js';
import { triageSchema } from '../forms/index.js';
import { errorResponseSchema } from '../api/errors.js';
import { WorkflowGateway } from '../api/gateway.js';
import { guardTemporalRoutes, temporalClient } from '../api/plugins/temporal-routes.js';
import { requirePermission } from '../api/plugins/admin-auth.js';
import { actingPerson, adminSchema } from '../api/plugins/workflow-routes.js';
import { concernWorkflowId, triageConcern } from './triage.js';
import '../api/deps.js';

export const concernParamsSchema = z.strictObject({
  year: z.string().regex(/^\d{4}$/, 'must be a year'),
  ref: z.string().regex(/^[a-z0-9]{8}$/, 'must be the 8-character reference after concern/<year>/'),
});

export const triageBodySchema = z
  .strictObject({
    by: personIdSchema.optional().describe('If given, must name whoever is authenticated: the triage is recorded as them'),
    triage: triageSchema,
  })
  .describe('ConcernTriage');

const triageAckSchema = z.object({
  concernId: z.string(),
  taskId: z.string(),
  ok: z.literal(true),
  state: z.string(),
  message: z.string(),
});

export const concernRoutes: FastifyPluginCallbackZod = (app, _options, done) => {
  guardTemporalRoutes(app, 'concern');

  app.post(
    '/concerns/:year/:ref/triage',
    {
      preValidation: requirePermission('concern.triage'),
      schema: adminSchema('nonconformities', {
        summary: 'Triage a reported concern',
        description:
          "Completes the open triage task of `concern/<year>/<ref>` as whoever is authenticated (the task's assignee or delegate, by default the AIMS manager): " +
          'accept raises a nonconformity, reject tells the reporter the note, merge attaches the concern to an open NC.',
        params: concernParamsSchema,
        body: triageBodySchema,
        response: { 200: triageAckSchema, 404: errorResponseSchema, 409: errorResponseSchema },
      }),
    },
    async (request) => {
      const concernId = concernWorkflowId(request.params.year, request.params.ref);
      const data = request.body.triage;
      const by = actingPerson(request);
      const { taskId, ack } = await triageConcern(new WorkflowGateway(temporalClient(app)), concernId, by, data);
      request.log.info({ concernId, by, decision: data.decision }, 'concern triaged');
      return { concernId, taskId, ...ack };
    },
  );

  done();
};
