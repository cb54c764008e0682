/**
 * The console's calendar (`/console/calendar`): the management system's dates (src/calendar/
 * items.ts) for the signed-in person, by month: a grid of weeks, which becomes a list on a phone,
 * or a list (`?view=list`); months by links (`?month=2027-03`). What a person sees follows the
 * read permissions of their roles; their own tasks and approvals always show.
 *
 * `/console/calendar/feed`: the person's iCalendar subscription address (src/calendar/feed.ts):
 * GET shows it, POST issues a new one or revokes it (with the CSRF field; recorded in the ledger
 * as the signed-in person). GET changes nothing.
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { PageError, type PageContext } from '../api/pages/common.js';
import { permits } from '../auth/permissions.js';
import { requestActor, rolesOf } from '../api/plugins/admin-auth.js';
import { feedTokens, issueFeed, readFeedState, revokeFeed, FEED_PATH_PREFIX } from '../calendar/feed.js';
import {
  calendarItems,
  daysIn,
  itemsInMonth,
  kindLabels,
  monthText,
  parseMonth,
  shiftMonth,
  visibleKinds,
  type CalendarItem,
  type CalendarKind,
} from '../calendar/items.js';
import { readCalendar, VisibilityTimeout } from '../calendar/sources.js';
import { formatDate, formatDateTime } from '../mail/templates.js';
import { field, formBody } from './forms.js';
import { consoleGet, consolePost } from './guard.js';
import { consoleHandler } from './handler.js';
import { notListedInTime } from './home.js';
import { consoleView, sendConsole } from './render.js';
import { temporalWorkflowUrl } from './temporal-link.js';

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const STYLE = `<style>
.cal-nav{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;margin:1rem 0}
.cal-nav a{display:inline-block;min-height:44px;line-height:2.75;padding:0 .5rem}
.cal-nav a[aria-current=page]{font-weight:700}
table.month{table-layout:fixed}
table.month th{text-align:center}
table.month td{height:6.5rem;padding:.25rem .35rem;font-size:.85rem}
table.month td.other{background:#f6f8fa;color:#57606a}
table.month td.today{outline:3px solid #0b5cad;outline-offset:-3px}
.day-number{display:block;font-weight:700}
.cal-items{list-style:none;margin:0;padding:0}
.cal-items li{margin:.2rem 0;padding:.1rem .3rem;border-left:4px solid #0b5cad;background:#ddf4ff;overflow-wrap:anywhere}
.cal-items li.overdue{border-color:#b3261e;background:#ffebe9}
.cal-items .kind{display:block;font-size:.75rem;color:#424a53}
.list-table{min-width:36rem}
.month-list{display:none}
.month-list h3{font-size:1rem;margin:1rem 0 .25rem}
@media (max-width:48rem){.month-grid{display:none}.month-list{display:block}}
</style>`;

const ITEM = `<li{{#if overdue}} class="overdue"{{/if}}><span class="kind">{{kindLabel}}{{#if overdue}} · overdue{{/if}}</span>{{#if url}}<a href="{{url}}">{{title}}</a>{{else}}{{title}}{{/if}}{{#if when}} <span class="meta">{{when}}</span>{{/if}}</li>`;

const CALENDAR = consoleView(`${STYLE}
<h1>Calendar</h1>
<p>The management system's dates you may see{{#if ownOnly}} (your roles give you your own tasks and approvals){{/if}}, in {{timeZone}}. <a href="/console/calendar/feed">Subscribe in your calendar application</a>.</p>
<nav class="cal-nav" aria-label="Months and views">
<a href="{{prev.url}}">← {{prev.label}}</a>
<a href="{{thisMonth.url}}">This month</a>
<a href="{{next.url}}">{{next.label}} →</a>
<span>View:</span>
<a href="{{views.month}}"{{#unless list}} aria-current="page"{{/unless}}>Month</a>
<a href="{{views.list}}"{{#if list}} aria-current="page"{{/if}}>List</a>
</nav>
{{#each gaps}}<div class="notice notice-warn" role="note"><p>{{this}}</p></div>{{/each}}
{{#if cut}}<div class="notice notice-warn" role="note"><p>There are more running processes than the calendar reads at once; some dates may be missing.</p></div>{{/if}}
<h2 id="month-title">{{monthLabel}}</h2>
{{#if list}}
{{#if days.length}}
<div class="table-wrap" role="region" aria-labelledby="month-title" tabindex="0">
<table class="list-table">
<caption>{{count}} date{{#unless (eq count 1)}}s{{/unless}} in {{monthLabel}}, by day</caption>
<thead><tr><th scope="col">Day</th><th scope="col">What</th><th scope="col">Kind</th><th scope="col">Details</th></tr></thead>
<tbody>
{{#each days}}{{#each items}}<tr><td>{{#if @first}}<time datetime="{{../date}}">{{../label}}</time>{{/if}}</td><td>{{#if url}}<a href="{{url}}">{{title}}</a>{{else}}{{title}}{{/if}}{{#if overdue}} <span class="badge badge-overdue">Overdue</span>{{/if}}</td><td>{{kindLabel}}</td><td>{{when}}{{#if when}}; {{/if}}{{detail}}</td></tr>
{{/each}}{{/each}}
</tbody>
</table>
</div>
{{else}}<p>Nothing is on the calendar in {{monthLabel}}.</p>{{/if}}
{{else}}
<div class="month-grid table-wrap">
<table class="month">
<caption>{{monthLabel}}: {{count}} date{{#unless (eq count 1)}}s{{/unless}}</caption>
<thead><tr>{{#each weekdays}}<th scope="col"><abbr title="{{this.name}}">{{this.short}}</abbr></th>{{/each}}</tr></thead>
<tbody>
{{#each weeks}}<tr>{{#each this}}<td class="{{#unless inMonth}}other{{/unless}}{{#if today}} today{{/if}}">{{#if inMonth}}<span class="day-number">{{#if today}}<span class="visually-hidden">Today, </span>{{/if}}{{day}}</span>
{{#if items.length}}<ul class="cal-items">{{#each items}}${ITEM}{{/each}}</ul>{{/if}}{{/if}}</td>{{/each}}</tr>
{{/each}}
</tbody>
</table>
</div>
<div class="month-list">
{{#each days}}<h3><time datetime="{{date}}">{{label}}</time></h3>
<ul class="cal-items">{{#each items}}${ITEM}{{/each}}</ul>
{{else}}<p>Nothing is on the calendar in {{monthLabel}}.</p>{{/each}}
</div>
{{/if}}
<details>
<summary>What the calendar shows, and what it leaves out</summary>
<p>Shown: internal audits (their planned windows), management review meetings, external audits (Stage 1 and 2, surveillance, recertification) and the certification decision, the certificate's dates, impact assessments due, risk reviews due, objective measurement dates, and your own open tasks and approvals at their due time.</p>
<p>Not shown: other people's tasks and approvals, the steps inside a process (a corrective action's actions show only to their assignee, as tasks), work that has ended, risk assessments (they have no due date of their own; the risks' review dates stand for them), the SoA and AI policy reviews, and the next firing of the yearly schedules.</p>
</details>`);

const FEED = consoleView(`<h1>Calendar subscription</h1>
{{#if done}}<div class="notice notice-done" role="status"><p>{{done}}</p></div>{{/if}}
<p>Subscribe to your calendar in Outlook, Google Calendar or Apple Calendar: the dates you see on the <a href="/console/calendar">calendar</a> appear there and stay up to date. The address is personal: anyone who has it can read these dates, so do not share it. Revoke it here if it gets out; a new address stops the old one.</p>
{{#if active}}
<h2 id="current">Your address</h2>
<p><label for="feed-url">Subscription address (issued {{active.atText}} by {{active.by}})</label></p>
<input id="feed-url" type="text" readonly value="{{active.url}}" aria-describedby="feed-url-hint">
<p class="hint" id="feed-url-hint">Copy it into your calendar application's "subscribe from the internet" (Outlook: Add calendar, Subscribe from web; Google Calendar: Other calendars, From URL). Or open it directly: <a href="{{active.webcal}}">subscribe with your calendar application</a>.</p>
<form method="post" action="/console/calendar/feed" class="inline-actions">
<input type="hidden" name="csrf" value="{{csrf}}">
<button type="submit" name="action" value="issue">Issue a new address (the current one stops working)</button>
<button type="submit" name="action" value="revoke" class="button-secondary">Revoke the address</button>
</form>
{{else}}
<h2 id="current">No address yet</h2>
{{#if ended}}<p>Your last address {{ended}}.</p>{{/if}}
<form method="post" action="/console/calendar/feed">
<input type="hidden" name="csrf" value="{{csrf}}">
<button type="submit" name="action" value="issue">Issue my subscription address</button>
</form>
{{/if}}`);

export interface MonthView {
  weeks: Array<Array<{ day: number; date: string; inMonth: boolean; today: boolean; items: object[] }>>;
  days: Array<{ date: string; label: string; items: object[] }>;
  count: number;
}

/** The month as weeks from Monday (days outside the month empty) and as the days that have items. */
export function monthView(items: ReadonlyArray<CalendarItem & { day: string }>, month: { year: number; month: number }, today: string, shown: (item: CalendarItem) => object): MonthView {
  const byDay = new Map<string, object[]>();
  for (const item of items) byDay.set(item.day, [...(byDay.get(item.day) ?? []), shown(item)]);
  const first = new Date(Date.UTC(month.year, month.month - 1, 1));
  const lead = (first.getUTCDay() + 6) % 7;
  const total = daysIn(month);
  const cells: MonthView['weeks'][number] = [];
  for (let i = 0; i < lead; i++) cells.push({ day: 0, date: '', inMonth: false, today: false, items: [] });
  for (let d = 1; d <= total; d++) {
    const date = `${monthText(month)}-${String(d).padStart(2, '0')}`;
    cells.push({ day: d, date, inMonth: true, today: date === today, items: byDay.get(date) ?? [] });
  }
  while (cells.length % 7) cells.push({ day: 0, date: '', inMonth: false, today: false, items: [] });
  const weeks: MonthView['weeks'] = [];
  for (let i = 0; i < cells.length; i += 7) weeks.push(cells.slice(i, i + 7));
  const days = [...byDay.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([date, list]) => ({ date, label: formatDate(date), items: list }));
  return { weeks, days, count: items.length };
}

