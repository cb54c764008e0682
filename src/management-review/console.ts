/**
 * The console's management review forms (ISO/IEC 42001 9.3): start a review (as
 * `POST /admin/management-reviews`: the request schema, then `startManagementReview`), follow it
 * (its inputs, pack, approval and history from the workflow's status), and record its minutes
 * (as `POST /admin/management-reviews/:reviewId/minutes`: the request schema, then the
 * `recordMinutes` update, whose validator applies the minutes rules). The live check of the
 * minutes runs the same rules (`minutesProblems`) against the review's status.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { reviewIdSchema, reviewInputKeys, reviewInputTitles, type ManagementReviewStatus, type ReviewInputKey } from './schema.js';
import { MANAGEMENT_REVIEW_WORKFLOW, managementReviewStatusQuery, managementReviewWorkflowId, recordMinutesUpdate } from './contract.js';
import { minutesProblems } from './rules.js';
import { checkManagementReviewInput, startManagementReview } from './start.js';
import { minutesBodySchema, startBodySchema } from './routes.js';
import { StartInputError } from '../temporal/start.js';
import { visibilityLiteral } from '../temporal/visibility.js';
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
  refusal,
  checkFragment,
  consoleErrors,
  checkSummary,
  errorCount,
  field,
  labelled,
  foldErrors,
  lines,
  mergeErrors,
  noErrors,
  rowIndexes,
  sendFragment,
  text,
  values,
  type FoldedErrors,
} from '../console/plan.js';
import '../api/deps.js';

// ---------------------------------------------------------------------------------------------
// Start

const START_FIELDS = ['reviewId', 'meetingDate', 'periodFrom'] as const;

function startInput(body: Record<string, unknown>) {
  const periodFrom = text(body, 'periodFrom');
  return { reviewId: text(body, 'reviewId'), meetingDate: text(body, 'meetingDate'), ...(periodFrom ? { periodFrom } : {}) };
}

/** The start as the admin route checks it: its schema, then the starter's checks (people, dates). */
function checkStart(app: FastifyInstance, by: string, input: ReturnType<typeof startInput>): { errors: FoldedErrors; parsed?: ReturnType<typeof startBodySchema.parse> } {
  const parsed = startBodySchema.safeParse(input);
  if (!parsed.success) return { errors: foldErrors(fieldErrors(parsed.error), START_FIELDS) };
  const org = app.deps.organization?.();
  try {
    checkManagementReviewInput({ ...parsed.data, requestedBy: by }, org ? { organization: org } : {});
  } catch (err) {
    if (err instanceof StartInputError) return { errors: foldErrors(err.issues, START_FIELDS) };
    throw err;
  }
  return { errors: noErrors(), parsed: parsed.data };
}

const startView = consoleView(`
<nav aria-label="Breadcrumb"><p><a href="/console/plan">Plan and start</a> › Management review</p></nav>
<h1>Start a management review</h1>
<p>The input owners get their tasks (9.3.2 a–e) due before the meeting, and the attendees the meeting invitation. After the meeting you record the minutes here, and top management approves them.</p>
{{> formRefused heading="The review was not started"}}
{{#if canStart}}
<form method="post" action="/console/plan/management-review" hx-post="/console/plan/management-review/check" hx-trigger="input delay:300ms" hx-target="#start-check" hx-swap="innerHTML" novalidate>
<input type="hidden" name="csrf" value="{{csrf}}">
{{> consoleField fields.reviewId}}{{> consoleField fields.meetingDate}}{{> consoleField fields.periodFrom}}
<div id="start-check" role="status" aria-live="polite">{{#if summary}}<p>{{summary}}</p>{{/if}}</div>
<div class="actions"><button type="submit">Start the review</button></div>
</form>
<script src="/console/plan/live-check.js" defer></script>
{{/if}}
{{#if reviews.length}}
<h2>Reviews</h2>
<ul class="work">{{#each reviews}}<li><a href="/console/plan/management-review/{{reviewId}}">Management review {{reviewId}}</a><p class="meta">{{state}}{{#if meetingDate}} · meeting {{meetingDate}}{{/if}}</p></li>{{/each}}</ul>
{{/if}}
`);

