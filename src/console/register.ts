/**
 * The building blocks every register of the console shares: a list with filters taken from
 * the GET query (checked by the same schema as the admin API's list; a bad filter re-renders
 * the list with a 400 and the error beside the filter), a table that scrolls inside its own
 * labelled region on a phone, and a detail page's facts, timeline, ledger records and link to
 * the workflow in the Temporal UI. Templates are strings composed into each register's page
 * (`consoleView(LIST_HEAD + ...)`), so every page keeps its one `<h1>`.
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import type { PageContext } from '../api/pages/common.js';
import type { Permission } from '../auth/permissions.js';
import type { z } from 'zod';
import { formatDateTime } from '../mail/templates.js';
import type { CheckedRecord, RecordsStore } from '../records/types.js';
import { listWithin, VisibilityTimeout } from '../calendar/sources.js';
import { consoleGet } from './guard.js';
import { notListedInTime } from './home.js';
import { consoleHandler } from './handler.js';
import { consolePaths } from './paths.js';
import { can, consoleView, sendConsole } from './render.js';
import { temporalWorkflowUrl } from './temporal-link.js';
import '../api/deps.js';

/** One filter of a register: a select (with "any") or a text field. */
export interface FilterSpec {
  name: string;
  label: string;
  /** The choices of a select; a text field without. */
  options?: ReadonlyArray<string | { value: string; label: string }>;
  hint?: string;
}

export interface FilterModel {
  action: string;
  fields: Array<{ name: string; id: string; label: string; type: 'select' | 'text'; value: string; error?: string; hint?: string; options?: Array<{ value: string; label: string; selected: boolean }> }>;
  /** Bad filters, each linked to its field. */
  errors: Array<{ id: string; text: string }>;
  /** Something is filtered on. */
  active: boolean;
}

export type ParsedFilters<T> = { ok: true; filter: T; model: FilterModel } | { ok: false; model: FilterModel };

/** The query as strings: repeated parameters keep their first value, empty ones are left out ("any"). */
function queryValues(query: unknown): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (!query || typeof query !== 'object') return out;
  for (const [key, value] of Object.entries(query as Record<string, unknown>)) {
    if (typeof value === 'string') {
      if (value.trim() !== '') out[key] = value.trim();
    } else if (Array.isArray(value)) {
      out[key] = value.map(String);
    }
  }
  return out;
}

/**
 * The register's filters from the GET query, checked by `schema` (the admin API's own list
 * schema, strict: an unknown parameter is an error naming it). The model shows each filter with
 * its value and, when refused, its error.
 */
export function parseFilters<S extends z.ZodType>(schema: S, query: unknown, action: string, specs: readonly FilterSpec[]): ParsedFilters<z.output<S>> {
  const values = queryValues(query);
  const parsed = schema.safeParse(values);
  const errors: Record<string, string> = {};
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const unknownKeys = issue.code === 'unrecognized_keys' ? issue.keys : [];
      for (const key of unknownKeys) errors[key] ??= 'is not a filter of this register';
      if (unknownKeys.length === 0) errors[issue.path.map(String).join('.') || '(query)'] ??= issue.message;
    }
  }
  const labelOf = (name: string) => specs.find((s) => s.name === name)?.label ?? name;
  const model: FilterModel = {
    action,
    active: Object.keys(values).length > 0,
    fields: specs.map((spec) => {
      const raw = values[spec.name];
      const value = typeof raw === 'string' ? raw : (raw?.[0] ?? '');
      const id = `filter-${spec.name}`;
      const error = errors[spec.name] ? `${errors[spec.name]}` : undefined;
      const base = { name: spec.name, id, label: spec.label, value, ...(error ? { error } : {}), ...(spec.hint ? { hint: spec.hint } : {}) };
      if (!spec.options) return { ...base, type: 'text' as const };
      const options = spec.options.map((o) => (typeof o === 'string' ? { value: o, label: o } : o));
      return {
        ...base,
        type: 'select' as const,
        options: [{ value: '', label: 'Any', selected: value === '' }, ...options.map((o) => ({ ...o, selected: o.value === value }))],
      };
    }),
    errors: Object.entries(errors).map(([name, message]) => ({
      id: specs.some((s) => s.name === name) ? `filter-${name}` : 'filters',
      text: `${labelOf(name)}: ${message}`,
    })),
  };
  return parsed.success ? { ok: true, filter: parsed.data, model } : { ok: false, model };
}

