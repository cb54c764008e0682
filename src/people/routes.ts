/**
 * Admin routes for people changing (5.3, 7.2):
 * - `GET /admin/people/:id/work`: the running work a person holds (owns or must act on);
 * - `POST /admin/people/:id/handover`: hands all of it to someone else, on purpose, before they
 *   leave (each workflow moves its part by its own rules and records it);
 * - `POST /admin/organization/reload`: puts the organization file into force after checking it
 *   against the running work; a file that leaves a needed role vacant is refused and the
 *   version in force stays.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { personIdSchema } from '../common/schemas.js';
import { errorResponseSchema, HttpError } from '../api/errors.js';
import { guardTemporalRoutes, temporalClient } from '../api/plugins/temporal-routes.js';
import { requirePermission } from '../api/plugins/admin-auth.js';
import { actingPerson, adminSchema } from '../api/plugins/workflow-routes.js';
import { loadOrganization, OrganizationFileError } from '../organization/load.js';
import { applyOrganization, startOrganizationChange } from './change.js';
import { personWork } from './work.js';
import '../api/deps.js';

const TAG = 'people';
const personParams = z.strictObject({ id: personIdSchema });

const workItemSchema = z.object({
  workflowId: z.string(),
  type: z.string(),
  process: z.string().optional(),
  ref: z.string().optional(),
  aiSystem: z.string().optional(),
  title: z.string(),
  state: z.string().optional(),
  dueAt: z.string().optional(),
  parts: z.array(z.enum(['owner', 'assignee', 'role'])),
});

const handoverBody = z
  .strictObject({
    to: personIdSchema.describe('Who takes over (each workflow may name someone else where its own rules say so)'),
    reason: z.string().trim().min(1, 'a reason is required').max(2000),
    by: personIdSchema.optional().describe('If given, must name whoever is authenticated: the handover is recorded as them'),
  })
  .describe('PersonHandover');

const reloadBody = z
  .strictObject({
    reason: z.string().trim().min(1).max(2000).optional(),
    by: personIdSchema.optional().describe('If given, must name whoever is authenticated: the reload is recorded as them'),
  })
  .describe('OrganizationReload');

export const peopleRoutes: FastifyPluginCallbackZod = (app, _options, done) => {
  guardTemporalRoutes(app, 'people');
  const taskQueue = app.deps.config.TEMPORAL_TASK_QUEUE;
  const organization = () => {
    const org = app.deps.organization?.();
    if (!org) throw new HttpError(503, 'The organization is not loaded in this API.');
    return org;
  };

  app.get(
    '/people/:id/work',
    {
      preValidation: requirePermission('people.read'),
      schema: adminSchema(TAG, {
        summary: "A person's running work: what they own and what waits for them",
        params: personParams,
        response: { 200: z.object({ personId: z.string(), inOrganization: z.boolean(), items: z.array(workItemSchema) }).describe('PersonWork') },
      }),
    },
    async (request) => ({
      personId: request.params.id,
      inOrganization: organization().people.some((p) => p.id === request.params.id),
      items: await personWork(temporalClient(app), taskQueue, request.params.id),
    }),
  );

  app.post(
    '/people/:id/handover',
    {
      preValidation: requirePermission('people.handover'),
      schema: adminSchema(TAG, {
        summary: "Hand over all of a person's running work",
        description:
          'Starts an organization change that sends every workflow the person holds a part in a handover to `to`: tasks and ' +
          'approvals waiting for them, nonconformities and AI systems they own, audits they lead. A task assigned by role goes ' +
          "to the role's holder; where `to` would break separation of duties, top management. Each handover is recorded, and " +
          'the AIMS manager gets a summary of what moved and what could not.',
        params: personParams,
        body: handoverBody,
        response: {
          202: z
            .object({ personId: z.string(), to: z.string(), workflowId: z.string(), items: z.array(workItemSchema.extend({ to: z.string() })) })
            .describe('HandoverStarted'),
          400: errorResponseSchema,
        },
      }),
    },
    async (request, reply) => {
      const from = request.params.id;
      const { to, reason } = request.body;
      const org = organization();
      if (to === from) throw new HttpError(400, 'to: must be someone else than the person handing over', { issues: [{ path: 'to', message: 'must be someone else' }] });
      if (!org.people.some((p) => p.id === to)) throw new HttpError(400, `to: unknown person "${to}"`, { issues: [{ path: 'to', message: `unknown person "${to}"` }] });
      const by = actingPerson(request);
      const client = temporalClient(app);
      const items = await personWork(client, taskQueue, from);
      const workflowId = await startOrganizationChange(
        { client, taskQueue },
        { ref: `handover-${from}-${randomUUID().slice(0, 8)}`, by, reason: `${from} hands over to ${to}: ${reason}`, moves: [{ from, to, reason }] },
      );
      request.log.info({ from, to, by, items: items.length, workflowId }, 'handover started');
      return reply.code(202).send({ personId: from, to, workflowId, items: items.map((item) => ({ ...item, to })) });
    },
  );

  app.post(
    '/organization/reload',
    {
      preValidation: requirePermission('organization.reload'),
      schema: adminSchema(TAG, {
        summary: 'Put the organization file into force',
        description:
          'Reads the organization file (ORG_FILE) and checks it against the running work. A file that leaves a role with nobody ' +
          'in it while running work needs that role is refused (409, naming the role and the work); an invalid file is refused ' +
          '(400, naming each problem). Either way the version in force stays. Otherwise every process takes the new version ' +
          'within seconds, and the running work of people who left, or whose AI system changed hands, is handed over.',
        body: reloadBody,
        response: {
          200: z
            .object({
              status: z.enum(['unchanged', 'accepted']),
              version: z.number().int(),
              leavers: z.array(z.string()),
              changeWorkflowId: z.string().optional(),
            })
            .describe('OrganizationReloaded'),
          400: errorResponseSchema,
          409: errorResponseSchema,
        },
      }),
    },
    async (request) => {
      let org;
      try {
        org = await loadOrganization(app.deps.config.ORG_FILE);
      } catch (err) {
        if (!(err instanceof OrganizationFileError)) throw err;
        throw new HttpError(400, `${err.message.split('\n')[0]} ${err.problems.join('; ')}`, {
          issues: err.problems.map((p) => ({ path: p.split(':')[0] ?? '(file)', message: p.slice(p.indexOf(':') + 1).trim() })),
        });
      }
      const by = actingPerson(request);
      const outcome = await applyOrganization({ client: temporalClient(app), taskQueue, records: app.deps.records }, org, {
        by,
        reason: request.body.reason ?? 'reloaded through the admin API',
      });
      if (outcome.status === 'refused') throw new HttpError(409, `The organization file was not put into force: ${outcome.message}. The version in force stays.`);
      request.log.info({ ...outcome, by }, 'organization file reloaded');
      return outcome.status === 'unchanged' ? { status: outcome.status, version: outcome.version, leavers: [] } : outcome;
    },
  );

  done();
};
