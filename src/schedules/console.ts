/**
 * The console's page of the yearly schedules that start the recurring cycles: each kind with
 * its settings, next runs and recent runs; a form to set one (as `PUT /admin/schedules/:kind`:
 * `putCycleSchedule`, whose settings are checked by `parseScheduleSettings`), and buttons to
 * pause, resume or run one now (as the routes of the same names).
 */
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { scheduledCycleKindSchema, scheduledCycleKinds, type ScheduledCycleKind } from './schema.js';
import { getCycleSchedule, parseScheduleSettings, putCycleSchedule, ScheduleWriteConflict, setCycleSchedulePaused, triggerCycleSchedule, type ScheduleDeps } from './manage.js';
import { StartInputError } from '../temporal/start.js';
import { temporalClient } from '../api/plugins/temporal-routes.js';
import { consoleGet, consolePost } from '../console/guard.js';
import { can, consoleView, sendConsole } from '../console/render.js';
import { formBody } from '../console/forms.js';
import type { PageContext } from '../api/pages/common.js';
import { refusal, checkFragment, consoleErrors, checkSummary, field, labelled, foldErrors, noErrors, sendFragment, text, type FoldedErrors } from '../console/plan.js';
import '../api/deps.js';

const KIND_TITLES: Record<ScheduledCycleKind, string> = {
  'internal-audit-programme': 'Internal audit programme (9.2)',
  'management-review': 'Management review (9.3)',
  'soa-review': 'Review of the Statement of Applicability (6.1.3)',
  'risk-assessment': 'Planned risk assessments (6.1.2, 8.2)',
};

const FIELDS = ['month', 'day', 'hour', 'minute', 'timezone', 'yearOffset', 'meetingAfter', 'note'] as const;
type Field = (typeof FIELDS)[number];
type Values = Record<Field, string> & { paused: boolean };

const valuesOf = (body: Record<string, unknown>): Values => ({ ...(Object.fromEntries(FIELDS.map((f) => [f, text(body, f)])) as Record<Field, string>), paused: text(body, 'paused') === 'yes' });

/** The form as the route's body: numbers as numbers, empty fields left out (their defaults apply). */
function inputOf(v: Values): Record<string, unknown> {
  const num = (s: string) => (/^-?\d+$/.test(s) ? Number(s) : s);
  const out: Record<string, unknown> = { paused: v.paused };
  for (const f of ['month', 'day', 'hour', 'minute', 'yearOffset'] as const) if (v[f] !== '') out[f] = num(v[f]);
  for (const f of ['timezone', 'meetingAfter', 'note'] as const) if (v[f] !== '') out[f] = v[f];
  return out;
}

function check(kind: ScheduledCycleKind, v: Values): FoldedErrors {
  try {
    parseScheduleSettings(kind, inputOf(v));
    return noErrors();
  } catch (err) {
    if (err instanceof StartInputError) return foldErrors(err.issues, FIELDS);
    throw err;
  }
}

const listView = consoleView(`
<nav aria-label="Breadcrumb"><p><a href="/console/plan">Plan and start</a> › Yearly schedules</p></nav>
<h1>Yearly schedules</h1>
<p>Each schedule starts its cycle once a year (unless that year's cycle was already started). Times are in the schedule's time zone.</p>
{{#if notice}}<div class="notice notice-done" role="status"><p>{{notice}}</p></div>{{/if}}
{{#each kinds}}
<section class="work-item" aria-labelledby="kind-{{kind}}">
<h2 id="kind-{{kind}}">{{title}}</h2>
{{#if schedule}}
<dl class="facts">
<dt>When</dt><dd>every year on {{schedule.when}}{{#if schedule.timezone}} ({{schedule.timezone}}){{/if}}</dd>
<dt>State</dt><dd>{{#if schedule.paused}}paused{{#if schedule.note}}: {{schedule.note}}{{/if}}{{else}}active{{/if}}</dd>
<dt>Next runs</dt><dd>{{#if schedule.nextRuns.length}}{{#each schedule.nextRuns}}<time datetime="{{this}}">{{this}}</time> {{/each}}{{else}}none while paused{{/if}}</dd>
<dt>Recent runs</dt><dd>{{#if schedule.recentRuns.length}}{{#each schedule.recentRuns}}{{scheduledAt}} ({{launcherWorkflowId}}) {{/each}}{{else}}none yet{{/if}}</dd>
</dl>
{{else}}<p>Not scheduled.</p>{{/if}}
{{#if ../canManage}}
<p><a href="/console/plan/schedules/{{kind}}">{{#if schedule}}Change the {{title}} schedule{{else}}Schedule the {{title}}{{/if}}</a></p>
{{#if schedule}}
<form method="post" action="/console/plan/schedules/{{kind}}/{{#if schedule.paused}}resume{{else}}pause{{/if}}">
<input type="hidden" name="csrf" value="{{@root.csrf}}">
<button type="submit" class="button-secondary">{{#if schedule.paused}}Resume{{else}}Pause{{/if}} the {{title}} schedule</button>
</form>
<form method="post" action="/console/plan/schedules/{{kind}}/run">
<input type="hidden" name="csrf" value="{{@root.csrf}}">
<button type="submit" class="button-secondary">Run the {{title}} schedule now</button>
</form>
{{/if}}
{{/if}}
</section>
{{/each}}
`);

