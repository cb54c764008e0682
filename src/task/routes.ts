/**
 * Admin routes for ad-hoc work: start a standalone human task or approval, list open tasks
 * and approvals from Temporal visibility (filters: owner, process, kind, state, overdue),
 * get one with its live status and history, and cancel one with a reason.
 *
 * Registered inside the admin scope (API key required). Every route needs the Temporal
 * client; without one they answer 503.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { approvalInputSchema } from '../approval/schema.js';
import { humanTaskInputSchema } from './schema.js';
import { actorSchema, personIdSchema, processSchema } from '../common/schemas.js';
import { cancelUpdate } from '../common/messages.js';
import { approvalStatusQuery } from '../approval/contract.js';
import { taskStatusQuery } from './contract.js';
import { executionFacts } from '../temporal/visibility.js';
import { StartInputError } from '../temporal/start.js';
import { APPROVAL_WORKFLOW } from '../approval/contract.js';
import { TASK_WORKFLOW } from './contract.js';
import { DEFAULT_WORK_LIMIT, listWork, MAX_WORK_LIMIT, type WorkKind } from './work.js';
import { startApproval } from '../approval/start.js';
import { startHumanTask } from './start.js';
import { errorResponses, errorResponseSchema, HttpError } from '../api/errors.js';
import { adminSecurity } from '../api/plugins/admin-auth.js';
import { booleanParam, limitParam } from '../api/query-params.js';
import { guardTemporalRoutes } from '../api/plugins/temporal-routes.js';
import '../api/deps.js';

// Schemas

const stateSchema = z
  .string()
  .regex(/^[a-z][a-z-]{1,31}$/, 'must be a state such as open, overdue or pending');

const listQuerySchema = z.strictObject({
  owner: personIdSchema.optional().describe('Person id: the owner or a current assignee'),
  process: processSchema.optional().describe('Process key, e.g. `corrective-action`'),
  kind: z.enum(['task', 'approval'], { message: 'must be task or approval' }).optional(),
  state: stateSchema.optional().describe('`open`, `overdue` (tasks) or `pending`, `overdue` (approvals)'),
  overdue: booleanParam('`true`: the due date has passed'),
  limit: limitParam(MAX_WORK_LIMIT, DEFAULT_WORK_LIMIT),
});

const workItemSchema = z
  .object({
    id: z.string().describe('Workflow id'),
    kind: z.enum(['task', 'approval']),
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
  by: actorSchema.optional().describe("The AIMS manager's person id; default `system`"),
});

const ackSchema = z.object({ id: z.string(), ok: z.literal(true), state: z.string(), message: z.string() });

const authResponses = {
  ...errorResponses,
  401: errorResponseSchema.describe('Missing or wrong API key'),
  503: errorResponseSchema.describe('Temporal is not configured or not reachable'),
} as const;

function kindOfType(type: string): WorkKind | undefined {
  return type === TASK_WORKFLOW ? 'task' : type === APPROVAL_WORKFLOW ? 'approval' : undefined;
}

function startError(err: unknown): never {
  if (err instanceof StartInputError) {
    throw new HttpError(400, err.message, { issues: err.issues, cause: err });
  }
  if (err instanceof WorkflowExecutionAlreadyStartedError) {
    throw new HttpError(409, `A workflow with id ${err.workflowId} is already running.`, { cause: err });
  }
  throw err;
}

export const workRoutes: FastifyPluginCallbackZod = (app, _options, done) => {
  const temporal = (): Client => {
    const client = app.deps.temporal;
    if (!client) throw new HttpError(503, 'Temporal is not configured for this API.');
    return client;
  };
  const taskQueue = app.deps.config.TEMPORAL_TASK_QUEUE;
  const organization = () => app.deps.organization?.();
  const base = app.deps.config.PUBLIC_BASE_URL;
  const linksFor = (id: string) => {
    const self = `${base}/admin/work/${encodeURIComponent(id)}`;
    return { status: self, cancel: `${self}/cancel` };
  };

  guardTemporalRoutes(app, 'task and approval');

  app.post(
    '/tasks',
    {
      schema: {
        tags: ['work'],
        summary: 'Start a standalone human task',
        description:
          'Ad-hoc AIMS work: the assignee (a person or a role) gets an e-mail with a signed link. The id is `task/adhoc/<year>/<random>`.',
        security: adminSecurity,
        body: humanTaskInputSchema,
        response: { 201: startedSchema, 409: errorResponseSchema, ...authResponses },
      },
    },
    async (request, reply) => {
      const org = organization();
      const handle = await startHumanTask(temporal(), taskQueue, request.body, org ? { organization: org } : {}).catch(startError);
      request.log.info({ workflowId: handle.workflowId }, 'task started');
      return reply
        .code(201)
        .send({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId, links: linksFor(handle.workflowId) });
    },
  );

  app.post(
    '/approvals',
    {
      schema: {
        tags: ['work'],
        summary: 'Start a standalone approval',
        description:
          'The approvers get an e-mail with a signed link to the approval page. The id is `approval/adhoc/<year>/<random>`.',
        security: adminSecurity,
        body: approvalInputSchema,
        response: { 201: startedSchema, 409: errorResponseSchema, ...authResponses },
      },
    },
    async (request, reply) => {
      const org = organization();
      const handle = await startApproval(temporal(), taskQueue, request.body, org ? { organization: org } : {}).catch(startError);
      request.log.info({ workflowId: handle.workflowId }, 'approval started');
      return reply
        .code(201)
        .send({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId, links: linksFor(handle.workflowId) });
    },
  );

  app.get(
    '/work',
    {
      schema: {
        tags: ['work'],
        summary: 'List open tasks and approvals',
        description: 'From Temporal visibility (eventually consistent: new work shows within seconds), overdue first, then by due date.',
        security: adminSecurity,
        querystring: listQuerySchema,
        response: { 200: z.object({ items: z.array(workItemSchema) }), ...authResponses },
      },
    },
    async (request) => {
      const { limit, ...filter } = request.query;
      const items = await listWork(temporal(), taskQueue, filter, limit ?? DEFAULT_WORK_LIMIT);
      return { items };
    },
  );

  app.get(
    '/work/:id',
    {
      schema: {
        tags: ['work'],
        summary: 'One task or approval with its live status and history',
        security: adminSecurity,
        params: idParamsSchema,
        response: { 200: detailSchema, 404: errorResponseSchema, ...authResponses },
      },
    },
    async (request) => {
      const client = temporal();
      const { id } = request.params;
      const notFound = () => new HttpError(404, `No task or approval with id ${id}.`);
      const description = await client.workflow
        .getHandle(id)
        .describe()
        .catch((err: unknown) => {
          throw err instanceof WorkflowNotFoundError ? notFound() : err;
        });
      const kind = kindOfType(description.type);
      if (!kind) throw notFound();
      const handle = client.workflow.getHandle(id);
      const status = kind === 'task' ? await handle.query(taskStatusQuery) : await handle.query(approvalStatusQuery);
      return {
        id,
        kind,
        ...executionFacts(description),
        status: status as unknown as z.input<typeof detailSchema>['status'],
      };
    },
  );

  app.post(
    '/work/:id/cancel',
    {
      schema: {
        tags: ['work'],
        summary: 'Cancel a task or approval with a reason',
        description:
          'Closes it as cancelled; the people involved are told. `by` is the AIMS manager (or `system`); the workflow checks who may cancel.',
        security: adminSecurity,
        params: idParamsSchema,
        body: cancelBodySchema,
        response: { 200: ackSchema, 404: errorResponseSchema, 409: errorResponseSchema, ...authResponses },
      },
    },
    async (request) => {
      const client = temporal();
      const { id } = request.params;
      const handle = client.workflow.getHandle(id);
      const description = await handle.describe().catch((err: unknown) => {
        throw err instanceof WorkflowNotFoundError ? new HttpError(404, `No task or approval with id ${id}.`) : err;
      });
      if (!kindOfType(description.type)) throw new HttpError(404, `No task or approval with id ${id}.`);
      if (description.status.name !== 'RUNNING') {
        throw new HttpError(409, `It is already closed (${description.status.name.toLowerCase()}).`);
      }
      try {
        const ack = await handle.executeUpdate(cancelUpdate, {
          args: [{ by: request.body.by ?? 'system', reason: request.body.reason }],
        });
        request.log.info({ workflowId: id, by: request.body.by ?? 'system' }, 'work cancelled');
        return { id, ...ack };
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) {
          throw new HttpError(409, `Not cancelled: ${err.cause?.message ?? err.message}.`, { cause: err });
        }
        if (err instanceof WorkflowNotFoundError) throw new HttpError(409, 'Not cancelled: it closed in the meantime.', { cause: err });
        throw err;
      }
    },
  );

  done();
};
