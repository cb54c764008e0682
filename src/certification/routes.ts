/**
 * Admin routes for the certification cycle: start a certificate's cycle (its dates checked
 * against the certification rules), get its status and history, move audit dates (checked
 * again), record an audit's outcome and the body's findings (each nonconformity starts a
 * corrective action), record the body's decision, and end the cycle.
 *
 * Registered inside the admin scope (API key required). Every route needs the Temporal client
 * (503 without one); starting also needs the organization file.
 */
import type { Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  certificateIdSchema,
  certificationInputSchema,
  certificationStates,
  endCycleSchema,
  moveDatesSchema,
  recordDecisionSchema,
  recordOutcomeSchema,
} from './schema.js';
import {
  CERTIFICATION_WORKFLOW,
  certificationStatusQuery,
  certificationWorkflowId,
  endCycleUpdate,
  moveAuditDatesUpdate,
  recordAuditOutcomeUpdate,
  recordDecisionUpdate,
  type CertificationAck,
} from './contract.js';
import { listCertifications } from './visibility.js';
import { startCertificationCycle } from './start.js';
import { errorResponseSchema, HttpError } from '../api/errors.js';
import { guardTemporalRoutes, temporalClient } from '../api/plugins/temporal-routes.js';
import type { Permission } from '../auth/permissions.js';
import { requirePermission } from '../api/plugins/admin-auth.js';
import { actingPerson, startRefused, workflowRoutes } from '../api/plugins/workflow-routes.js';
import '../api/deps.js';

// Schemas

// The cycle number and history are carried by the workflow itself; the start function checks the rest again.
const { cycle: _cycle, history: _history, ...startFields } = certificationInputSchema.shape;
export const startBodySchema = z.strictObject(startFields).describe('StartCertificationCycle');

const issueSchema = z.object({ path: z.string(), rule: z.string(), message: z.string() });

const linksSchema = z.object({
  status: z.string().describe('GET: status and history'),
  dates: z.string().describe('POST: move audit dates'),
  outcomes: z.string().describe("POST: record an audit's outcome and findings"),
  decisions: z.string().describe("POST: record the body's decision"),
  end: z.string().describe('POST: end the cycle'),
});

const startedSchema = z
  .object({ certificateId: z.string(), workflowId: z.string(), warnings: z.array(issueSchema).describe('Risky dates, accepted'), links: linksSchema })
  .describe('CertificationCycleStarted');

const paramsSchema = z.object({ certificateId: certificateIdSchema });

