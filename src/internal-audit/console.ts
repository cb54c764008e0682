/**
 * The console's audit planner (ISO/IEC 42001 9.2): the internal audit programme of a year as a
 * form, one group of fields per audit (id, title, scope, window, lead auditor, auditee). As the
 * plan is edited, a live check runs the plan rules the admin API runs (`validatePlan`:
 * impartiality, known people, processes and systems, windows inside the year) and shows each
 * problem beside its field, with the coverage of clauses 4-10 and the SoA's included Annex A
 * controls over the audit cycle.
 *
 * Submitting does what `PUT /admin/internal-audit-programmes/:year/plan` does (`checkPlan`, then
 * the `submitAuditPlan` update); when the year has no programme yet it is started with the plan,
 * as `POST /admin/internal-audit-programmes` does. Either way the plan goes for approval.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  auditScopeSchema,
  auditYearSchema,
  impartialityProblems,
  plannedAuditSchema,
  type CoverageResult,
  type PlanIssue,
  type PlannedAuditInput,
  type ProgrammeStatus,
} from './schema.js';
import { INTERNAL_AUDIT_PROGRAMME_WORKFLOW, internalAuditProgrammeWorkflowId, programmeStatusQuery, submitPlanUpdate } from './contract.js';
import { validatePlan } from './rules.js';
import { checkPlan, startInternalAuditProgramme } from './start.js';
import { planBodySchema } from './routes.js';
import { StartInputError } from '../temporal/start.js';
import { WorkflowGateway } from '../api/gateway.js';
import { HttpError } from '../api/errors.js';
import { temporalClient, updateRunning } from '../api/plugins/temporal-routes.js';
import { requestActor } from '../api/plugins/admin-auth.js';
import { consoleGet, consolePost } from '../console/guard.js';
import { can, consoleView, sendConsole } from '../console/render.js';
import { fieldErrors, formBody } from '../console/forms.js';
import { temporalWorkflowUrl } from '../console/temporal-link.js';
import type { PageContext } from '../api/pages/common.js';
import { peopleOptions } from '../console/register.js';
import {
  checkFragment,
  consoleErrors,
  checkSummary,
  errorCount,
  field,
  labelled,
  foldErrors,
  fragment,
  mergeErrors,
  noErrors,
  rowIndexes,
  safe,
  sendFragment,
  text,
  words,
  type FoldedErrors,
} from '../console/plan.js';
import '../api/deps.js';

const ROW_FIELDS = ['auditId', 'title', 'scope.clauses', 'scope.controls', 'scope.processes', 'scope.aiSystems', 'window.start', 'window.end', 'leadAuditor', 'team', 'auditee'] as const;
type RowField = (typeof ROW_FIELDS)[number];

/** One audit as typed in the form: `index` is its place in the form, kept when rows are blank. */
interface Row {
  index: number;
  values: Record<RowField, string>;
}

const blankRow = (index: number): Row => ({ index, values: Object.fromEntries(ROW_FIELDS.map((f) => [f, ''])) as Record<RowField, string> });
const isBlank = (row: Row) => ROW_FIELDS.every((f) => row.values[f] === '');
const names = (rows: Row[]) => [...rows.flatMap((r) => ROW_FIELDS.map((f) => `audits.${r.index}.${f}`)), 'note'];

function rowsOf(body: Record<string, unknown>): Row[] {
  return rowIndexes(body, 'audits').map((index) => ({
    index,
    values: Object.fromEntries(ROW_FIELDS.map((f) => [f, text(body, `audits.${index}.${f}`)])) as Record<RowField, string>,
  }));
}

/** A row as the plan's input (`auditListSchema` checks it). */
function auditInput(row: Row): PlannedAuditInput {
  const v = row.values;
  return {
    auditId: v.auditId,
    title: v.title,
    scope: { clauses: words(v['scope.clauses']), controls: words(v['scope.controls']), processes: words(v['scope.processes']), aiSystems: words(v['scope.aiSystems']) },
    window: { start: v['window.start'], end: v['window.end'] },
    leadAuditor: v.leadAuditor,
    ...(v.team ? { team: words(v.team) } : {}),
    auditee: v.auditee,
  };
}

