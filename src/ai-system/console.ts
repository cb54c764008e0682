/**
 * The console's inventory of AI systems and their impact assessments (6.1.4, 8.4, A.5): the
 * list with the admin API's filters (state, owner), one system with its registration, its
 * history (the `aiSystemStatus` query), its assessments from the ledger and its ledger records,
 * and one assessment with its timeline and every ledger record of it and its steps. Read-only
 * here: a significant change is announced from the plan-and-start forms.
 */
import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import { HttpError } from '../api/errors.js';
import type { PageContext } from '../api/pages/common.js';
import { findWorkflow, temporalClient } from '../api/plugins/temporal-routes.js';
import { consoleGet } from '../console/guard.js';
import { consoleHandler } from '../console/handler.js';
import { consolePaths } from '../console/paths.js';
import { FILTERS, LEDGER, listed, queried, OPERATIONS, TIMELINE, dayOf, ledgerOf, parseFilters, peopleOptions, tableOpen, temporalUrlOf, timeText, type FilterSpec } from '../console/register.js';
import { consoleView, organizationOf, sendConsole } from '../console/render.js';
import { assessmentDetail, assessmentsOf } from './assessments.js';
import { AI_SYSTEM_WORKFLOW, aiSystemStatusQuery, aiSystemWorkflowId } from './contract.js';
import { aiSystemIdSchema, assessmentRefSchema } from './impact-assessment.js';
import { listQuerySchema } from './routes.js';
import { aiSystemStates } from './schema.js';
import { listAiSystems } from './visibility.js';
import '../api/deps.js';

const LIST = consoleView(`<h1>AI systems</h1>
<p>The inventory and the state of each system's impact assessment (ISO/IEC 42001 6.1.4, 8.4): current, due, in progress, overdue or retired.</p>
${FILTERS}
{{#if items.length}}${tableOpen('systems', '{{countText}}')}
<thead><tr><th scope="col">System</th><th scope="col">Name</th><th scope="col">Owner</th><th scope="col">Impact tier</th><th scope="col">Assessment</th><th scope="col">Next due</th><th scope="col">Last level</th><th scope="col">Operations</th></tr></thead><tbody>
{{#each items}}<tr><th scope="row"><a href="{{url}}">{{systemId}}</a></th><td>{{name}}</td><td>{{owner}}</td><td>{{impactTier}}</td><td>{{state}}</td><td>{{nextDue}}</td><td>{{#if lastAssessment}}{{lastAssessment.level}}{{/if}}</td><td>{{#if temporalUrl}}<a href="{{temporalUrl}}" rel="noreferrer" aria-label="Workflow of {{systemId}} in the Temporal UI">Workflow</a>{{/if}}</td></tr>
{{/each}}</tbody></table></div>
{{else}}<p>{{#if filtered}}No AI system matches these filters.{{else}}No AI system is registered.{{/if}}</p>{{/if}}
<p><a href="${consolePaths.risks}">The risk register</a> · <a href="${consolePaths.soa}">The Statement of Applicability</a></p>`);

