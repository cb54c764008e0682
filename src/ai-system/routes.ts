/**
 * Admin routes for the AI systems inventory and their impact assessments (ISO/IEC 42001 6.1.4,
 * 8.4, Annex A.5): register a system (validated like the organization file's inventory, its
 * registration recorded in the ledger by its workflow), update its registration, announce a
 * significant change, retire it, list systems with their assessment status, get one system,
 * get one assessment's full content and history, and ensure the workflows of the organization
 * file's inventory.
 *
 * Registered inside the admin scope (API key required); every route needs the Temporal client.
 */
import type { Client } from '@temporalio/client';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  AI_SYSTEM_WORKFLOW,
  aiSystemStatusQuery,
  aiSystemWorkflowId,
  announceChangeUpdate,
  retireUpdate,
  updateRegistrationUpdate,
} from './contract.js';
import { DEFAULT_AI_SYSTEM_LIMIT, listAiSystems, MAX_AI_SYSTEM_LIMIT } from './visibility.js';
import { assessmentDetail, assessmentsOf } from './assessments.js';
import { aiSystemPolicySchema, aiSystemStates, registrationChangesSchema } from './schema.js';
import {
  aiSystemIdSchema,
  aiSystemRegistrationSchema,
  assessmentRefSchema,
  changeTypes,
} from './impact-assessment.js';
import type { Organization } from '../organization/schema.js';
import { actorSchema, personIdSchema } from '../common/schemas.js';
import { checkRegistration, ensureAiSystem, syncAiSystems } from './start.js';
import { errorResponseSchema, HttpError } from '../api/errors.js';
import { guardTemporalRoutes, temporalClient } from '../api/plugins/temporal-routes.js';
import { requirePermission } from '../api/plugins/admin-auth.js';
import { actingPerson, startRefused, workflowRoutes } from '../api/plugins/workflow-routes.js';
import { limitParam } from '../api/query-params.js';
import '../api/deps.js';

// Schemas

const registerBodySchema = z
  .strictObject({
    ...aiSystemRegistrationSchema.shape,
    by: actorSchema.optional().describe('If given, must name whoever is authenticated: the registration is recorded as them'),
    policy: aiSystemPolicySchema.optional().describe("Overrides of the organization's impact-assessment settings for this system"),
  })
  .describe('RegisterAiSystem');

const systemParamsSchema = z.strictObject({ systemId: aiSystemIdSchema });
const assessmentParamsSchema = z.strictObject({ systemId: aiSystemIdSchema, assessmentRef: assessmentRefSchema });

const linksSchema = z.object({
  status: z.string().describe('GET: status, last result and history'),
  changes: z.string().describe('POST: announce a significant change'),
  retire: z.string().describe('POST: retire the system'),
});

const registeredSchema = z
  .object({ systemId: z.string(), workflowId: z.string(), created: z.boolean(), links: linksSchema })
  .describe('AiSystemRegistered');

const updateBodySchema = z
  .strictObject({
    changes: registrationChangesSchema,
    by: actorSchema.optional().describe('If given, must name whoever is authenticated: the change is recorded as them'),
    reason: z.string().trim().max(2000).optional(),
  })
  .describe('UpdateAiSystem');

export const changeBodySchema = z
  .strictObject({
    type: z.enum(changeTypes, { message: `must be one of ${changeTypes.join(', ')}` }),
    why: z.string().trim().min(3, 'must say what changed (at least 3 characters)').max(5000),
    by: actorSchema.optional().describe('If given, must name whoever is authenticated: the announcement is recorded as them'),
  })
  .describe('SignificantChange');

const retireBodySchema = z.strictObject({
  reason: z.string().trim().min(1, 'a reason is required').max(2000, 'must be at most 2000 characters'),
  by: actorSchema.optional().describe('If given, must name whoever is authenticated: the retirement is recorded as them'),
});

const ackSchema = z.object({
  systemId: z.string(),
  ok: z.literal(true),
  state: z.string(),
  message: z.string(),
  disposition: z.enum(['pending', 'attached']).optional(),
  assessmentId: z.string().optional(),
  startsAt: z.string().optional(),
});

export const listQuerySchema = z.strictObject({
  state: z.enum(aiSystemStates, { message: `must be one of ${aiSystemStates.join(', ')}` }).optional(),
  owner: personIdSchema.optional(),
  limit: limitParam(MAX_AI_SYSTEM_LIMIT, DEFAULT_AI_SYSTEM_LIMIT),
});

const listItemSchema = z
  .object({
    systemId: z.string(),
    workflowId: z.string(),
    name: z.string(),
    owner: z.string().optional(),
    impactTier: z.string().optional(),
    lifecycle: z.string().optional(),
    source: z.string().optional(),
    state: z.string().describe('current, due, in-progress, overdue or retired'),
    nextDueAt: z.string().optional().describe('When the next reassessment is due'),
    lastAssessment: z.object({ assessmentRef: z.string(), level: z.number(), signedOffAt: z.string() }).optional(),
    currentAssessment: z.string().optional(),
    executionStatus: z.string(),
    startedAt: z.string(),
  })
  .describe('AiSystemListItem');

