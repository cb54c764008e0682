/**
 * Admin routes for management reviews (ISO/IEC 42001 9.3): start a review, see its state and
 * its printable pack, record the minutes (again, to edit them: the approval is asked again),
 * cancel one, and list past reviews with their decisions and the state of their actions.
 * The yearly schedule that starts reviews is managed under `/admin/schedules`.
 *
 * Registered inside the admin scope (API key required). Every route needs the Temporal
 * client; without one they answer 503.
 */
import type { Client } from '@temporalio/client';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { calendarDate } from '../common/dates.js';
import { managementReviewPolicySchema, reviewIdSchema, reviewMinutesSchema, type ReviewActionOutcome } from './schema.js';
import { actorSchema } from '../common/schemas.js';
import { actionStates } from './actions.js';
import { cancelReviewUpdate, MANAGEMENT_REVIEW_WORKFLOW, managementReviewStatusQuery, managementReviewWorkflowId, recordMinutesUpdate } from './contract.js';
import { renderPackHtml } from './pack.js';
import { completedReviewOf, completedReviewRecords, contentOf } from './summary.js';
import { startManagementReview } from './start.js';
import { visibilityLiteral } from '../temporal/visibility.js';
import { errorResponseSchema, HttpError } from '../api/errors.js';
import { limitParam } from '../api/query-params.js';
import { guardTemporalRoutes, temporalClient } from '../api/plugins/temporal-routes.js';
import { requirePermission } from '../api/plugins/admin-auth.js';
import { actingPerson, startRefused, workflowRoutes } from '../api/plugins/workflow-routes.js';
import '../api/deps.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;

export const startBodySchema = z
  .strictObject({
    reviewId: reviewIdSchema.describe('e.g. `2027` or `2027-H1`; the workflow id is `management-review/<reviewId>`'),
    meetingDate: calendarDate.describe('The day of the review meeting (YYYY-MM-DD)'),
    requestedBy: actorSchema.optional().describe('If given, must name whoever is authenticated: the review is started as them'),
    trigger: z.enum(['admin', 'schedule', 'certification'], { message: 'must be "admin", "schedule" or "certification"' }).default('admin'),
    triggerRef: z.string().trim().min(1).max(300).optional(),
    periodFrom: calendarDate.optional().describe('Start of the period the performance figures cover; default the previous review, or one year'),
    policy: managementReviewPolicySchema.optional().describe('Overrides of the organization defaults (short durations for tests)'),
  })
  .describe('StartManagementReview');

const linksSchema = z.object({ status: z.string(), pack: z.string(), minutes: z.string(), cancel: z.string() });

const startedSchema = z.object({ reviewId: z.string(), workflowId: z.string(), links: linksSchema }).describe('ManagementReviewStarted');

const paramsSchema = z.object({ reviewId: reviewIdSchema });

const detailSchema = z
  .object({
    reviewId: z.string(),
    workflowId: z.string(),
    runId: z.string(),
    executionStatus: z.string(),
    startedAt: z.string(),
    closedAt: z.string().optional(),
    status: z.looseObject({ state: z.string(), inputs: z.array(z.unknown()), timeline: z.array(z.unknown()) }).describe('The managementReviewStatus query result'),
    links: linksSchema,
  })
  .describe('ManagementReviewDetail');

export const minutesBodySchema = reviewMinutesSchema
  .extend({ by: actorSchema.optional().describe('If given, must name whoever is authenticated (the AIMS manager): the minutes are recorded as them') })
  .describe('ManagementReviewMinutes');

const cancelBodySchema = z.strictObject({
  reason: z.string().trim().min(1, 'a reason is required').max(2000, 'must be at most 2000 characters'),
  by: actorSchema.optional().describe('If given, must name whoever is authenticated: the cancel is recorded as them'),
});

const ackSchema = z.object({ reviewId: z.string(), ok: z.literal(true), state: z.string(), message: z.string() });

const listQuerySchema = z.strictObject({ limit: limitParam(MAX_LIMIT, DEFAULT_LIMIT) });