/** The filter form (GET, so a filtered register can be bookmarked) and the list of bad filters. */
export const FILTERS = `{{#if filters.errors.length}}<div class="notice notice-error" role="alert" aria-labelledby="filter-errors-title">
<h2 id="filter-errors-title">These filters cannot be used</h2>
<ul>{{#each filters.errors}}<li><a href="#{{id}}">{{text}}</a></li>{{/each}}</ul>
</div>{{/if}}
<form class="filters" id="filters" method="get" action="{{filters.action}}" aria-label="Filters">
{{#each filters.fields}}<div>{{> consoleField}}</div>
{{/each}}<div class="inline-actions"><button type="submit">Filter</button>{{#if filters.active}}<a class="button button-secondary" href="{{filters.action}}">Clear the filters</a>{{/if}}</div>
</form>`;

/** Opens a table that scrolls inside its own region (keyboard-focusable, labelled by its caption). */
export const tableOpen = (id: string, caption: string) =>
  `<div class="table-wrap" role="region" aria-labelledby="${id}-caption" tabindex="0"><table id="${id}"><caption id="${id}-caption">${caption}</caption>`;

/** The execution facts and the link to the workflow in the Temporal UI (operations). */
export const OPERATIONS = `{{#if temporalUrl}}<p class="meta">Workflow <span class="hash">{{workflowId}}</span> · <a href="{{temporalUrl}}" rel="noreferrer">Open in the Temporal UI</a></p>{{else}}<p class="meta">Workflow <span class="hash">{{workflowId}}</span></p>{{/if}}`;

/** A timeline as an ordered list: each event with its time, what happened and who. */
export const TIMELINE = `<section aria-labelledby="timeline-title">
<h2 id="timeline-title">Timeline</h2>
{{#if timeline.length}}<ol class="history">
{{#each timeline}}<li><time datetime="{{at}}">{{atText}}</time>{{#if type}}<strong>{{type}}</strong>: {{/if}}{{detail}}{{#if by}} <span class="small">({{by}})</span>{{/if}}</li>
{{/each}}</ol>{{else}}<p>{{#if timelineNote}}{{timelineNote}}{{else}}Nothing has happened yet.{{/if}}</p>{{/if}}
</section>`;

/** The ledger records of an item: each linked to its page in the evidence browser. */
export const LEDGER = `<section aria-labelledby="ledger-title">
<h2 id="ledger-title">Ledger records</h2>
{{#if ledger.records.length}}${tableOpen('ledger', 'Evidence recorded about this item, oldest first')}
<thead><tr><th scope="col">#</th><th scope="col">Occurred</th><th scope="col">Kind</th><th scope="col">Subject</th><th scope="col">Actor</th><th scope="col">Verified</th></tr></thead><tbody>
{{#each ledger.records}}<tr><th scope="row"><a href="{{url}}">{{seq}}</a></th><td><time datetime="{{occurredAt}}">{{occurredText}}</time></td><td>{{kind}}</td><td class="hash">{{subject}}</td><td>{{actor}}</td><td>{{#if verified}}yes{{else}}<strong>no</strong>{{/if}}</td></tr>
{{/each}}</tbody></table></div>
{{#if ledger.note}}<p class="notice notice-warn">{{ledger.note}}</p>{{/if}}
<p><a href="{{ledger.browse}}">Browse these records in the evidence ledger</a></p>
{{else}}<p>No record yet.</p>{{/if}}
</section>`;

/** A notice after an action (`?done=`), or the reason it was refused. */
export const NOTICE = `{{#if notice}}<div class="notice notice-{{notice.kind}}" role="{{#if (eq notice.kind "error")}}alert{{else}}status{{/if}}"><p>{{notice.text}}</p></div>{{/if}}`;

/** A time for people: the date and time in UTC, as the link pages show it. */
export const timeText = (iso: string | undefined): string => (iso ? formatDateTime(iso) : '');

/** The day of an instant, `2027-03-01`. */
export const dayOf = (iso: string | undefined): string => (iso ? iso.slice(0, 10) : '');

/** The Temporal UI link of a workflow (undefined without TEMPORAL_UI_URL). */
export function temporalUrlOf(request: FastifyRequest, workflowId: string): string | undefined {
  return temporalWorkflowUrl(request.server.deps.config, workflowId);
}

export interface LedgerModel {
  records: Array<CheckedRecord & { url: string; occurredText: string }>;
  note?: string;
  browse: string;
}

/**
 * The ledger records about `subject` (a workflow id) and, with `children`, about the workflows
 * under it (`<subject>/...`: its tasks and approvals), oldest first, each marked verified.
 */
