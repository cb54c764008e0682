/**
 * Console pages of objectives (6.2, 9.1) and of the AI policy (5.2, A.2.4, 7.3) for people who
 * sign in (or a key): the register of objectives, one objective with its chart and series, the
 * policy's versions, and one version with its text, the changes from the one before and who has
 * and has not acknowledged it. Rendered with the shared page layout; every value escaped, the
 * chart built from numbers and escaped text (src/objectives/chart.ts).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponseSchema, HttpError } from '../api/errors.js';
import { requirePermission } from '../api/plugins/admin-auth.js';
import { guardTemporalRoutes, temporalClient } from '../api/plugins/temporal-routes.js';
import { adminSchema } from '../api/plugins/workflow-routes.js';
import { renderPage, type PageName } from '../api/views/render.js';
import { acknowledgementsOf, policyDiff, policyVersions } from '../policy/versions.js';
import { objectiveChartSvg } from './chart.js';
import { objectiveStatusQuery, objectiveWorkflowId, OBJECTIVE_WORKFLOW } from './contract.js';
import { objectiveIdSchema } from './schema.js';
import { searchAttributes } from '../temporal/search-attributes.js';
import { isoOf, memoText, workflowsOf } from '../temporal/visibility.js';
import '../api/deps.js';

const html = { 200: { description: 'The page (HTML)', content: { 'text/html': { schema: z.string() } } }, 404: errorResponseSchema };
const day = (iso: string | undefined) => (iso ? iso.slice(0, 10) : '');

export const consolePages: FastifyPluginCallbackZod = (app, _options, done) => {
  const temporal = (): Client => temporalClient(app);
  const taskQueue = app.deps.config.TEMPORAL_TASK_QUEUE;
  const page = (name: PageName, model: object, title: string, requestId: string) =>
    renderPage(name, model, { pageTitle: title, requestId, siteName: app.deps.organization?.()?.organization.name });

  guardTemporalRoutes(app, 'console page');

  app.get(
    '/console/objectives',
    { preValidation: requirePermission('objective.read'), schema: adminSchema('objectives', { summary: 'The register of AI objectives, as a page', response: html }) },
    async (request, reply) => {
      const items = [];
      for await (const info of temporal().workflow.list({ query: workflowsOf(taskQueue, OBJECTIVE_WORKFLOW).join(' AND ') })) {
        const sa = info.typedSearchAttributes;
        const id = sa.get(searchAttributes.ref) ?? info.workflowId.replace(/^objective\//, '');
        const last = info.memo?.last as { value: number; at: string } | null | undefined;
        const running = info.status.name === 'RUNNING';
        items.push({
          objectiveId: id,
          url: `/admin/console/objectives/${encodeURIComponent(id)}`,
          statement: memoText(info.memo?.title) ?? '',
          owner: sa.get(searchAttributes.owner) ?? '',
          state: running ? (sa.get(searchAttributes.state) ?? 'not-measured') : 'retired',
          ...(last ? { last: { value: last.value, at: day(last.at) } } : {}),
          nextAt: running ? day(isoOf(sa.get(searchAttributes.dueDate))) : '',
        });
        if (items.length >= 1000) break;
      }
      items.sort((a, b) => a.objectiveId.localeCompare(b.objectiveId));
      return reply.type('text/html; charset=utf-8').send(page('objectives', { items }, 'AI objectives', request.id));
    },
  );

  app.get(
    '/console/objectives/:objectiveId',
    {
      preValidation: requirePermission('objective.read'),
      schema: adminSchema('objectives', { summary: 'One objective with its chart and measurements, as a page', params: z.strictObject({ objectiveId: objectiveIdSchema }), response: html }),
    },
    async (request, reply) => {
      const { objectiveId } = request.params;
      const status = await temporal()
        .workflow.getHandle(objectiveWorkflowId(objectiveId))
        .query(objectiveStatusQuery)
        .catch((err: unknown) => {
          if (err instanceof WorkflowNotFoundError) throw new HttpError(404, `No objective ${objectiveId}.`);
          throw err;
        });
      const d = status.definition;
      const model = {
        objectiveId,
        definition: d,
        state: status.state,
        every: d.every,
        measurer: d.measurement.by ?? d.owner,
        direction: d.metric.direction === 'higher-is-better' ? 'higher is better' : 'lower is better',
        chart: objectiveChartSvg({ title: d.metric.name, unit: d.metric.unit, target: d.metric.target, atRisk: d.metric.atRisk, points: status.series }),
        series: status.series.map((m) => ({ ...m, date: day(m.at), evaluation: m.evaluation.replace('-', ' ') })),
      };
      return reply.type('text/html; charset=utf-8').send(page('objective', model, `Objective ${objectiveId}`, request.id));
    },
  );

  app.get(
    '/console/policy',
    { preValidation: requirePermission('policy.read'), schema: adminSchema('policy', { summary: 'The approved versions of the AI policy, as a page', response: html }) },
    async (request, reply) => {
      const items = (await policyVersions(app.deps.records)).map((v) => ({
        version: v.version,
        url: `/admin/console/policy/${v.version}`,
        approvedAt: day(v.approvedAt),
        approvedBy: v.approvedBy.join(', '),
        contentHash: v.contentHash,
      }));
      return reply.type('text/html; charset=utf-8').send(page('policyVersions', { items }, 'AI policy versions', request.id));
    },
  );

  app.get(
    '/console/policy/:version',
    {
      preValidation: requirePermission('policy.read'),
      schema: adminSchema('policy', {
        summary: 'One version of the AI policy with the changes from the one before and its acknowledgements, as a page',
        params: z.strictObject({ version: z.coerce.number({ error: 'must be a version number' }).int('must be a whole number').min(1, 'must be at least 1') }),
        response: html,
      }),
    },
    async (request, reply) => {
      const versions = await policyVersions(app.deps.records);
      const v = versions.find((x) => x.version === request.params.version);
      if (!v) throw new HttpError(404, `No approved version ${request.params.version} of the AI policy.`);
      const before = versions.filter((x) => x.version < v.version).at(-1);
      const acks = await acknowledgementsOf(app.deps.records, v.version);
      const model = {
        ...v,
        approvedAt: day(v.approvedAt),
        approvedBy: v.approvedBy.join(', '),
        ...(before
          ? { diff: { from: before.version, lines: policyDiff(before.text, v.text).map((l) => ({ ...l, kind: l.op === '+' ? 'added' : l.op === '-' ? 'removed' : 'kept' })) } }
          : {}),
        ...(acks
          ? {
              acknowledgements: {
                acknowledged: acks.acknowledged.map((a) => ({ person: a.person, at: day(a.at) })),
                pending: acks.pending,
                total: acks.acknowledged.length + acks.pending.length,
                rateText: acks.rate === null ? 'nobody in scope' : `${Math.round(acks.rate * 1000) / 10} %`,
              },
            }
          : {}),
      };
      return reply.type('text/html; charset=utf-8').send(page('policyVersion', model, `AI policy version ${v.version}`, request.id));
    },
  );

  done();
};
