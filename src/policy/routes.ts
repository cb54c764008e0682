/**
 * Admin routes of the AI policy (5.2, A.2.4) and its awareness (7.3): the approved versions
 * (list, show, diff), who has and has not acknowledged a version, starting a review, one review's
 * status, and the competence gaps and renewals of the organization file (7.2).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponseSchema, HttpError } from '../api/errors.js';
import { requirePermission } from '../api/plugins/admin-auth.js';
import { adminSchema } from '../api/plugins/workflow-routes.js';
import { guardTemporalRoutes, temporalClient } from '../api/plugins/temporal-routes.js';
import { actingPerson, startRefused } from '../api/plugins/workflow-routes.js';
import { competenceGaps, renewalsDue } from '../competence/rules.js';
import { durationMs } from '../common/duration.js';
import { parseStartInput } from '../temporal/start.js';
import { searchAttributes } from '../temporal/search-attributes.js';
import { POLICY_REVIEW_WORKFLOW, policyReviewStatusQuery, policyReviewWorkflowId, type PolicyReviewWorkflow } from './contract.js';
import { POLICY_CLAUSES, policyReviewInputSchema } from './schema.js';
import { acknowledgementsOf, policyDiff, policyVersions } from './versions.js';
import { consoleDetails } from '../temporal/start.js';
import '../api/deps.js';

const versionParams = z.strictObject({ version: z.coerce.number({ error: 'must be a version number' }).int('must be a whole number').min(1, 'must be at least 1') });
const reviewParams = z.strictObject({ reviewRef: policyReviewInputSchema.shape.reviewRef });

const versionSchema = z
  .object({ version: z.number(), title: z.string(), contentHash: z.string(), owner: z.string(), approvedBy: z.array(z.string()), approvedAt: z.string(), reviewRef: z.string(), text: z.string().optional() })
  .describe('PolicyVersion');

export const policyRoutes: FastifyPluginCallbackZod = (app, _options, done) => {
  const temporal = (): Client => temporalClient(app);
  const taskQueue = app.deps.config.TEMPORAL_TASK_QUEUE;
  const schema = <const T extends { summary: string; response: Record<number, z.ZodType> }>(s: T) => adminSchema('policy', s);
  const version = async (n: number) => {
    const found = (await policyVersions(app.deps.records)).find((v) => v.version === n);
    if (!found) throw new HttpError(404, `No approved version ${n} of the AI policy.`);
    return found;
  };

  guardTemporalRoutes(app, 'AI policy');

  app.get(
    '/policy/versions',
    { preValidation: requirePermission('policy.read'), schema: schema({ summary: 'The approved versions of the AI policy, oldest first', response: { 200: z.object({ items: z.array(versionSchema) }) } }) },
    async () => ({ items: (await policyVersions(app.deps.records)).map(({ text: _text, approvalId: _a, ...v }) => v) }),
  );

  app.get(
    '/policy/versions/:version',
    { preValidation: requirePermission('policy.read'), schema: schema({ summary: 'One version of the AI policy with its text', params: versionParams, response: { 200: versionSchema, 404: errorResponseSchema } }) },
    async (request) => {
      const { approvalId: _a, ...v } = await version(request.params.version);
      return v;
    },
  );

  app.get(
    '/policy/versions/:version/diff',
    {
      preValidation: requirePermission('policy.read'),
      schema: schema({
        summary: 'What changed from an earlier version, line by line',
        params: versionParams,
        querystring: z.strictObject({ from: z.coerce.number({ error: 'must be a version number' }).int('must be a whole number').min(1, 'must be at least 1').optional() }),
        response: { 200: z.object({ from: z.number(), to: z.number(), lines: z.array(z.object({ op: z.enum(['+', '-', ' ']), line: z.string() })) }), 404: errorResponseSchema },
      }),
    },
    async (request) => {
      const to = await version(request.params.version);
      const fromN = request.query.from ?? to.version - 1;
      if (fromN < 1) throw new HttpError(400, 'Invalid input: from: version 1 has no earlier version; name one with ?from=', { issues: [{ path: 'from', message: 'version 1 has no earlier version' }] });
      const from = await version(fromN);
      return { from: from.version, to: to.version, lines: policyDiff(from.text, to.text) };
    },
  );

  app.get(
    '/policy/versions/:version/acknowledgements',
    {
      preValidation: requirePermission('policy.read'),
      schema: schema({
        summary: 'Who has and has not acknowledged a version (7.3)',
        params: versionParams,
        response: {
          200: z.object({ version: z.number(), requestedAt: z.string(), acknowledged: z.array(z.object({ person: z.string(), at: z.string() })), pending: z.array(z.string()), rate: z.number().nullable() }),
          404: errorResponseSchema,
        },
      }),
    },
    async (request) => {
      const found = await acknowledgementsOf(app.deps.records, request.params.version);
      if (!found) throw new HttpError(404, `No acknowledgements were asked for version ${request.params.version} of the AI policy.`);
      return found;
    },
  );

  app.post(
    '/policy/reviews',
    {
      preValidation: requirePermission('policy.review'),
      schema: schema({
        summary: 'Start a review of the AI policy',
        description: 'The owner reviews the version in force: "no change" is recorded; a new version goes to top management for approval, then to everyone in scope for acknowledgement.',
        body: z.strictObject({ reviewRef: policyReviewInputSchema.shape.reviewRef, reason: z.string().trim().min(1).max(2000).optional(), trigger: z.enum(['admin', 'management-review']).optional() }),
        response: { 201: z.object({ reviewRef: z.string(), workflowId: z.string() }), 409: errorResponseSchema },
      }),
    },
    async (request, reply) => {
      const { reviewRef, reason, trigger } = request.body;
      let spec;
      try {
        spec = parseStartInput(policyReviewInputSchema, { reviewRef, trigger: trigger ?? 'admin', requestedBy: actingPerson(request), ...(reason ? { reason } : {}) }, 'policy review');
        const handle = await temporal().workflow.start<PolicyReviewWorkflow>(POLICY_REVIEW_WORKFLOW, {
          taskQueue,
          workflowId: policyReviewWorkflowId(reviewRef),
          args: [spec],
          staticSummary: `AI policy review ${reviewRef}`,
          ...consoleDetails(app.deps.config.PUBLIC_BASE_URL, policyReviewWorkflowId(reviewRef)),
          typedSearchAttributes: [
            { key: searchAttributes.process, value: 'ai-policy' },
            { key: searchAttributes.ref, value: reviewRef },
            { key: searchAttributes.state, value: 'reviewing' },
            { key: searchAttributes.clauses, value: [...POLICY_CLAUSES, '7.3'] },
          ],
        });
        return reply.code(201).send({ reviewRef, workflowId: handle.workflowId });
      } catch (err) {
        startRefused(err, (id) => `Not started: the review ${id} exists already.`);
      }
    },
  );

  app.get(
    '/policy/reviews/:reviewRef',
    {
      preValidation: requirePermission('policy.read'),
      schema: schema({ summary: "One policy review's status: outcome, new version, acknowledgements and rate", params: reviewParams, response: { 200: z.looseObject({ state: z.string() }), 404: errorResponseSchema } }),
    },
    async (request) => {
      const handle = temporal().workflow.getHandle(policyReviewWorkflowId(request.params.reviewRef));
      const status = await handle.query(policyReviewStatusQuery).catch((err: unknown) => {
        if (err instanceof WorkflowNotFoundError) throw new HttpError(404, `No policy review ${request.params.reviewRef}.`);
        throw err;
      });
      return { ...status };
    },
  );

  app.get(
    '/competence',
    {
      preValidation: requirePermission('competence.read'),
      schema: schema({
        summary: 'Competence (7.2): required competences without valid evidence, and evidence to renew soon',
        response: {
          200: z.object({
            gaps: z.array(z.object({ person: z.string(), competence: z.string(), reason: z.string() })),
            renewals: z.array(z.object({ person: z.string(), competence: z.string(), evidence: z.string(), expiresOn: z.string() })),
          }),
        },
      }),
    },
    async () => {
      const o = app.deps.organization?.();
      if (!o) throw new HttpError(503, 'The organization file is not loaded in this API.');
      const now = Date.now();
      const today = new Date(now).toISOString().slice(0, 10);
      return { gaps: competenceGaps(o, today), renewals: renewalsDue(o, today, new Date(now + durationMs(o.competence.renewBefore)).toISOString().slice(0, 10)) };
    },
  );

  done();
};