const actionSchema = z.object({
  n: z.number(),
  title: z.string(),
  owner: z.string(),
  dueDate: z.string(),
  input: z.string(),
  kind: z.string(),
  workflowId: z.string(),
  ncId: z.string().optional(),
  state: z.string().describe('Live state of the task or corrective action, or the last one the ledger knows'),
  stateSource: z.enum(['live', 'ledger']),
});

const listItemSchema = z
  .object({
    reviewId: z.string(),
    workflowId: z.string(),
    state: z.string(),
    executionStatus: z.string().optional().describe('Absent when only the ledger still knows the review'),
    meetingDate: z.string().optional(),
    approvedAt: z.string().optional(),
    improvementDecisions: z.array(z.string()).optional(),
    changeDecisions: z.array(z.string()).optional(),
    actions: z.array(actionSchema),
  })
  .describe('ManagementReviewListItem');

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export const managementReviewRoutes: FastifyPluginCallbackZod = (app, _options, done) => {
  const temporal = (): Client => temporalClient(app);
  const taskQueue = app.deps.config.TEMPORAL_TASK_QUEUE;
  const base = app.deps.config.PUBLIC_BASE_URL;
  const linksFor = (reviewId: string) => {
    const self = `${base}/admin/management-reviews/${reviewId}`;
    return { status: self, pack: `${self}/pack`, minutes: `${self}/minutes`, cancel: `${self}/cancel` };
  };

  guardTemporalRoutes(app, 'management review');

  const review = workflowRoutes(app, {
    tag: 'management-reviews',
    type: MANAGEMENT_REVIEW_WORKFLOW,
    params: paramsSchema,
    key: 'reviewId',
    read: 'management-review.read',
    workflowId: managementReviewWorkflowId,
    query: managementReviewStatusQuery,
    ack: ackSchema,
    notFound: (reviewId) => `No management review ${reviewId}.`,
    closed: (reviewId, status) => `management review ${reviewId} is already closed (${status})`,
    gone: () => 'the review closed in the meantime',
  });

  app.post(
    '/management-reviews',
    {
      preValidation: requirePermission('management-review.start'),
      schema: review.schema({
        summary: 'Start a management review',
        description:
          'Starts `management-review/<reviewId>`: the input owners get their tasks, the attendees the meeting invitation. ' +
          'A review id is used once: 409 when that review runs or completed.',
        body: startBodySchema,
        response: { 201: startedSchema, 409: errorResponseSchema },
      }),
    },
    async (request, reply) => {
      const org = app.deps.organization?.();
      const { policy, ...given } = request.body;
      const rest = { ...given, requestedBy: actingPerson(request) };
      try {
        await startManagementReview(temporal(), taskQueue, { ...rest, ...(policy ? { policy } : {}) }, { ...(org ? { organization: org } : {}), publicBaseUrl: app.deps.config.PUBLIC_BASE_URL });
      } catch (err) {
        startRefused(err, () => `Management review ${rest.reviewId} already exists; choose another review id (e.g. ${rest.reviewId.slice(0, 4)}-H2).`);
      }
      const workflowId = managementReviewWorkflowId(rest.reviewId);
      request.log.info({ workflowId }, 'management review started');
      return reply.code(201).send({ reviewId: rest.reviewId, workflowId, links: linksFor(rest.reviewId) });
    },
  );

  app.get(
    '/management-reviews',
    {
      preValidation: requirePermission('management-review.read'),
      schema: review.schema({
        summary: 'List management reviews with their decisions and action status',
        description:
          'Running and closed reviews from Temporal visibility, and every review whose results were approved from the ledger ' +
          '(also after Temporal forgot it), newest meeting first. Actions show the live state of their task or corrective action.',
        querystring: listQuerySchema,
        response: { 200: z.object({ items: z.array(listItemSchema) }) },
      }),
    },
    async (request) => {
      const client = temporal();
      const limit = request.query.limit ?? DEFAULT_LIMIT;
      const items = new Map<string, z.input<typeof listItemSchema>>();
      const query = `TaskQueue = ${visibilityLiteral(taskQueue)} AND WorkflowType = ${visibilityLiteral(MANAGEMENT_REVIEW_WORKFLOW)}`;
      for await (const info of client.workflow.list({ query })) {
        const memo = info.memo ?? {};
        const reviewId = info.workflowId.replace(/^management-review\//, '');
        items.set(info.workflowId, {
          reviewId,
          workflowId: info.workflowId,
          state: typeof memo.state === 'string' ? memo.state : info.status.name.toLowerCase(),
          executionStatus: info.status.name,
          ...(typeof memo.meetingDate === 'string' ? { meetingDate: memo.meetingDate } : {}),
          actions: [],
        });
        if (items.size >= limit) break;
      }
      const completed = await completedReviewRecords(app.deps.records);
      for (const record of completed) {
        const review = completedReviewOf(record);
        const c = contentOf(record.content);
        const actions = (Array.isArray(c.actions) ? c.actions : []) as ReviewActionOutcome[];
        const known = items.get(review.workflowId);
        items.set(review.workflowId, {
          ...(known ?? {}),
          reviewId: review.reviewId,
          workflowId: review.workflowId,
          state: 'completed',
          meetingDate: review.meetingDate,
          approvedAt: review.approvedAt,
          improvementDecisions: strings(c.improvementDecisions),
          changeDecisions: strings(c.changeDecisions),
          actions: await actionStates(client, app.deps.records, actions),
        });
      }
      const sorted = [...items.values()].sort((a, b) => (b.meetingDate ?? '').localeCompare(a.meetingDate ?? '') || b.reviewId.localeCompare(a.reviewId));
      return { items: sorted.slice(0, limit) };
    },
  );

  review.detail('/management-reviews/:reviewId', {
    summary: 'One management review: inputs, pack, minutes, approval, actions and timeline',
    response: detailSchema,
    more: ({ reviewId }) => ({ links: linksFor(reviewId) }),
  });

  app.get(
    '/management-reviews/:reviewId/pack',
    {
      preValidation: requirePermission('management-review.read'),
      schema: review.schema({
        summary: 'The review pack as a printable HTML document (with the minutes once recorded)',
        params: paramsSchema,
        // Only the pack itself is HTML; every error is the JSON error body, as on any admin route.
        response: {
          200: { description: 'The pack (HTML)', content: { 'text/html': { schema: z.string() } } },
          404: errorResponseSchema.describe('No such management review'),
          409: errorResponseSchema.describe('The pack is not built yet'),
        },
      }),
    },
    async (request, reply) => {
      const { reviewId } = request.params;
      const status = await review.status(await review.find(request.params));
      if (!status.pack) throw new HttpError(409, `The pack of management review ${reviewId} is not built yet: the inputs are still being collected.`);
      const org = app.deps.organization?.();
      const people = Object.fromEntries((org?.people ?? []).map((p) => [p.id, p.name]));
      return reply.type('text/html; charset=utf-8').send(renderPackHtml(status.pack, { ...status, people }));
    },
  );

  review.update('/management-reviews/:reviewId/minutes', {
    summary: 'Record (or edit) the minutes of the review meeting',
    description:
      'Attendees, decisions on improvement opportunities and on changes to the management system, and actions (owner, due ' +
      'date, the input it answers; `nonconformity: true` or `ncRef` raises a corrective action), and for each input missing ' +
      'from the pack a decision in `missingInputs` (accepted with a reason, or an action to supply it). Recorded once the ' +
      'meeting has started; actions may not be due in the past. Sent to top management for ' +
      'approval, bound to the hash of pack + minutes; sent again while the approval runs, earlier decisions are void and ' +
      'top management is asked again.',
    permission: 'management-review.minutes',
    body: minutesBodySchema,
    update: recordMinutesUpdate,
    arg: ({ body, by }) => ({ ...body, by }),
    what: 'recorded',
    log: { message: 'management review minutes recorded' },
  });

  review.update('/management-reviews/:reviewId/cancel', {
    summary: 'Cancel a management review with a reason',
    description: 'Cancels open input tasks and a running approval; the reason goes to the ledger. Not possible once the results are approved.',
    permission: 'management-review.cancel',
    body: cancelBodySchema,
    update: cancelReviewUpdate,
    arg: ({ body, by }) => ({ by, reason: body.reason }),
    what: 'cancelled',
    log: { message: 'management review cancelled' },
  });

  done();
};