/** A row from an audit of the programme (to show a plan already given). */
function rowOf(index: number, a: PlannedAuditInput): Row {
  return {
    index,
    values: {
      auditId: a.auditId,
      title: a.title,
      'scope.clauses': (a.scope.clauses ?? []).join(', '),
      'scope.controls': (a.scope.controls ?? []).join(', '),
      'scope.processes': (a.scope.processes ?? []).join(', '),
      'scope.aiSystems': (a.scope.aiSystems ?? []).join(', '),
      'window.start': a.window.start,
      'window.end': a.window.end,
      leadAuditor: a.leadAuditor,
      team: (a.team ?? []).join(', '),
      auditee: a.auditee,
    },
  };
}

/** `audits.<k>` of a list of rows → `audits.<the row's form index>`; a scope without anything goes beside its clauses. */
const toForm = (rows: Row[]) => (path: string) =>
  path.replace(/^audits\.(\d+)/, (_m, k: string) => `audits.${rows[Number(k)]?.index ?? k}`).replace(/^(audits\.\d+\.scope)$/, '$1.clauses').replace(/^(audits\.\d+\.window)$/, '$1.end');

interface Evaluation {
  errors: FoldedErrors;
  coverage?: CoverageResult;
  warnings: PlanIssue[];
}

const planIssue = (e: PlanIssue) => ({ path: e.field, message: `${e.message} [${e.rule}]` });

/**
 * The plan as the admin API checks it: the request schema over every row, then the plan rules
 * (`validatePlan`, as `checkPlan` runs them) over the rows that are well-formed, with the coverage.
 */
async function evaluate(app: FastifyInstance, year: number, rows: Row[], note: string): Promise<Evaluation> {
  const all = names(rows);
  const given = rows.filter((r) => !isBlank(r));
  const parsed = planBodySchema.safeParse({ audits: given.map(auditInput), ...(note ? { note } : {}) });
  const shape = parsed.success ? noErrors() : foldErrors(fieldErrors(parsed.error), all, toForm(given));
  const org = app.deps.organization?.();
  if (!org) return { errors: shape, warnings: [] };
  const wellFormed = given.flatMap((row) => {
    const audit = plannedAuditSchema.safeParse(auditInput(row));
    return audit.success ? [{ row, audit: audit.data }] : [];
  });
  const rules = await validatePlan(org, app.deps.records, { year, audits: wellFormed.map((w) => w.audit) });
  const ruleErrors = foldErrors(rules.errors.map(planIssue), all, toForm(wellFormed.map((w) => w.row)));
  // An audit still being typed: impartiality as soon as its auditors, auditee and scope are given.
  const partial = given.flatMap((row) => {
    if (wellFormed.some((w) => w.row === row)) return [];
    const a = auditInput(row);
    const scope = auditScopeSchema.safeParse(a.scope);
    if (!a.leadAuditor || !a.auditee || !scope.success) return [];
    return impartialityProblems(org, { ...a, scope: scope.data }, `audits.${row.index}`);
  });
  const partialErrors = foldErrors(partial.map(planIssue), all);
  return { errors: mergeErrors(shape, ruleErrors, partialErrors), coverage: rules.coverage, warnings: rules.warnings };
}

// ---------------------------------------------------------------------------------------------
// Views