const SYSTEM = consoleView(`<h1>{{status.system.name}} ({{status.systemId}})</h1>
<p class="status"><span class="badge badge-{{stateClass}}">{{status.state}}</span></p>
${OPERATIONS}
<dl class="facts">
<dt>Owner</dt><dd>{{status.system.owner}}</dd>
<dt>Purpose</dt><dd>{{status.system.purpose}}</dd>
<dt>Impact tier</dt><dd>{{status.system.impactTier}}</dd>
<dt>Lifecycle</dt><dd>{{status.system.lifecycle}}</dd>
<dt>Registered</dt><dd>{{registeredText}} ({{status.source}})</dd>
{{#if nextDueText}}<dt>Next assessment due</dt><dd>{{nextDueText}}</dd>{{/if}}
{{#if status.current}}<dt>Running</dt><dd><a href="{{currentUrl}}">assessment {{status.current.assessmentRef}}</a> ({{status.current.trigger}})</dd>{{/if}}
{{#if status.pendingChanges.length}}<dt>Pending changes</dt><dd>{{status.pendingChanges.length}}</dd>{{/if}}
</dl>
<section aria-labelledby="assessments-title"><h2 id="assessments-title">Impact assessments</h2>
{{#if assessments.length}}${tableOpen('assessments', 'Every assessment, oldest first')}
<thead><tr><th scope="col">Assessment</th><th scope="col">Trigger</th><th scope="col">Started</th><th scope="col">Outcome</th><th scope="col">Level</th><th scope="col">Signed off by</th></tr></thead><tbody>
{{#each assessments}}<tr><th scope="row"><a href="{{url}}">{{assessmentRef}}</a></th><td>{{trigger}}</td><td>{{startedDay}}</td><td>{{outcome}}</td><td>{{level}}</td><td>{{signedOffBy}}</td></tr>
{{/each}}</tbody></table></div>{{else}}<p>Not assessed yet.</p>{{/if}}
</section>
${TIMELINE}
${LEDGER}
<p><a href="{{risksUrl}}">Risks of this system</a> · <a href="${consolePaths.aiSystems}">All AI systems</a></p>`);

const ASSESSMENT = consoleView(`<h1>Impact assessment {{assessmentRef}} of {{systemId}}</h1>
{{#if status}}<p class="status"><span class="badge badge-open">{{status.state}}</span></p>{{/if}}
${OPERATIONS}
<dl class="facts">
{{#if status}}<dt>Trigger</dt><dd>{{status.trigger}}</dd>{{#if dueText}}<dt>Current step due</dt><dd>{{dueText}}</dd>{{/if}}<dt>Sent back</dt><dd>{{status.sendBacks}} time(s)</dd>{{/if}}
{{#if recorded}}<dt>Level</dt><dd>{{recorded.level}}</dd>{{#if recorded.signOff}}<dt>Signed off by</dt><dd>{{recorded.signOff.by}}</dd>{{/if}}{{/if}}
{{#unless execution}}<dt>Workflow</dt><dd>no longer held by Temporal; the ledger keeps the record</dd>{{/unless}}
</dl>
${TIMELINE}
${LEDGER}
<p><a href="{{systemUrl}}">Back to {{systemId}}</a></p>`);

const FILTER_SPECS: FilterSpec[] = [
  { name: 'state', label: 'Assessment state', options: aiSystemStates },
  { name: 'owner', label: 'Owner' },
];

const events = (items: ReadonlyArray<{ at: string; type: string; by: string; detail: string }>) => items.map((e) => ({ ...e, atText: timeText(e.at) }));

