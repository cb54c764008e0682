/**
 * The console's "plan" section: its index (the forms that start and plan cycles, as the
 * person's role allows them) and what those forms share.
 *
 * Every form there validates as its admin route does (the same schemas, rule functions and
 * starters), shows each error beside its field and keeps the values typed. Live checks are
 * htmx posts to a `/check` route that only validates: its answer is a summary for the form's
 * status region plus every field's error paragraph swapped out of band; `live-check.js` then
 * marks the fields whose paragraph holds an error `aria-invalid`. Without JavaScript the full
 * POST answers the same errors in the re-rendered page.
 */
import Handlebars from 'handlebars';
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import type { Permission } from '../auth/permissions.js';
import { can, consoleView, fieldId, sendConsole } from './render.js';
import { consoleHandler } from './handler.js';
import type { PageContext } from '../api/pages/common.js';
import { consoleGet } from './guard.js';

// ---------------------------------------------------------------------------------------------
// Form values

/** The first value of a form field as a trimmed string ('' when absent). */
export function text(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  const first: unknown = Array.isArray(v) ? (v as unknown[])[0] : v;
  return typeof first === 'string' ? first.trim() : '';
}

/** A list typed as words separated by commas, semicolons, spaces or lines (`4.1, 5.2 A.5.4`). */
export function words(value: string): string[] {
  return value.split(/[\s,;]+/).filter(Boolean);
}

/** One line per item (blank lines dropped). */
export function lines(value: string): string[] {
  return value
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

/** Every value of a repeated field (checkboxes). */
export function values(body: Record<string, unknown>, name: string): string[] {
  const v = body[name];
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === 'string' && x !== '');
}