export async function ledgerOf(records: RecordsStore, subject: string, options: { children?: boolean } = {}): Promise<LedgerModel> {
  const own = await records.read({ subject, limit: 1000 });
  const under = options.children ? await records.read({ subjectPrefix: `${subject}/`, limit: 1000 }) : undefined;
  const all = [...own.records, ...(under?.records ?? [])].sort((a, b) => a.seq - b.seq);
  const ledger = under && !under.ledger.intact ? under.ledger : own.ledger;
  return {
    records: all.map((r) => ({ ...r, url: consolePaths.record(r.seq), occurredText: timeText(r.occurredAt) })),
    ...(ledger.note ? { note: ledger.note } : {}),
    browse: options.children ? consolePaths.evidenceUnder(subject) : consolePaths.evidenceOf(subject),
  };
}

/** The people of the organization file as filter choices (id, labelled with the name). */
export function peopleOptions(request: FastifyRequest): Array<{ value: string; label: string }> {
  try {
    const org = request.server.deps.organization?.();
    return (org?.people ?? []).map((p) => ({ value: p.id, label: `${p.name} (${p.id})` }));
  } catch {
    return [];
  }
}

/** `?done=<what>` after a form succeeded (Post/Redirect/Get), as a notice: only known values are shown. */
export function doneNotice(request: FastifyRequest, texts: Record<string, string>): { kind: 'done'; text: string } | undefined {
  const done = (request.query as Record<string, unknown> | undefined)?.done;
  return typeof done === 'string' && Object.hasOwn(texts, done) ? { kind: 'done', text: texts[done]! } : undefined;
}

/** The registers, each shown to those who may read it. */
const REGISTERS: ReadonlyArray<{ href: string; title: string; text: string; permission: Permission }> = [
  { href: consolePaths.nonconformities, title: 'Nonconformities and corrective actions', text: 'Every NC with its step, owner and target; post an update or cancel one (10.2).', permission: 'corrective-action.read' },
  { href: consolePaths.concerns, title: 'Reported concerns', text: 'Concerns reported about the AI systems, and their triage (A.3.3).', permission: 'concern.read' },
  { href: consolePaths.aiSystems, title: 'AI systems', text: 'The inventory and each system’s impact assessments (6.1.4, 8.4).', permission: 'ai-system.read' },
  { href: consolePaths.risks, title: 'AI risk register', text: 'Risks by level, owner and AI system, with their treatment and acceptance (6.1.2, 8.2).', permission: 'risk.read' },
  { href: consolePaths.soa, title: 'Statement of Applicability', text: 'Every Annex A control, its versions and exports (6.1.3).', permission: 'soa.read' },
  { href: consolePaths.objectives, title: 'AI objectives', text: 'Objectives with their measurements and charts (6.2, 9.1).', permission: 'objective.read' },
  { href: consolePaths.policy, title: 'AI policy', text: 'Approved versions and who has acknowledged them (5.2, 7.3).', permission: 'policy.read' },
];

const INDEX = consoleView(`<h1>Registers</h1>
<p>The registers of the AI management system you may read.</p>
<ul class="cards plain">{{#each registers}}<li class="card"><h2><a href="{{href}}">{{title}}</a></h2><p>{{text}}</p></li>
{{/each}}</ul>`);

/** `/console/registers`: the registers the person may read. */
export function registerIndexPages(ctx: PageContext): FastifyPluginCallback {
  return (app, _options, done) => {
    app.get('/registers', consoleGet('corrective-action.read'), consoleHandler(ctx, async (request, reply) =>
      sendConsole(request, reply, INDEX, { registers: REGISTERS.filter((r) => can(request, r.permission)) }, { title: 'Registers', section: 'registers' }),
    ));
    done();
  };
}

/**
 * A visibility list within `CONSOLE_LIST_TIMEOUT_MS`: a Temporal that does not list in time is
 * the console's 503 page (try again in a minute), never a page that hangs.
 */
export async function listed<R>(request: FastifyRequest, reply: FastifyReply, what: string, call: () => Promise<R>): Promise<R> {
  const { temporal, config } = request.server.deps;
  if (!temporal) return call();
  try {
    return await listWithin(temporal, config.CONSOLE_LIST_TIMEOUT_MS, what, call);
  } catch (err) {
    if (err instanceof VisibilityTimeout) throw notListedInTime(reply, err);
    throw err;
  }
}

/** A status query within `PAGE_QUERY_TIMEOUT_MS` (no worker answering in time is the 503 page of a call left unanswered). */
export function queried<R>(request: FastifyRequest, call: () => Promise<R>): Promise<R> {
  const { temporal, config } = request.server.deps;
  return temporal ? temporal.connection.withDeadline(Date.now() + config.PAGE_QUERY_TIMEOUT_MS, call) : call();
}
