/**
 * The console's register of nonconformities and corrective actions (10.2): the list with the
 * admin API's filters (state, severity, source, owner, overdue), one NC with its timeline (the
 * `ncStatus` query), its actions and its ledger records, and the actions the person's role
 * allows: post an update, cancel with a reason. Both forms send the same update as the admin
 * routes, through the same gateway; the workflow's validator is what refuses.
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodError } from 'zod';
import { HttpError } from '../api/errors.js';
import { requestActor } from '../api/plugins/admin-auth.js';
import type { PageContext } from '../api/pages/common.js';
import { findWorkflow, temporalClient, updateRunning } from '../api/plugins/temporal-routes.js';
import { cancelUpdate, commentUpdate } from '../common/messages.js';
import { consoleGet, consolePost } from '../console/guard.js';
import { consoleHandler } from '../console/handler.js';
import { fieldErrors, formBody, field } from '../console/forms.js';
import { consolePaths } from '../console/paths.js';
import { FILTERS, LEDGER, listed, queried, NOTICE, OPERATIONS, TIMELINE, dayOf, doneNotice, ledgerOf, parseFilters, peopleOptions, tableOpen, temporalUrlOf, timeText, type FilterSpec } from '../console/register.js';
import { can, consoleView, sendConsole } from '../console/render.js';
import { CORRECTIVE_ACTION_WORKFLOW, correctiveActionWorkflowId, ncStatusQuery } from './contract.js';
import { cancelBodySchema, commentBodySchema, listQuerySchema } from './routes.js';
import { cancelNeedsApproval, ncIdSchema, ncSources, openNcStates, severities, type NcStatus } from './schema.js';
import { listNonconformities } from './visibility.js';
import '../api/deps.js';

const LIST = consoleView(`<h1>Nonconformities and corrective actions</h1>
<p>Every nonconformity, open and closed, newest first (ISO/IEC 42001 10.2). A new one shows within seconds.</p>
${FILTERS}
{{#if items.length}}${tableOpen('ncs', '{{countText}}')}
<thead><tr><th scope="col">NC</th><th scope="col">Title</th><th scope="col">Severity</th><th scope="col">State</th><th scope="col">Owner</th><th scope="col">Source</th><th scope="col">Target</th><th scope="col">Operations</th></tr></thead><tbody>
{{#each items}}<tr><th scope="row"><a href="{{url}}">{{ncId}}</a></th><td>{{title}}</td><td>{{severity}}</td><td>{{state}}{{#if overdue}} <span class="badge badge-overdue">Overdue</span>{{/if}}</td><td>{{owner}}</td><td>{{source}}</td><td>{{targetDay}}</td><td>{{#if temporalUrl}}<a href="{{temporalUrl}}" rel="noreferrer" aria-label="Workflow of {{ncId}} in the Temporal UI">Workflow</a>{{/if}}</td></tr>
{{/each}}</tbody></table></div>
{{else}}<p>{{#if filtered}}No nonconformity matches these filters.{{else}}No nonconformity has been raised.{{/if}}</p>{{/if}}`);

const DETAIL = consoleView(`<h1>{{nc.ncId}}: {{nc.title}}</h1>
<p class="status"><span class="badge badge-{{stateClass}}">{{nc.state}}</span>{{#if nc.overdue}}<span class="badge badge-overdue">Overdue</span>{{/if}}</p>
${NOTICE}
${OPERATIONS}
<dl class="facts">
<dt>Severity</dt><dd>{{nc.severity}}</dd>
<dt>Source</dt><dd>{{nc.source}}{{#if nc.sourceRef}} ({{nc.sourceRef}}){{/if}}</dd>
<dt>Owner</dt><dd>{{nc.owner}}</dd>
<dt>Raised</dt><dd>{{raisedText}} by {{nc.raisedBy}}</dd>
<dt>Target</dt><dd>{{targetText}}</dd>
<dt>Clauses</dt><dd>{{clausesText}}</dd>
{{#if nc.aiSystem}}<dt>AI system</dt><dd><a href="{{aiSystemUrl}}">{{nc.aiSystem}}</a></dd>{{/if}}
<dt>Analysis cycle</dt><dd>{{nc.cycle}}{{#if nc.notEffectiveCount}} ({{nc.notEffectiveCount}} found not effective){{/if}}</dd>
{{#if nc.cancelRequest}}<dt>Cancellation</dt><dd>requested by {{nc.cancelRequest.by}}, waiting for top management</dd>{{/if}}
</dl>
<h2>What happened</h2>
<p class="prose">{{nc.description}}</p>
{{#if nc.actions.length}}<section aria-labelledby="actions-title"><h2 id="actions-title">Planned actions</h2>
${tableOpen('plan', 'Actions of the approved plan')}
<thead><tr><th scope="col">Action</th><th scope="col">Owner</th><th scope="col">Due</th><th scope="col">Done</th></tr></thead><tbody>
{{#each nc.actions}}<tr><td>{{description}}</td><td>{{owner}}</td><td>{{dueDate}}</td><td>{{#if done}}yes{{else}}no{{/if}}</td></tr>
{{/each}}</tbody></table></div></section>{{/if}}
${TIMELINE}
{{#if forms.comment}}<section aria-labelledby="comment-title">
<h2 id="comment-title">Post an update</h2>
<form method="post" action="{{forms.comment}}">
<input type="hidden" name="csrf" value="{{csrf}}">
{{> consoleField name="text" label="Update" type="textarea" value=values.text error=errors.text hint="Goes to the timeline and the ledger, in your name." required=true}}
<div class="inline-actions"><button type="submit">Post the update</button></div>
</form></section>{{/if}}
{{#if forms.cancel}}<section aria-labelledby="cancel-title">
<h2 id="cancel-title">Cancel this nonconformity</h2>
<p>{{cancelText}}</p>
<form method="post" action="{{forms.cancel}}">
<input type="hidden" name="csrf" value="{{csrf}}">
{{> consoleField name="reason" label="Reason for cancelling" type="textarea" value=values.reason error=errors.reason hint="Recorded in the ledger." required=true}}
<div class="inline-actions"><button type="submit" class="button-danger">Cancel the nonconformity</button></div>
</form></section>{{/if}}
${LEDGER}
<p><a href="${consolePaths.nonconformities}">All nonconformities</a></p>`);

const FILTER_SPECS: FilterSpec[] = [
  { name: 'state', label: 'State', options: [...openNcStates, 'closed', 'cancelled'] },
  { name: 'severity', label: 'Severity', options: severities },
  { name: 'source', label: 'Raised from', options: ncSources },
  { name: 'owner', label: 'Owner' },
  { name: 'overdue', label: 'Overdue', options: [{ value: 'true', label: 'Overdue only' }, { value: 'false', label: 'Not overdue' }] },
];

const DONE = { commented: 'Your update was posted.', cancelled: 'The nonconformity was cancelled.', 'cancel-requested': 'The cancellation was requested: top management is asked to approve it.' };

const closedStates = new Set(['closed', 'cancelled']);

type Values = { text?: string; reason?: string };

export function nonconformityPages(_ctx: PageContext): FastifyPluginCallback {
  return (app, _options, done) => {
    const taskQueue = app.deps.config.TEMPORAL_TASK_QUEUE;

    const ncIdOf = (request: FastifyRequest): string => {
      const parsed = ncIdSchema.safeParse((request.params as { ncId?: string }).ncId);
      if (!parsed.success) throw new HttpError(400, `The nonconformity id ${parsed.error.issues[0]?.message ?? 'is not valid'}, e.g. NC-2027-004.`);
      return parsed.data;
    };
    const find = (ncId: string) => findWorkflow(temporalClient(app), correctiveActionWorkflowId(ncId), CORRECTIVE_ACTION_WORKFLOW, `No nonconformity ${ncId}.`);

    /** The detail page, with a form's values and errors when it was refused. */
    const detail = async (request: FastifyRequest, reply: FastifyReply, ncId: string, form: { values?: Values; errors?: Record<string, string>; notice?: { kind: 'error'; text: string }; status?: number } = {}) => {
      const workflow = await find(ncId);
      const nc: NcStatus = await queried(request, () => workflow.handle.query(ncStatusQuery));
      const open = workflow.running && !closedStates.has(nc.state);
      const base = consolePaths.nonconformity(ncId);
      const model = {
        nc,
        workflowId: workflow.workflowId,
        temporalUrl: temporalUrlOf(request, workflow.workflowId),
        stateClass: nc.state === 'closed' ? 'done' : nc.state === 'cancelled' ? 'closed' : nc.overdue ? 'overdue' : 'open',
        raisedText: timeText(nc.raisedAt),
        targetText: timeText(nc.targetAt),
        clausesText: nc.clauses.join(', '),
        aiSystemUrl: nc.aiSystem ? consolePaths.aiSystem(nc.aiSystem) : undefined,
        timeline: nc.timeline.map((e) => ({ ...e, atText: timeText(e.at) })),
        ledger: await ledgerOf(app.deps.records, workflow.workflowId, { children: true }),
        forms: {
          ...(open && can(request, 'corrective-action.comment') ? { comment: `${base}/comments` } : {}),
          ...(open && !nc.cancelRequest && can(request, 'corrective-action.cancel') ? { cancel: `${base}/cancel` } : {}),
        },
        cancelText: cancelNeedsApproval(nc)
            ? 'A major nonconformity, or one from the certification body, is cancelled only once top management approves: your request asks them.'
            : 'Its running step stops and the reason goes to the ledger.',
        values: form.values ?? {},
        errors: form.errors ?? {},
        notice: form.notice ?? doneNotice(request, DONE),
      };
      return sendConsole(request, reply, DETAIL, model, { title: `${ncId}: ${nc.title}`, section: 'registers', status: form.status });
    };

    app.get('/nonconformities', consoleGet('corrective-action.read'), consoleHandler(_ctx, async (request, reply) => {
      const filters = parseFilters(listQuerySchema, request.query, consolePaths.nonconformities, FILTER_SPECS.map((s) => (s.name === 'owner' ? { ...s, options: peopleOptions(request) } : s)));
      if (!filters.ok) return sendConsole(request, reply, LIST, { filters: filters.model, items: [] }, { title: 'Nonconformities', section: 'registers', status: 400 });
      const { limit, ...filter } = filters.filter;
      const items = (await listed(request, reply, 'the nonconformities', () => listNonconformities(temporalClient(app), taskQueue, filter, limit))).map((nc) => ({
        ...nc,
        url: consolePaths.nonconformity(nc.ncId),
        targetDay: dayOf(nc.targetAt),
        temporalUrl: temporalUrlOf(request, nc.workflowId),
      }));
      const countText = `${items.length} nonconformit${items.length === 1 ? 'y' : 'ies'}${filters.model.active ? ' matching the filters' : ''}`;
      return sendConsole(request, reply, LIST, { filters: filters.model, filtered: filters.model.active, items, countText }, { title: 'Nonconformities', section: 'registers' });
    }));

    app.get('/nonconformities/:ncId', consoleGet('corrective-action.read'), consoleHandler(_ctx, async (request, reply) => detail(request, reply, ncIdOf(request))));

    /** A form that sends one update: checked by the admin route's body schema, then sent as the route sends it. */
    const updateForm = <B extends { by?: string | undefined }>(
      path: string,
      permission: 'corrective-action.comment' | 'corrective-action.cancel',
      schema: { safeParse: (v: unknown) => { success: true; data: B } | { success: false; error: ZodError } },
      names: Array<keyof Values>,
      send: (ncId: string, by: string, body: B) => Promise<string>,
    ) => {
      app.post(path, consolePost(permission), consoleHandler(_ctx, async (request, reply) => {
        const ncId = ncIdOf(request);
        const body = formBody(request);
        const values: Values = Object.fromEntries(names.map((n) => [n, field(body, n)]));
        const parsed = schema.safeParse(values);
        if (!parsed.success) return detail(request, reply, ncId, { values, errors: fieldErrors(parsed.error), status: 400 });
        try {
          const outcome = await send(ncId, requestActor(request), parsed.data);
          return reply.redirect(`${consolePaths.nonconformity(ncId)}?done=${outcome}`, 303);
        } catch (err) {
          if (err instanceof HttpError && err.statusCode === 409) return detail(request, reply, ncId, { values, notice: { kind: 'error', text: err.message }, status: 409 });
          throw err;
        }
      }));
    };

    const messages = (ncId: string) => ({ closed: (s: string) => `${ncId} is already closed (${s})`, gone: `${ncId} closed in the meantime` });

    updateForm('/nonconformities/:ncId/comments', 'corrective-action.comment', commentBodySchema, ['text'], async (ncId, by, body) => {
      await updateRunning(await find(ncId), 'posted', messages(ncId), (handle) => handle.executeUpdate(commentUpdate, { args: [{ by, text: body.text }] }));
      return 'commented';
    });

    updateForm('/nonconformities/:ncId/cancel', 'corrective-action.cancel', cancelBodySchema, ['reason'], async (ncId, by, body) => {
      const workflow = await find(ncId);
      const nc = workflow.running ? await workflow.handle.query(ncStatusQuery) : undefined;
      await updateRunning(workflow, 'cancelled', messages(ncId), (handle) => handle.executeUpdate(cancelUpdate, { args: [{ by, reason: body.reason }] }));
      return nc && cancelNeedsApproval(nc) ? 'cancel-requested' : 'cancelled';
    });

    done();
  };
}
