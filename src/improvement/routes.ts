/**
 * Admin routes for improvement items (ISO/IEC 42001 10.1): list them from the evidence ledger
 * (open ones by default), show one, turn one into an action (a task, or a corrective action when
 * it is a nonconformity after all) and dismiss one with a reason.
 *
 * Registered inside the admin scope (API key required). A bad field is a 400 naming it; an
 * unknown item a 404; a closed item, or a person other than the AIMS manager, a 409.
 */
import { ServiceError } from '@temporalio/client';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, errorResponseSchema, HttpError } from '../api/errors.js';
import { adminSecurity, requirePermission } from '../api/plugins/admin-auth.js';
import { temporalClient } from '../api/plugins/temporal-routes.js';
import { StartInputError } from '../temporal/start.js';
import { actionImprovement, dismissImprovement, ImprovementRefusal, type ImprovementDeps } from './actions.js';
import { findImprovementItem, listImprovementItems, type ImprovementItem } from './items.js';
import { improvementActionRequestSchema, improvementDismissRequestSchema, improvementIdSchema } from './schema.js';
import '../api/deps.js';
import { actingPerson } from '../api/plugins/workflow-routes.js';

const states = ['open', 'actioned', 'dismissed', 'closed', 'all'] as const;

const instant = z
  .string()
  .refine((v) => z.iso.date().safeParse(v).success || z.iso.datetime({ offset: true }).safeParse(v).success, 'must be a date (2027-01-31) or an ISO-8601 date-time');

const listQuerySchema = z
  .strictObject({
    state: z.enum(states, { message: `must be one of ${states.join(', ')}` }).optional().describe('Default `open`; `closed` is actioned or dismissed'),
    from: instant.optional().describe('Raised at or after'),
    to: instant.optional().describe('Raised before (a date counts as its whole day); states as they were then'),
  })
  // Compared only once both are valid instants (zod runs an object's refinement after its fields' failed checks).
  .refine((q) => !q.from || !q.to || bound(q.from, 'from') < bound(q.to, 'to'), {
    path: ['from'],
    message: 'must be before to',
    when: (payload) => payload.issues.length === 0,
  });

/** A bound as an instant: a date starts at 00:00 UTC, and a date `to` covers its whole day. */
function bound(v: string, which: 'from' | 'to'): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return new Date(v).toISOString();
  const start = Date.parse(`${v}T00:00:00Z`);
  return new Date(which === 'to' ? start + 86_400_000 : start).toISOString();
}

const params = z.strictObject({ id: improvementIdSchema });

const actionSchema = z.union([
  z.object({ type: z.literal('task'), workflowId: z.string(), title: z.string(), assignee: z.string(), dueAt: z.string() }),
  z.object({ type: z.literal('corrective-action'), workflowId: z.string(), ncId: z.string(), severity: z.string(), owner: z.string(), reason: z.string() }),
]);

const itemSchema = z
  .object({
    improvementId: z.string(),
    state: z.enum(['open', 'actioned', 'dismissed']),
    type: z.enum(['observation', 'opportunity']),
    statement: z.string(),
    evidence: z.string(),
    clauses: z.array(z.string()),
    source: z.string(),
    sourceRef: z.string().describe('The finding that raised it, e.g. A-03-F2'),
    audit: z.object({ year: z.number(), auditId: z.string(), workflowId: z.string(), title: z.string() }).nullable(),
    raisedAt: z.string(),
    raisedBy: z.string(),
    recordId: z.string(),
    closure: z
      .object({ at: z.string(), by: z.string(), recordId: z.string(), action: actionSchema.optional(), note: z.string().nullable().optional(), reason: z.string().optional() })
      .optional(),
  })
  .describe('ImprovementItem');

const responses = {
  ...errorResponses,
  401: errorResponseSchema.describe('Not signed in, or a missing or wrong API key'),
  403: errorResponseSchema.describe('The principal may not do this; the message names the permission and the principal'),
  404: errorResponseSchema.describe('No such improvement item'),
  409: errorResponseSchema.describe('The item is closed, or the person may not act on it'),
  503: errorResponseSchema.describe('Temporal is not configured or not reachable'),
} as const;