const coverageView = fragment<{ coverage?: { covered: number; required: number; from: number; to: number; uncovered: string }; oob?: boolean }>(`<section id="plan-coverage" aria-labelledby="plan-coverage-title"{{#if oob}} hx-swap-oob="true"{{/if}}>
<h2 id="plan-coverage-title">Coverage over the audit cycle</h2>
{{#if coverage}}
<p>{{coverage.covered}} of {{coverage.required}} required items covered in {{coverage.from}}–{{coverage.to}}: clauses 4-10 and the Annex A controls the Statement of Applicability includes; audits reported in the cycle's earlier years count.</p>
{{#if coverage.uncovered}}<p class="notice notice-warn"><strong>Not covered yet:</strong> {{coverage.uncovered}}</p>{{else}}<p class="notice notice-done">The AIMS scope is covered within the audit cycle.</p>{{/if}}
{{else}}<p>Coverage is computed once the organization file is loaded.</p>{{/if}}
</section>`);

const coverageHtml = (c: CoverageResult | undefined, oob = false) =>
  coverageView({
    ...(c ? { coverage: { covered: c.covered.length, required: c.required.length, from: c.years[0] ?? 0, to: c.years.at(-1) ?? 0, uncovered: c.uncovered.join(', ') } } : {}),
    oob,
  });

const plannerView = consoleView(`
<nav aria-label="Breadcrumb"><p><a href="/console/plan">Plan and start</a> › Internal audit programme</p></nav>
<h1>Internal audit programme {{year}}</h1>
<p>Other years: {{#each otherYears}}<a href="/console/plan/audit-programme/{{this}}">{{this}}</a> {{/each}}</p>
{{#if programme}}
<section class="notice{{#if programme.done}} notice-done{{/if}}" aria-labelledby="programme-state-title">
<h2 id="programme-state-title">Where the programme is</h2>
<p>{{programme.stateText}}</p>
{{#if programme.lastRejection}}<p>Last sent back: {{programme.lastRejection}}</p>{{/if}}
{{#if programme.temporalUrl}}<p><a href="{{programme.temporalUrl}}">The workflow in the Temporal UI</a></p>{{/if}}
</section>
{{/if}}
{{#if refused}}
<div class="notice notice-error" role="alert" id="plan-errors">
<h2>The plan was not submitted</h2>
{{#if fieldErrorCount}}<p>{{fieldErrorCount}} field(s) need a change: each says why beside it.</p>{{/if}}
{{#if formErrors.length}}<ul>{{#each formErrors}}<li>{{this}}</li>{{/each}}</ul>{{/if}}
</div>
{{/if}}
{{#if editable}}
<p>Give each audit its scope (clauses, Annex A controls, processes, AI systems), a window within {{year}}, a lead auditor who does not audit their own work, and the auditee (the process owner). Each problem shows beside its field as you type; leave a group empty to drop it.</p>
<form method="post" action="/console/plan/audit-programme/{{year}}" hx-post="/console/plan/audit-programme/{{year}}/check" hx-trigger="input delay:300ms" hx-target="#plan-check" hx-swap="innerHTML" novalidate>
<input type="hidden" name="csrf" value="{{csrf}}">
{{#each rows}}
<fieldset class="plan-group" id="audit-{{index}}">
<legend>Audit {{n}}</legend>
<div class="plan-fields">
{{> consoleField fields.auditId}}{{> consoleField fields.title}}{{> consoleField fields.clauses}}{{> consoleField fields.controls}}{{> consoleField fields.processes}}{{> consoleField fields.aiSystems}}{{> consoleField fields.start}}{{> consoleField fields.end}}{{> consoleField fields.leadAuditor}}{{> consoleField fields.team}}{{> consoleField fields.auditee}}
</div>
</fieldset>
{{/each}}
{{> consoleField note}}
<div id="plan-check" role="status" aria-live="polite">{{#if summary}}<p>{{summary}}</p>{{/if}}</div>
{{coverage}}
<div class="actions">
<button type="submit">Submit the plan for approval</button>
<button type="submit" name="add" value="1" class="button-secondary">Add another audit</button>
</div>
</form>
<script src="/console/plan/live-check.js" defer></script>
{{else}}
{{#if audits.length}}
<div class="table-wrap">
<table>
<caption>{{#if planned}}The plan of the {{year}} programme, waiting for approval{{else}}The audits of the {{year}} programme{{/if}}</caption>
<thead><tr><th scope="col">Audit</th><th scope="col">Window</th><th scope="col">Lead auditor and team</th><th scope="col">Auditee</th><th scope="col">State</th></tr></thead>
<tbody>
{{#each audits}}<tr><th scope="row">{{auditId}} · {{title}}<br><span class="meta">{{scope}}</span></th><td>{{window}}</td><td>{{leadAuditor}}</td><td>{{auditee}}</td><td>{{state}}</td></tr>
{{/each}}
</tbody>
</table>
</div>
{{/if}}
{{coverage}}
<p>Changes during the year (reschedule, another auditor, an added or cancelled audit) go through the admin API or the CLI (<code>aimsflow audit reschedule</code>).</p>
{{/if}}
{{#if programme.timeline.length}}
<h2>Recent history</h2>
<ul class="history">{{#each programme.timeline}}<li><time datetime="{{at}}">{{at}}</time> {{detail}} <span class="meta">{{by}}</span></li>{{/each}}</ul>
{{/if}}
`);

