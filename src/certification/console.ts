/**
 * The console's form that starts a certificate's cycle, as `POST /admin/certifications` does:
 * the request schema, then `checkCertificationInput` (the ISO/IEC 17021-1 date rules as applied
 * with ISO/IEC 42006: Stage 2 after Stage 1, the first surveillance within 12 months of the
 * decision, an audit every calendar year, the recertification before the expiry, nothing
 * planned in the past) and `startCertificationCycle`. The dates are checked live as they are
 * typed; a broken rule shows beside its date, a risky date as a warning. The cycle's page then
 * shows its plan, state and history.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { auditKeys, auditNames, certificateIdSchema, type DateIssue } from './schema.js';
import { CERTIFICATION_WORKFLOW, certificationStatusQuery, certificationWorkflowId } from './contract.js';
import { checkCertificationInput, startCertificationCycle } from './start.js';
import { startBodySchema } from './routes.js';
import { StartInputError } from '../temporal/start.js';
import { WorkflowGateway } from '../api/gateway.js';
import { temporalClient } from '../api/plugins/temporal-routes.js';
import { requestActor } from '../api/plugins/admin-auth.js';
import { consoleGet, consolePost } from '../console/guard.js';
import { consoleView, sendConsole } from '../console/render.js';
import { fieldErrors, formBody } from '../console/forms.js';
import { temporalWorkflowUrl } from '../console/temporal-link.js';
import type { PageContext } from '../api/pages/common.js';
import { refusal, checkFragment, consoleErrors, checkSummary, field, labelled, foldErrors, fragment, noErrors, safe, sendFragment, text, type FoldedErrors } from '../console/plan.js';
import '../api/deps.js';

const DATE_FIELDS = ['plan.stage1', 'plan.stage2', 'plan.decision', 'plan.surveillance1', 'plan.surveillance2', 'plan.recertification'] as const;
const FIELDS = ['certificateId', 'body.name', 'certificate.decisionDate', 'certificate.expiresOn', ...DATE_FIELDS] as const;
type Field = (typeof FIELDS)[number];
type Values = Record<Field, string>;

const LABELS: Record<Field, { label: string; hint?: string }> = {
  certificateId: { label: 'Certificate id', hint: 'Capitals, digits and "-", e.g. CERT-2027-01' },
  'body.name': { label: 'Certification body', hint: 'Leave empty for the body the organization file names' },
  'certificate.decisionDate': { label: 'Decision date of the existing certificate', hint: 'Only for a certificate already granted: the cycle starts at its first surveillance' },
  'certificate.expiresOn': { label: 'Expiry of the existing certificate' },
  'plan.stage1': { label: 'Stage 1 audit', hint: 'Initial certification only' },
  'plan.stage2': { label: 'Stage 2 audit', hint: 'After Stage 1' },
  'plan.decision': { label: 'Expected certification decision', hint: 'Optional: after Stage 2 (default the Stage 2 date)' },
  'plan.surveillance1': { label: 'First surveillance audit', hint: 'Within 12 months of the decision' },
  'plan.surveillance2': { label: 'Second surveillance audit', hint: 'In the second certificate year' },
  'plan.recertification': { label: 'Recertification audit', hint: 'Before the certificate expires' },
};

const valuesOf = (body: Record<string, unknown>): Values => Object.fromEntries(FIELDS.map((f) => [f, text(body, f)])) as Values;

/** The form as the route's body: empty fields left out. */
function inputOf(v: Values) {
  const plan = Object.fromEntries(DATE_FIELDS.filter((f) => v[f]).map((f) => [f.slice('plan.'.length), v[f]]));
  const certificate = v['certificate.decisionDate'] || v['certificate.expiresOn'] ? { decisionDate: v['certificate.decisionDate'], expiresOn: v['certificate.expiresOn'] } : undefined;
  return { certificateId: v.certificateId, ...(v['body.name'] ? { body: { name: v['body.name'] } } : {}), ...(certificate ? { certificate } : {}), plan };
}

interface Checked {
  errors: FoldedErrors;
  warnings: DateIssue[];
  ok: boolean;
}

/** The start as the admin route checks it. */
function check(app: FastifyInstance, by: string, v: Values): Checked {
  const parsed = startBodySchema.safeParse(inputOf(v));
  if (!parsed.success) return { errors: foldErrors(fieldErrors(parsed.error), FIELDS), warnings: [], ok: false };
  const organization = app.deps.organization?.();
  if (!organization) return { errors: { fields: {}, form: ['The organization file is not loaded: certification cycles cannot be started.'] }, warnings: [], ok: false };
  try {
    const { warnings } = checkCertificationInput({ ...parsed.data, startedBy: by }, { organization });
    return { errors: noErrors(), warnings, ok: true };
  } catch (err) {
    if (err instanceof StartInputError) return { errors: foldErrors(err.issues, FIELDS), warnings: [], ok: false };
    throw err;
  }
}

