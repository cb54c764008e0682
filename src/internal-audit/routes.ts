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
import {
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
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
  type ProgrammeStatus,
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
import { StartInputError } from '../temporal/start.js';
import { executionFacts } from '../temporal/visibility.js';
import { errorResponseSchema, HttpError } from '../api/errors.js';
import { adminSecurity } from '../api/plugins/admin-auth.js';
import { findWorkflow, guardTemporalRoutes, temporalClient, temporalRouteResponses, updateRunning } from '../api/plugins/temporal-routes.js';
import '../api/deps.js';

// Schemas

const yearParams = z.strictObject({ year: z.coerce.number().pipe(auditYearSchema) });
const auditParams = z.strictObject({ year: z.coerce.number().pipe(auditYearSchema), auditId: auditIdSchema });

const byField = actorSchema.optional().describe("The AIMS manager's person id; default `system` (the admin acting for the organization)");
const reasonField = z.string().trim().min(1, 'a reason is required').max(2000, 'must be at most 2000 characters');

const startBodySchema = z
  .strictObject({
    year: auditYearSchema,
    audits: auditListSchema.optional().describe('The planned audits; without them the AIMS manager is asked for the plan'),
    requestedBy: actorSchema.optional(),
    policy: internalAuditPolicySchema.optional(),
  })
  .describe('StartInternalAuditProgramme');

const planBodySchema = z
  .strictObject({
    audits: auditListSchema,
    by: actorSchema.optional().describe('Who prepared the plan: the AIMS manager or an internal auditor; default `system`'),
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

const periodDate = z
  .string()
  .refine(
    (v) => z.iso.date().safeParse(v).success || z.iso.datetime({ offset: true }).safeParse(v).success,
    'must be a date (2027-01-31) or an ISO-8601 date-time',
  );
const summaryQuerySchema = z.strictObject({
  from: periodDate.optional().describe('Start of the period (inclusive); default one year before `to`'),
  to: periodDate.optional().describe('End of the period (a date counts as its whole day); default now'),
});

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

const authResponses = temporalRouteResponses;

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
  const badInput = (err: unknown): never => {
    if (err instanceof StartInputError) throw new HttpError(400, err.message, { issues: err.issues, cause: err });
    throw err;
  };

  guardTemporalRoutes(app, 'internal audit programme');

  const findProgramme = (year: number) =>
    findWorkflow(temporal(), internalAuditProgrammeWorkflowId(year), INTERNAL_AUDIT_PROGRAMME_WORKFLOW, `No internal audit programme for ${year}.`);

  /** Sends an update to a running programme; a refusal by the workflow is a 409 with its reason. */
  const update = async <R extends { ok: true; state: string; message: string }>(year: number, what: string, send: (handle: WorkflowHandle) => Promise<R>) => ({
    year,
    ...(await updateRunning(
      await findProgramme(year),
      what,
      { closed: (status) => `the ${year} programme is closed (${status})`, gone: `the ${year} programme closed in the meantime` },
      send,
    )),
  });

  /** The current audits of a running programme, to check a change against. */
  const currentAudits = async (year: number) => {
    const { handle } = await findProgramme(year);
    const status: ProgrammeStatus = await handle.query(programmeStatusQuery);
    return status.audits.filter((a) => !a.cancellation);
  };

  app.post(
    '/internal-audit-programmes',
    {
      schema: {
        tags: ['internal-audit'],
        summary: 'Start the internal audit programme of a year',
        description:
          'Starts `internal-audit-programme/<year>`. With `audits` the plan is checked (impartiality, windows inside the year; ' +
          'coverage gaps over the audit cycle come back as warnings) and goes to the AIMS manager for approval; without them the ' +
          'AIMS manager gets a task to plan the programme (submit it with PUT .../plan).',
        security: adminSecurity,
        body: startBodySchema,
        response: { 201: startedSchema, 409: errorResponseSchema, ...authResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      let started;
      try {
        started = await startInternalAuditProgramme(
          temporal(),
          taskQueue,
          { year: body.year, trigger: 'admin', requestedBy: body.requestedBy ?? 'system', ...(body.audits ? { audits: body.audits } : {}), ...(body.policy ? { policy: body.policy } : {}) },
          planDeps(),
        );
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          throw new HttpError(409, `The ${body.year} internal audit programme has already been started (${internalAuditProgrammeWorkflowId(body.year)}).`, { cause: err });
        }
        return badInput(err);
      }
      request.log.info({ workflowId: started.handle.workflowId }, 'internal audit programme started');
      return reply.code(201).send({ year: body.year, workflowId: started.handle.workflowId, warnings: warningText(started.warnings), links: linksFor(body.year) });
    },
  );

  app.get(
    '/internal-audit-programmes',
    {
      schema: {
        tags: ['internal-audit'],
        summary: 'List internal audit programmes',
        description: 'From Temporal visibility (eventually consistent), newest first: each programme with its state and its audits\' states.',
        security: adminSecurity,
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
          ...authResponses,
        },
      },
    },
    async () => ({ items: await listProgrammes(temporal(), taskQueue) }),
  );

  app.get(
    '/internal-audit-programmes/:year',
    {
      schema: {
        tags: ['internal-audit'],
        summary: 'An internal audit programme with every audit and its timeline',
        security: adminSecurity,
        params: yearParams,
        response: { 200: detailSchema, 404: errorResponseSchema, ...authResponses },
      },
    },
    async (request) => {
      const { handle, description } = await findProgramme(request.params.year);
      const status: ProgrammeStatus = await handle.query(programmeStatusQuery);
      return {
        year: request.params.year,
        workflowId: handle.workflowId,
        ...executionFacts(description),
        status: status as unknown as z.input<typeof detailSchema>['status'],
      };
    },
  );

  app.put(
    '/internal-audit-programmes/:year/plan',
    {
      schema: {
        tags: ['internal-audit'],
        summary: 'Submit the plan of a programme waiting for one',
        description: 'Checked like a plan given at start; then it goes for approval. Coverage gaps come back as warnings.',
        security: adminSecurity,
        params: yearParams,
        body: planBodySchema,
        response: { 200: ackSchema, 404: errorResponseSchema, 409: errorResponseSchema, ...authResponses },
      },
    },
    async (request) => {
      const { year } = request.params;
      await findProgramme(year);
      await checkPlan(planDeps(), year, request.body.audits).catch(badInput);
      const by = request.body.by ?? 'system';
      return update(year, 'accepted', (handle) =>
        handle.executeUpdate(submitPlanUpdate, { args: [{ by, audits: request.body.audits, ...(request.body.note ? { note: request.body.note } : {}) }] }),
      );
    },
  );

  app.post(
    '/internal-audit-programmes/:year/audits',
    {
      schema: {
        tags: ['internal-audit'],
        summary: 'Add an unplanned audit to a running programme',
        security: adminSecurity,
        params: yearParams,
        body: addBodySchema,
        response: { 200: ackSchema, 404: errorResponseSchema, 409: errorResponseSchema, ...authResponses },
      },
    },
    async (request) => {
      const { year } = request.params;
      const audits = await currentAudits(year);
      if (!audits.some((a) => a.auditId === request.body.audit.auditId)) {
        await checkPlan(planDeps(), year, [...audits, request.body.audit], 'internal audit', {
          checkIds: [request.body.audit.auditId],
          rename: (f) => f.replace(/^audits\.\d+/, 'audit'),
        }).catch(badInput);
      }
      const by = request.body.by ?? 'system';
      return update(year, 'added', (handle) =>
        handle.executeUpdate(addAuditUpdate, {
          args: [{ by, audit: request.body.audit, ...(request.body.reason ? { reason: request.body.reason } : {}), ...(request.body.alreadyHeld ? { alreadyHeld: true } : {}) }],
        }),
      );
    },
  );

  app.post(
    '/internal-audit-programmes/:year/audits/:auditId/reschedule',
    {
      schema: {
        tags: ['internal-audit'],
        summary: 'Move an audit to another window',
        description:
          'The auditor and auditee get the updated calendar invitation (same event, higher sequence). A window that starts in the past ' +
          'is refused unless `alreadyHeld` records an audit that already took place.',
        security: adminSecurity,
        params: auditParams,
        body: rescheduleBodySchema,
        response: { 200: ackSchema, 404: errorResponseSchema, 409: errorResponseSchema, ...authResponses },
      },
    },
    async (request) => {
      const { year, auditId } = request.params;
      const by = request.body.by ?? 'system';
      return update(year, 'rescheduled', (handle) =>
        handle.executeUpdate(rescheduleAuditUpdate, {
          args: [{ by, auditId, window: request.body.window, reason: request.body.reason, ...(request.body.alreadyHeld ? { alreadyHeld: true } : {}) }],
        }),
      );
    },
  );

  app.post(
    '/internal-audit-programmes/:year/audits/:auditId/auditor',
    {
      schema: {
        tags: ['internal-audit'],
        summary: 'Give an audit another lead auditor',
        description: 'Impartiality is checked again; a running auditor task moves to the new auditor.',
        security: adminSecurity,
        params: auditParams,
        body: auditorBodySchema,
        response: { 200: ackSchema, 404: errorResponseSchema, 409: errorResponseSchema, ...authResponses },
      },
    },
    async (request) => {
      const { year, auditId } = request.params;
      const audits = await currentAudits(year);
      const current = audits.find((a) => a.auditId === auditId);
      if (current) {
        const changed = audits.map((a) => (a.auditId === auditId ? { ...a, leadAuditor: request.body.leadAuditor } : a));
        await checkPlan(planDeps(), year, changed, 'auditor change', {
          checkIds: [auditId],
          rename: (f) => f.replace(/^audits\.\d+\./, ''),
        }).catch(badInput);
      }
      const by = request.body.by ?? 'system';
      return update(year, 'changed', (handle) =>
        handle.executeUpdate(changeAuditorUpdate, { args: [{ by, auditId, leadAuditor: request.body.leadAuditor, reason: request.body.reason }] }),
      );
    },
  );

  app.post(
    '/internal-audit-programmes/:year/audits/:auditId/cancel',
    {
      schema: {
        tags: ['internal-audit'],
        summary: 'Cancel an audit with a reason',
        description: 'The auditor and auditee get a cancelled calendar invitation.',
        security: adminSecurity,
        params: auditParams,
        body: reasonBodySchema.describe('CancelInternalAudit'),
        response: { 200: ackSchema, 404: errorResponseSchema, 409: errorResponseSchema, ...authResponses },
      },
    },
    async (request) => {
      const { year, auditId } = request.params;
      const by = request.body.by ?? 'system';
      return update(year, 'cancelled', (handle) => handle.executeUpdate(cancelAuditUpdate, { args: [{ by, auditId, reason: request.body.reason }] }));
    },
  );

  app.post(
    '/internal-audit-programmes/:year/close-year',
    {
      schema: {
        tags: ['internal-audit'],
        summary: 'Write the year-end report now',
        description:
          'Writes the programme report (coverage achieved, findings by type, NCs and their state) to the ledger before the end of the ' +
          'year, e.g. ahead of an external audit. Audits not started are cancelled. While audits are under way an interim report ' +
          'is written, and the final report, which supersedes it, once they have finished.',
        security: adminSecurity,
        params: yearParams,
        body: reasonBodySchema.describe('CloseInternalAuditYear'),
        response: { 200: ackSchema, 404: errorResponseSchema, 409: errorResponseSchema, ...authResponses },
      },
    },
    async (request) => {
      const by = request.body.by ?? 'system';
      return update(request.params.year, 'closed', (handle) => handle.executeUpdate(closeYearUpdate, { args: [{ by, reason: request.body.reason }] }));
    },
  );

  app.get(
    '/internal-audits/summary',
    {
      schema: {
        tags: ['internal-audit'],
        summary: 'Internal audit results of a period (9.3.2 d, certification readiness)',
        description:
          'From the evidence ledger: audits reported in the period with their scope and findings, the NCs raised, and the ' +
          'programme reports written in it. An unreadable ledger is `{ available: false, reason }`, never zeros.',
        security: adminSecurity,
        querystring: summaryQuerySchema,
        response: { 200: summarySchema, ...authResponses },
      },
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