const STATE_TEXT: Record<ProgrammeStatus['state'], (s: ProgrammeStatus) => string> = {
  planning: (s) => `Waiting for the plan${s.aimsManager ? ` from ${s.aimsManager}` : ''}: fill it in below and submit it.`,
  validating: () => 'The plan is being checked.',
  approval: (s) => `The plan awaits approval${s.approval ? ` (round ${s.approval.round})` : ''}. It goes to the AIMS manager, or to top management when the AIMS manager prepared it.`,
  running: (s) => `The plan was approved${s.approvedAt ? ` on ${s.approvedAt.slice(0, 10)}` : ''}; the audits run in their windows.`,
  reporting: () => 'The year-end report is being written.',
  finishing: () => 'The year is over; the audits still under way are finishing before the final report.',
  closed: () => 'The programme is closed: its report is on record.',
  cancelled: () => 'The programme was cancelled.',
};

interface PageState {
  rows: Row[];
  note: string;
  errors: FoldedErrors;
  evaluation?: Evaluation;
  status?: number;
}

export const internalAuditConsole = (ctx: PageContext): FastifyPluginCallback => (app, _options, done) => {
  consoleErrors(app, ctx);
  const planDeps = () => ({ ...(app.deps.organization ? { organization: app.deps.organization() } : {}), records: app.deps.records });
  const gateway = () => new WorkflowGateway(temporalClient(app));
  const yearOf = (request: FastifyRequest) => z.coerce.number().pipe(auditYearSchema).safeParse((request.params as { year?: string }).year);

  const choose = [{ value: '', label: 'Choose a person' }];

  async function load(year: number) {
    return gateway().load(internalAuditProgrammeWorkflowId(year), INTERNAL_AUDIT_PROGRAMME_WORKFLOW, programmeStatusQuery);
  }

  async function render(request: FastifyRequest, reply: FastifyReply, year: number, state: PageState | undefined) {
    const found = await load(year);
    const status = found?.status;
    const editable = (!found || !found.running || status?.state === 'planning') && can(request, 'internal-audit.plan');
    const org = app.deps.organization?.();
    const rows = state?.rows ?? (editable && status?.audits.length ? status.audits.map((a, i) => rowOf(i, a)) : [blankRow(0)]);
    const note = state?.note ?? '';
    const errors = state?.errors ?? noErrors();
    const evaluation = state?.evaluation ?? (await evaluate(app, year, [], ''));
    const processHint = org ? `Process keys, e.g. ${Object.keys(org.roles.processOwners).slice(0, 3).join(', ')}` : 'Process keys';
    const systemHint = org ? `AI system ids, e.g. ${org.aiSystems.slice(0, 3).map((s) => s.id).join(', ')}` : 'AI system ids';
    const personOptions = [...choose, ...peopleOptions(request)];
    const model = {
      year,
      otherYears: [year - 1, year + 1],
      editable,
      programme: status && {
        stateText: STATE_TEXT[status.state](status),
        done: status.state === 'running' || status.state === 'closed',
        lastRejection: status.lastRejection,
        temporalUrl: temporalWorkflowUrl(app.deps.config, internalAuditProgrammeWorkflowId(year)),
        timeline: status.timeline.slice(-6).reverse(),
      },
      formErrors: errors.form,
      refused: errorCount(errors) > 0,
      fieldErrorCount: Object.keys(errors.fields).length,
      rows: rows.map((r, i) => {
        const f = (name: RowField, hint?: string) => field(`audits.${r.index}.${name}`, r.values[name], errors, hint);
        return {
          index: r.index,
          n: i + 1,
          fields: {
            auditId: labelled(f('auditId', 'Such as A-01'), 'Audit id', 'text'),
            title: labelled(f('title'), 'Title', 'text'),
            clauses: labelled(f('scope.clauses', 'Clause numbers 4-10, e.g. 8.2, 9.1'), 'Clauses in scope', 'text'),
            controls: labelled(f('scope.controls', 'Annex A control ids, e.g. A.6.2.2, A.7.4'), 'Annex A controls in scope', 'text'),
            processes: labelled(f('scope.processes', processHint), 'Processes in scope', 'text'),
            aiSystems: labelled(f('scope.aiSystems', systemHint), 'AI systems in scope', 'text'),
            start: labelled(f('window.start'), 'First day', 'date'),
            end: labelled(f('window.end'), 'Last day', 'date'),
            leadAuditor: labelled(f('leadAuditor', 'Not the auditee, nor the owner of anything in scope'), 'Lead auditor', 'select', { options: personOptions }),
            team: labelled(f('team', 'Optional: further auditors’ person ids, e.g. liam.walsh; held to the same impartiality rules'), 'Audit team', 'text'),
            auditee: labelled(f('auditee', 'The process owner being audited'), 'Auditee', 'select', { options: personOptions }),
          },
        };
      }),
      note: labelled(field('note', note, errors, 'Shown to the approver with the plan'), 'Note (optional)', 'textarea'),
      summary: state ? checkSummary(errors, 'No problems found.') : '',
      coverage: safe(coverageHtml(evaluation.coverage ?? status?.coverage)),
      planned: status?.plan !== undefined && !status.audits.length,
      audits: (status?.audits.length ? status.audits : (status?.plan?.audits ?? [])).map((a) => ({
        auditId: a.auditId,
        title: a.title,
        scope: [...a.scope.clauses, ...a.scope.controls, ...a.scope.processes, ...a.scope.aiSystems].join(', '),
        window: a.window.start === a.window.end ? a.window.start : `${a.window.start} – ${a.window.end}`,
        leadAuditor: [a.leadAuditor, ...(a.team ?? [])].join(', '),
        auditee: a.auditee,
        state: 'state' in a ? a.state : 'awaiting approval',
      })),
    };
    return sendConsole(request, reply, plannerView, model, { title: `Internal audit programme ${year}`, section: 'plan', ...(state?.status ? { status: state.status } : {}) });
  }

  const badYear = (request: FastifyRequest, reply: FastifyReply) =>
    sendConsole(request, reply, consoleView('<h1>No such programme year</h1><p>A programme year is a year such as 2027, between 2000 and 2100.</p>'), {}, { title: 'Not found', section: 'plan', status: 404 });

  app.get('/plan/audit-programme', consoleGet('internal-audit.read'), (_request, reply) => reply.redirect(`/console/plan/audit-programme/${new Date().getUTCFullYear() + 1}`, 303));

  app.get('/plan/audit-programme/:year', consoleGet('internal-audit.read'), async (request, reply) => {
    const year = yearOf(request);
    if (!year.success) return badYear(request, reply);
    return render(request, reply, year.data, undefined);
  });

  app.post('/plan/audit-programme/:year/check', consolePost('internal-audit.plan'), async (request, reply) => {
    const year = yearOf(request);
    if (!year.success) return badYear(request, reply);
    const body = formBody(request);
    const rows = rowsOf(body);
    const evaluation = await evaluate(app, year.data, rows, text(body, 'note'));
    return sendFragment(reply, checkFragment(names(rows), evaluation.errors, checkSummary(evaluation.errors, 'No problems found: the plan can be submitted.'), [coverageHtml(evaluation.coverage, true)]));
  });

  app.post('/plan/audit-programme/:year', consolePost('internal-audit.plan'), async (request, reply) => {
    const year = yearOf(request);
    if (!year.success) return badYear(request, reply);
    const body = formBody(request);
    const rows = rowsOf(body);
    const note = text(body, 'note');
    if (text(body, 'add')) {
      const next = (rows.at(-1)?.index ?? -1) + 1;
      return render(request, reply, year.data, { rows: [...(rows.length ? rows : []), blankRow(next)], note, errors: noErrors() });
    }
    const again = (errors: FoldedErrors, status: number, evaluation?: Evaluation) =>
      render(request, reply, year.data, { rows: rows.length ? rows : [blankRow(0)], note, errors, status, ...(evaluation ? { evaluation } : {}) });

    const evaluation = await evaluate(app, year.data, rows, note);
    if (errorCount(evaluation.errors) > 0) return again(evaluation.errors, 400, evaluation);
    const given = rows.filter((r) => !isBlank(r));
    const plan = planBodySchema.parse({ audits: given.map(auditInput), ...(note ? { note } : {}) });
    const by = requestActor(request);
    const refused = (err: unknown) => {
      if (err instanceof StartInputError) return again(foldErrors(err.issues, names(rows), toForm(given)), 400, evaluation);
      if (err instanceof HttpError && err.statusCode < 500) return again({ fields: {}, form: [err.message] }, err.statusCode, evaluation);
      throw err;
    };
    try {
      const found = await gateway().find(internalAuditProgrammeWorkflowId(year.data), INTERNAL_AUDIT_PROGRAMME_WORKFLOW);
      if (found?.running) {
        await checkPlan(planDeps(), year.data, plan.audits);
        await updateRunning(
          found,
          'accepted',
          { closed: (s) => `the ${year.data} programme is closed (${s})`, gone: `the ${year.data} programme closed in the meantime` },
          (handle) => handle.executeUpdate(submitPlanUpdate, { args: [{ by, audits: plan.audits, ...(plan.note ? { note: plan.note } : {}) }] }),
        );
        request.log.info({ year: year.data, by }, 'internal audit plan submitted from the console');
      } else {
        if (!can(request, 'internal-audit.start')) {
          return again({ fields: {}, form: [`The ${year.data} programme has not been started, and your roles may not start an internal audit programme (permission internal-audit.start): ask the AIMS manager.`] }, 403, evaluation);
        }
        const started = await startInternalAuditProgramme(temporalClient(app), app.deps.config.TEMPORAL_TASK_QUEUE, { year: year.data, trigger: 'admin', requestedBy: by, audits: plan.audits }, { ...planDeps(), publicBaseUrl: app.deps.config.PUBLIC_BASE_URL });
        request.log.info({ workflowId: started.handle.workflowId, by }, 'internal audit programme started from the console');
      }
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        return again({ fields: {}, form: [`The ${year.data} programme has already run and is closed (${err.workflowId}); a closed programme cannot be planned again.`] }, 409, evaluation);
      }
      return refused(err);
    }
    return reply.redirect(`/console/plan/audit-programme/${year.data}`, 303);
  });

  done();
};
