/**
 * Admin routes for the internal audit programme (ISO/IEC 42001 9.2): start a year's programme
 * (with or without its plan), see its status, submit the plan, change it during the year
 * (reschedule an audit, change its lead auditor, add an unplanned audit, cancel one with a
 * reason), write the year-end report early, and the audit results of a period for management
 * review and certification readiness.
 *
 * Registered inside the admin scope (API key required). Plans are checked here first (every bad
 * field named, 400); a change the workflow refuses is a 409 with its reason.
 */
import type { Client } from '@temporalio/client';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  auditIdSchema,
  auditListSchema,
  auditWindowSchema,
  auditYearSchema,
  internalAuditPolicySchema,
  plannedAuditSchema,
  type PlanIssue,
} from './schema.js';
import { actorSchema, personIdSchema } from '../common/schemas.js';
import { summaryPeriod } from '../corrective-action/summary.js';
import { summarizeInternalAudits } from './summary.js';
import { listProgrammes } from './visibility.js';
import {
  addAuditUpdate,
  cancelAuditUpdate,
  changeAuditorUpdate,
  closeYearUpdate,
  INTERNAL_AUDIT_PROGRAMME_WORKFLOW,
  internalAuditProgrammeWorkflowId,
  programmeStatusQuery,
  rescheduleAuditUpdate,
  submitPlanUpdate,
} from './contract.js';
import { checkPlan, startInternalAuditProgramme } from './start.js';
import { errorResponseSchema, HttpError } from '../api/errors.js';
import type { FoundWorkflow } from '../api/gateway.js';
import { periodParams } from '../api/query-params.js';
import { guardTemporalRoutes, temporalClient } from '../api/plugins/temporal-routes.js';
import { requirePermission } from '../api/plugins/admin-auth.js';
import { actingPerson, startRefused, workflowRoutes } from '../api/plugins/workflow-routes.js';
import '../api/deps.js';

// Schemas

const yearParams = z.strictObject({ year: z.coerce.number().pipe(auditYearSchema) });
const auditParams = z.strictObject({ year: z.coerce.number().pipe(auditYearSchema), auditId: auditIdSchema });

const byField = actorSchema.optional().describe('If given, must name whoever is authenticated: the change is recorded as them');
const reasonField = z.string().trim().min(1, 'a reason is required').max(2000, 'must be at most 2000 characters');

const startBodySchema = z
  .strictObject({
    year: auditYearSchema,
    audits: auditListSchema.optional().describe('The planned audits; without them the AIMS manager is asked for the plan'),
    requestedBy: actorSchema.optional().describe('If given, must name whoever is authenticated: the programme is started as them'),
    policy: internalAuditPolicySchema.optional(),
  })
  .describe('StartInternalAuditProgramme');

export const planBodySchema = z
  .strictObject({
    audits: auditListSchema,
    by: actorSchema.optional().describe('If given, must name whoever is authenticated (the AIMS manager or an internal auditor, who prepared the plan)'),
    note: z.string().trim().max(5000).optional(),
  })
  .describe('InternalAuditPlan');

const alreadyHeldField = z
  .boolean()
  .optional()
  .describe('`true`: the window records an audit that already took place; only then may it lie in the past (a reason is required)');
const addBodySchema = z
  .strictObject({ audit: plannedAuditSchema, by: byField, reason: z.string().trim().max(2000).optional(), alreadyHeld: alreadyHeldField })
  .describe('AddInternalAudit');
const rescheduleBodySchema = z.strictObject({ window: auditWindowSchema, reason: reasonField, by: byField, alreadyHeld: alreadyHeldField }).describe('RescheduleInternalAudit');
const auditorBodySchema = z.strictObject({ leadAuditor: personIdSchema, reason: reasonField, by: byField }).describe('ChangeInternalAuditor');
const reasonBodySchema = z.strictObject({ reason: reasonField, by: byField });

const linksSchema = z.object({ status: z.string(), plan: z.string(), audits: z.string(), closeYear: z.string() });

const startedSchema = z
  .object({ year: z.number(), workflowId: z.string(), warnings: z.array(z.string()).describe('Coverage gaps over the audit cycle'), links: linksSchema })
  .describe('InternalAuditProgrammeStarted');

const ackSchema = z
  .object({ year: z.number(), ok: z.literal(true), state: z.string(), message: z.string(), warnings: z.array(z.string()).optional() })
  .describe('InternalAuditProgrammeAck');

const detailSchema = z
  .object({
    year: z.number(),
    workflowId: z.string(),
    runId: z.string(),
    executionStatus: z.string(),
    startedAt: z.string(),
    closedAt: z.string().optional(),
    status: z
      .looseObject({ state: z.string(), audits: z.array(z.unknown()), timeline: z.array(z.unknown()) })
      .describe('The programme status query: every audit with its state, warnings, coverage and the timeline'),
  })
  .describe('InternalAuditProgrammeDetail');

const summaryQuerySchema = z.strictObject(periodParams);