const detailSchema = z
  .object({
    systemId: z.string(),
    workflowId: z.string(),
    runId: z.string(),
    executionStatus: z.string(),
    startedAt: z.string(),
    closedAt: z.string().optional(),
    status: z.looseObject({ state: z.string(), history: z.array(z.unknown()) }).describe('The aiSystemStatus query result'),
  })
  .describe('AiSystemDetail');

const recordSchema = z.looseObject({
  id: z.string(),
  kind: z.string(),
  subject: z.string(),
  actor: z.string(),
  occurredAt: z.string(),
  content: z.unknown(),
  verified: z.boolean().describe('False at or after the first break in the hash chain of the ledger'),
});

const assessmentSchema = z
  .object({
    assessmentId: z.string(),
    workflowId: z.string(),
    execution: z
      .object({ runId: z.string(), executionStatus: z.string(), startedAt: z.string(), closedAt: z.string().optional() })
      .optional()
      .describe('Absent once Temporal no longer holds the workflow (past the retention period)'),
    status: z.looseObject({ state: z.string(), timeline: z.array(z.unknown()) }).optional().describe('The live status and timeline'),
    recorded: z.unknown().optional().describe('The content of the impact-assessment.recorded record, once signed off'),
    records: z.array(recordSchema).describe("Every ledger record of the assessment and of its steps, oldest first"),
  })
  .describe('ImpactAssessmentDetail');

const assessmentListSchema = z
  .object({
    items: z.array(
      z.object({
        assessmentRef: z.string(),
        workflowId: z.string(),
        trigger: z.string(),
        startedAt: z.string(),
        changes: z.number().describe('Significant changes that led to it'),
        outcome: z.enum(['recorded', 'cancelled', 'open']).describe('open: still running, or ended without a record'),
        level: z.number().optional(),
        signedOffBy: z.string().optional(),
        recordedAt: z.string().optional(),
      }),
    ),
  })
  .describe('ImpactAssessmentList');

const syncResultSchema = z.object({
  started: z.array(z.string()),
  running: z.array(z.string()),
  updated: z.array(z.string()).describe('Running systems whose registration followed a change in the file'),
  retired: z.array(z.string()),
  failed: z.array(z.object({ systemId: z.string(), reason: z.string() })),
});

