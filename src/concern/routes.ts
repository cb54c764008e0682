/**
 * Admin route for reported concerns (Annex A.3.3): triage a concern as the AIMS manager (or
 * the triage task's assignee or delegate) without the e-mailed link. Registered inside the
 * admin scope.
 */
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { personIdSchema } from '../common/schemas.js';
import { triageSchema } from '../forms/index.js';
import { TASK_WORKFLOW, completeTaskUpdate } from '../task/contract.js';
import { errorResponseSchema, HttpError } from '../api/errors.js';
import { WorkflowGateway } from '../api/gateway.js';
import { answerUpdate, guardTemporalRoutes, temporalClient } from '../api/plugins/temporal-routes.js';
import { requirePermission } from '../api/plugins/admin-auth.js';
import { actingPerson, adminSchema } from '../api/plugins/workflow-routes.js';
import { CONCERN_WORKFLOW } from './contract.js';
import '../api/deps.js';

/** Triage rounds looked at for the open one (a merge into an unknown NC asks again). */
const MAX_TRIAGE_ROUNDS = 50;

const concernParamsSchema = z.strictObject({
  year: z.string().regex(/^\d{4}$/, 'must be a year'),
  ref: z.string().regex(/^[a-z0-9]{8}$/, 'must be the 8-character reference after concern/<year>/'),
});

const triageBodySchema = z
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
      const concernId = `concern/${request.params.year}/${request.params.ref}`;
      const gateway = new WorkflowGateway(temporalClient(app));
      const data = request.body.triage;
      const by = actingPerson(request);
      // Triage rounds are `<concern>/triage-1`, `-2`, ...; the open one is the last that runs.
      let open;
      for (let round = 1; round <= MAX_TRIAGE_ROUNDS; round += 1) {
        const task = await gateway.find(`${concernId}/triage-${round}`, TASK_WORKFLOW);
        if (!task) break;
        if (task.running) open = task;
      }
      if (!open) {
        const concern = await gateway.find(concernId, CONCERN_WORKFLOW);
        if (!concern) throw new HttpError(404, `No concern ${concernId}.`);
        throw new HttpError(409, `Not triaged: ${concernId} has no open triage (${concern.description.status.name.toLowerCase()}).`);
      }
      const ack = answerUpdate(await gateway.update(open, completeTaskUpdate, { by, data }), 'triaged', {
        closed: (status) => `the triage task is ${status}`,
        gone: 'the triage task closed in the meantime',
      });
      request.log.info({ concernId, by, decision: data.decision }, 'concern triaged');
      return { concernId, taskId: open.workflowId, ...ack };
    },
  );

  done();
};