const counts = z.object({ majorNc: z.number(), minorNc: z.number(), observation: z.number(), opportunity: z.number() });
const summarySchema = z
  .union([
    z.object({
      available: z.literal(true),
      period: z.object({ from: z.string(), to: z.string() }),
      auditsReported: z.number(),
      audits: z.array(
        z.object({
          auditId: z.string(),
          workflowId: z.string(),
          title: z.string(),
          scope: z.object({ clauses: z.array(z.string()), controls: z.array(z.string()), processes: z.array(z.string()), aiSystems: z.array(z.string()) }),
          window: z.object({ start: z.string(), end: z.string() }),
          reportedAt: z.string(),
          findings: counts,
          ncIds: z.array(z.string()),
        }),
      ),
      findingsByType: counts,
      ncIds: z.array(z.string()),
      programmes: z.array(
        z.object({
          year: z.number(),
          workflowId: z.string(),
          status: z.enum(['interim', 'final']).describe('`interim`: audits were still under way; the final report supersedes it'),
          reportedAt: z.string(),
          coverage: z.object({ covered: z.array(z.string()), uncovered: z.array(z.string()) }),
        }),
      ),
    }),
    z.object({ available: z.literal(false), reason: z.string() }),
  ])
  .describe('InternalAuditSummary');

const warningText = (w: PlanIssue[]) => w.map((x) => x.message);

