/**
 * Admin routes for nonconformities (ISO/IEC 42001 10.2): raise one (its NC id allocated from
 * the records store, once per `Idempotency-Key`), list and filter them from Temporal
 * visibility, get one with its whole timeline, post an update and cancel one with a reason,
 * and the aggregate for management review.
 *
 * Registered inside the admin scope (API key required). Every route needs the Temporal
 * client; without one they answer 503.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { allocateNcId } from './nc-id.js';
import { correctiveActionInputSchema, ncIdSchema, ncSources, openNcStates, severities } from './schema.js';
import { CORRECTIVE_ACTION_WORKFLOW, correctiveActionWorkflowId } from './contract.js';
import { actorSchema, personIdSchema } from '../common/schemas.js';
import { summarizeNonconformities, summaryPeriod } from './summary.js';
import { DEFAULT_NC_LIMIT, listNonconformities, MAX_NC_LIMIT } from './visibility.js';
import { cancelUpdate, commentUpdate } from '../common/messages.js';
import { ncStatusQuery } from './contract.js';
import { checkNonconformityPeople, startCorrectiveAction } from './start.js';
import { errorResponseSchema } from '../api/errors.js';
import { booleanParam, limitParam, periodParams } from '../api/query-params.js';
import { guardTemporalRoutes, temporalClient } from '../api/plugins/temporal-routes.js';
import { requirePermission } from '../api/plugins/admin-auth.js';
import { actingPerson, startRefused, workflowRoutes } from '../api/plugins/workflow-routes.js';
import '../api/deps.js';

const ncStates = [...openNcStates, 'closed', 'cancelled'] as const;

// Schemas

const raiseBodySchema = z.strictObject(correctiveActionInputSchema.omit({ ncId: true }).shape).describe('RaiseNonconformity');

const raiseHeadersSchema = z.looseObject({
  'idempotency-key': z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters')
    .optional()
    .describe('The same key always raises (or finds again) the same NC'),
});

const raisedSchema = z
  .object({
    ncId: z.string(),
    workflowId: z.string(),
    created: z.boolean().describe('false: this Idempotency-Key raised the NC before'),
    links: z.object({
      status: z.string().describe('GET: status and timeline'),
      comments: z.string().describe('POST: post an update'),
      cancel: z.string().describe('POST: cancel with a reason'),
    }),
  })
  .describe('NonconformityRaised');

export const listQuerySchema = z.strictObject({
  state: z.enum(ncStates, { message: `must be one of ${ncStates.join(', ')}` }).optional(),
  severity: z.enum(severities, { message: 'must be "major" or "minor"' }).optional(),
  source: z.enum(ncSources, { message: `must be one of ${ncSources.join(', ')}` }).optional(),
  owner: personIdSchema.optional().describe("Person id of the NC's owner"),
  overdue: booleanParam('`true`: open past its overall target'),
  limit: limitParam(MAX_NC_LIMIT, DEFAULT_NC_LIMIT),
});

const listItemSchema = z
  .object({
    ncId: z.string(),
    workflowId: z.string(),
    title: z.string(),
    severity: z.string().optional(),
    source: z.string().optional(),
    state: z.string().describe('The step the NC is in, or closed / cancelled'),
    owner: z.string().optional(),
    aiSystem: z.string().optional(),
    clauses: z.array(z.string()),
    targetAt: z.string().optional().describe('The overall target date'),
    overdue: z.boolean(),
    executionStatus: z.string(),
    startedAt: z.string(),
    closedAt: z.string().optional(),
  })
  .describe('NonconformityListItem');

const ncParamsSchema = z.object({ ncId: ncIdSchema });

const detailSchema = z
  .object({
    ncId: z.string(),
    workflowId: z.string(),
    runId: z.string(),
    executionStatus: z.string().describe('Temporal execution status, e.g. RUNNING, COMPLETED'),
    startedAt: z.string(),
    closedAt: z.string().optional(),
    status: z
      .looseObject({
        state: z.string(),
        notEffectiveCount: z.number().describe('How often an effectiveness review found the actions not effective'),
        timeline: z.array(z.unknown()),
      })
      .describe('The ncStatus query result: every step, result and the whole timeline'),
  })
  .describe('NonconformityDetail');

export const commentBodySchema = z.strictObject({
  text: z.string().trim().min(1, 'is required').max(5000, 'must be at most 5000 characters'),
  by: actorSchema.optional().describe('If given, must name whoever is authenticated: the update is recorded as them'),
});

export const cancelBodySchema = z.strictObject({
  reason: z.string().trim().min(1, 'a reason is required').max(2000, 'must be at most 2000 characters'),
  by: actorSchema.optional().describe('If given, must name whoever is authenticated: the cancel is recorded as them'),
});

const ackSchema = z.object({ ncId: z.string(), ok: z.literal(true), state: z.string(), message: z.string() });

const summaryQuerySchema = z
  .strictObject(periodParams)
  .refine((q) => !q.from || !q.to || periodOrNull(q) !== null, { path: ['from'], message: 'must be before to' });

/** The period, or null when `from` is not before `to`. */
function periodOrNull(query: { from?: string | undefined; to?: string | undefined }) {
  try {
    return summaryPeriod(query);
  } catch (err) {
    if (err instanceof RangeError) return null;
    throw err;
  }
}

const unavailableSchema = z.object({ available: z.literal(false), reason: z.string() });