const listQuerySchema = z.strictObject({
  state: z.enum(certificationStates, { message: `must be one of ${certificationStates.join(', ')}` }).optional(),
  limit: z.coerce.number({ message: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000').optional(),
});

const listItemSchema = z
  .object({
    certificateId: z.string(),
    workflowId: z.string(),
    state: z.string(),
    cycle: z.number().optional(),
    expiresOn: z.string().optional(),
    dueAt: z.string().optional().describe("The next audit's planned time"),
    executionStatus: z.string(),
    startedAt: z.string(),
  })
  .describe('CertificationListItem');

const detailSchema = z
  .object({
    certificateId: z.string(),
    workflowId: z.string(),
    runId: z.string(),
    executionStatus: z.string(),
    startedAt: z.string(),
    closedAt: z.string().optional(),
    status: z
      .looseObject({ state: z.string(), cycle: z.number(), audits: z.array(z.unknown()), history: z.array(z.unknown()), timeline: z.array(z.unknown()) })
      .describe('The certificationStatus query: plan, audits, findings, decisions, readiness reports and the history of earlier cycles'),
  })
  .describe('CertificationCycleDetail');

const ackSchema = z.object({
  certificateId: z.string(),
  ok: z.literal(true),
  state: z.string(),
  message: z.string(),
  warnings: z.array(issueSchema),
  nonconformities: z
    .array(z.object({ ref: z.string(), ncId: z.string(), workflowId: z.string(), severity: z.string(), deadlineAt: z.string() }))
    .optional()
    .describe('Corrective actions started from the findings'),
});

const byField = { by: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be a person id').optional().describe('If given, must name whoever is authenticated (the AIMS manager): the update is recorded as them') };
const moveBodySchema = z.strictObject({ ...moveDatesSchema.shape, ...byField }).describe('MoveAuditDates');
const outcomeBodySchema = z.strictObject({ ...recordOutcomeSchema.shape, ...byField }).describe('RecordAuditOutcome');
const decisionBodySchema = z.strictObject({ ...recordDecisionSchema.shape, ...byField }).describe('RecordCertificationDecision');
const endBodySchema = z.strictObject({ ...endCycleSchema.shape, ...byField }).describe('EndCertificationCycle');

export const certificationRoutes: FastifyPluginCallbackZod = (app, _options, done) => {
  const temporal = (): Client => temporalClient(app);
  const taskQueue = app.deps.config.TEMPORAL_TASK_QUEUE;
  const base = app.deps.config.PUBLIC_BASE_URL;
  const linksFor = (certificateId: string) => {
    const self = `${base}/admin/certifications/${certificateId}`;
    return { status: self, dates: `${self}/dates`, outcomes: `${self}/outcomes`, decisions: `${self}/decisions`, end: `${self}/end` };
  };

  guardTemporalRoutes(app, 'certification');

  const cycle = workflowRoutes(app, {
    tag: 'certification',
    read: 'certification.read',
    type: CERTIFICATION_WORKFLOW,
    params: paramsSchema,
    key: 'certificateId',
    workflowId: certificationWorkflowId,
    query: certificationStatusQuery,
    ack: ackSchema,
    notFound: (certificateId) => `No certification cycle for ${certificateId}.`,
    closed: (certificateId, status) => `the cycle of ${certificateId} has ended (${status})`,
    gone: (certificateId) => `the cycle of ${certificateId} ended in the meantime`,
  });

  app.post(
    '/certifications',
    {
      preValidation: requirePermission('certification.start'),
      schema: cycle.schema({
        summary: "Start a certificate's cycle",
        description:
          'Starts `certification/iso42001/<certificateId>`: Stage 1, Stage 2, the decision, two surveillance audits and the recertification ' +
          '(or, with `certificate`, from the first surveillance of an existing certificate). Dates that break the certification rules are ' +
          'refused naming the field and the rule; risky dates are accepted and returned as `warnings`.',
        body: startBodySchema,
        response: { 201: startedSchema, 409: errorResponseSchema },
      }),
    },
    async (request, reply) => {
      const organization = app.deps.organization?.();
      if (!organization) throw new HttpError(503, 'The organization file is not loaded: certification cycles cannot be started.');
      try {
        const { handle, warnings } = await startCertificationCycle(temporal(), taskQueue, { ...request.body, startedBy: actingPerson(request) }, { organization, publicBaseUrl: app.deps.config.PUBLIC_BASE_URL });
        request.log.info({ workflowId: handle.workflowId }, 'certification cycle started');
        return reply.code(201).send({ certificateId: request.body.certificateId, workflowId: handle.workflowId, warnings, links: linksFor(request.body.certificateId) });
      } catch (err) {
        startRefused(err, () => `A certification cycle for ${request.body.certificateId} is already running.`);
      }
    },
  );

  cycle.list('/certifications', {
    summary: 'List certificates and their cycles',
    description: 'From Temporal visibility (eventually consistent: a new cycle shows within seconds), running and ended.',
    querystring: listQuerySchema,
    item: listItemSchema,
    list: listCertifications,
  });

  cycle.detail('/certifications/:certificateId', {
    summary: 'A certificate: its state, plan, audits, findings, decisions and history',
    response: detailSchema,
  });

  /** POST .../`path`: the body (with who acts) is the update's argument. */
  const cycleUpdate = <B extends { by?: string | undefined }>(
    path: string,
    permission: Permission,
    summary: string,
    what: string,
    body: z.ZodType<B>,
    update: UpdateDefinition<CertificationAck, [Omit<B, 'by'> & { by: string }]>,
  ) =>
    cycle.update(`/certifications/:certificateId/${path}`, {
      summary,
      description: 'Recorded as whoever is authenticated. A refusal by the cycle (a broken rule, the wrong audit, not the AIMS manager) is a 409 with the reason.',
      permission,
      body,
      update,
      arg: ({ body: input, by }) => ({ ...input, by }),
      what,
      log: { message: 'certification cycle updated', fields: ({ params }) => ({ certificateId: params.certificateId, action: path }) },
    });

  cycleUpdate('dates', 'certification.plan', 'Move audit dates (checked against the certification rules again)', 'moved', moveBodySchema, moveAuditDatesUpdate);
  cycleUpdate('outcomes', 'certification.decide', "Record an audit's outcome and the body's findings", 'recorded', outcomeBodySchema, recordAuditOutcomeUpdate);
  cycleUpdate('decisions', 'certification.decide', "Record the certification body's decision", 'recorded', decisionBodySchema, recordDecisionUpdate);
  cycleUpdate('end', 'certification.cancel', 'End the certification cycle', 'ended', endBodySchema, endCycleUpdate);

  done();
};