// ---------------------------------------------------------------------------------------------
// Minutes

const ACTION_FIELDS = ['title', 'owner', 'dueDate', 'input', 'nonconformity'] as const;
type ActionField = (typeof ACTION_FIELDS)[number];

interface ActionRow {
  index: number;
  values: Record<ActionField, string>;
}

interface MinutesForm {
  attendees: string[];
  improvementDecisions: string;
  changeDecisions: string;
  actions: ActionRow[];
  /** Per missing input: the decision (`accepted` or the action's number), the reason. */
  missing: Partial<Record<ReviewInputKey, { decision: string; reason: string }>>;
  notes: string;
  reviewPolicy: string;
}

const blankAction = (index: number): ActionRow => ({ index, values: { title: '', owner: '', dueDate: '', input: '', nonconformity: '' } });
const actionBlank = (a: ActionRow) => ACTION_FIELDS.every((f) => a.values[f] === '');

function minutesFormOf(body: Record<string, unknown>, missing: readonly ReviewInputKey[]): MinutesForm {
  return {
    attendees: values(body, 'attendees'),
    improvementDecisions: text(body, 'improvementDecisions'),
    changeDecisions: text(body, 'changeDecisions'),
    actions: rowIndexes(body, 'actions').map((index) => ({
      index,
      values: Object.fromEntries(ACTION_FIELDS.map((f) => [f, text(body, `actions.${index}.${f}`)])) as Record<ActionField, string>,
    })),
    missing: Object.fromEntries(missing.map((k) => [k, { decision: text(body, `missing.${k}.decision`), reason: text(body, `missing.${k}.reason`) }])),
    notes: text(body, 'notes'),
    reviewPolicy: text(body, 'reviewPolicy'),
  };
}

const minutesNames = (form: MinutesForm, missing: readonly ReviewInputKey[]) => [
  'attendees',
  'improvementDecisions',
  'changeDecisions',
  ...form.actions.flatMap((a) => ACTION_FIELDS.map((f) => `actions.${a.index}.${f}`)),
  ...missing.flatMap((k) => [`missing.${k}.decision`, `missing.${k}.reason`]),
  'notes',
  'reviewPolicy',
];

/** The minutes as the route's body (without `by`), and how a path of it maps back to the form. */
function minutesInput(form: MinutesForm, missing: readonly ReviewInputKey[]) {
  const given = form.actions.filter((a) => !actionBlank(a));
  const decided = missing.filter((k) => form.missing[k]?.decision);
  const body = {
    attendees: form.attendees,
    improvementDecisions: lines(form.improvementDecisions),
    changeDecisions: lines(form.changeDecisions),
    actions: given.map((a) => ({
      title: a.values.title,
      owner: a.values.owner,
      dueDate: a.values.dueDate,
      input: a.values.input,
      nonconformity: a.values.nonconformity === 'yes',
    })),
    missingInputs: decided.map((k) => {
      const d = form.missing[k]!;
      if (d.decision === 'accepted') return { input: k, decision: 'accepted' as const, reason: d.reason };
      // "Action n" names a group of the form; the minutes number only the actions given.
      const row = form.actions[Number(d.decision)];
      const index = row ? given.indexOf(row) : -1;
      return { input: k, decision: 'action' as const, action: index >= 0 ? index : given.length + Number(d.decision) };
    }),
    ...(form.notes ? { notes: form.notes } : {}),
    ...(form.reviewPolicy ? { reviewPolicy: form.reviewPolicy } : {}),
  };
  const rename = (path: string) => {
    const m = /^missingInputs(?:\.(\d+))?(?:\.(\w+))?/.exec(path);
    if (m) {
      const key = m[1] !== undefined ? decided[Number(m[1])] : (/input \((\w)\)/.exec(path)?.[1] as ReviewInputKey | undefined);
      if (!key) return path;
      return m[2] === 'reason' ? `missing.${key}.reason` : `missing.${key}.decision`;
    }
    return path.replace(/^actions\.(\d+)/, (_m, k: string) => `actions.${given[Number(k)]?.index ?? k}`);
  };
  return { body, rename };
}

