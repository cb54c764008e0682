/**
 * Admin routes of the Statement of Applicability (6.1.3): the version in force or any earlier
 * one, the diff between two versions, the printable HTML and CSV exports, the AIMS manager's
 * edits (each a new version), and starting its review. A bad field is a 400 naming it (an
 * unknown control id, an exclusion without justification, an unknown owner); an unknown
 * version a 404.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, errorResponseSchema, HttpError } from '../api/errors.js';
import { adminSecurity, requirePermission } from '../api/plugins/admin-auth.js';
import { temporalClient } from '../api/plugins/temporal-routes.js';
import { actingPerson } from '../api/plugins/workflow-routes.js';
import { searchAttributes } from '../temporal/search-attributes.js';
import { SOA_REVIEW_WORKFLOW, soaReviewWorkflowId } from './contract.js';
import { soaCsv, soaHtml } from './export.js';
import { soaDiff, soaEditsSchema } from './schema.js';
import { appendSoaChange, soaVersions, type SoaVersion } from './store.js';
import { consoleDetails } from '../temporal/start.js';
import '../api/deps.js';

export const versionParam = z.coerce.number({ error: 'must be a version number' }).int('must be a whole number').min(0, 'must be 0 or more');

const controlSchema = z.object({
  control: z.string(),
  title: z.string(),
  included: z.boolean(),
  justification: z.string(),
  implementation: z.enum(['planned', 'partial', 'implemented']).nullable(),
  owner: z.string().nullable(),
  evidence: z.array(z.string()),
  risks: z.array(z.string()),
});
const versionSchema = z
  .object({
    version: z.number(),
    controls: z.array(controlSchema),
    hash: z.string(),
    recordId: z.string().nullable(),
    at: z.string().nullable(),
    by: z.string().nullable(),
    reason: z.string(),
    source: z.string().nullable(),
    approved: z.object({ by: z.string(), at: z.string(), approvalId: z.string(), recordId: z.string() }).nullable(),
  })
  .describe('SoaVersion');

const responses = {
  ...errorResponses,
  401: errorResponseSchema.describe('Not signed in, or a missing or wrong API key'),
  403: errorResponseSchema.describe('The principal may not do this'),
  404: errorResponseSchema.describe('No such version'),
} as const;

export const soaRoutes: FastifyPluginCallbackZod = (app, _options, done) => {
  const org = () => {
    const o = app.deps.organization?.();
    if (!o) throw new HttpError(503, 'The organization file is not loaded.');
    return o;
  };
  const versionOf = async (version: number | undefined): Promise<SoaVersion> => {
    const all = await soaVersions(app.deps.records, org());
    const found = version === undefined ? all.at(-1) : all[version];
    if (!found) throw new HttpError(404, `No SoA version ${version}: the versions are 0 to ${all.length - 1}.`);
    return found;
  };

  app.get(
    '/soa',
    {
      preValidation: requirePermission('soa.read'),
      schema: {
        tags: ['soa'],
        summary: 'The Statement of Applicability: the version in force, or ?version=',
        description: 'Every Annex A control: included or excluded, the justification, the implementation state, the owner, the evidence and the risks. Version 0 is the baseline from the organization file.',
        security: adminSecurity,
        querystring: z.strictObject({ version: versionParam.optional() }),
        response: { 200: versionSchema, ...responses },
      },
    },
    async (request) => versionOf(request.query.version),
  );

  app.get(
    '/soa/versions',
    {
      preValidation: requirePermission('soa.read'),
      schema: {
        tags: ['soa'],
        summary: 'Every version of the SoA, oldest first, with who changed it, why and its approval',
        security: adminSecurity,
        response: { 200: z.object({ versions: z.array(versionSchema.omit({ controls: true })) }), ...responses },
      },
    },
    async () => ({ versions: (await soaVersions(app.deps.records, org())).map(({ controls: _, ...v }) => v) }),
  );

  app.get(
    '/soa/diff',
    {
      preValidation: requirePermission('soa.read'),
      schema: {
        tags: ['soa'],
        summary: 'What changed between two SoA versions, control by control and field by field',
        security: adminSecurity,
        querystring: z.strictObject({ from: versionParam, to: versionParam }),
        response: {
          200: z.object({ from: z.number(), to: z.number(), changes: z.array(z.object({ control: z.string(), field: z.string(), from: z.unknown(), to: z.unknown() })) }),
          ...responses,
        },
      },
    },
    async (request) => {
      const from = await versionOf(request.query.from);
      const to = await versionOf(request.query.to);
      return { from: from.version, to: to.version, changes: soaDiff(from.controls, to.controls) };
    },
  );

  app.get(
    '/soa/export.:format',
    {
      preValidation: requirePermission('soa.read'),
      schema: {
        tags: ['soa'],
        summary: 'The SoA as printable HTML or as CSV (?version=)',
        security: adminSecurity,
        params: z.strictObject({ format: z.enum(['html', 'csv'], { message: 'must be html or csv' }) }),
        querystring: z.strictObject({ version: versionParam.optional() }),
        response: {
          200: { description: 'The SoA', content: { 'text/html': { schema: z.string() }, 'text/csv': { schema: z.string() } } },
          ...responses,
        },
      },
    },
    async (request, reply) => {
      const soa = await versionOf(request.query.version);
      if (request.params.format === 'csv') {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="soa-v${soa.version}.csv"`)
          .send(soaCsv(soa));
      }
      return reply.type('text/html; charset=utf-8').send(soaHtml(soa, org().organization.name));
    },
  );

  app.put(
    '/soa',
    {
      preValidation: requirePermission('soa.edit'),
      schema: {
        tags: ['soa'],
        summary: 'Change controls of the SoA (a new version)',
        description: 'Each change names an Annex A control and the fields that change; excluding one needs a justification. Answers the new version.',
        security: adminSecurity,
        body: soaEditsSchema,
        response: { 200: z.object({ version: z.number(), recordId: z.string() }), ...responses },
      },
    },
    async (request) => {
      const o = org();
      const { changes, reason } = request.body;
      const issues = changes.flatMap((c, i) => (c.owner && !o.people.some((p) => p.id === c.owner) ? [{ path: `changes.${i}.owner`, message: `unknown person "${c.owner}" (not in the organization file)` }] : []));
      if (issues.length) throw new HttpError(400, `Invalid SoA change: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
      return appendSoaChange(app.deps.records, o, { id: `soa/edit/${randomUUID()}`, actor: actingPerson(request), changes, reason });
    },
  );

  app.post(
    '/soa/reviews',
    {
      preValidation: requirePermission('soa.edit'),
      schema: {
        tags: ['soa'],
        summary: 'Start the SoA review of a year now (as its schedule would)',
        security: adminSecurity,
        body: z.strictObject({ year: z.number().int().min(2000).max(2200) }),
        response: { 201: z.object({ workflowId: z.string() }), 409: errorResponseSchema.describe('That year was reviewed already'), ...responses },
      },
    },
    async (request, reply) => {
      const workflowId = soaReviewWorkflowId(request.body.year);
      try {
        await temporalClient(app).workflow.start(SOA_REVIEW_WORKFLOW, {
          taskQueue: app.deps.config.TEMPORAL_TASK_QUEUE,
          workflowId,
          args: [{ year: request.body.year, requestedBy: actingPerson(request), trigger: 'admin' }],
          typedSearchAttributes: [{ key: searchAttributes.process, value: 'soa-review' }],
          ...consoleDetails(app.deps.config.PUBLIC_BASE_URL, workflowId),
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
      } catch (err) {
        if ((err as Error).name === 'WorkflowExecutionAlreadyStartedError') throw new HttpError(409, `The SoA review ${request.body.year} was started already (${workflowId}).`);
        throw err;
      }
      return reply.code(201).send({ workflowId });
    },
  );

  done();
};