export function aiSystemPages(ctx: PageContext): FastifyPluginCallback {
  return (app, _options, done) => {
    const taskQueue = app.deps.config.TEMPORAL_TASK_QUEUE;
    const param = <T>(request: FastifyRequest, name: string, schema: { safeParse: (v: unknown) => { success: true; data: T } | { success: false; error: { issues: Array<{ message: string }> } } }, what: string): T => {
      const parsed = schema.safeParse((request.params as Record<string, string>)[name]);
      if (!parsed.success) throw new HttpError(400, `The ${what} ${parsed.error.issues[0]?.message ?? 'is not valid'}.`);
      return parsed.data;
    };

    app.get('/ai-systems', consoleGet('ai-system.read'), consoleHandler(ctx, async (request, reply) => {
      const filters = parseFilters(listQuerySchema, request.query, consolePaths.aiSystems, FILTER_SPECS.map((s) => (s.name === 'owner' ? { ...s, options: peopleOptions(request) } : s)));
      if (!filters.ok) return sendConsole(request, reply, LIST, { filters: filters.model, items: [] }, { title: 'AI systems', section: 'registers', status: 400 });
      const { limit, ...filter } = filters.filter;
      const items = (await listed(request, reply, 'the AI systems', () => listAiSystems(temporalClient(app), taskQueue, filter, limit))).map((s) => ({
        ...s,
        url: consolePaths.aiSystem(s.systemId),
        nextDue: dayOf(s.nextDueAt),
        temporalUrl: temporalUrlOf(request, s.workflowId),
      }));
      const countText = `${items.length} AI system${items.length === 1 ? '' : 's'}${filters.model.active ? ' matching the filters' : ''}`;
      return sendConsole(request, reply, LIST, { filters: filters.model, filtered: filters.model.active, items, countText }, { title: 'AI systems', section: 'registers' });
    }));

    app.get('/ai-systems/:systemId', consoleGet('ai-system.read'), consoleHandler(ctx, async (request, reply) => {
      const systemId = param(request, 'systemId', aiSystemIdSchema, 'AI system id');
      const inFile = organizationOf(request)?.aiSystems.some((s) => s.id === systemId);
      const missing = inFile
        ? `${systemId} is in the organization file's inventory but not registered yet: an operations admin registers it with the AI-system sync (POST /admin/ai-systems/sync, or aimsflow ai-systems sync).`
        : `No AI system ${systemId}.`;
      const workflow = await findWorkflow(temporalClient(app), aiSystemWorkflowId(systemId), AI_SYSTEM_WORKFLOW, missing);
      const status = await queried(request, () => workflow.handle.query(aiSystemStatusQuery));
      const assessments = (await assessmentsOf(app.deps.records, systemId)) ?? [];
      const model = {
        status,
        workflowId: workflow.workflowId,
        temporalUrl: temporalUrlOf(request, workflow.workflowId),
        stateClass: status.state === 'overdue' ? 'overdue' : status.state === 'retired' ? 'closed' : status.state === 'current' ? 'done' : 'open',
        registeredText: timeText(status.registeredAt),
        nextDueText: timeText(status.nextDueAt),
        ...(status.current ? { currentUrl: consolePaths.assessment(systemId, status.current.assessmentRef) } : {}),
        assessments: assessments.map((a) => ({ ...a, url: consolePaths.assessment(systemId, a.assessmentRef), startedDay: dayOf(a.startedAt) })),
        timeline: events(status.history),
        ledger: await ledgerOf(app.deps.records, workflow.workflowId),
        risksUrl: `${consolePaths.risks}?scope=${encodeURIComponent(systemId)}`,
      };
      return sendConsole(request, reply, SYSTEM, model, { title: `${status.system.name} (${systemId})`, section: 'registers' });
    }));

    app.get('/ai-systems/:systemId/assessments/:assessmentRef', consoleGet('ai-system.read'), consoleHandler(ctx, async (request, reply) => {
      const systemId = param(request, 'systemId', aiSystemIdSchema, 'AI system id');
      const assessmentRef = param(request, 'assessmentRef', assessmentRefSchema, 'assessment');
      const detail = await assessmentDetail(temporalClient(app), app.deps.records, systemId, assessmentRef);
      if (!detail) throw new HttpError(404, `No impact assessment ${systemId}/${assessmentRef}.`);
      const status = detail.status as ({ state: string; trigger: string; dueAt?: string; sendBacks: number; timeline: Array<{ at: string; type: string; by: string; detail: string }> } | undefined);
      const ledger = await ledgerOf(app.deps.records, detail.workflowId, { children: true });
      const model = {
        systemId,
        assessmentRef,
        workflowId: detail.workflowId,
        temporalUrl: temporalUrlOf(request, detail.workflowId),
        execution: detail.execution,
        status,
        dueText: timeText(status?.dueAt),
        recorded: detail.recorded,
        timeline: events(status?.timeline ?? []),
        timelineNote: detail.execution ? 'No worker answered with the timeline; the ledger records below are the history.' : 'Temporal no longer holds this assessment; the ledger records below are its history.',
        ledger,
        systemUrl: consolePaths.aiSystem(systemId),
      };
      return sendConsole(request, reply, ASSESSMENT, model, { title: `Impact assessment ${assessmentRef} of ${systemId}`, section: 'registers' });
    }));

    done();
  };
}
