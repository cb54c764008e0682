/**
 * The console's form for a significant change to an AI system (ISO/IEC 42001 6.1.4, 8.4): the
 * system, what kind of change (model, data source, intended use, deployment context,
 * jurisdiction) and what changed, sent as `POST /admin/ai-systems/:systemId/changes` sends it
 * (the request schema, then the `announceChange` update). The answer says what happened to the
 * change: waiting for the debounce window before one reassessment starts, or attached to the
 * assessment already running.
 */
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { AI_SYSTEM_WORKFLOW, aiSystemStatusQuery, aiSystemWorkflowId, announceChangeUpdate } from './contract.js';
import { aiSystemIdSchema, changeTypes } from './impact-assessment.js';
import { listAiSystems } from './visibility.js';
import { changeBodySchema } from './routes.js';
import { WorkflowGateway } from '../api/gateway.js';
import { HttpError } from '../api/errors.js';
import { temporalClient, updateRunning } from '../api/plugins/temporal-routes.js';
import { requestActor } from '../api/plugins/admin-auth.js';
import { consoleGet, consolePost } from '../console/guard.js';
import { consoleView, sendConsole } from '../console/render.js';
import { fieldErrors, formBody } from '../console/forms.js';
import { temporalWorkflowUrl } from '../console/temporal-link.js';
import type { PageContext } from '../api/pages/common.js';
import { refusal, checkFragment, consoleErrors, checkSummary, field, labelled, foldErrors, mergeErrors, noErrors, sendFragment, text, type FoldedErrors } from '../console/plan.js';
import '../api/deps.js';

const FIELDS = ['systemId', 'type', 'why'] as const;

const TYPE_LABELS: Record<(typeof changeTypes)[number], string> = {
  model: 'The model (retrained, replaced, new version)',
  'data-source': 'A data source',
  'intended-use': 'The intended use',
  'deployment-context': 'The deployment context',
  jurisdiction: 'A jurisdiction it is used in',
};

interface Values {
  systemId: string;
  type: string;
  why: string;
}

const valuesOf = (body: Record<string, unknown>): Values => ({ systemId: text(body, 'systemId'), type: text(body, 'type'), why: text(body, 'why') });

/** The change as the route checks it: the system id as its path parameter, the body by its schema. */
function check(v: Values): { errors: FoldedErrors; body?: ReturnType<typeof changeBodySchema.parse>; systemId?: string } {
  const id = aiSystemIdSchema.safeParse(v.systemId);
  const body = changeBodySchema.safeParse({ type: v.type, why: v.why });
  const errors = mergeErrors(
    id.success ? noErrors() : { fields: { systemId: v.systemId ? (id.error.issues[0]?.message ?? 'is not an AI system id') : 'choose the AI system' }, form: [] },
    body.success ? noErrors() : foldErrors(fieldErrors(body.error), FIELDS),
  );
  return id.success && body.success ? { errors, body: body.data, systemId: id.data } : { errors };
}

const formView = consoleView(`
<nav aria-label="Breadcrumb"><p><a href="/console/plan">Plan and start</a> › Significant change</p></nav>
<h1>Announce a significant change to an AI system</h1>
<p>A significant change leads to a reassessment of the system's impact: changes announced within a few days of each other start one reassessment together; a change while an assessment runs is added to it.</p>
{{> formRefused heading="The change was not announced"}}
<form method="post" action="/console/plan/ai-system-change" hx-post="/console/plan/ai-system-change/check" hx-trigger="input delay:300ms" hx-target="#change-check" hx-swap="innerHTML" novalidate>
<input type="hidden" name="csrf" value="{{csrf}}">
{{> consoleField fields.systemId}}{{> consoleField fields.type}}{{> consoleField fields.why}}
<div id="change-check" role="status" aria-live="polite">{{#if summary}}<p>{{summary}}</p>{{/if}}</div>
<div class="actions"><button type="submit">Announce the change</button></div>
</form>
<script src="/console/plan/live-check.js" defer></script>
`);

const systemView = consoleView(`
<nav aria-label="Breadcrumb"><p><a href="/console/plan">Plan and start</a> › <a href="/console/plan/ai-system-change">Significant change</a> › {{systemId}}</p></nav>
<h1>{{name}}: changes</h1>
<section class="notice notice-done" aria-labelledby="system-state-title">
<h2 id="system-state-title">What happens next</h2>
{{#if announced}}<p id="announced">{{announced}}</p>{{/if}}
{{#if current}}<p>An assessment is running ({{current}}); changes announced now are added to it.</p>{{/if}}
{{#if nextStartAt}}<p>A reassessment starts {{nextStartAt}}, for {{pendingCount}} change(s) announced.</p>{{/if}}
{{#unless current}}{{#unless nextStartAt}}<p>State: {{state}}.</p>{{/unless}}{{/unless}}
{{#if temporalUrl}}<p><a href="{{temporalUrl}}">The workflow in the Temporal UI</a></p>{{/if}}
</section>
{{#if pending.length}}
<h2>Changes waiting for the reassessment</h2>
<ul class="history">{{#each pending}}<li><time datetime="{{at}}">{{at}}</time> {{type}}: {{why}} <span class="meta">{{by}}</span></li>{{/each}}</ul>
{{/if}}
{{#if history.length}}
<h2>Recent history</h2>
<ul class="history">{{#each history}}<li><time datetime="{{at}}">{{at}}</time> {{detail}} <span class="meta">{{by}}</span></li>{{/each}}</ul>
{{/if}}
<p><a href="/console/plan/ai-system-change?system={{systemId}}">Announce another change</a></p>
`);

