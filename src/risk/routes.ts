/**
 * Admin routes of the AI risk register (6.1.2, 6.1.3, 8.2, 8.3): the register with filters, one
 * risk with its history, a new risk, a change outside a running assessment, top management's
 * acceptance of a residual risk, and starting a risk assessment of an AI system or the AIMS.
 * Bad input is a 400 naming the field (a level off the scales, an unknown control, person or AI
 * system); an acceptance by someone who is not top management, or by the risk's owner, a 403
 * naming the rule; an unknown risk a 404.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, errorResponseSchema, HttpError, type ValidationIssue } from '../api/errors.js';
import { adminSecurity, requirePermission } from '../api/plugins/admin-auth.js';
import { temporalClient } from '../api/plugins/temporal-routes.js';
import { actingPerson } from '../api/plugins/workflow-routes.js';
import type { Organization } from '../organization/schema.js';
import { isAnnexAControl } from '../soa/annex-a.js';
import { searchAttributes } from '../temporal/search-attributes.js';
import { aiSystemWorkflowId } from '../ai-system/contract.js';
import { ratingProblems, scoreRisk } from './criteria.js';
import { RISK_ASSESSMENT_WORKFLOW, riskAssessmentSequence, riskAssessmentStatusQuery, riskAssessmentWorkflowId } from './contract.js';
import { appendRisk, readRegister, readRisk } from './register.js';
import { acceptRisk } from './accept.js';
import { aimsScope, newRiskSchema, riskAcceptanceSchema, riskCategories, riskIdOf, riskIdSchema, riskStates, riskUpdateSchema, type Risk, type ScoredRating } from './schema.js';
import { consoleDetails } from '../temporal/start.js';
import '../api/deps.js';

const riskView = z.record(z.string(), z.unknown()).describe('Risk');

const responses = {
  ...errorResponses,
  401: errorResponseSchema.describe('Not signed in, or a missing or wrong API key'),
  403: errorResponseSchema.describe('The principal may not do this; the message names the permission or the rule'),
  404: errorResponseSchema.describe('No such risk'),
  409: errorResponseSchema.describe('The risk is closed, or has nothing to accept'),
} as const;

function refuse(issues: ValidationIssue[]): void {
  if (issues.length) throw new HttpError(400, `Invalid risk: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
}

function rated(org: Organization, path: string, rating: { likelihood: string; consequence: string } | undefined, issues: ValidationIssue[]): ScoredRating | undefined {
  if (!rating) return undefined;
  const problems = ratingProblems(org.riskCriteria, rating, `${path}.`);
  issues.push(...problems.map((p) => ({ path: p.field, message: p.message })));
  if (problems.length) return undefined;
  const { score, level } = scoreRisk(org.riskCriteria, rating);
  return { ...rating, score, level };
}

/** The register's filters (the console's register takes the same). */
export const riskListQuerySchema = z.strictObject({
  state: z.enum(riskStates, { message: `must be one of ${riskStates.join(', ')}` }).optional(),
  scope: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be an AI system id or "aims"').optional(),
  owner: z.string().max(64).optional(),
  level: z.string().max(32).optional(),
  category: z.enum(riskCategories, { message: `must be an Annex C category: ${riskCategories.join(', ')}` }).optional(),
});