const summarySchema = z
  .object({
    period: z.object({ from: z.string(), to: z.string() }),
    visibility: z.union([
      z.object({
        available: z.literal(true),
        total: z.number(),
        open: z.number(),
        byState: z.record(z.string(), z.number()),
        bySeverity: z.record(z.string(), z.number()),
        overdue: z.number(),
        raisedInPeriod: z.number(),
      }),
      unavailableSchema,
    ]),
    ledger: z.union([
      z.object({
        available: z.literal(true),
        closedInPeriod: z.number(),
        averageDaysToClose: z.number().nullable().describe('null when nothing closed in the period'),
        effectiveness: z.object({ effective: z.number(), notEffective: z.number() }),
      }),
      unavailableSchema,
    ]),
  })
  .describe('NonconformitySummary');

export const nonconformityRoutes: FastifyPluginCallbackZod = (app, _options, done) => {
  const temporal = (): Client => temporalClient(app);
  const taskQueue = app.deps.config.TEMPORAL_TASK_QUEUE;
  const base = app.deps.config.PUBLIC_BASE_URL;
  const linksFor = (ncId: string) => {
    const self = `${base}/admin/nonconformities/${ncId}`;
    return { status: self, comments: `${self}/comments`, cancel: `${self}/cancel` };
  };

  guardTemporalRoutes(app, 'nonconformity');

  const nc = workflowRoutes(app, {
    tag: 'nonconformities',
    read: 'corrective-action.read',
    type: CORRECTIVE_ACTION_WORKFLOW,
    params: ncParamsSchema,
    key: 'ncId',
    workflowId: correctiveActionWorkflowId,
    query: ncStatusQuery,
    ack: ackSchema,
    notFound: (ncId) => `No nonconformity ${ncId}.`,
    closed: (ncId, status) => `${ncId} is already closed (${status})`,
    gone: (ncId) => `${ncId} closed in the meantime`,
  });

  app.post(
    '/nonconformities',
    {
      preValidation: requirePermission('corrective-action.raise'),
      schema: nc.schema({
        summary: 'Raise a nonconformity',
        description:
          'Starts its corrective action (`corrective-action/NC-<year>-<nnn>`): the owner gets the containment task by e-mail. ' +
          'Send an `Idempotency-Key` header to make retries safe: the same key always gets the same NC.',
        headers: raiseHeadersSchema,
        body: raiseBodySchema,
        response: { 200: raisedSchema, 201: raisedSchema, 409: errorResponseSchema },
      }),
    },
    async (request, reply) => {
      const client = temporal();
      // Raised by whoever is authenticated (a body naming someone else was refused before).
      const input = { ...request.body, raisedBy: actingPerson(request) };
      const org = app.deps.organization?.();
      try {
        if (org) checkNonconformityPeople(org, input);
      } catch (err) {
        startRefused(err);
      }
      const year = new Date(input.raisedAt ?? Date.now()).getUTCFullYear();
      const key = `api:${request.headers['idempotency-key'] ?? randomUUID()}`;
      const ncId = await allocateNcId(app.deps.records, year, key);
      const workflowId = correctiveActionWorkflowId(ncId);
      try {
        await startCorrectiveAction(client, taskQueue, { ...input, ncId }, { ...(org ? { organization: org } : {}), publicBaseUrl: base });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          // This key raised the NC before (a retried request): answer with it again.
          return reply.code(200).send({ ncId, workflowId, created: false, links: linksFor(ncId) });
        }
        startRefused(err);
      }
      request.log.info({ workflowId, ncId }, 'nonconformity raised');
      return reply.code(201).send({ ncId, workflowId, created: true, links: linksFor(ncId) });
    },
  );

  nc.list('/nonconformities', {
    summary: 'List nonconformities',
    description: 'From Temporal visibility (eventually consistent: a new NC shows within seconds), open and closed.',
    querystring: listQuerySchema,
    item: listItemSchema,
    list: listNonconformities,
  });

  app.get(
    '/nonconformities/summary',
    {
      preValidation: requirePermission('corrective-action.read'),
      schema: nc.schema({
        summary: 'Nonconformities and corrective actions for management review (9.3.2 d)',
        description:
          'Counts by state and severity and the overdue count (Temporal visibility); closures, average days to close and ' +
          'effectiveness results in the period (the evidence ledger). A source that cannot be read is reported as ' +
          '`{ available: false, reason }`, never as zero.',
        querystring: summaryQuerySchema,
        response: { 200: summarySchema },
      }),
    },
    async (request) => summarizeNonconformities({ client: temporal(), taskQueue, records: app.deps.records }, summaryPeriod(request.query)),
  );

  nc.detail('/nonconformities/:ncId', { summary: 'One nonconformity with its whole timeline', response: detailSchema });

  nc.update('/nonconformities/:ncId/comments', {
    summary: 'Post an update on a nonconformity',
    description: 'Goes to its timeline and the ledger, as whoever is authenticated: the owner or the AIMS manager.',
    permission: 'corrective-action.comment',
    body: commentBodySchema,
    update: commentUpdate,
    arg: ({ body, by }) => ({ by, text: body.text }),
    what: 'posted',
    log: { message: 'nonconformity update posted' },
  });

  nc.update('/nonconformities/:ncId/cancel', {
    summary: 'Cancel a nonconformity with a reason',
    description:
      'A minor NC from any source but the certification body is cancelled at once: its running step stops and the reason goes to the ledger. ' +
      'A major NC, or one from `certification-audit`, needs top management’s approval: the request starts an approval ' +
      '(`.../cancel-approval-<n>`) and the NC is cancelled only once it is approved. Requested by whoever is authenticated: the AIMS manager.',
    permission: 'corrective-action.cancel',
    body: cancelBodySchema,
    update: cancelUpdate,
    arg: ({ body, by }) => ({ by, reason: body.reason }),
    what: 'cancelled',
    log: { message: 'nonconformity cancelled' },
  });

  done();
};