const editView = consoleView(`
<nav aria-label="Breadcrumb"><p><a href="/console/plan">Plan and start</a> › <a href="/console/plan/schedules">Yearly schedules</a> › {{title}}</p></nav>
<h1>Schedule: {{title}}</h1>
{{> formRefused heading="The schedule was not saved"}}
<form method="post" action="/console/plan/schedules/{{kind}}" hx-post="/console/plan/schedules/{{kind}}/check" hx-trigger="input delay:300ms" hx-target="#schedule-check" hx-swap="innerHTML" novalidate>
<input type="hidden" name="csrf" value="{{csrf}}">
{{> consoleField fields.month}}{{> consoleField fields.day}}{{> consoleField fields.hour}}{{> consoleField fields.minute}}{{> consoleField fields.timezone}}{{#if fields.yearOffset}}{{> consoleField fields.yearOffset}}{{/if}}{{#if fields.meetingAfter}}{{> consoleField fields.meetingAfter}}{{/if}}{{> consoleField fields.note}}
<div class="option"><input type="checkbox" id="f-paused" name="paused" value="yes"{{#if paused}} checked{{/if}}><label for="f-paused">Keep it paused (it does not fire)</label></div>
<div id="schedule-check" role="status" aria-live="polite">{{#if summary}}<p>{{summary}}</p>{{/if}}</div>
<div class="actions"><button type="submit">Save the schedule</button></div>
</form>
<script src="/console/plan/live-check.js" defer></script>
`);

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const pad = (n: number) => String(n).padStart(2, '0');