function queryOf(request: FastifyRequest): { month?: string; view: 'month' | 'list' } {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const one = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw badParameter(name, 'must be given once');
    return value;
  };
  const month = one('month');
  if (month !== undefined && !parseMonth(month)) throw badParameter('month', `must be a month as YYYY-MM, e.g. 2027-03 (got "${month.slice(0, 40)}")`);
  const view = one('view');
  if (view !== undefined && view !== 'month' && view !== 'list') throw badParameter('view', `must be "month" or "list" (got "${view.slice(0, 40)}")`);
  return { ...(month ? { month } : {}), view: view === 'list' ? 'list' : 'month' };
}

function badParameter(name: string, message: string): PageError {
  return new PageError(400, { heading: 'This calendar address is not right', paragraphs: [`The parameter ${name} ${message}.`], link: { url: '/console/calendar', label: 'Open this month' } });
}

export function calendarPages(ctx: PageContext): FastifyPluginCallback {
  return (app, _options, done) => {
    const { config } = ctx;
    const tokens = feedTokens(config.LINK_SECRET);
    const feedUrl = async (person: string, feedId: string) => `${config.PUBLIC_BASE_URL.replace(/\/+$/, '')}${FEED_PATH_PREFIX}${await tokens.sign(person, feedId)}.ics`;

    app.get('/calendar', consoleGet(null), consoleHandler(ctx, async (request, reply) => {
      const { month: asked, view } = queryOf(request);
      const organization = ctx.organization?.();
      const timeZone = organization?.organization.timezone ?? 'UTC';
      const now = new Date();
      const today = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
      const current = parseMonth(today.slice(0, 7))!;
      const month = asked ? parseMonth(asked)! : current;
      const principal = request.principal!;
      const roles = rolesOf(request);
      const kinds = visibleKinds((p) => permits(roles, p));
      const client = app.deps.temporal;
      if (!client) throw new PageError(503, { heading: 'The calendar is not available', paragraphs: ['Temporal is not configured for this API.'] });
      let read;
      try {
        read = await readCalendar(
          { client, taskQueue: config.TEMPORAL_TASK_QUEUE, records: app.deps.records, listTimeoutMs: config.CONSOLE_LIST_TIMEOUT_MS, queryTimeoutMs: config.PAGE_QUERY_TIMEOUT_MS },
          principal.kind === 'person' ? principal.id : undefined,
          kinds,
        );
      } catch (err) {
        if (err instanceof VisibilityTimeout) throw notListedInTime(reply, err);
        throw err;
      }
      const items = itemsInMonth(calendarItems(read.sources, { timeZone, now, kinds }), month, timeZone);
      const shown = (item: CalendarItem) => ({
        title: item.title,
        kindLabel: kindLabels[item.kind],
        overdue: item.overdue,
        detail: item.detail,
        url: 'console' in item.target ? item.target.console : 'workflowId' in item.target ? temporalWorkflowUrl(config, item.target.workflowId) : undefined,
        when: item.allDay ? (item.end !== item.start ? `${formatDate(item.start)} to ${formatDate(item.end)}` : '') : `due ${formatDateTime(item.start)}`,
      });
      const link = (m: { year: number; month: number }, v = view) => `/console/calendar?month=${monthText(m)}${v === 'list' ? '&view=list' : ''}`;
      const label = (m: { year: number; month: number }) => `${MONTH_NAMES[m.month - 1]} ${m.year}`;
      const prev = shiftMonth(month, -1);
      const next = shiftMonth(month, 1);
      const ownOnly = [...kinds].every((k: CalendarKind) => k === 'task' || k === 'approval');
      return sendConsole(
        request,
        reply,
        CALENDAR,
        {
          timeZone,
          ownOnly,
          list: view === 'list',
          monthLabel: label(month),
          prev: { url: link(prev), label: label(prev) },
          next: { url: link(next), label: label(next) },
          thisMonth: { url: link(current) },
          views: { month: link(month, 'month'), list: link(month, 'list') },
          weekdays: WEEKDAYS.map((name) => ({ name, short: name.slice(0, 3) })),
          gaps: read.gaps,
          cut: read.cut,
          ...monthView(items, month, today, shown),
        },
        { title: `Calendar, ${label(month)}`, section: 'calendar' },
      );
    }));

    const personOf = (request: FastifyRequest): string => {
      const principal = request.principal!;
      if (principal.kind !== 'person') {
        throw new PageError(403, { heading: 'Calendar feeds are for people', paragraphs: [`A calendar feed belongs to a person; ${principal.id} is a service key.`] });
      }
      return principal.id;
    };

    const showFeed = async (request: FastifyRequest, reply: FastifyReply, done?: string): Promise<FastifyReply> => {
      const person = personOf(request);
      const state = await readFeedState(app.deps.records, person);
      const url = state.active ? await feedUrl(person, state.active.feedId) : undefined;
      const ended = state.ended ? (state.ended.how === 'revoked' ? `was revoked on ${formatDateTime(state.ended.at)} by ${state.ended.by}` : `was replaced on ${formatDateTime(state.ended.at)}`) : undefined;
      return sendConsole(
        request,
        reply,
        FEED,
        {
          done,
          active: state.active && url ? { url, webcal: url.replace(/^https?:/, 'webcal:'), atText: formatDateTime(state.active.at), by: state.active.by } : undefined,
          ended,
        },
        { title: 'Calendar subscription', section: 'calendar' },
      );
    };

    const DONE: Record<string, string> = {
      issued: 'Your new subscription address is below. Any address issued before it no longer works.',
      revoked: 'Your subscription address is revoked: calendar applications can no longer read it.',
    };

    app.get('/calendar/feed', consoleGet(null), consoleHandler(ctx, async (request, reply) => {
      const doneParam = (request.query as Record<string, unknown> | undefined)?.done;
      return showFeed(request, reply, typeof doneParam === 'string' ? DONE[doneParam] : undefined);
    }));

    app.post('/calendar/feed', consolePost(null), consoleHandler(ctx, async (request, reply) => {
      const person = personOf(request);
      const action = field(formBody(request), 'action');
      const actor = requestActor(request);
      if (action === 'issue') {
        await issueFeed(app.deps.records, person, actor);
        request.log.info('calendar feed issued');
        return reply.redirect('/console/calendar/feed?done=issued', 303);
      }
      if (action === 'revoke') {
        const revoked = await revokeFeed(app.deps.records, person, actor);
        if (!revoked) throw new PageError(409, { heading: 'There is no address to revoke', paragraphs: ['You have no calendar subscription address in force.'], link: { url: '/console/calendar/feed', label: 'Back to the calendar subscription' } });
        request.log.info('calendar feed revoked');
        return reply.redirect('/console/calendar/feed?done=revoked', 303);
      }
      throw new PageError(400, { heading: 'The form was not understood', paragraphs: ['The field action must be "issue" or "revoke".'], link: { url: '/console/calendar/feed', label: 'Back to the calendar subscription' } });
    }));
    done();
  };
}