export const aiSystemRoutes: FastifyPluginCallbackZod = (app, _options, done) => {
  const temporal = (): Client => temporalClient(app);
  const taskQueue = app.deps.config.TEMPORAL_TASK_QUEUE;
  const base = app.deps.config.PUBLIC_BASE_URL;
  const org = (): Organization | undefined => app.deps.organization?.();
  const linksFor = (systemId: string) => {
    const self = `${base}/admin/ai-systems/${systemId}`;
    return { status: self, changes: `${self}/changes`, retire: `${self}/retire` };
  };
  /** A person id must be in the organization file (when the API has one). */
  const checkActor = (by: string | undefined, path = 'by') => {
    const o = org();
    if (by && by !== 'system' && o && !o.people.some((p) => p.id === by)) {
      throw new HttpError(400, `Invalid input: ${path}: unknown person "${by}"`, { issues: [{ path, message: `unknown person "${by}"` }] });
    }
  };

  guardTemporalRoutes(app, 'AI system');

  const aiSystem = workflowRoutes(app, {
    tag: 'ai-systems',
    read: 'ai-system.read',
    type: AI_SYSTEM_WORKFLOW,
    params: systemParamsSchema,
    key: 'systemId',
    workflowId: aiSystemWorkflowId,
    query: aiSystemStatusQuery,
    ack: ackSchema,
    notFound: (systemId) => `No AI system ${systemId}.`,
    closed: (systemId) => `${systemId} is retired`,
    gone: (systemId) => `${systemId} was retired in the meantime`,
  });

  aiSystem.list('/ai-systems', {
    summary: 'List AI systems with their assessment status',
    description: 'From Temporal visibility: current, due (a change is pending or never assessed), in-progress, overdue or retired.',
    querystring: listQuerySchema,
    item: listItemSchema,
    list: listAiSystems,
  });

  app.post(
    '/ai-systems',
    {
      preValidation: requirePermission('ai-system.register'),
      schema: aiSystem.schema({
        summary: 'Register an AI system',
        description:
          'Validated like an entry of the inventory in the organization file (id pattern, a known owner, an impact tier); starts its ' +
          'workflow `ai-system/<id>`, which records the registration in the ledger and starts the first impact assessment. ' +
          'A system of the organization file is registered by `POST /admin/ai-systems/sync`.',
        body: registerBodySchema,
        response: { 201: registeredSchema, 409: errorResponseSchema },
      }),
    },
    async (request, reply) => {
      const { by, policy, ...fields } = request.body;
      const o = org();
      checkActor(by);
      let system;
      try {
        system = checkRegistration(o, fields);
      } catch (err) {
        startRefused(err);
      }
      if (o?.aiSystems.some((s) => s.id === system.id)) {
        throw new HttpError(409, `Not registered: ${system.id} is in the organization file's inventory; run POST /admin/ai-systems/sync to ensure it.`);
      }
      let ensured;
      try {
        ensured = await ensureAiSystem(
          temporal(),
          taskQueue,
          { systemId: system.id, system, source: 'api', registeredBy: actingPerson(request), ...(policy ? { policy } : {}) },
          { ...(o ? { organization: o } : {}), publicBaseUrl: base },
        );
      } catch (err) {
        startRefused(err);
      }
      if (!ensured.created) throw new HttpError(409, `Not registered: ${system.id} is already registered (${ensured.workflowId}); change it with PATCH.`);
      request.log.info({ systemId: system.id, workflowId: ensured.workflowId }, 'AI system registered');
      return reply.code(201).send({ systemId: system.id, workflowId: ensured.workflowId, created: true, links: linksFor(system.id) });
    },
  );

  app.post(
    '/ai-systems/sync',
    {
      preValidation: requirePermission('ai-system.sync'),
      schema: aiSystem.schema({
        summary: "Ensure the workflows of the organization file's inventory",
        description: 'Starts the workflow of every system in the file that does not run yet; a system marked `retired` in the file is retired.',
        response: { 200: syncResultSchema },
      }),
    },
    async (request) => {
      const o = org();
      if (!o) throw new HttpError(503, 'The organization file is not loaded in this API.');
      const result = await syncAiSystems(temporal(), taskQueue, o, { publicBaseUrl: base });
      request.log.info(result, 'AI systems synced');
      return result;
    },
  );

  aiSystem.detail('/ai-systems/:systemId', {
    summary: 'One AI system: registration, assessment status, last result, next due date and history',
    response: detailSchema,
  });

  aiSystem.update('/ai-systems/:systemId', {
    method: 'PATCH',
    summary: "Update an AI system's registration",
    description: 'Applies to the next steps and assessments; recorded in the ledger. Setting `lifecycle: retired` retires the system.',
    permission: 'ai-system.register',
    body: updateBodySchema,
    update: updateRegistrationUpdate,
    check: ({ body: { changes }, by }) => {
      checkActor(by);
      if (changes.owner) checkActor(changes.owner, 'changes.owner');
    },
    arg: ({ body: { changes, reason }, by }) => ({ by, changes, ...(reason ? { reason } : {}) }),
    what: 'updated',
  });

  aiSystem.update('/ai-systems/:systemId/changes', {
    summary: 'Announce a significant change',
    description:
      'Model, data source, intended use, deployment context or jurisdiction, with who and why. Changes within the debounce window of ' +
      'the first start one reassessment; a change during a running assessment is attached to it.',
    permission: 'ai-system.change',
    body: changeBodySchema,
    update: announceChangeUpdate,
    check: ({ by }) => checkActor(by),
    arg: ({ body: { type, why }, by }) => ({ type, why, by }),
    what: 'announced',
    log: {
      message: 'significant change announced',
      fields: ({ params, body }, ack) => ({ systemId: params.systemId, type: body.type, disposition: ack.disposition }),
    },
  });

  aiSystem.update('/ai-systems/:systemId/retire', {
    summary: 'Retire an AI system',
    description: 'Cancels a running assessment, writes the final record and ends the workflow.',
    permission: 'ai-system.register',
    body: retireBodySchema,
    update: retireUpdate,
    check: ({ by }) => checkActor(by),
    arg: ({ body: { reason }, by }) => ({ by, reason }),
    what: 'retired',
  });

  app.get(
    '/ai-systems/:systemId/assessments',
    {
      preValidation: requirePermission('ai-system.read'),
      schema: aiSystem.schema({
        summary: 'Every impact assessment of an AI system, from the ledger',
        description: 'Oldest first, with its trigger and outcome; also for systems retired long ago.',
        params: systemParamsSchema,
        response: { 200: assessmentListSchema, 404: errorResponseSchema },
      }),
    },
    async (request) => {
      const items = await assessmentsOf(app.deps.records, request.params.systemId);
      if (!items) throw new HttpError(404, `No AI system ${request.params.systemId}.`);
      return { items };
    },
  );

  app.get(
    '/ai-systems/:systemId/assessments/:assessmentRef',
    {
      preValidation: requirePermission('ai-system.read'),
      schema: aiSystem.schema({
        summary: "One impact assessment's full content and history",
        description: 'The live status and timeline while Temporal holds the workflow, and every ledger record of the assessment and its steps.',
        params: assessmentParamsSchema,
        response: { 200: assessmentSchema, 404: errorResponseSchema },
      }),
    },
    async (request) => {
      const { systemId, assessmentRef } = request.params;
      const detail = await assessmentDetail(temporal(), app.deps.records, systemId, assessmentRef);
      if (!detail) throw new HttpError(404, `No impact assessment ${systemId}/${assessmentRef}.`);
      return { ...detail, records: detail.records.map((r) => ({ ...r })) };
    },
  );

  done();
};