export const schedulesConsole = (ctx: PageContext): FastifyPluginCallback => (app, _options, done) => {
  consoleErrors(app, ctx);
  const deps = (a: FastifyInstance): ScheduleDeps => ({
    client: temporalClient(a),
    taskQueue: a.deps.config.TEMPORAL_TASK_QUEUE,
    defaultTimezone: a.deps.organization?.().organization.timezone ?? 'UTC',
    publicBaseUrl: a.deps.config.PUBLIC_BASE_URL,
  });
  const kindOf = (request: FastifyRequest) => scheduledCycleKindSchema.safeParse((request.params as { kind?: string }).kind);
  const notFound = (request: FastifyRequest, reply: FastifyReply) =>
    sendConsole(request, reply, consoleView('<h1>No such schedule</h1><p><a href="/console/plan/schedules">Yearly schedules</a></p>'), {}, { title: 'Not found', section: 'plan', status: 404 });

  async function renderList(request: FastifyRequest, reply: FastifyReply, notice?: string) {
    const kinds = await Promise.all(
      scheduledCycleKinds.map(async (kind) => {
        const s = await getCycleSchedule(deps(app), kind);
        return {
          kind,
          title: KIND_TITLES[kind],
          schedule: s && {
            when: `${s.settings.day} ${MONTHS[s.settings.month - 1]} at ${pad(s.settings.hour)}:${pad(s.settings.minute)}`,
            timezone: s.settings.timezone,
            paused: s.paused,
            note: s.note,
            nextRuns: s.nextRuns.slice(0, 2),
            recentRuns: s.recentRuns.slice(0, 3),
          },
        };
      }),
    );
    return sendConsole(request, reply, listView, { kinds, canManage: can(request, 'schedules.manage'), notice }, { title: 'Yearly schedules', section: 'plan' });
  }

  async function renderEdit(request: FastifyRequest, reply: FastifyReply, kind: ScheduledCycleKind, v: Values, errors: FoldedErrors, status?: number, shown = false) {
    const f = (name: Field, label: string, hint?: string) => labelled(field(name, v[name], errors, hint), label, 'text');
    const fields = {
      month: labelled(field('month', v.month, errors), 'Month', 'select', { options: [{ value: '', label: 'Choose a month' }, ...MONTHS.map((m, i) => ({ value: String(i + 1), label: m }))] }),
      day: f('day', 'Day of the month', '1-31'),
      hour: f('hour', 'Hour', '0-23; default 8'),
      minute: f('minute', 'Minute', '0-59; default 0'),
      timezone: f('timezone', 'Time zone', 'An IANA time zone such as Europe/London; default the organization’s'),
      yearOffset:
        kind === 'internal-audit-programme'
          ? labelled(field('yearOffset', v.yearOffset, errors), 'Which year’s programme', 'select', {
              options: [
                { value: '', label: 'The year it fires in (default)' },
                { value: '0', label: 'The year it fires in' },
                { value: '1', label: 'The next year (for a schedule late in the year)' },
              ],
            })
          : undefined,
      meetingAfter: kind === 'management-review' ? f('meetingAfter', 'Meeting after', 'How long after it fires the meeting is, e.g. 45d; default 30d') : undefined,
      note: f('note', 'Note (optional)', 'Why, or anything operations should know; shown in the Temporal UI'),
    };
    const model = { kind, title: KIND_TITLES[kind], fields, paused: v.paused, ...refusal(errors), summary: shown ? checkSummary(errors, 'No problems found.') : '' };
    return sendConsole(request, reply, editView, model, { title: `Schedule: ${KIND_TITLES[kind]}`, section: 'plan', ...(status ? { status } : {}) });
  }

  app.get('/plan/schedules', consoleGet('schedules.read'), (request, reply) => {
    const ran = scheduledCycleKindSchema.safeParse((request.query as { ran?: unknown }).ran);
    return renderList(request, reply, ran.success ? `The ${KIND_TITLES[ran.data]} schedule was run: this year's cycle starts unless it already was.` : undefined);
  });

  app.get('/plan/schedules/:kind', consoleGet('schedules.manage'), async (request, reply) => {
    const kind = kindOf(request);
    if (!kind.success) return notFound(request, reply);
    const s = (await getCycleSchedule(deps(app), kind.data))?.settings;
    const v: Values = {
      month: s ? String(s.month) : '',
      day: s ? String(s.day) : '',
      hour: s ? String(s.hour) : '',
      minute: s ? String(s.minute) : '',
      timezone: s?.timezone ?? '',
      yearOffset: s?.yearOffset !== undefined ? String(s.yearOffset) : '',
      meetingAfter: s?.meetingAfter ?? '',
      note: s?.note ?? '',
      paused: s?.paused ?? false,
    };
    return renderEdit(request, reply, kind.data, v, noErrors());
  });

  app.post('/plan/schedules/:kind/check', consolePost('schedules.manage'), async (request, reply) => {
    const kind = kindOf(request);
    if (!kind.success) return notFound(request, reply);
    const errors = check(kind.data, valuesOf(formBody(request)));
    return sendFragment(reply, checkFragment(FIELDS, errors, checkSummary(errors, 'No problems found.')));
  });

  app.post('/plan/schedules/:kind', consolePost('schedules.manage'), async (request, reply) => {
    const kind = kindOf(request);
    if (!kind.success) return notFound(request, reply);
    const v = valuesOf(formBody(request));
    const errors = check(kind.data, v);
    if (errors.form.length || Object.keys(errors.fields).length) return renderEdit(request, reply, kind.data, v, errors, 400, true);
    try {
      const { created, schedule } = await putCycleSchedule(deps(app), kind.data, inputOf(v));
      request.log.info({ scheduleId: schedule.scheduleId, created }, 'yearly schedule written from the console');
    } catch (err) {
      if (err instanceof StartInputError) return renderEdit(request, reply, kind.data, v, foldErrors(err.issues, FIELDS), 400, true);
      if (err instanceof ScheduleWriteConflict) return renderEdit(request, reply, kind.data, v, { fields: {}, form: [err.message] }, 409, true);
      throw err;
    }
    return reply.redirect('/console/plan/schedules', 303);
  });

  for (const [action, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    app.post(`/plan/schedules/:kind/${action}`, consolePost('schedules.manage'), async (request, reply) => {
      const kind = kindOf(request);
      if (!kind.success) return notFound(request, reply);
      const schedule = await setCycleSchedulePaused(deps(app), kind.data, paused, text(formBody(request), 'note') || undefined);
      if (!schedule) return notFound(request, reply);
      request.log.info({ scheduleId: schedule.scheduleId, paused }, `yearly schedule ${action}d from the console`);
      return reply.redirect('/console/plan/schedules', 303);
    });
  }

  app.post('/plan/schedules/:kind/run', consolePost('schedules.manage'), async (request, reply) => {
    const kind = kindOf(request);
    if (!kind.success) return notFound(request, reply);
    if (!(await triggerCycleSchedule(deps(app), kind.data))) return notFound(request, reply);
    request.log.info({ kind: kind.data }, 'yearly schedule run from the console');
    return reply.redirect(`/console/plan/schedules?ran=${kind.data}`, 303);
  });

  done();
};