/** A rule problem of `minutesProblems` (`<field>: <message> (rule …)`) as a path and message. */
function problemIssue(problem: string): { path: string; message: string } {
  const at = problem.indexOf(': ');
  const path = at > 0 ? problem.slice(0, at) : '';
  // A missing input without a decision names the input in its message: it goes beside that input.
  const missingKey = path === 'missingInputs' ? /input \((\w)\)/.exec(problem)?.[1] : undefined;
  return { path: missingKey ? `missingInputs.${missingKey}` : path, message: at > 0 ? problem.slice(at + 2) : problem };
}

const missingOf = (status: ManagementReviewStatus): ReviewInputKey[] => (status.pack?.inputs ?? []).filter((i) => i.state === 'missing').map((i) => i.key);

/** The minutes as the route and the workflow check them: the request schema, then the minutes rules against the review's status. */
function checkMinutes(form: MinutesForm, status: ManagementReviewStatus, by: string, nowMs = Date.now()) {
  const missing = missingOf(status);
  const names = minutesNames(form, missing);
  const { body, rename } = minutesInput(form, missing);
  const renameProblem = (path: string) => {
    const key = /^missingInputs\.([a-e])$/.exec(path)?.[1];
    return key ? `missing.${key}.decision` : rename(path);
  };
  const parsed = minutesBodySchema.safeParse({ ...body, by });
  if (!parsed.success) return { errors: foldErrors(fieldErrors(parsed.error), names, rename), names };
  const meetingStartMs = status.meetingStart ? Date.parse(status.meetingStart) : 0;
  const problems = minutesProblems({ ...parsed.data, by }, { nowMs, meetingStartMs, missing }).map(problemIssue);
  return { errors: mergeErrors(foldErrors(problems, names, renameProblem)), names, parsed: parsed.data };
}

