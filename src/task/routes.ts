/**
 * Admin routes for ad-hoc work: start a standalone human task or approval, list open tasks
 * and approvals from Temporal visibility (filters: owner, process, kind, state, overdue),
 * get one with its live status and history, and cancel one with a reason.
 *
 * Registered inside the admin scope (API key required). Every route needs the Temporal
 * client; without one they answer 503.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { approvalInputSchema, type ApprovalStatus } from '../approval/schema.js';
import { humanTaskInputSchema, type TaskStatus } from './schema.js';
import { actorSchema, personIdSchema, processSchema } from '../common/schemas.js';
import { cancelUpdate } from '../common/messages.js';
import { APPROVAL_WORKFLOW, approvalStatusQuery } from '../approval/contract.js';
import { TASK_WORKFLOW, taskStatusQuery } from './contract.js';
import { DEFAULT_WORK_LIMIT, listWork, MAX_WORK_LIMIT, type WorkKind } from './work.js';
import { startApproval } from '../approval/start.js';
import { startHumanTask } from './start.js';
import { errorResponseSchema, HttpError } from '../api/errors.js';
import type { FoundWorkflow } from '../api/gateway.js';
import { booleanParam, limitParam } from '../api/query-params.js';
import { guardTemporalRoutes, temporalClient } from '../api/plugins/temporal-routes.js';
import { requirePermission } from '../api/plugins/admin-auth.js';
import { actingPerson, startRefused, workflowRoutes } from '../api/plugins/workflow-routes.js';
import '../api/deps.js';

// Schemas

const stateSchema = z
  .string()
  .regex(/^[a-z][a-z-]{1,31}$/, 'must be a state such as open, overdue or pending');

const listQuerySchema = z.strictObject({
  owner: personIdSchema.optional().describe('Person id: the owner or a current assignee'),
  process: processSchema.optional().describe('Process key, e.g. `corrective-action`'),
  kind: z.enum(['task', 'approval'], { message: 'must be task or approval' }).optional(),
  state: stateSchema
    .optional()
    .describe('`open`, `overdue` (tasks) or `pending`, `overdue` (approvals); `failed` lists the workflows of every type that failed, for operations'),
  overdue: booleanParam('`true`: the due date has passed'),
  limit: limitParam(MAX_WORK_LIMIT, DEFAULT_WORK_LIMIT),
});

const workItemSchema = z
  .object({
    id: z.string().describe('Workflow id'),
    kind: z.enum(['task', 'approval', 'other']),
    type: z.string().describe('The workflow type'),
    title: z.string(),
    state: z.string(),
    process: z.string().optional(),
    owner: z.string().optional().describe("A task's assignee; an approval's preparer"),
    assignees: z.array(z.string()).describe('Who must act now'),
    dueAt: z.string().optional(),
    overdue: z.boolean(),
    clauses: z.array(z.string()),
    startedAt: z.string(),
  })
  .describe('WorkItem');

const startedSchema = z
  .object({
    workflowId: z.string(),
    runId: z.string(),
    links: z.object({
      status: z.string().describe('GET: status and history'),
      cancel: z.string().describe('POST: cancel with a reason'),
    }),
  })
  .describe('Started');

const idParamsSchema = z.object({
  id: z.string().min(1, 'is required').max(400, 'must be at most 400 characters').describe('Workflow id, URL-encoded (ids contain slashes)'),
});

const detailSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['task', 'approval']),
    runId: z.string(),
    executionStatus: z.string().describe('Temporal execution status, e.g. RUNNING, COMPLETED'),
    startedAt: z.string(),
    closedAt: z.string().optional(),
    status: z
      .looseObject({ state: z.string(), title: z.string(), dueAt: z.string(), history: z.array(z.unknown()) })
      .describe('The live status query result (TaskStatus or ApprovalStatus), with the full event history'),
  })
  .describe('WorkDetail');

const cancelBodySchema = z.strictObject({
  reason: z.string().trim().min(1, 'a reason is required').max(2000),
  by: actorSchema.optional().describe('If given, must name whoever is authenticated: the cancel is recorded as them'),
});

const ackSchema = z.object({ id: z.string(), ok: z.literal(true), state: z.string(), message: z.string() });

const kindOf = (workflow: FoundWorkflow): WorkKind => (workflow.description.type === TASK_WORKFLOW ? 'task' : 'approval');

const startError = (err: unknown) => startRefused(err, (workflowId) => `A workflow with id ${workflowId} is already running.`);

export const workRoutes: FastifyPluginCallbackZod = (app, _options, done) => {
  const temporal = (): Client => temporalClient(app);
  const taskQueue = app.deps.config.TEMPORAL_TASK_QUEUE;
  const organization = () => app.deps.organization?.();
  const base = app.deps.config.PUBLIC_BASE_URL;
  const linksFor = (id: string) => {
    const self = `${base}/admin/work/${encodeURIComponent(id)}`;
    return { status: self, cancel: `${self}/cancel` };
  };

  guardTemporalRoutes(app, 'task and approval');

  const work = workflowRoutes(app, {
    tag: 'work',
    read: 'tasks.read',
    type: [TASK_WORKFLOW, APPROVAL_WORKFLOW],
    params: idParamsSchema,
    key: 'id',
    workflowId: (id) => id,
    query: (workflow): QueryDefinition<TaskStatus | ApprovalStatus> => (kindOf(workflow) === 'task' ? taskStatusQuery : approvalStatusQuery),
    ack: ackSchema,
    notFound: (id) => `No task or approval with id ${id}.`,
    closed: (_params, status) => `it is already closed (${status})`,
    gone: () => 'it closed in the meantime',
  });

  const startOptions = () => {
    const org = organization();
    return { ...(org ? { organization: org } : {}), publicBaseUrl: app.deps.config.PUBLIC_BASE_URL };
  };
  /** The answer to a started task or approval (`what`). */
  const started = (request: FastifyRequest, reply: FastifyReply, what: string, handle: WorkflowHandle & { firstExecutionRunId: string }) => {
    request.log.info({ workflowId: handle.workflowId }, `${what} started`);
    return reply.code(201).send({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId, links: linksFor(handle.workflowId) });
  };
  const startedResponses = { 201: startedSchema, 409: errorResponseSchema };

  app.post(
    '/tasks',
    {
      preValidation: requirePermission('tasks.start'),
      schema: work.schema({
        summary: 'Start a standalone human task',
        description:
          'Ad-hoc AIMS work: the assignee (a person or a role) gets an e-mail with a signed link. The id is `task/adhoc/<year>/<random>`.',
        body: humanTaskInputSchema,
        response: startedResponses,
      }),
    },
    async (request, reply) => started(request, reply, 'task', await startHumanTask(temporal(), taskQueue, { ...request.body, requestedBy: actingPerson(request) }, startOptions()).catch(startError)),
  );

  app.post(
    '/approvals',
    {
      preValidation: requirePermission('tasks.start'),
      schema: work.schema({
        summary: 'Start a standalone approval',
        description: 'The approvers get an e-mail with a signed link to the approval page. The id is `approval/adhoc/<year>/<random>`.',
        body: approvalInputSchema,
        response: startedResponses,
      }),
    },
    async (request, reply) => started(request, reply, 'approval', await startApproval(temporal(), taskQueue, request.body, startOptions()).catch(startError)),
  );

  work.list('/work', {
    summary: 'List open tasks and approvals',
    description: 'From Temporal visibility (eventually consistent: new work shows within seconds), overdue first, then by due date.',
    querystring: listQuerySchema,
    item: workItemSchema,
    list: listWork,
  });

  work.detail('/work/:id', {
    summary: 'One task or approval with its live status and history',
    response: detailSchema,
    more: (_params, workflow) => ({ kind: kindOf(workflow) }),
  });

  work.update('/work/:id/cancel', {
    summary: 'Cancel a task or approval with a reason',
    description:
      'Closes it as cancelled; the people involved are told. Recorded as whoever is authenticated; the workflow checks who may cancel (the AIMS manager, or the assignee\'s manager).',
    permission: 'tasks.cancel',
    body: cancelBodySchema,
    update: cancelUpdate,
    arg: ({ body, by, workflow }) => {
      // Work items have always said this one in their own words (the others: `Not cancelled: ...`).
      if (!workflow.running) throw new HttpError(409, `It is already closed (${workflow.description.status.name.toLowerCase()}).`);
      return { by, reason: body.reason };
    },
    what: 'cancelled',
    log: { message: 'work cancelled', fields: ({ params, by }) => ({ workflowId: params.id, by }) },
  });

  done();
};
