/**
 * The console's register of reported concerns (A.3.3): the list (from Temporal visibility,
 * filtered by state), one concern with its ledger records (which never hold the reporter's name
 * or address), and the triage form for whoever may triage: the `triage` task form of the link
 * page (same fields, same validation, errors beside the fields), completed through the same
 * function as the admin route, so the task's validator decides who may triage.
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { HttpError } from '../api/errors.js';
import { WorkflowGateway } from '../api/gateway.js';
import type { PageContext } from '../api/pages/common.js';
import { requestActor } from '../api/plugins/admin-auth.js';
import { findWorkflow, temporalClient } from '../api/plugins/temporal-routes.js';
import { consoleGet, consolePost } from '../console/guard.js';
import { consoleHandler } from '../console/handler.js';
import { formBody } from '../console/forms.js';
import { consolePathOf, consolePaths } from '../console/paths.js';
import { FILTERS, LEDGER, listed, NOTICE, OPERATIONS, dayOf, doneNotice, ledgerOf, parseFilters, tableOpen, temporalUrlOf, timeText, type FilterSpec } from '../console/register.js';
import { can, consoleView, sendConsole } from '../console/render.js';
import { errorSummary, formFields, validateForm } from '../forms/index.js';
import { triageDecisions, triageForm, triageSchema } from '../forms/triage.js';
import type { FormProblem, Values } from '../forms/fields.js';
import { searchAttributes } from '../temporal/search-attributes.js';
import { memoText, visibilityLiteral, workflowsOf } from '../temporal/visibility.js';
import { concernParamsSchema } from './routes.js';
import { CONCERN_WORKFLOW } from './contract.js';
import { concernWorkflowId, triageConcern } from './triage.js';
import '../api/deps.js';

const concernStates = ['triage', ...triageDecisions, 'cancelled'] as const;
const listQuerySchema = z.strictObject({ state: z.enum(concernStates, { message: `must be one of ${concernStates.join(', ')}` }).optional() });
const FILTER_SPECS: FilterSpec[] = [{ name: 'state', label: 'State', options: concernStates }];

const LIST = consoleView(`<h1>Reported concerns</h1>
<p>Concerns anyone reported about the AI systems (ISO/IEC 42001 A.3.3), newest first. Reports stay anonymous here: who reported is never shown.</p>
${FILTERS}
{{#if items.length}}${tableOpen('concerns', '{{countText}}')}
<thead><tr><th scope="col">Concern</th><th scope="col">Summary</th><th scope="col">State</th><th scope="col">AI system</th><th scope="col">Reported</th><th scope="col">Operations</th></tr></thead><tbody>
{{#each items}}<tr><th scope="row"><a href="{{url}}">{{concernId}}</a></th><td>{{summary}}</td><td>{{state}}</td><td>{{aiSystem}}</td><td>{{reported}}</td><td>{{#if temporalUrl}}<a href="{{temporalUrl}}" rel="noreferrer" aria-label="Workflow of {{concernId}} in the Temporal UI">Workflow</a>{{/if}}</td></tr>
{{/each}}</tbody></table></div>
{{else}}<p>{{#if filtered}}No concern matches this filter.{{else}}No concern has been reported.{{/if}}</p>{{/if}}`);

const DETAIL = consoleView(`<h1>Concern {{concernId}}</h1>
<p class="status"><span class="badge badge-{{#if open}}open{{else}}closed{{/if}}">{{state}}</span></p>
${NOTICE}
${OPERATIONS}
<dl class="facts">
<dt>Reported</dt><dd>{{reportedText}}</dd>
{{#if aiSystem}}<dt>AI system</dt><dd><a href="{{aiSystemUrl}}">{{aiSystem}}</a></dd>{{/if}}
{{#if summary}}<dt>Summary</dt><dd>{{summary}}</dd>{{/if}}
</dl>
{{#if triage}}<section aria-labelledby="triage-title">
<h2 id="triage-title">Triage</h2>
{{#if errorSummary.length}}<div class="notice notice-error" role="alert" aria-labelledby="triage-errors"><h3 id="triage-errors">Please check your answer</h3>
<ul>{{#each errorSummary}}<li><a href="#{{id}}">{{text}}</a></li>{{/each}}</ul></div>{{/if}}
<form method="post" action="{{triage}}">
<input type="hidden" name="csrf" value="{{csrf}}">
{{#each fields}}{{> field}}{{/each}}
<div class="inline-actions"><button type="submit">Record the triage</button></div>
</form></section>{{/if}}
${LEDGER}
<p><a href="${consolePaths.concerns}">All concerns</a></p>`);

const DONE = { triaged: 'The triage was recorded.' };

export function concernPages(ctx: PageContext): FastifyPluginCallback {
  return (app, _options, done) => {
    const taskQueue = app.deps.config.TEMPORAL_TASK_QUEUE;
    const idOf = (request: FastifyRequest) => {
      const parsed = concernParamsSchema.safeParse(request.params);
      if (!parsed.success) throw new HttpError(400, `Not a concern: ${parsed.error.issues.map((i) => `${i.path.map(String).join('.')} ${i.message}`).join('; ')}.`);
      return concernWorkflowId(parsed.data.year, parsed.data.ref);
    };

    const detail = async (request: FastifyRequest, reply: FastifyReply, concernId: string, form: { values?: Values; problems?: FormProblem[]; notice?: { kind: 'error'; text: string }; status?: number } = {}) => {
      const workflow = await findWorkflow(temporalClient(app), concernId, CONCERN_WORKFLOW, `No concern ${concernId}.`);
      const memo = workflow.description.memo ?? {};
      const state = memoText(memo.state) ?? workflow.description.status.name.toLowerCase();
      const aiSystem = workflow.description.typedSearchAttributes.get(searchAttributes.aiSystem);
      const open = workflow.running && state === 'triage';
      const problems = form.problems ?? [];
      const model = {
        concernId,
        workflowId: concernId,
        temporalUrl: temporalUrlOf(request, concernId),
        state,
        open,
        summary: memoText(memo.title),
        reportedText: timeText(workflow.description.startTime.toISOString()),
        ...(aiSystem ? { aiSystem, aiSystemUrl: consolePaths.aiSystem(aiSystem) } : {}),
        ...(open && can(request, 'concern.triage')
          ? { triage: `${consolePathOf(concernId)}/triage`, fields: formFields('triage', [], form.values ?? {}, problems), errorSummary: errorSummary('triage', problems) }
          : {}),
        ledger: await ledgerOf(app.deps.records, concernId, { children: true }),
        notice: form.notice ?? doneNotice(request, DONE),
      };
      return sendConsole(request, reply, DETAIL, model, { title: `Concern ${concernId}`, section: 'registers', status: form.status });
    };

    app.get('/concerns', consoleGet('concern.read'), consoleHandler(ctx, async (request, reply) => {
      const filters = parseFilters(listQuerySchema, request.query, consolePaths.concerns, FILTER_SPECS);
      if (!filters.ok) return sendConsole(request, reply, LIST, { filters: filters.model, items: [] }, { title: 'Reported concerns', section: 'registers', status: 400 });
      const query = [...workflowsOf(taskQueue, CONCERN_WORKFLOW), ...(filters.filter.state ? [`${searchAttributes.state.name} = ${visibilityLiteral(filters.filter.state)}`] : [])].join(' AND ');
      const items = await listed(request, reply, 'the concerns', async () => {
        const found = [];
        for await (const info of temporalClient(app).workflow.list({ query })) {
          const concernId = info.workflowId;
          found.push({
            concernId,
            url: consolePathOf(concernId),
            summary: memoText(info.memo?.title) ?? '',
            state: memoText(info.memo?.state) ?? info.status.name.toLowerCase(),
            aiSystem: info.typedSearchAttributes.get(searchAttributes.aiSystem) ?? '',
            reported: dayOf(info.startTime.toISOString()),
            temporalUrl: temporalUrlOf(request, concernId),
          });
          if (found.length >= 200) break;
        }
        return found;
      });
      const countText = `${items.length} concern${items.length === 1 ? '' : 's'}${filters.model.active ? ' matching the filter' : ''}`;
      return sendConsole(request, reply, LIST, { filters: filters.model, filtered: filters.model.active, items, countText }, { title: 'Reported concerns', section: 'registers' });
    }));

    app.get('/concerns/:year/:ref', consoleGet('concern.read'), consoleHandler(ctx, async (request, reply) => detail(request, reply, idOf(request))));

    app.post('/concerns/:year/:ref/triage', consolePost('concern.triage'), consoleHandler(ctx, async (request, reply) => {
      const concernId = idOf(request);
      const { data, values } = triageForm.parse(formBody(request));
      const checked = validateForm('triage', data);
      if (!checked.ok) return detail(request, reply, concernId, { values, problems: checked.problems, status: 400 });
      try {
        await triageConcern(new WorkflowGateway(temporalClient(app)), concernId, requestActor(request), triageSchema.parse(checked.data));
      } catch (err) {
        if (err instanceof HttpError && err.statusCode === 409) return detail(request, reply, concernId, { values, notice: { kind: 'error', text: err.message }, status: 409 });
        throw err;
      }
      return reply.redirect(`${consolePathOf(concernId)}?done=triaged`, 303);
    }));

    done();
  };
}
