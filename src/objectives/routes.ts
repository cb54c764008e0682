/**
 * Admin routes of the AI objectives (6.2, 9.1): the register (list with the latest value and
 * state), register one through the API (recorded in the ledger by its workflow), ensure those of
 * the organization file, one objective with its series, its series from the ledger (also after
 * retirement), change its definition (recorded) and retire it.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponseSchema, HttpError } from '../api/errors.js';
import { requirePermission } from '../api/plugins/admin-auth.js';
import { guardTemporalRoutes, temporalClient } from '../api/plugins/temporal-routes.js';
import { actingPerson, startRefused, workflowRoutes } from '../api/plugins/workflow-routes.js';
import { limitParam } from '../api/query-params.js';
import { actorSchema } from '../common/schemas.js';
import type { Organization } from '../organization/schema.js';
import { searchAttributes } from '../temporal/search-attributes.js';
import { isoOf, memoText, workflowsOf } from '../temporal/visibility.js';
import { changeObjectiveUpdate, OBJECTIVE_WORKFLOW, objectiveStatusQuery, objectiveWorkflowId, retireObjectiveUpdate } from './contract.js';
import { recordsOfKind } from './figures.js';
import { changeObjectiveSchema, objectiveDefinitionSchema, objectiveIdSchema, objectivePolicySchema } from './schema.js';
import { describeIfExists } from '../temporal/start.js';
import { ensureObjective, syncObjectives } from './start.js';
import '../api/deps.js';

const paramsSchema = z.strictObject({ objectiveId: objectiveIdSchema });

const registerBodySchema = z
  .strictObject({
    definition: objectiveDefinitionSchema,
    by: actorSchema.optional().describe('If given, must name whoever is authenticated: the registration is recorded as them'),
    policy: objectivePolicySchema.optional().describe('Overrides of the timing (first measurement, interval, task due)'),
  })
  .describe('RegisterObjective');

const ackSchema = z.object({ objectiveId: z.string(), ok: z.literal(true), state: z.string(), message: z.string() });

const listItemSchema = z
  .object({
    objectiveId: z.string(),
    workflowId: z.string(),
    statement: z.string(),
    owner: z.string().optional(),
    state: z.string().describe('not-measured, on-target, off-target, at-risk, measuring or retired'),
    last: z.object({ value: z.number(), at: z.string(), evaluation: z.string() }).optional(),
    nextAt: z.string().optional().describe('The next measurement (or the open one\'s due date)'),
    executionStatus: z.string(),
  })
  .describe('ObjectiveListItem');

const detailSchema = z
  .object({
    objectiveId: z.string(),
    workflowId: z.string(),
    runId: z.string(),
    executionStatus: z.string(),
    startedAt: z.string(),
    closedAt: z.string().optional(),
    status: z.looseObject({ state: z.string(), series: z.array(z.unknown()), history: z.array(z.unknown()) }).describe('The objectiveStatus query result'),
  })
  .describe('ObjectiveDetail');

const seriesSchema = z
  .object({
    objectiveId: z.string(),
    items: z.array(z.object({ n: z.number(), at: z.string(), value: z.number(), evaluation: z.string(), target: z.number(), atRisk: z.number(), by: z.string(), method: z.string(), evidence: z.string().optional() })),
  })
  .describe('ObjectiveSeries');

const syncResultSchema = z.object({ started: z.array(z.string()), running: z.array(z.string()), updated: z.array(z.string()).describe('Running objectives whose definition followed a change in the file'), failed: z.array(z.object({ objectiveId: z.string(), reason: z.string() })) });

const listItem = (info: WorkflowExecutionInfo) => {
  const memo = info.memo ?? {};
  const sa = info.typedSearchAttributes;
  const running = info.status.name === 'RUNNING';
  const last = memo.last as { value: number; at: string; evaluation: string } | null | undefined;
  const nextAt = running ? isoOf(sa.get(searchAttributes.dueDate)) : undefined;
  return {
    objectiveId: sa.get(searchAttributes.ref) ?? info.workflowId.replace(/^objective\//, ''),
    workflowId: info.workflowId,
    statement: memoText(memo.title) ?? '',
    owner: sa.get(searchAttributes.owner),
    state: running ? (sa.get(searchAttributes.state) ?? 'not-measured') : 'retired',
    ...(last ? { last } : {}),
    ...(nextAt ? { nextAt } : {}),
    executionStatus: info.status.name,
  };
};

async function listObjectives(client: Client, taskQueue: string, _filter: object, limit = 200) {
  const items = [];
  for await (const info of client.workflow.list({ query: workflowsOf(taskQueue, OBJECTIVE_WORKFLOW).join(' AND ') })) {
    items.push(listItem(info));
    if (items.length >= limit) break;
  }
  return items.sort((a, b) => a.objectiveId.localeCompare(b.objectiveId));
}

export const objectiveRoutes: FastifyPluginCallbackZod = (app, _options, done) => {
  const temporal = (): Client => temporalClient(app);
  const taskQueue = app.deps.config.TEMPORAL_TASK_QUEUE;
  const org = (): Organization | undefined => app.deps.organization?.();

  guardTemporalRoutes(app, 'objective');

  /** Whether an objective workflow of this id exists (running or retired). */
  const objectiveRuns = async (workflowId: string): Promise<boolean> => (await describeIfExists(temporalClient(app), workflowId))?.type === OBJECTIVE_WORKFLOW;

  const objective = workflowRoutes(app, {
    tag: 'objectives',
    read: 'objective.read',
    type: OBJECTIVE_WORKFLOW,
    params: paramsSchema,
    key: 'objectiveId',
    workflowId: objectiveWorkflowId,
    query: objectiveStatusQuery,
    ack: ackSchema,
    notFound: (id) => `No objective ${id}.`,
    closed: (id) => `${id} is retired`,
    gone: (id) => `${id} was retired in the meantime`,
  });

  objective.list('/objectives', {
    summary: 'The register of AI objectives (6.2) with their latest value and state',
    description: 'From Temporal visibility: one entry per objective workflow, running or retired.',
    querystring: z.strictObject({ limit: limitParam(1000, 200) }),
    item: listItemSchema,
    list: listObjectives,
  });

  app.post(
    '/objectives',
    {
      preValidation: requirePermission('objective.manage'),
      schema: objective.schema({
        summary: 'Register an AI objective',
        description: 'Checked like an objective of the organization file (known owner and measurer, the at-risk threshold on the right side of the target); starts `objective/<id>`, which records it and measures it at its interval.',
        body: registerBodySchema,
        response: { 201: z.object({ objectiveId: z.string(), workflowId: z.string() }), 409: errorResponseSchema },
      }),
    },
    async (request, reply) => {
      const { definition, policy } = request.body;
      const o = org();
      if (o?.objectives.some((x) => x.id === definition.id)) {
        throw new HttpError(409, `Not registered: ${definition.id} is in the organization file; run POST /admin/objectives/sync to ensure it.`);
      }
      let ensured;
      try {
        ensured = await ensureObjective(temporal(), taskQueue, { objectiveId: definition.id, definition, source: 'api', registeredBy: actingPerson(request), ...(policy ? { policy } : {}) }, { ...(o ? { organization: o } : {}), publicBaseUrl: app.deps.config.PUBLIC_BASE_URL });
      } catch (err) {
        startRefused(err);
      }
      if (!ensured.created) throw new HttpError(409, `Not registered: ${definition.id} is already registered (${ensured.workflowId}); change it with PATCH.`);
      return reply.code(201).send({ objectiveId: definition.id, workflowId: ensured.workflowId });
    },
  );

  app.post(
    '/objectives/sync',
    {
      preValidation: requirePermission('objective.manage'),
      schema: objective.schema({ summary: "Ensure the workflows of the organization file's objectives", response: { 200: syncResultSchema } }),
    },
    async () => {
      const o = org();
      if (!o) throw new HttpError(503, 'The organization file is not loaded in this API.');
      return syncObjectives(temporal(), taskQueue, o, { publicBaseUrl: app.deps.config.PUBLIC_BASE_URL });
    },
  );

  objective.detail('/objectives/:objectiveId', { summary: 'One objective: its definition, state, series and history', response: detailSchema });

  app.get(
    '/objectives/:objectiveId/series',
    {
      preValidation: requirePermission('objective.read'),
      schema: objective.schema({
        summary: "An objective's measurements from the ledger",
        description: 'Every value and evaluation recorded, oldest first; also after retirement.',
        params: paramsSchema,
        response: { 200: seriesSchema, 404: errorResponseSchema },
      }),
    },
    async (request) => {
      const { objectiveId } = request.params;
      const subject = objectiveWorkflowId(objectiveId);
      const measured = (await recordsOfKind(app.deps.records, 'objective.measured')).filter((r) => r.subject === subject);
      // An objective just registered may not have its first record yet: its workflow says it exists.
      if (measured.length === 0 && (await app.deps.records.list({ subject, kind: 'objective.registered', limit: 1 })).length === 0 && !(await objectiveRuns(subject))) {
        throw new HttpError(404, `No objective ${objectiveId}.`);
      }
      return {
        objectiveId,
        items: measured.map((r) => {
          const c = r.content as { n: number; at: string; value: number; evaluation: string; target: number; atRisk: number; by: string; method: string; evidence?: string };
          return { n: c.n, at: c.at, value: c.value, evaluation: c.evaluation, target: c.target, atRisk: c.atRisk, by: c.by, method: c.method, ...(c.evidence ? { evidence: c.evidence } : {}) };
        }),
      };
    },
  );

  objective.update('/objectives/:objectiveId', {
    method: 'PATCH',
    summary: "Change an objective's definition",
    description: 'Checked against the rest of the definition; recorded in the ledger with the reason, the definition before and after.',
    permission: 'objective.manage',
    body: changeObjectiveSchema.omit({ by: true }).extend({ by: actorSchema.optional() }),
    update: changeObjectiveUpdate,
    check: ({ body }) => {
      const o = org();
      for (const [path, person] of [['changes.owner', body.changes.owner], ['changes.measurement.by', body.changes.measurement?.by]] as const) {
        if (person && o && !o.people.some((p) => p.id === person)) throw new HttpError(400, `Invalid input: ${path}: unknown person "${person}"`, { issues: [{ path, message: `unknown person "${person}"` }] });
      }
    },
    arg: ({ body: { changes, reason }, by }) => ({ by, changes, reason }),
    what: 'changed',
  });

  objective.update('/objectives/:objectiveId/retire', {
    summary: 'Retire an objective',
    description: 'Cancels an open measurement task, writes the final record and ends the workflow.',
    permission: 'objective.manage',
    body: z.strictObject({ reason: z.string().trim().min(1, 'a reason is required').max(2000), by: actorSchema.optional() }),
    update: retireObjectiveUpdate,
    arg: ({ body: { reason }, by }) => ({ by, reason }),
    what: 'retired',
  });

  done();
};