const warningsView = fragment<{ warnings: Array<{ label: string; message: string }>; oob?: boolean }>(`<div id="cert-warnings"{{#if oob}} hx-swap-oob="true"{{/if}}>
{{#if warnings.length}}<div class="notice notice-warn"><h2>Risky dates (accepted)</h2><ul>{{#each warnings}}<li>{{label}}: {{message}}</li>{{/each}}</ul></div>{{/if}}
</div>`);

const warningsHtml = (warnings: DateIssue[], oob = false) =>
  warningsView({ warnings: warnings.map((w) => ({ label: LABELS[w.path as Field]?.label ?? w.path, message: `${w.message} (rule ${w.rule})` })), oob });

const startView = consoleView(`
<nav aria-label="Breadcrumb"><p><a href="/console/plan">Plan and start</a> › Certification cycle</p></nav>
<h1>Start a certification cycle</h1>
<p>For an initial certification give Stage 1 and Stage 2; for a certificate already granted give its decision and expiry instead. The dates are checked against the certification rules as you type.</p>
{{> formRefused heading="The cycle was not started"}}
<form method="post" action="/console/plan/certification" hx-post="/console/plan/certification/check" hx-trigger="input delay:300ms" hx-target="#cert-check" hx-swap="innerHTML" novalidate>
<input type="hidden" name="csrf" value="{{csrf}}">
{{> consoleField fields.certificateId}}{{> consoleField fields.body}}
<fieldset class="plan-group"><legend>Existing certificate (optional)</legend><div class="plan-fields">{{> consoleField fields.decisionDate}}{{> consoleField fields.expiresOn}}</div></fieldset>
<fieldset class="plan-group"><legend>Audit dates</legend><div class="plan-fields">{{> consoleField fields.stage1}}{{> consoleField fields.stage2}}{{> consoleField fields.decision}}{{> consoleField fields.surveillance1}}{{> consoleField fields.surveillance2}}{{> consoleField fields.recertification}}</div></fieldset>
<div id="cert-check" role="status" aria-live="polite">{{#if summary}}<p>{{summary}}</p>{{/if}}</div>
{{warnings}}
<div class="actions"><button type="submit">Start the cycle</button></div>
</form>
<script src="/console/plan/live-check.js" defer></script>
`);

const cycleView = consoleView(`
<nav aria-label="Breadcrumb"><p><a href="/console/plan">Plan and start</a> › <a href="/console/plan/certification">Certification cycle</a> › {{certificateId}}</p></nav>
<h1>Certification cycle of {{certificateId}}</h1>
<section class="notice notice-done" aria-labelledby="cycle-state-title">
<h2 id="cycle-state-title">Where the cycle is</h2>
<p>Cycle {{cycle}}{{#if body}} with {{body}}{{/if}}: {{state}}{{#if current}}; next: {{current}}{{/if}}.</p>
{{#if temporalUrl}}<p><a href="{{temporalUrl}}">The workflow in the Temporal UI</a></p>{{/if}}
</section>
{{#if warnings.length}}<div class="notice notice-warn"><h2>Risky dates (accepted)</h2><ul>{{#each warnings}}<li>{{this}}</li>{{/each}}</ul></div>{{/if}}
<div class="table-wrap">
<table>
<caption>The external audits of the cycle</caption>
<thead><tr><th scope="col">Audit</th><th scope="col">Planned</th><th scope="col">Outcome</th></tr></thead>
<tbody>{{#each audits}}<tr><th scope="row">{{name}}</th><td>{{planned}}</td><td>{{outcome}}</td></tr>{{/each}}</tbody>
</table>
</div>
{{#if timeline.length}}
<h2>Recent history</h2>
<ul class="history">{{#each timeline}}<li><time datetime="{{at}}">{{at}}</time> {{detail}} <span class="meta">{{by}}</span></li>{{/each}}</ul>
{{/if}}
`);