/** The indexes `i` of the fields named `<prefix>.<i>.…` in a form body, ascending. */
export function rowIndexes(body: Record<string, unknown>, prefix: string): number[] {
  const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d{1,3})\\.`);
  const seen = new Set<number>();
  for (const key of Object.keys(body)) {
    const m = re.exec(key);
    if (m) seen.add(Number(m[1]));
  }
  return [...seen].sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------
// Errors beside fields

export interface FoldedErrors {
  /** By form field name: the messages of the errors at or below it, joined. */
  fields: Record<string, string>;
  /** Errors that belong to no field of the form (the whole plan, a rule over several fields). */
  form: string[];
}

/**
 * Errors by dotted path (as `fieldErrors` gives them, or the issues of a starter) folded onto
 * the form's fields: an error goes to the field whose name is its path or the longest prefix of
 * it (`audits.0.scope.clauses.1` to `audits.0.scope.clauses`); `rename` maps a path first
 * (e.g. a list index to a form row). The rest are the form's.
 */
export function foldErrors(errors: Record<string, string> | Array<{ path: string; message: string }>, names: readonly string[], rename: (path: string) => string = (p) => p): FoldedErrors {
  const entries = Array.isArray(errors) ? errors.map((e) => [e.path, e.message] as const) : Object.entries(errors);
  const out: FoldedErrors = { fields: {}, form: [] };
  for (const [rawPath, message] of entries) {
    const path = rename(rawPath);
    const name = names.filter((n) => path === n || path.startsWith(`${n}.`)).sort((a, b) => b.length - a.length)[0];
    if (name === undefined) {
      out.form.push(path && path !== '(input)' ? `${path}: ${message}` : message);
      continue;
    }
    const tail = path.slice(name.length + 1);
    const line = tail && /^\d+$/.test(tail) ? `item ${Number(tail) + 1}: ${message}` : message;
    out.fields[name] = out.fields[name] ? `${out.fields[name]}; ${line}` : line;
  }
  return out;
}

/** Merges folded errors (a later message for the same field is appended). */
export function mergeErrors(...all: FoldedErrors[]): FoldedErrors {
  const out: FoldedErrors = { fields: {}, form: [] };
  for (const e of all) {
    for (const [k, v] of Object.entries(e.fields)) out.fields[k] = out.fields[k] && !out.fields[k].includes(v) ? `${out.fields[k]}; ${v}` : v;
    for (const f of e.form) if (!out.form.includes(f)) out.form.push(f);
  }
  return out;
}

/** What a form's refusal notice shows: the form's own errors and how many fields say why beside them. */
export function refusal(errors: FoldedErrors): { formErrors: string[]; refused: boolean; fieldErrorCount: number } {
  return { formErrors: errors.form, refused: errorCount(errors) > 0, fieldErrorCount: Object.keys(errors.fields).length };
}

export const noErrors = (): FoldedErrors => ({ fields: {}, form: [] });
export const errorCount = (e: FoldedErrors): number => Object.keys(e.fields).length + e.form.length;

/** Options of a select, with the chosen one selected. */
export function options(items: Array<{ value: string; label: string }>, chosen: string): Array<{ value: string; label: string; selected: boolean }> {
  return items.map((o) => ({ ...o, selected: o.value === chosen }));
}

// ---------------------------------------------------------------------------------------------
// Fields and fragments

const hbs = Handlebars.create();
hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);

/** Compiles a fragment (HTML-escaped values); its output goes into a page through `safe`. */
export function fragment<M>(source: string): (model: M) => string {
  const t = hbs.compile(source, { preventIndent: true });
  return (model: M) => t(model);
}

/** Pre-rendered HTML (a fragment's output) to place into a page. */
export const safe = (html: string): Handlebars.SafeString => new hbs.SafeString(html);

/** The model of the console's `consoleField` partial: `{{> consoleField fields.x}}`. */
export interface ConsoleFieldModel {
  name: string;
  label: string;
  type: 'text' | 'date' | 'textarea' | 'select';
  value: string;
  error: string;
  hint?: string;
  options?: Array<{ value: string; label: string; selected: boolean }>;
}

/** A field's name and value with its error (from `errors`) and an optional hint. */
export interface FieldValue {
  name: string;
  value: string;
  error: string;
  hint?: string;
}

export function field(name: string, value: string, errors: FoldedErrors, hint?: string): FieldValue {
  return { name, value, error: errors.fields[name] ?? '', ...(hint ? { hint } : {}) };
}

/** A field with its label and type (and a select's options, the value selected), for `{{> consoleField …}}`. */
export function labelled(f: FieldValue, label: string, type: ConsoleFieldModel['type'], extra: { options?: Array<{ value: string; label: string }> } = {}): ConsoleFieldModel {
  return { ...f, label, type, ...(extra.options ? { options: options(extra.options, f.value) } : {}) };
}

const escapeHtml = (s: string): string => Handlebars.Utils.escapeExpression(s);

/**
 * The answer of a `/check` route: `summary` for the form's status region, then every field's
 * error paragraph (empty when the field is fine) and `extra` fragments, each swapped out of band.
 */
export function checkFragment(names: readonly string[], errors: FoldedErrors, summary: string, extra: string[] = []): string {
  const paragraphs = names.map((n) => `<p class="field-error" id="${fieldId(n)}-error" hx-swap-oob="true"${errors.fields[n] ? '' : ' hidden'}>${escapeHtml(errors.fields[n] ?? '')}</p>`);
  const form = errors.form.length ? `<ul>${errors.form.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>` : '';
  return [`<p>${escapeHtml(summary)}</p>${form}`, ...paragraphs, ...extra].join('\n');
}

/** A status line for a live check. */
export function checkSummary(errors: FoldedErrors, okText: string): string {
  const n = errorCount(errors);
  return n === 0 ? okText : `${n} problem${n === 1 ? '' : 's'} to fix before submitting.`;
}

/** Answers a `/check` route. */
export function sendFragment(reply: FastifyReply, html: string): FastifyReply {
  return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
}

/**
 * After a live check swaps the error paragraphs, each field whose paragraph holds an error is
 * marked `aria-invalid` and the others are cleared. Served from this origin (the console's CSP
 * allows no inline script).
 */
export const LIVE_CHECK_JS = `(function () {
  function sync() {
    var ps = document.querySelectorAll('p.field-error[id$="-error"]');
    for (var i = 0; i < ps.length; i++) {
      var field = document.getElementById(ps[i].id.slice(0, -6));
      if (!field || !('value' in field)) continue;
      if (ps[i].textContent.trim()) field.setAttribute('aria-invalid', 'true');
      else field.removeAttribute('aria-invalid');
    }
  }
  document.addEventListener('htmx:afterSettle', sync);
})();
`;

// ---------------------------------------------------------------------------------------------
// The index

interface PlanForm {
  href: string;
  title: string;
  what: string;
  permission: Permission;
}

const nextYear = () => new Date().getUTCFullYear() + 1;

const FORMS: () => PlanForm[] = () => [
  {
    href: `/console/plan/audit-programme/${nextYear()}`,
    title: `Internal audit programme ${nextYear()}`,
    what: 'Plan the year’s audits: scope, auditee, lead auditor and dates, with impartiality and coverage checked as you type (9.2).',
    permission: 'internal-audit.plan',
  },
  {
    href: '/console/plan/management-review',
    title: 'Management review',
    what: 'Start a management review, then record its minutes: attendees, decisions and actions (9.3).',
    permission: 'management-review.start',
  },
  {
    href: '/console/plan/certification',
    title: 'Certification cycle',
    what: 'Start a certificate’s cycle, with the ISO/IEC 17021-1 date rules checked as the dates are typed.',
    permission: 'certification.start',
  },
  {
    href: '/console/plan/ai-system-change',
    title: 'Significant change to an AI system',
    what: 'Announce a change of model, data, intended use, deployment or jurisdiction; it starts a reassessment (6.1.4, 8.4).',
    permission: 'ai-system.change',
  },
  {
    href: '/console/plan/schedules',
    title: 'Yearly schedules',
    what: 'When each recurring cycle starts by itself; set, pause, resume or run one now.',
    permission: 'schedules.read',
  },
];

const indexView = consoleView(`
<h1>Plan and start</h1>
<p>Forms that start and plan the cycles of the management system. Each checks what you enter as the admin API does, and shows every problem beside its field.</p>
{{#if forms.length}}
<ul class="work">
{{#each forms}}<li><a href="{{href}}">{{title}}</a><p>{{what}}</p></li>{{/each}}
</ul>
{{else}}
<p>Your roles allow none of these forms.</p>
{{/if}}
`);

/**
 * Errors of a plan page the way every console page answers them (refusals as pages, Temporal not
 * answering as a 503 page, anything else a 500 page quoting the request id): for the routes of
 * the plugin `app`.
 */
export function consoleErrors(app: FastifyInstance, ctx: PageContext): void {
  app.setErrorHandler((error, request, reply) => consoleHandler(ctx, () => Promise.reject(error instanceof Error ? error : new Error(String(error))))(request, reply));
}

/** `/console/plan` and the live-check script. */
export const planIndex = (ctx: PageContext): FastifyPluginCallback => (app, _options, done) => {
  consoleErrors(app, ctx);
  app.get('/plan', consoleGet(null), async (request: FastifyRequest, reply: FastifyReply) => {
    const forms = FORMS().filter((f) => can(request, f.permission));
    return sendConsole(request, reply, indexView, { forms }, { title: 'Plan and start', section: 'plan' });
  });
  app.get('/plan/live-check.js', (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=300').send(LIVE_CHECK_JS));
  done();
};