const reviewView = consoleView(`
<nav aria-label="Breadcrumb"><p><a href="/console/plan">Plan and start</a> › <a href="/console/plan/management-review">Management review</a> › {{reviewId}}</p></nav>
<h1>Management review {{reviewId}}</h1>
<section class="notice{{#if approvalRequested}} notice-done{{/if}}" aria-labelledby="review-state-title">
<h2 id="review-state-title">Where the review is</h2>
<p>{{stateText}}</p>
{{#if approval}}<p id="approval-state">Approval requested from top management (round {{approval.round}}): {{approval.state}}.</p>{{/if}}
<p>Meeting {{meetingText}}.{{#if packUrl}} <a href="{{packUrl}}">The review pack</a>{{/if}}{{#if temporalUrl}} · <a href="{{temporalUrl}}">The workflow in the Temporal UI</a>{{/if}}</p>
</section>
<div class="table-wrap">
<table>
<caption>Inputs (9.3.2)</caption>
<thead><tr><th scope="col">Input</th><th scope="col">Owner</th><th scope="col">State</th></tr></thead>
<tbody>{{#each inputs}}<tr><th scope="row">({{key}}) {{title}}</th><td>{{owner}}</td><td>{{state}}</td></tr>{{/each}}</tbody>
</table>
</div>
{{> formRefused heading="The minutes were not recorded"}}
{{#if minutesOpen}}
<h2 id="minutes-title">{{#if editing}}Edit the minutes (top management is asked again){{else}}Record the minutes{{/if}}</h2>
<form method="post" action="/console/plan/management-review/{{reviewId}}/minutes" hx-post="/console/plan/management-review/{{reviewId}}/minutes/check" hx-trigger="input delay:300ms" hx-target="#minutes-check" hx-swap="innerHTML" aria-labelledby="minutes-title" novalidate>
<input type="hidden" name="csrf" value="{{csrf}}">
<fieldset id="{{attendees.id}}" aria-describedby="{{attendees.id}}-error">
<legend>Attendees</legend>
<p class="field-error" id="{{attendees.id}}-error">{{attendees.error}}</p>
{{#each attendees.options}}<div class="option"><input type="checkbox" id="att-{{value}}" name="attendees" value="{{value}}"{{#if selected}} checked{{/if}}><label for="att-{{value}}">{{label}}</label></div>{{/each}}
</fieldset>
{{> consoleField fields.improvementDecisions}}{{> consoleField fields.changeDecisions}}
{{#each missing}}
<fieldset class="plan-group">
<legend>Input ({{key}}) {{title}}: missing from the pack</legend>
<div class="plan-fields">{{> consoleField decision}}{{> consoleField reason}}</div>
</fieldset>
{{/each}}
{{#each actions}}
<fieldset class="plan-group">
<legend>Action {{n}}</legend>
<div class="plan-fields">{{> consoleField title}}{{> consoleField owner}}{{> consoleField dueDate}}{{> consoleField input}}</div>
<div class="option"><input type="checkbox" id="{{ncId}}" name="{{ncName}}" value="yes"{{#if nc}} checked{{/if}}><label for="{{ncId}}">It addresses a nonconformity (a corrective action is raised)</label></div>
</fieldset>
{{/each}}
{{> consoleField fields.reviewPolicy}}{{> consoleField fields.notes}}
<div id="minutes-check" role="status" aria-live="polite">{{#if summary}}<p>{{summary}}</p>{{/if}}</div>
<div class="actions">
<button type="submit">Record the minutes and ask top management to approve</button>
<button type="submit" name="add" value="1" class="button-secondary">Add another action</button>
</div>
</form>
<script src="/console/plan/live-check.js" defer></script>
{{else if waitingForPack}}
<p>The minutes are recorded once the pack is built: when every input is in, or when the meeting starts.</p>
{{/if}}
{{#if minutes}}
<h2>Minutes (version {{minutes.version}})</h2>
<dl class="facts"><dt>Recorded</dt><dd>{{minutes.recordedAt}} by {{minutes.by}}</dd><dt>Attendees</dt><dd>{{minutes.attendees}}</dd><dt>Actions</dt><dd>{{minutes.actions}}</dd></dl>
{{/if}}
{{#if timeline.length}}
<h2>Recent history</h2>
<ul class="history">{{#each timeline}}<li><time datetime="{{at}}">{{at}}</time> {{detail}} <span class="meta">{{by}}</span></li>{{/each}}</ul>
{{/if}}
`);

const STATE_TEXT: Record<ManagementReviewStatus['state'], string> = {
  'collecting-inputs': 'Collecting the inputs from their owners before the meeting.',
  'awaiting-minutes': 'The pack is ready: record the minutes of the meeting.',
  'awaiting-approval': 'The minutes are recorded and wait for approval by top management.',
  completed: 'The results are approved and the actions raised.',
  cancelled: 'The review was cancelled.',
};