export const certificationConsole = (ctx: PageContext): FastifyPluginCallback => (app, _options, done) => {
  consoleErrors(app, ctx);
  function renderStart(request: FastifyRequest, reply: FastifyReply, v: Values, checked?: Checked, status?: number) {
    const errors = checked?.errors ?? noErrors();
    const f = (name: Field) => labelled(field(name, v[name], errors, LABELS[name].hint), LABELS[name].label, name === 'certificateId' || name === 'body.name' ? 'text' : 'date');
    const model = {
      ...refusal(errors),
      fields: {
        certificateId: f('certificateId'),
        body: f('body.name'),
        decisionDate: f('certificate.decisionDate'),
        expiresOn: f('certificate.expiresOn'),
        stage1: f('plan.stage1'),
        stage2: f('plan.stage2'),
        decision: f('plan.decision'),
        surveillance1: f('plan.surveillance1'),
        surveillance2: f('plan.surveillance2'),
        recertification: f('plan.recertification'),
      },
      summary: checked ? checkSummary(errors, 'The dates keep the certification rules.') : '',
      warnings: safe(warningsHtml(checked?.warnings ?? [])),
    };
    return sendConsole(request, reply, startView, model, { title: 'Start a certification cycle', section: 'plan', ...(status ? { status } : {}) });
  }

  app.get('/plan/certification', consoleGet('certification.start'), (request, reply) => renderStart(request, reply, valuesOf({})));

  app.post('/plan/certification/check', consolePost('certification.start'), async (request, reply) => {
    const checked = check(app, requestActor(request), valuesOf(formBody(request)));
    return sendFragment(reply, checkFragment(FIELDS, checked.errors, checkSummary(checked.errors, 'The dates keep the certification rules.'), [warningsHtml(checked.warnings, true)]));
  });

  app.post('/plan/certification', consolePost('certification.start'), async (request, reply) => {
    const v = valuesOf(formBody(request));
    const by = requestActor(request);
    const checked = check(app, by, v);
    if (!checked.ok) return renderStart(request, reply, v, checked, 400);
    const input = startBodySchema.parse(inputOf(v));
    try {
      const { handle } = await startCertificationCycle(temporalClient(app), app.deps.config.TEMPORAL_TASK_QUEUE, { ...input, startedBy: by }, { organization: app.deps.organization!(), publicBaseUrl: app.deps.config.PUBLIC_BASE_URL });
      request.log.info({ workflowId: handle.workflowId, by }, 'certification cycle started from the console');
    } catch (err) {
      if (err instanceof StartInputError) return renderStart(request, reply, v, { errors: foldErrors(err.issues, FIELDS), warnings: [], ok: false }, 400);
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        return renderStart(request, reply, v, { errors: { fields: { certificateId: `a certification cycle for ${input.certificateId} is already running` }, form: [] }, warnings: [], ok: false }, 409);
      }
      throw err;
    }
    return reply.redirect(`/console/plan/certification/${input.certificateId}`, 303);
  });

  app.get('/plan/certification/:certificateId', consoleGet('certification.read'), async (request, reply) => {
    const id = certificateIdSchema.safeParse((request.params as { certificateId?: string }).certificateId);
    const found = id.success ? await new WorkflowGateway(temporalClient(app)).load(certificationWorkflowId(id.data), CERTIFICATION_WORKFLOW, certificationStatusQuery) : undefined;
    if (!id.success || !found) {
      return sendConsole(request, reply, consoleView('<h1>No such certification cycle</h1><p><a href="/console/plan/certification">Start a certification cycle</a></p>'), {}, { title: 'Not found', section: 'plan', status: 404 });
    }
    const s = found.status;
    const model = {
      certificateId: s.certificateId,
      cycle: s.cycle,
      body: s.body.name === '(not set)' ? undefined : s.body.name,
      state: s.state,
      current: s.current === 'decision' ? 'the certification decision' : s.current ? auditNames[s.current] : undefined,
      temporalUrl: temporalWorkflowUrl(app.deps.config, s.workflowId),
      warnings: s.warnings.map((w) => `${LABELS[w.path as Field]?.label ?? w.path}: ${w.message}`),
      audits: auditKeys.flatMap((key) => {
        const planned = s.plan[key];
        if (planned === undefined) return [];
        const a = s.audits.find((x) => x.audit === key);
        return [{ name: auditNames[key], planned: a?.planned ?? planned, outcome: a?.completedOn ? `${a.result ?? 'held'} (${a.completedOn})` : a?.missed ? 'window missed' : 'not yet held' }];
      }),
      timeline: s.timeline.slice(-8).reverse(),
    };
    return sendConsole(request, reply, cycleView, model, { title: `Certification cycle of ${s.certificateId}`, section: 'plan' });
  });

  done();
};