export const riskRoutes: FastifyPluginCallbackZod = (app, _options, done) => {
  const org = () => {
    const o = app.deps.organization?.();
    if (!o) throw new HttpError(503, 'The organization file is not loaded.');
    return o;
  };
  const known = (o: Organization, path: string, person: string | undefined, issues: ValidationIssue[]) => {
    if (person && !o.people.some((p) => p.id === person)) issues.push({ path, message: `unknown person "${person}" (not in the organization file)` });
  };
  const current = async (riskId: string) => {
    const found = await readRisk(app.deps.records, riskId);
    if (!found) throw new HttpError(404, `No risk ${riskId}.`);
    return found;
  };
  const save = (risk: Risk, kind: `risk.${string}`, actor: string, change: string) =>
    appendRisk(app.deps.records, { id: `risk/${risk.riskId}/api/${randomUUID()}`, kind, risk, actor, change, clauses: risk.controls.filter((c) => c.annexA).map((c) => c.ref) });
  const params = z.strictObject({ riskId: riskIdSchema });

  app.get(
    '/risks',
    {
      preValidation: requirePermission('risk.read'),
      schema: {
        tags: ['risk'],
        summary: 'The AI risk register: open risks by default',
        description: 'The latest version of each risk. Filters: `state` (a closed risk shows only with state=closed), `scope` (an AI system id, or `aims` for AIMS-wide risks), `owner`, `level` (residual, else inherent), `category` (Annex C).',
        security: adminSecurity,
        querystring: riskListQuerySchema,
        response: { 200: z.object({ risks: z.array(riskView) }), ...responses },
      },
    },
    async (request) => ({ risks: (await readRegister(app.deps.records, request.query)) as unknown as Array<Record<string, unknown>> }),
  );

  app.get(
    '/risks/:riskId',
    {
      preValidation: requirePermission('risk.read'),
      schema: { tags: ['risk'], summary: 'One risk with every version of it (its history)', security: adminSecurity, params, response: { 200: z.object({ risk: riskView, history: z.array(riskView) }), ...responses } },
    },
    async (request) => (await current(request.params.riskId)) as unknown as { risk: Record<string, unknown>; history: Array<Record<string, unknown>> },
  );

  app.post(
    '/risks',
    {
      preValidation: requirePermission('risk.manage'),
      schema: {
        tags: ['risk'],
        summary: 'Add a risk to the register (source manual unless given)',
        description: 'A rating (`inherent`) is checked against the scales of the organization file (`riskCriteria`); the next risk assessment of its scope analyses and treats it.',
        security: adminSecurity,
        body: newRiskSchema,
        response: { 201: z.object({ risk: riskView }), ...responses },
      },
    },
    async (request, reply) => {
      const o = org();
      const body = request.body;
      const issues: ValidationIssue[] = [];
      known(o, 'owner', body.owner, issues);
      body.aiSystems.forEach((id, i) => {
        if (!o.aiSystems.some((s) => s.id === id)) issues.push({ path: `aiSystems.${i}`, message: `unknown AI system "${id}" (not in the organization file)` });
      });
      const inherent = rated(o, 'inherent', body.inherent, issues);
      refuse(issues);
      const riskId = riskIdOf(await app.deps.records.allocateSequence('risk', `api/${randomUUID()}`));
      const by = actingPerson(request);
      const now = new Date().toISOString();
      const risk: Risk = {
        riskId,
        title: body.title,
        description: body.description,
        aiSystems: body.aiSystems,
        source: body.source,
        categories: body.categories,
        owner: body.owner,
        state: inherent ? 'assessed' : 'identified',
        ...(inherent ? { inherent } : {}),
        controls: [],
        links: [],
        updatedAt: now,
        updatedBy: by,
      };
      await save(risk, 'risk.identified', by, `identified (${body.source.type})`);
      return reply.code(201).send({ risk: risk as unknown as Record<string, unknown> });
    },
  );

  app.patch(
    '/risks/:riskId',
    {
      preValidation: requirePermission('risk.manage'),
      schema: {
        tags: ['risk'],
        summary: 'Change a risk outside a running assessment (recorded with the reason), or close it',
        security: adminSecurity,
        params,
        body: riskUpdateSchema,
        response: { 200: z.object({ risk: riskView }), ...responses },
      },
    },
    async (request) => {
      const o = org();
      const { risk: found } = await current(request.params.riskId);
      if (found.state === 'closed') throw new HttpError(409, `${found.riskId} is closed.`);
      const body = request.body;
      const issues: ValidationIssue[] = [];
      known(o, 'owner', body.owner, issues);
      const inherent = rated(o, 'inherent', body.inherent, issues);
      const residual = rated(o, 'residual', body.residual, issues);
      (body.controls ?? []).forEach((ref, i) => {
        if (/^A\.\d/.test(ref) && !isAnnexAControl(ref)) issues.push({ path: `controls.${i}`, message: `unknown Annex A control "${ref}"` });
      });
      refuse(issues);
      const by = actingPerson(request);
      const { recordId: _, version: __, ...base } = found;
      const risk: Risk = {
        ...base,
        state: base.state === 'review-due' ? 'assessed' : base.state,
        ...(body.title ? { title: body.title } : {}),
        ...(body.description ? { description: body.description } : {}),
        ...(body.owner ? { owner: body.owner } : {}),
        ...(body.categories ? { categories: body.categories } : {}),
        ...(inherent ? { inherent } : {}),
        ...(residual ? { residual } : {}),
        ...(body.controls ? { controls: body.controls.map((ref) => ({ ref, annexA: isAnnexAControl(ref) })) } : {}),
        ...(body.close ? { state: 'closed' as const, closed: { by, at: new Date().toISOString(), reason: body.close.reason } } : {}),
        updatedAt: new Date().toISOString(),
        updatedBy: by,
      };
      await save(risk, body.close ? 'risk.closed' : 'risk.updated', by, body.reason);
      return { risk: risk as unknown as Record<string, unknown> };
    },
  );

  app.post(
    '/risks/:riskId/accept',
    {
      preValidation: requirePermission('risk.accept'),
      schema: {
        tags: ['risk'],
        summary: "Top management accepts a risk's residual level as it stands (outside a cycle)",
        description: 'Refused (403, naming the rule) unless the principal is top management and not the risk owner. The acceptance is bound to the content hash of the risk as it stands.',
        security: adminSecurity,
        params,
        body: riskAcceptanceSchema,
        response: { 200: z.object({ risk: riskView, contentHash: z.string() }), ...responses },
      },
    },
    async (request) => {
      const { risk, contentHash } = await acceptRisk(
        { records: app.deps.records, organization: org() },
        { riskId: request.params.riskId, by: actingPerson(request), comment: request.body.comment, approvalId: `api:${request.id}` },
      );
      return { risk: risk as unknown as Record<string, unknown>, contentHash };
    },
  );

  app.get(
    '/risk-assessments/:scope/:ref',
    {
      preValidation: requirePermission('risk.read'),
      schema: {
        tags: ['risk'],
        summary: 'A risk assessment: its live status (when it runs) and its ledger records',
        security: adminSecurity,
        params: z.strictObject({ scope: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be an AI system id or "aims"'), ref: z.string().regex(/^\d{4}-\d{1,4}$/, 'must be <year>-<n>, e.g. 2027-1') }),
        response: { 200: z.object({ workflowId: z.string(), status: riskView.nullable(), records: z.array(riskView) }), ...responses },
      },
    },
    async (request) => {
      const workflowId = riskAssessmentWorkflowId(request.params.scope, request.params.ref);
      const records = await app.deps.records.list({ subject: workflowId, limit: 1000 });
      const status = await temporalClient(app)
        .workflow.getHandle(workflowId)
        .query(riskAssessmentStatusQuery)
        .catch(() => null);
      if (!status && records.length === 0) throw new HttpError(404, `No risk assessment ${workflowId}.`);
      return { workflowId, status: status as unknown as Record<string, unknown> | null, records: records as unknown as Array<Record<string, unknown>> };
    },
  );

  app.post(
    '/risk-assessments',
    {
      preValidation: requirePermission('risk-assessment.start'),
      schema: {
        tags: ['risk'],
        summary: 'Start a risk assessment of an AI system or of the AIMS (`scope: aims`)',
        security: adminSecurity,
        body: z.strictObject({ scope: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be an AI system id or "aims"'), reason: z.string().trim().max(5000).optional() }),
        response: { 201: z.object({ workflowId: z.string(), assessmentRef: z.string() }), ...responses },
      },
    },
    async (request, reply) => {
      const o = org();
      const { scope, reason } = request.body;
      const client = temporalClient(app);
      let system: { name: string; owner: string } | undefined;
      if (scope !== aimsScope) {
        system = o.aiSystems.find((s) => s.id === scope);
        if (!system) {
          // A system registered through the API runs without being in the file.
          const status = await client.workflow.getHandle(aiSystemWorkflowId(scope)).query<{ system: { name: string; owner: string } }>('aiSystemStatus').catch(() => undefined);
          system = status?.system;
        }
        if (!system) refuse([{ path: 'scope', message: `unknown AI system "${scope}" (not in the inventory, not registered)` }]);
      }
      const year = new Date().getUTCFullYear();
      const n = await app.deps.records.allocateSequence(riskAssessmentSequence(scope, year), `api/${randomUUID()}`);
      const assessmentRef = `${year}-${n}`;
      const workflowId = riskAssessmentWorkflowId(scope, assessmentRef);
      await client.workflow.start(RISK_ASSESSMENT_WORKFLOW, {
        taskQueue: app.deps.config.TEMPORAL_TASK_QUEUE,
        workflowId,
        args: [{ scope, assessmentRef, trigger: 'admin', reason: reason ?? '', startedBy: actingPerson(request), ...(system ? { system: { name: system.name, owner: system.owner } } : {}) }],
        typedSearchAttributes: [{ key: searchAttributes.process, value: 'risk-assessment' }],
        ...consoleDetails(app.deps.config.PUBLIC_BASE_URL, workflowId),
      });
      return reply.code(201).send({ workflowId, assessmentRef });
    },
  );

  done();
};