export const internalAuditRoutes: FastifyPluginCallbackZod = (app, _options, done) => {
  const temporal = (): Client => temporalClient(app);
  const taskQueue = app.deps.config.TEMPORAL_TASK_QUEUE;
  const base = app.deps.config.PUBLIC_BASE_URL;
  const planDeps = () => ({ ...(app.deps.organization ? { organization: app.deps.organization() } : {}), records: app.deps.records });
  const linksFor = (year: number) => {
    const self = `${base}/admin/internal-audit-programmes/${year}`;
    return { status: self, plan: `${self}/plan`, audits: `${self}/audits`, closeYear: `${self}/close-year` };
  };
  guardTemporalRoutes(app, 'internal audit programme');

  const programme = workflowRoutes(app, {
    tag: 'internal-audit',
    read: 'internal-audit.read',
    type: INTERNAL_AUDIT_PROGRAMME_WORKFLOW,
    params: yearParams,
    key: 'year',
    workflowId: internalAuditProgrammeWorkflowId,
    query: programmeStatusQuery,
    ack: ackSchema,
    notFound: (year) => `No internal audit programme for ${year}.`,
    closed: (year, status) => `the ${year} programme is closed (${status})`,
    gone: (year) => `the ${year} programme closed in the meantime`,
  });

  /** The current audits of a programme, to check a change against. */
  const currentAudits = async (workflow: FoundWorkflow) => (await programme.status(workflow)).audits.filter((a) => !a.cancellation);

  app.post(
    '/internal-audit-programmes',
    {
      preValidation: requirePermission('internal-audit.start'),
      schema: programme.schema({
        summary: 'Start the internal audit programme of a year',
        description:
          'Starts `internal-audit-programme/<year>`. With `audits` the plan is checked (impartiality, windows inside the year; ' +
          'coverage gaps over the audit cycle come back as warnings) and goes to the AIMS manager for approval; without them the ' +
          'AIMS manager gets a task to plan the programme (submit it with PUT .../plan).',
        body: startBodySchema,
        response: { 201: startedSchema, 409: errorResponseSchema },
      }),
    },
    async (request, reply) => {
      const body = request.body;
      let started;
      try {
        started = await startInternalAuditProgramme(
          temporal(),
          taskQueue,
          { year: body.year, trigger: 'admin', requestedBy: actingPerson(request), ...(body.audits ? { audits: body.audits } : {}), ...(body.policy ? { policy: body.policy } : {}) },
          { ...planDeps(), publicBaseUrl: base },
        );
      } catch (err) {
        return startRefused(err, () => `The ${body.year} internal audit programme has already been started (${internalAuditProgrammeWorkflowId(body.year)}).`);
      }
      request.log.info({ workflowId: started.handle.workflowId }, 'internal audit programme started');
      return reply.code(201).send({ year: body.year, workflowId: started.handle.workflowId, warnings: warningText(started.warnings), links: linksFor(body.year) });
    },
  );

  app.get(
    '/internal-audit-programmes',
    {
      preValidation: requirePermission('internal-audit.read'),
      schema: programme.schema({
        summary: 'List internal audit programmes',
        description: 'From Temporal visibility (eventually consistent), newest first: each programme with its state and its audits\' states.',
        response: {
          200: z.object({
            items: z.array(
              z.object({
                year: z.number().nullable(),
                workflowId: z.string(),
                state: z.string(),
                trigger: z.string().optional(),
                audits: z.record(z.string(), z.string()).describe('Audit id → planned, in-progress, reported, overdue or cancelled'),
                executionStatus: z.string(),
                startedAt: z.string(),
                closedAt: z.string().optional(),
              }),
            ),
          }),
        },
      }),
    },
    async () => ({ items: await listProgrammes(temporal(), taskQueue) }),
  );

  programme.detail('/internal-audit-programmes/:year', {
    summary: 'An internal audit programme with every audit and its timeline',
    response: detailSchema,
  });

  programme.update('/internal-audit-programmes/:year/plan', {
    method: 'PUT',
    summary: 'Submit the plan of a programme waiting for one',
    description: 'Checked like a plan given at start; then it goes for approval. Coverage gaps come back as warnings.',
    permission: 'internal-audit.plan',
    body: planBodySchema,
    update: submitPlanUpdate,
    arg: async ({ params: { year }, body, by }) => {
      await checkPlan(planDeps(), year, body.audits).catch(startRefused);
      return { by, audits: body.audits, ...(body.note ? { note: body.note } : {}) };
    },
    what: 'accepted',
  });

  programme.update('/internal-audit-programmes/:year/audits', {
    summary: 'Add an unplanned audit to a running programme',
    permission: 'internal-audit.plan',
    body: addBodySchema,
    update: addAuditUpdate,
    arg: async ({ params: { year }, body, by, workflow }) => {
      const audits = await currentAudits(workflow);
      if (!audits.some((a) => a.auditId === body.audit.auditId)) {
        await checkPlan(planDeps(), year, [...audits, body.audit], 'internal audit', {
          checkIds: [body.audit.auditId],
          rename: (f) => f.replace(/^audits\.\d+/, 'audit'),
        }).catch(startRefused);
      }
      return { by, audit: body.audit, ...(body.reason ? { reason: body.reason } : {}), ...(body.alreadyHeld ? { alreadyHeld: true } : {}) };
    },
    what: 'added',
  });

  programme.update('/internal-audit-programmes/:year/audits/:auditId/reschedule', {
    summary: 'Move an audit to another window',
    description:
      'The auditor and auditee get the updated calendar invitation (same event, higher sequence). A window that starts in the past ' +
      'is refused unless `alreadyHeld` records an audit that already took place.',
    params: auditParams,
    permission: 'internal-audit.plan',
    body: rescheduleBodySchema,
    update: rescheduleAuditUpdate,
    arg: ({ params: { auditId }, body, by }) => ({ by, auditId, window: body.window, reason: body.reason, ...(body.alreadyHeld ? { alreadyHeld: true } : {}) }),
    what: 'rescheduled',
  });

  programme.update('/internal-audit-programmes/:year/audits/:auditId/auditor', {
    summary: 'Give an audit another lead auditor',
    description: 'Impartiality is checked again; a running auditor task moves to the new auditor.',
    params: auditParams,
    permission: 'internal-audit.plan',
    body: auditorBodySchema,
    update: changeAuditorUpdate,
    arg: async ({ params: { year, auditId }, body, by, workflow }) => {
      const audits = await currentAudits(workflow);
      if (audits.some((a) => a.auditId === auditId)) {
        const changed = audits.map((a) => (a.auditId === auditId ? { ...a, leadAuditor: body.leadAuditor } : a));
        await checkPlan(planDeps(), year, changed, 'auditor change', {
          checkIds: [auditId],
          rename: (f) => f.replace(/^audits\.\d+\./, ''),
        }).catch(startRefused);
      }
      return { by, auditId, leadAuditor: body.leadAuditor, reason: body.reason };
    },
    what: 'changed',
  });

  programme.update('/internal-audit-programmes/:year/audits/:auditId/cancel', {
    summary: 'Cancel an audit with a reason',
    description: 'The auditor and auditee get a cancelled calendar invitation.',
    params: auditParams,
    permission: 'internal-audit.cancel',
    body: reasonBodySchema.describe('CancelInternalAudit'),
    update: cancelAuditUpdate,
    arg: ({ params: { auditId }, body, by }) => ({ by, auditId, reason: body.reason }),
    what: 'cancelled',
  });

  programme.update('/internal-audit-programmes/:year/close-year', {
    summary: 'Write the year-end report now',
    description:
      'Writes the programme report (coverage achieved, findings by type, NCs and their state) to the ledger before the end of the ' +
      'year, e.g. ahead of an external audit. Audits not started are cancelled. While audits are under way an interim report ' +
      'is written, and the final report, which supersedes it, once they have finished.',
    permission: 'internal-audit.close',
    body: reasonBodySchema.describe('CloseInternalAuditYear'),
    update: closeYearUpdate,
    arg: ({ body, by }) => ({ by, reason: body.reason }),
    what: 'closed',
  });

  app.get(
    '/internal-audits/summary',
    {
      preValidation: requirePermission('internal-audit.read'),
      schema: programme.schema({
        summary: 'Internal audit results of a period (9.3.2 d, certification readiness)',
        description:
          'From the evidence ledger: audits reported in the period with their scope and findings, the NCs raised, and the ' +
          'programme reports written in it. An unreadable ledger is `{ available: false, reason }`, never zeros.',
        querystring: summaryQuerySchema,
        response: { 200: summarySchema },
      }),
    },
    async (request) => {
      let period;
      try {
        period = summaryPeriod(request.query);
      } catch (err) {
        if (err instanceof RangeError) throw new HttpError(400, err.message, { cause: err });
        throw err;
      }
      return summarizeInternalAudits(app.deps.records, period);
    },
  );

  done();
};
