/**
 * The console's AI risk register (6.1.2, 6.1.3, 8.2, 8.3): the register with the admin API's
 * filters (level, owner, AI system, state, Annex C category), read from the ledger as the API
 * reads it, and one risk with its ratings, controls, treatment and acceptance, every version of
 * it as its timeline, and its ledger records; top management accepts a residual risk there, as
 * through `POST /admin/risks/<id>/accept` (the same function and rules). Risks are ledger
 * records, not workflows: each links to the work that touched it (assessments, NCs) instead.
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../api/errors.js';
import type { PageContext } from '../api/pages/common.js';
import { requestActor } from '../api/plugins/admin-auth.js';
import { consoleGet, consolePost } from '../console/guard.js';
import { fieldErrors, formBody, field } from '../console/forms.js';
import { consoleHandler } from '../console/handler.js';
import { consolePathOf, consolePaths } from '../console/paths.js';
import { FILTERS, LEDGER, NOTICE, TIMELINE, doneNotice, dayOf, ledgerOf, parseFilters, peopleOptions, tableOpen, temporalUrlOf, timeText, type FilterSpec } from '../console/register.js';
import { can, consoleView, sendConsole } from '../console/render.js';
import { readRegister, readRisk } from './register.js';
import { riskListQuerySchema } from './routes.js';
import { riskAcceptanceSchema, riskCategories, riskIdSchema, riskStates, riskSubject, type RegisterEntry } from './schema.js';
import { acceptRisk } from './accept.js';
import '../api/deps.js';

const LIST = consoleView(`<h1>AI risk register</h1>
<p>The latest version of each risk (open ones unless a state is chosen); a risk past its level's review interval shows review-due.</p>
${FILTERS}
{{#if items.length}}${tableOpen('risks', '{{countText}}')}
<thead><tr><th scope="col">Risk</th><th scope="col">Title</th><th scope="col">Scope</th><th scope="col">Owner</th><th scope="col">Level</th><th scope="col">State</th><th scope="col">Review due</th></tr></thead><tbody>
{{#each items}}<tr><th scope="row"><a href="{{url}}">{{riskId}}</a></th><td>{{title}}</td><td>{{scopeText}}</td><td>{{owner}}</td><td>{{levelText}}</td><td>{{state}}</td><td>{{reviewDue}}</td></tr>
{{/each}}</tbody></table></div>
{{else}}<p>{{#if filtered}}No risk matches these filters.{{else}}The register is empty.{{/if}}</p>{{/if}}
<p><a href="${consolePaths.soa}">The Statement of Applicability</a> · <a href="${consolePaths.aiSystems}">AI systems</a></p>`);

const RISK = consoleView(`<h1>{{risk.riskId}}: {{risk.title}}</h1>
<p class="status"><span class="badge badge-{{stateClass}}">{{risk.state}}</span></p>
${NOTICE}
<dl class="facts">
<dt>Scope</dt><dd>{{#if systems.length}}{{#each systems}}<a href="{{url}}">{{id}}</a> {{/each}}{{else}}AIMS-wide{{/if}}</dd>
<dt>Owner</dt><dd>{{risk.owner}}</dd>
<dt>Source</dt><dd>{{risk.source.type}}{{#if risk.source.ref}} ({{risk.source.ref}}){{/if}}</dd>
<dt>Categories</dt><dd>{{categoriesText}}</dd>
{{#if risk.inherent}}<dt>Inherent</dt><dd>{{risk.inherent.likelihood}} × {{risk.inherent.consequence}}: {{risk.inherent.level}} ({{risk.inherent.score}})</dd>{{/if}}
{{#if risk.residual}}<dt>Residual</dt><dd>{{risk.residual.likelihood}} × {{risk.residual.consequence}}: {{risk.residual.level}} ({{risk.residual.score}})</dd>{{/if}}
{{#if controlsText}}<dt>Controls</dt><dd>{{controlsText}}</dd>{{/if}}
{{#if risk.treatment}}<dt>Treatment</dt><dd>{{risk.treatment.option}}, decided by {{risk.treatment.decidedBy}} on {{treatmentDay}}</dd>{{/if}}
{{#if risk.acceptance}}<dt>Accepted</dt><dd>by {{risk.acceptance.by}} on {{acceptedDay}}, bound to <span class="hash">{{risk.acceptance.contentHash}}</span></dd>{{/if}}
{{#if reviewDue}}<dt>Review due</dt><dd>{{reviewDue}}</dd>{{/if}}
{{#if risk.closed}}<dt>Closed</dt><dd>by {{risk.closed.by}}: {{risk.closed.reason}}</dd>{{/if}}
</dl>
<h2>Description</h2>
<p class="prose">{{risk.description}}</p>
{{#if links.length}}<h2>Work that touched it</h2>
<ul class="plain">{{#each links}}<li>{{kind}}: <a href="{{url}}">{{ref}}</a>{{#if temporalUrl}} · <a href="{{temporalUrl}}" rel="noreferrer">workflow<span class="visually-hidden"> {{ref}}</span> in the Temporal UI</a>{{/if}}</li>{{/each}}</ul>{{/if}}
{{#if accept}}<section aria-labelledby="accept-title">
<h2 id="accept-title">Accept the residual risk</h2>
<p>You accept {{risk.riskId}} at its {{#if risk.residual}}residual{{else}}inherent{{/if}} level as it stands now; the acceptance is bound to this content and recorded in your name.</p>
<form method="post" action="{{accept}}">
<input type="hidden" name="csrf" value="{{csrf}}">
{{> consoleField name="comment" label="Why the risk is acceptable" type="textarea" value=values.comment error=errors.comment required=true}}
<div class="inline-actions"><button type="submit">Accept the risk</button></div>
</form></section>{{/if}}
${TIMELINE}
${LEDGER}
<p><a href="${consolePaths.risks}">The whole register</a></p>`);

const FILTER_SPECS: FilterSpec[] = [
  { name: 'level', label: 'Level', hint: 'residual, else inherent' },
  { name: 'owner', label: 'Owner' },
  { name: 'scope', label: 'AI system', hint: 'or aims for AIMS-wide risks' },
  { name: 'state', label: 'State', options: riskStates },
  { name: 'category', label: 'Category', options: riskCategories },
];

const levelOf = (r: RegisterEntry) => r.residual?.level ?? r.inherent?.level ?? '';

export function riskPages(ctx: PageContext): FastifyPluginCallback {
  return (app, _options, done) => {
    const specs = (request: FastifyRequest): FilterSpec[] => {
      let levels: string[] = [];
      let systems: Array<{ value: string; label: string }> = [];
      try {
        const org = app.deps.organization?.();
        levels = org?.riskCriteria.levels.map((l) => l.name) ?? [];
        systems = [{ value: 'aims', label: 'AIMS-wide' }, ...(org?.aiSystems ?? []).map((s) => ({ value: s.id, label: `${s.name} (${s.id})` }))];
      } catch {
        // Without the organization file the filters are typed in.
      }
      return FILTER_SPECS.map((s) =>
        s.name === 'owner' ? { ...s, options: peopleOptions(request) } : s.name === 'level' && levels.length ? { ...s, options: levels } : s.name === 'scope' && systems.length > 1 ? { ...s, options: systems } : s,
      );
    };

    app.get('/risks', consoleGet('risk.read'), consoleHandler(ctx, async (request, reply) => {
      const filters = parseFilters(riskListQuerySchema, request.query, consolePaths.risks, specs(request));
      if (!filters.ok) return sendConsole(request, reply, LIST, { filters: filters.model, items: [] }, { title: 'AI risk register', section: 'registers', status: 400 });
      const items = (await readRegister(app.deps.records, filters.filter)).map((r) => ({
        ...r,
        url: consolePaths.risk(r.riskId),
        scopeText: r.aiSystems.length ? r.aiSystems.join(', ') : 'AIMS-wide',
        levelText: levelOf(r),
        reviewDue: dayOf(r.reviewDueAt),
      }));
      const countText = `${items.length} risk${items.length === 1 ? '' : 's'}${filters.model.active ? ' matching the filters' : ''}`;
      return sendConsole(request, reply, LIST, { filters: filters.model, filtered: filters.model.active, items, countText }, { title: 'AI risk register', section: 'registers' });
    }));

    const riskIdOf = (request: FastifyRequest) => {
      const parsed = riskIdSchema.safeParse((request.params as { riskId: string }).riskId);
      if (!parsed.success) throw new HttpError(400, `The risk id ${parsed.error.issues[0]?.message ?? 'is not valid'}.`);
      return parsed.data;
    };

    const detail = async (request: FastifyRequest, reply: FastifyReply, riskId: string, form: { values?: { comment?: string }; errors?: Record<string, string>; notice?: { kind: 'error'; text: string }; status?: number } = {}) => {
      const found = await readRisk(app.deps.records, riskId);
      if (!found) throw new HttpError(404, `No risk ${riskId}.`);
      const { risk, history } = found;
      const acceptable = risk.state !== 'closed' && (risk.residual ?? risk.inherent) !== undefined;
      const model = {
        risk,
        stateClass: risk.state === 'closed' ? 'closed' : risk.state === 'review-due' ? 'overdue' : risk.state === 'accepted' || risk.state === 'treated' ? 'done' : 'open',
        systems: risk.aiSystems.map((id) => ({ id, url: consolePaths.aiSystem(id) })),
        categoriesText: risk.categories.join(', '),
        controlsText: risk.controls.map((c) => c.ref).join(', '),
        treatmentDay: dayOf(risk.treatment?.decidedAt),
        acceptedDay: dayOf(risk.acceptance?.at),
        reviewDue: dayOf(risk.reviewDueAt),
        links: risk.links.map((l) => ({ ...l, url: consolePathOf(l.ref), temporalUrl: l.ref.includes('/') ? temporalUrlOf(request, l.ref) : undefined })),
        timeline: history.map((h) => ({ at: h.occurredAt, atText: timeText(h.occurredAt), type: h.kind.replace(/^risk\./, ''), detail: h.change, by: h.actor })),
        ledger: await ledgerOf(app.deps.records, riskSubject(risk.riskId)),
        ...(acceptable && can(request, 'risk.accept') ? { accept: `${consolePaths.risk(risk.riskId)}/accept` } : {}),
        values: form.values ?? {},
        errors: form.errors ?? {},
        notice: form.notice ?? doneNotice(request, { accepted: 'The residual risk was accepted.' }),
      };
      return sendConsole(request, reply, RISK, model, { title: `${risk.riskId}: ${risk.title}`, section: 'registers', status: form.status });
    };

    app.get('/risks/:riskId', consoleGet('risk.read'), consoleHandler(ctx, async (request, reply) => detail(request, reply, riskIdOf(request))));

    // Accepting: the admin route's body schema and the same function; who may accept is its rule (403 page naming it).
    app.post('/risks/:riskId/accept', consolePost('risk.accept'), consoleHandler(ctx, async (request, reply) => {
      const riskId = riskIdOf(request);
      const values = { comment: field(formBody(request), 'comment') };
      const parsed = riskAcceptanceSchema.safeParse(values);
      if (!parsed.success) return detail(request, reply, riskId, { values, errors: fieldErrors(parsed.error), status: 400 });
      const organization = app.deps.organization?.();
      if (!organization) throw new HttpError(503, 'The organization file is not loaded.');
      try {
        await acceptRisk({ records: app.deps.records, organization }, { riskId, by: requestActor(request), comment: parsed.data.comment, approvalId: `console:${request.id}` });
      } catch (err) {
        if (err instanceof HttpError && (err.statusCode === 403 || err.statusCode === 409)) return detail(request, reply, riskId, { values, notice: { kind: 'error', text: err.message }, status: err.statusCode });
        throw err;
      }
      return reply.redirect(`${consolePaths.risk(riskId)}?done=accepted`, 303);
    }));

    done();
  };
}