export const improvementRoutes: FastifyPluginCallbackZod = (app, _options, done) => {
  const deps = (withTemporal: boolean): ImprovementDeps => ({
    records: app.deps.records,
    organization: app.deps.organization?.(),
    ...(withTemporal ? { temporal: { client: temporalClient(app), taskQueue: app.deps.config.TEMPORAL_TASK_QUEUE } } : {}),
  });

  /** Runs an action on an item, answering its refusals and bad fields as 4xx. */
  const act = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      if (err instanceof ImprovementRefusal) throw new HttpError(err.kind === 'not-found' ? 404 : 409, err.kind === 'not-found' ? err.message : `Not ${what}: ${err.message}.`, { cause: err });
      if (err instanceof StartInputError) throw new HttpError(400, err.message, { issues: err.issues, cause: err });
      if (err instanceof ServiceError) throw new HttpError(503, 'Temporal is not reachable right now; try again shortly.', { cause: err });
      throw err;
    }
  };

  const view = (item: ImprovementItem) => item as unknown as z.input<typeof itemSchema>;

  app.get(
    '/improvements',
    {
      preValidation: requirePermission('improvement.read'),
      schema: {
        tags: ['improvement'],
        summary: 'Improvement items (10.1): open ones by default',
        description:
          'From the evidence ledger: the observations and opportunities for improvement raised by internal audits, oldest first. ' +
          'An item is open until it is turned into an action or dismissed.',
        security: adminSecurity,
        querystring: listQuerySchema,
        response: { 200: z.object({ items: z.array(itemSchema) }), ...responses },
      },
    },
    async (request) => {
      const { state = 'open', from, to } = request.query;
      const items = await listImprovementItems(app.deps.records, { ...(from ? { from: bound(from, 'from') } : {}), ...(to ? { to: bound(to, 'to') } : {}) });
      const wanted = items.filter((i) => state === 'all' || i.state === state || (state === 'closed' && i.state !== 'open'));
      return { items: wanted.map(view) };
    },
  );

  app.get(
    '/improvements/:id',
    {
      preValidation: requirePermission('improvement.read'),
      schema: { tags: ['improvement'], summary: 'One improvement item with its state', security: adminSecurity, params, response: { 200: itemSchema, ...responses } },
    },
    async (request) => {
      const item = await findImprovementItem(app.deps.records, request.params.id);
      if (!item) throw new HttpError(404, `No improvement item ${request.params.id}.`);
      return view(item);
    },
  );

  app.post(
    '/improvements/:id/action',
    {
      preValidation: requirePermission('improvement.triage'),
      schema: {
        tags: ['improvement'],
        summary: 'Turn an improvement item into an action',
        description:
          '`as: task` starts a human task for `assignee`, due `dueAt` (in the future), that outlives the request ' +
          '(`improvement/<id>/action`); `as: corrective-action` raises a nonconformity with a reason when the item is one after all. ' +
          'Only the AIMS manager acts (whoever is authenticated is recorded); the item is then closed (`improvement.actioned`).',
        security: adminSecurity,
        params,
        body: improvementActionRequestSchema,
        response: { 201: z.object({ improvementId: z.string(), state: z.literal('actioned'), action: actionSchema }).describe('ImprovementActioned'), ...responses },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const { action } = await act('actioned', () => actionImprovement(deps(true), id, { ...request.body, by: actingPerson(request) }));
      request.log.info({ improvementId: id, workflowId: action.workflowId }, 'improvement item turned into an action');
      return reply.code(201).send({ improvementId: id, state: 'actioned' as const, action });
    },
  );

  app.post(
    '/improvements/:id/dismiss',
    {
      preValidation: requirePermission('improvement.triage'),
      schema: {
        tags: ['improvement'],
        summary: 'Dismiss an improvement item with a reason',
        security: adminSecurity,
        params,
        body: improvementDismissRequestSchema,
        response: { 200: z.object({ improvementId: z.string(), state: z.literal('dismissed') }).describe('ImprovementDismissed'), ...responses },
      },
    },
    async (request) => {
      const { id } = request.params;
      await act('dismissed', () => dismissImprovement(deps(false), id, { ...request.body, by: actingPerson(request) }));
      return { improvementId: id, state: 'dismissed' as const };
    },
  );

  done();
};