async function systemOptions(app: FastifyInstance): Promise<Array<{ value: string; label: string }>> {
  const listed = await listAiSystems(temporalClient(app), app.deps.config.TEMPORAL_TASK_QUEUE, {}).catch(() => []);
  const byId = new Map<string, string>();
  for (const s of app.deps.organization?.().aiSystems ?? []) byId.set(s.id, s.name);
  for (const s of listed) if (s.state !== 'retired') byId.set(s.systemId, s.name);
  return [{ value: '', label: 'Choose the AI system' }, ...[...byId].sort().map(([value, name]) => ({ value, label: `${name} (${value})` }))];
}

export const aiSystemChangeForm = (ctx: PageContext): FastifyPluginCallback => (app, _options, done) => {
  consoleErrors(app, ctx);
  async function render(request: FastifyRequest, reply: FastifyReply, v: Values, errors: FoldedErrors, status?: number, shown = false) {
    const model = {
      ...refusal(errors),
      fields: {
        systemId: labelled(field('systemId', v.systemId, errors), 'AI system', 'select', { options: await systemOptions(app) }),
        type: labelled(field('type', v.type, errors), 'What changed', 'select', { options: [{ value: '', label: 'Choose the kind of change' }, ...changeTypes.map((t) => ({ value: t, label: TYPE_LABELS[t] }))] }),
        why: labelled(field('why', v.why, errors, 'What changed and why it is significant'), 'Description', 'textarea'),
      },
      summary: shown ? checkSummary(errors, 'No problems found.') : '',
    };
    return sendConsole(request, reply, formView, model, { title: 'Significant change to an AI system', section: 'plan', ...(status ? { status } : {}) });
  }

  app.get('/plan/ai-system-change', consoleGet('ai-system.change'), (request, reply) => {
    const system = (request.query as { system?: unknown }).system;
    return render(request, reply, { systemId: typeof system === 'string' ? system : '', type: '', why: '' }, noErrors());
  });

  app.post('/plan/ai-system-change/check', consolePost('ai-system.change'), async (request, reply) => {
    const { errors } = check(valuesOf(formBody(request)));
    return sendFragment(reply, checkFragment(FIELDS, errors, checkSummary(errors, 'No problems found: the change can be announced.')));
  });

  app.post('/plan/ai-system-change', consolePost('ai-system.change'), async (request, reply) => {
    const v = valuesOf(formBody(request));
    const checked = check(v);
    if (!checked.body || !checked.systemId) return render(request, reply, v, checked.errors, 400, true);
    const by = requestActor(request);
    const { body, systemId } = checked;
    let disposition: 'pending' | 'attached' | undefined;
    try {
      const found = await new WorkflowGateway(temporalClient(app)).find(aiSystemWorkflowId(systemId), AI_SYSTEM_WORKFLOW);
      if (!found) throw new HttpError(404, `No AI system ${systemId} is registered.`);
      const ack = await updateRunning(
        found,
        'announced',
        { closed: () => `${systemId} is retired`, gone: `${systemId} was retired in the meantime` },
        (handle) => handle.executeUpdate(announceChangeUpdate, { args: [{ type: body.type, why: body.why, by }] }),
      );
      request.log.info({ systemId, type: body.type, disposition: ack.disposition, by }, 'significant change announced from the console');
      disposition = ack.disposition;
    } catch (err) {
      if (err instanceof HttpError && err.statusCode < 500) return render(request, reply, v, { fields: {}, form: [err.message] }, err.statusCode, true);
      throw err;
    }
    return reply.redirect(`/console/plan/ai-system-change/${systemId}?announced=${disposition ?? 'pending'}`, 303);
  });

  app.get('/plan/ai-system-change/:systemId', consoleGet('ai-system.read'), async (request, reply) => {
    const id = aiSystemIdSchema.safeParse((request.params as { systemId?: string }).systemId);
    const found = id.success ? await new WorkflowGateway(temporalClient(app)).load(aiSystemWorkflowId(id.data), AI_SYSTEM_WORKFLOW, aiSystemStatusQuery) : undefined;
    if (!id.success || !found) {
      return sendConsole(request, reply, consoleView('<h1>No such AI system</h1><p><a href="/console/plan/ai-system-change">Announce a significant change</a></p>'), {}, { title: 'Not found', section: 'plan', status: 404 });
    }
    const s = found.status;
    const announced = (request.query as { announced?: unknown }).announced;
    const model = {
      announced:
        announced === 'attached'
          ? `Your change was added to the assessment under way${s.current ? ` (${s.current.assessmentRef})` : ''}.`
          : announced === 'pending'
            ? 'Your change was announced: it waits for the reassessment, which starts once no further change follows for a few days.'
            : undefined,
      systemId: s.systemId,
      name: s.system.name,
      state: s.state,
      current: s.current?.assessmentRef,
      nextStartAt: s.nextStartAt,
      pendingCount: s.pendingChanges.length,
      pending: s.pendingChanges.map((c) => ({ ...c, type: TYPE_LABELS[c.type] })),
      temporalUrl: temporalWorkflowUrl(app.deps.config, s.workflowId),
      history: s.history.slice(-8).reverse(),
    };
    return sendConsole(request, reply, systemView, model, { title: `${s.system.name}: changes`, section: 'plan' });
  });

  done();
};