export const managementReviewConsole = (ctx: PageContext): FastifyPluginCallback => (app, _options, done) => {
  consoleErrors(app, ctx);
  const gateway = () => new WorkflowGateway(temporalClient(app));
  const reviewIdOf = (request: FastifyRequest) => reviewIdSchema.safeParse((request.params as { reviewId?: string }).reviewId);
  const notFound = (request: FastifyRequest, reply: FastifyReply, what: string) =>
    sendConsole(request, reply, consoleView('<h1>No such management review</h1><p>{{what}}</p><p><a href="/console/plan/management-review">Management reviews</a></p>'), { what }, { title: 'Not found', section: 'plan', status: 404 });

  async function recentReviews() {
    const client = temporalClient(app);
    const query = `TaskQueue = ${visibilityLiteral(app.deps.config.TEMPORAL_TASK_QUEUE)} AND WorkflowType = ${visibilityLiteral(MANAGEMENT_REVIEW_WORKFLOW)}`;
    const out: Array<{ reviewId: string; state: string; meetingDate?: string }> = [];
    for await (const info of client.workflow.list({ query })) {
      const memo = info.memo ?? {};
      out.push({
        reviewId: info.workflowId.replace(/^management-review\//, ''),
        state: typeof memo.state === 'string' ? memo.state : info.status.name.toLowerCase(),
        ...(typeof memo.meetingDate === 'string' ? { meetingDate: memo.meetingDate } : {}),
      });
      if (out.length >= 10) break;
    }
    return out;
  }

  function renderStart(request: FastifyRequest, reply: FastifyReply, input: ReturnType<typeof startInput>, errors: FoldedErrors, status?: number, shown = false) {
    return recentReviews().then((reviews) =>
      sendConsole(
        request,
        reply,
        startView,
        {
          canStart: can(request, 'management-review.start'),
          ...refusal(errors),
          fields: {
            reviewId: labelled(field('reviewId', input.reviewId, errors, 'The year, optionally with a qualifier: 2027, 2027-H1'), 'Review id', 'text'),
            meetingDate: labelled(field('meetingDate', input.meetingDate, errors, 'The day of the review meeting; today or later'), 'Meeting date', 'date'),
            periodFrom: labelled(field('periodFrom', input.periodFrom ?? '', errors, 'Optional: where the performance figures start; default the previous review, or one year before'), 'Period from', 'date'),
          },
          summary: shown ? checkSummary(errors, 'No problems found.') : '',
          reviews,
        },
        { title: 'Start a management review', section: 'plan', ...(status ? { status } : {}) },
      ),
    );
  }

  app.get('/plan/management-review', consoleGet('management-review.read'), (request, reply) => renderStart(request, reply, { reviewId: String(new Date().getUTCFullYear()), meetingDate: '' }, noErrors()));

  app.post('/plan/management-review/check', consolePost('management-review.start'), async (request, reply) => {
    const { errors } = checkStart(app, requestActor(request), startInput(formBody(request)));
    return sendFragment(reply, checkFragment(START_FIELDS, errors, checkSummary(errors, 'No problems found: the review can be started.')));
  });

  app.post('/plan/management-review', consolePost('management-review.start'), async (request, reply) => {
    const input = startInput(formBody(request));
    const by = requestActor(request);
    const { errors, parsed } = checkStart(app, by, input);
    if (!parsed) return renderStart(request, reply, input, errors, 400, true);
    const org = app.deps.organization?.();
    const { policy, ...given } = parsed;
    try {
      await startManagementReview(temporalClient(app), app.deps.config.TEMPORAL_TASK_QUEUE, { ...given, requestedBy: by, ...(policy ? { policy } : {}) }, { ...(org ? { organization: org } : {}), publicBaseUrl: app.deps.config.PUBLIC_BASE_URL });
    } catch (err) {
      if (err instanceof StartInputError) return renderStart(request, reply, input, foldErrors(err.issues, START_FIELDS), 400, true);
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        const taken = { fields: { reviewId: `management review ${given.reviewId} already exists; choose another review id (e.g. ${given.reviewId.slice(0, 4)}-H2)` }, form: [] };
        return renderStart(request, reply, input, taken, 409, true);
      }
      throw err;
    }
    request.log.info({ workflowId: managementReviewWorkflowId(given.reviewId), by }, 'management review started from the console');
    return reply.redirect(`/console/plan/management-review/${given.reviewId}`, 303);
  });

  async function load(reviewId: string) {
    return gateway().load(managementReviewWorkflowId(reviewId), MANAGEMENT_REVIEW_WORKFLOW, managementReviewStatusQuery);
  }

  function renderReview(request: FastifyRequest, reply: FastifyReply, status: ManagementReviewStatus, state?: { form: MinutesForm; errors: FoldedErrors; status: number; shown?: boolean }) {
    const missing = missingOf(status);
    const minutes = status.minutes;
    const form: MinutesForm = state?.form ?? {
      attendees: minutes?.attendees ?? status.attendees,
      improvementDecisions: (minutes?.improvementDecisions ?? []).join('\n'),
      changeDecisions: (minutes?.changeDecisions ?? []).join('\n'),
      actions: minutes?.actions.length
        ? minutes.actions.map((a, index) => ({ index, values: { title: a.title, owner: a.owner, dueDate: a.dueDate, input: a.input, nonconformity: a.nonconformity ? 'yes' : '' } }))
        : [blankAction(0)],
      missing: Object.fromEntries(
        missing.map((k) => {
          const d = minutes?.missingInputs.find((m) => m.input === k);
          return [k, { decision: d ? (d.decision === 'accepted' ? 'accepted' : typeof d.action === 'number' ? String(d.action) : '') : '', reason: d?.decision === 'accepted' ? d.reason : '' }];
        }),
      ),
      notes: minutes?.notes ?? '',
      reviewPolicy: minutes?.reviewPolicy ?? '',
    };
    const errors = state?.errors ?? noErrors();
    const personOptions = [{ value: '', label: 'Choose a person' }, ...peopleOptions(request)];
    const inputOptions = [{ value: '', label: 'Choose the input' }, ...reviewInputKeys.map((k) => ({ value: k, label: `(${k}) ${reviewInputTitles[k]}` }))];
    const actionOptions = [
      { value: '', label: 'Choose a decision' },
      { value: 'accepted', label: 'Accepted as missing (give the reason)' },
      ...form.actions.map((_a, i) => ({ value: String(i), label: `Action ${i + 1} supplies it` })),
    ];
    const attendeeError = errors.fields.attendees ?? '';
    const model = {
      reviewId: status.reviewId,
      stateText: STATE_TEXT[status.state],
      approval: status.approval && status.state !== 'completed' ? status.approval : undefined,
      approvalRequested: status.state === 'awaiting-approval' || status.state === 'completed',
      meetingText: status.meetingStart ? status.meetingStart.replace('T', ' ').slice(0, 16) + ' UTC' : status.meetingDate,
      packUrl: status.pack && can(request, 'management-review.read') ? `/admin/management-reviews/${status.reviewId}/pack` : undefined,
      temporalUrl: temporalWorkflowUrl(app.deps.config, status.workflowId),
      inputs: status.inputs.map((i) => ({ key: i.key, title: i.title, owner: i.owner, state: i.state })),
      ...refusal(errors),
      minutesOpen: (status.state === 'awaiting-minutes' || status.state === 'awaiting-approval') && can(request, 'management-review.minutes'),
      editing: Boolean(minutes),
      waitingForPack: status.state === 'collecting-inputs',
      attendees: {
        id: 'f-attendees',
        error: attendeeError,
        options: peopleOptions(request).map((p) => ({ ...p, selected: form.attendees.includes(p.value) })),
      },
      fields: {
        improvementDecisions: labelled(field('improvementDecisions', form.improvementDecisions, errors, 'One decision per line'), 'Decisions on opportunities for continual improvement', 'textarea'),
        changeDecisions: labelled(field('changeDecisions', form.changeDecisions, errors, 'One decision per line'), 'Decisions on changes to the AI management system', 'textarea'),
        reviewPolicy: labelled(field('reviewPolicy', form.reviewPolicy, errors, 'Optional: why the AI policy is to be reviewed; the review starts once the minutes are approved'), 'Review the AI policy', 'text'),
        notes: labelled(field('notes', form.notes, errors), 'Notes (optional)', 'textarea'),
      },
      missing: missing.map((k) => ({
        key: k,
        title: reviewInputTitles[k],
        decision: labelled(field(`missing.${k}.decision`, form.missing[k]?.decision ?? '', errors), 'Decision', 'select', { options: actionOptions }),
        reason: labelled(field(`missing.${k}.reason`, form.missing[k]?.reason ?? '', errors, 'Why the review accepts it as missing'), 'Reason', 'text'),
      })),
      actions: form.actions.map((a, i) => {
        const f = (name: ActionField, hint?: string) => field(`actions.${a.index}.${name}`, a.values[name], errors, hint);
        return {
          n: i + 1,
          title: labelled(f('title', 'Leave the action empty to drop it'), 'Title', 'text'),
          owner: labelled(f('owner'), 'Owner', 'select', { options: personOptions }),
          dueDate: labelled(f('dueDate', 'Not in the past'), 'Due date', 'date'),
          input: labelled(f('input', 'The review input it answers'), 'Input', 'select', { options: inputOptions }),
          ncId: `f-actions-${a.index}-nonconformity`,
          ncName: `actions.${a.index}.nonconformity`,
          nc: a.values.nonconformity === 'yes',
        };
      }),
      summary: state?.shown ? checkSummary(errors, 'No problems found.') : '',
      minutes: minutes && {
        version: minutes.version,
        recordedAt: minutes.recordedAt,
        by: minutes.by,
        attendees: minutes.attendees.join(', '),
        actions: minutes.actions.map((a) => `${a.title} (${a.owner}, due ${a.dueDate})`).join('; ') || 'none',
      },
      timeline: status.timeline.slice(-8).reverse(),
    };
    return sendConsole(request, reply, reviewView, model, { title: `Management review ${status.reviewId}`, section: 'plan', ...(state ? { status: state.status } : {}) });
  }

  app.get('/plan/management-review/:reviewId', consoleGet('management-review.read'), async (request, reply) => {
    const reviewId = reviewIdOf(request);
    if (!reviewId.success) return notFound(request, reply, reviewId.error.issues[0]?.message ?? 'bad review id');
    const found = await load(reviewId.data);
    if (!found) return notFound(request, reply, `No management review ${reviewId.data}.`);
    return renderReview(request, reply, found.status);
  });

  app.post('/plan/management-review/:reviewId/minutes/check', consolePost('management-review.minutes'), async (request, reply) => {
    const reviewId = reviewIdOf(request);
    if (!reviewId.success) return notFound(request, reply, 'bad review id');
    const found = await load(reviewId.data);
    if (!found) return notFound(request, reply, `No management review ${reviewId.data}.`);
    const form = minutesFormOf(formBody(request), missingOf(found.status));
    const { errors, names } = checkMinutes(form, found.status, requestActor(request));
    return sendFragment(reply, checkFragment(names, errors, checkSummary(errors, 'No problems found: the minutes can be recorded.')));
  });

  app.post('/plan/management-review/:reviewId/minutes', consolePost('management-review.minutes'), async (request, reply) => {
    const reviewId = reviewIdOf(request);
    if (!reviewId.success) return notFound(request, reply, 'bad review id');
    const found = await load(reviewId.data);
    if (!found) return notFound(request, reply, `No management review ${reviewId.data}.`);
    const body = formBody(request);
    const form = minutesFormOf(body, missingOf(found.status));
    if (text(body, 'add')) {
      const next = (form.actions.at(-1)?.index ?? -1) + 1;
      return renderReview(request, reply, found.status, { form: { ...form, actions: [...form.actions, blankAction(next)] }, errors: noErrors(), status: 200 });
    }
    const by = requestActor(request);
    const { errors, parsed } = checkMinutes(form, found.status, by);
    if (!parsed || errorCount(errors) > 0) return renderReview(request, reply, found.status, { form, errors, status: 400, shown: true });
    try {
      await updateRunning(
        found,
        'recorded',
        { closed: (s) => `management review ${reviewId.data} is already closed (${s})`, gone: 'the review closed in the meantime' },
        (handle) => handle.executeUpdate(recordMinutesUpdate, { args: [{ ...parsed, by }] }),
      );
    } catch (err) {
      if (err instanceof HttpError && err.statusCode < 500) return renderReview(request, reply, found.status, { form, errors: { fields: {}, form: [err.message] }, status: err.statusCode, shown: true });
      throw err;
    }
    request.log.info({ reviewId: reviewId.data, by }, 'management review minutes recorded from the console');
    return reply.redirect(`/console/plan/management-review/${reviewId.data}`, 303);
  });

  done();
};
