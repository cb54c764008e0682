/**
 * The console's home page (`/console`): the signed-in person's open work, as "my open tasks"
 * lists it for a link, each with a freshly signed link to its page; then, for those who may
 * (`console.attention`: the AIMS manager and top management), what needs attention across the
 * processes (./attention.ts): overdue work by process, work due by the end of the month,
 * approvals waiting and the readiness of the next external audit.
 *
 * Every Temporal read has a deadline; a list that does not answer in time gives a 503 page.
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { openWorkOf } from '../api/pages/my-tasks.js';
import { PageError, type PageContext } from '../api/pages/common.js';
import { listWithin, VisibilityTimeout } from '../calendar/sources.js';
import { formatDate, formatDateTime } from '../mail/templates.js';
import type { Organization } from '../organization/schema.js';
import { readAttention, type Attention, type AttentionItem } from './attention.js';
import { consoleGet } from './guard.js';
import { consoleHandler } from './handler.js';
import { can, consoleView, principalName, sendConsole } from './render.js';
import { temporalWorkflowUrl } from './temporal-link.js';
import { WORK_LIST } from '../api/views/templates.js';

/** How many items of one process the overdue list shows before "and N more". */
const SHOWN_PER_PROCESS = 8;

const HOME = consoleView(`<h1>Home</h1>
<p>Hello {{name}}.</p>
<section aria-labelledby="my-work">
<h2 id="my-work">My open work</h2>
{{#if work.items.length}}
<p>{{work.countText}}, overdue first, then by due date.</p>
{{#with work}}${WORK_LIST}{{/with}}
{{else}}
<div class="notice notice-done" role="status"><p>Nothing is waiting for you right now.</p></div>
{{/if}}
</section>
{{#if attention}}
<style>.attention-table{min-width:40rem}</style>
<section aria-labelledby="attention">
<h2 id="attention">Needs attention</h2>
{{#if attention.cut}}<div class="notice notice-warn" role="note"><p>There is more open work than this page lists ({{attention.limit}} per list); filter the registers or the Temporal UI for the rest.</p></div>{{/if}}

<h3 id="overdue">Overdue, by process</h3>
{{#if attention.overdue.length}}
<p>{{attention.overdueText}}</p>
<div class="cards">
{{#each attention.overdue}}<section class="card" aria-labelledby="overdue-{{@index}}">
<h4 id="overdue-{{@index}}">{{label}} <span class="badge badge-overdue">{{count}} overdue</span></h4>
<ul class="plain">
{{#each items}}<li>{{#if url}}<a href="{{url}}">{{title}}</a>{{else}}{{title}}{{/if}}
<span class="meta">{{#if dueText}}due <time datetime="{{dueAt}}">{{dueText}}</time>{{else}}{{state}}{{/if}}{{#if who}} · {{who}}{{/if}}</span></li>
{{/each}}
{{#if more}}<li class="meta">and {{more}} more</li>{{/if}}
</ul>
</section>
{{/each}}
</div>
{{else}}
<div class="notice notice-done" role="status"><p>Nothing is overdue.</p></div>
{{/if}}

<h3 id="due">Due by the end of {{attention.monthName}}</h3>
{{#if attention.due.length}}
<div class="table-wrap" role="region" aria-labelledby="due" tabindex="0">
<table class="attention-table">
<caption>{{attention.due.length}} item{{#unless (eq attention.due.length 1)}}s{{/unless}} due by the end of {{attention.monthName}}, soonest first</caption>
<thead><tr><th scope="col">Due</th><th scope="col">What</th><th scope="col">Process</th><th scope="col">Who</th></tr></thead>
<tbody>
{{#each attention.due}}<tr><td><time datetime="{{dueAt}}">{{dueText}}</time></td><td>{{#if url}}<a href="{{url}}">{{title}}</a>{{else}}{{title}}{{/if}}</td><td>{{processLabel}}</td><td>{{who}}</td></tr>
{{/each}}
</tbody>
</table>
</div>
{{else}}
<p>Nothing else is due by the end of {{attention.monthName}}.</p>
{{/if}}

<h3 id="approvals">Approvals waiting</h3>
{{#if attention.approvals.length}}
<div class="table-wrap" role="region" aria-labelledby="approvals" tabindex="0">
<table class="attention-table">
<caption>{{attention.approvals.length}} approval{{#unless (eq attention.approvals.length 1)}}s{{/unless}} waiting for a decision, longest waiting first</caption>
<thead><tr><th scope="col">Approval</th><th scope="col">Waiting for</th><th scope="col">Asked by</th><th scope="col">Since</th><th scope="col">Due</th></tr></thead>
<tbody>
{{#each attention.approvals}}<tr><td>{{#if url}}<a href="{{url}}">{{title}}</a>{{else}}{{title}}{{/if}}</td><td>{{approvers}}</td><td>{{preparer}}</td><td><time datetime="{{since}}">{{sinceText}}</time></td><td>{{#if dueText}}<time datetime="{{dueAt}}">{{dueText}}</time>{{#if overdue}} <span class="badge badge-overdue">Overdue</span>{{/if}}{{else}}none{{/if}}</td></tr>
{{/each}}
</tbody>
</table>
</div>
{{else}}
<p>No approval is waiting.</p>
{{/if}}

<h3 id="readiness">Next external audit</h3>
{{#with attention.readiness}}
{{#if none}}<p>No certification cycle is running.</p>{{/if}}
{{#if cycle}}<div class="card">
<p><strong>{{#if url}}<a href="{{url}}">{{certificateId}}</a>{{else}}{{certificateId}}{{/if}}</strong>{{#if audit}}: {{audit.name}}, planned for <time datetime="{{audit.planned}}">{{audit.plannedText}}</time>{{/if}}</p>
{{#if report}}<p><span class="badge {{#if report.ready}}badge-done{{else}}badge-overdue{{/if}}">{{#if report.ready}}Ready{{else}}Not ready{{/if}}</span> as the readiness check {{report.check}} before the audit found on <time datetime="{{report.at}}">{{report.atText}}</time>:</p>
<ul>{{#each report.lines}}<li>{{this}}</li>{{/each}}</ul>{{/if}}
{{#if notYet}}<p>No readiness check has run for this audit yet; the cycle checks {{notYet}} before it.</p>{{/if}}
{{#if unavailable}}<p>The readiness is not available: {{unavailable}}.</p>{{/if}}
{{#if noAudit}}<p>No audit is planned next: the cycle is {{noAudit}}.</p>{{/if}}
</div>{{/if}}
{{/with}}
</section>
{{/if}}`);

const processLabels: Record<string, string> = {
  'corrective-action': 'Corrective actions',
  'internal-audit': 'Internal audits',
  'internal-audit-programme': 'Internal audit programmes',
  'management-review': 'Management reviews',
  certification: 'Certification',
  'ai-system': 'AI systems',
  'impact-assessment': 'Impact assessments',
  'risk-assessment': 'Risk assessments',
  objective: 'Objectives',
  concern: 'Reported concerns',
  'soa-review': 'SoA reviews',
  policy: 'AI policy',
  competence: 'Competence',
  adhoc: 'Other tasks',
  other: 'Other',
};

export const processLabel = (process: string | undefined): string => (process ? (processLabels[process] ?? process) : 'Other');

function nameOf(organization: Organization | undefined, id: string | undefined): string {
  if (!id) return '';
  return organization?.people.find((p) => p.id === id)?.name ?? id;
}

function organizationOf(ctx: PageContext): Organization | undefined {
  try {
    return ctx.organization?.();
  } catch {
    return undefined;
  }
}

/** The page model of what needs attention (links to each workflow in the Temporal UI). */
export function attentionModel(ctx: PageContext, attention: Attention, now: Date, timeZone: string) {
  const organization = organizationOf(ctx);
  const name = (id: string | undefined) => nameOf(organization, id);
  const url = (workflowId: string) => temporalWorkflowUrl(ctx.config, workflowId);
  const who = (i: AttentionItem) => [...new Set(i.assignees.length ? i.assignees : i.owner ? [i.owner] : [])].map(name).join(', ');
  const item = (i: AttentionItem) => ({ ...i, url: url(i.workflowId), dueText: i.dueAt ? formatDateTime(i.dueAt) : '', who: who(i), processLabel: processLabel(i.process) });
  const overdueCount = attention.overdue.reduce((n, g) => n + g.items.length, 0);
  const r = attention.readiness;
  return {
    cut: attention.cut,
    limit: 500,
    overdueText: `${overdueCount} overdue item${overdueCount === 1 ? '' : 's'} in ${attention.overdue.length} process${attention.overdue.length === 1 ? '' : 'es'}, the process with most first, each item's oldest due date first.`,
    overdue: attention.overdue.map((g) => ({
      label: processLabel(g.process),
      count: g.items.length,
      items: g.items.slice(0, SHOWN_PER_PROCESS).map(item),
      more: g.items.length > SHOWN_PER_PROCESS ? g.items.length - SHOWN_PER_PROCESS : 0,
    })),
    monthName: new Intl.DateTimeFormat('en-GB', { month: 'long', timeZone }).format(now),
    due: attention.dueThisMonth.map(item),
    approvals: attention.approvals.map((a) => ({
      ...a,
      url: url(a.workflowId),
      approvers: a.approvers.map(name).join(', ') || 'nobody (check the approval in the Temporal UI)',
      preparer: name(a.preparer) || 'unknown',
      sinceText: formatDateTime(a.since),
      dueText: a.dueAt ? formatDateTime(a.dueAt) : '',
    })),
    readiness:
      r.kind === 'none'
        ? { none: true }
        : {
            cycle: true,
            certificateId: r.certificateId,
            url: url(r.workflowId),
            audit: r.audit ? { ...r.audit, plannedText: formatDate(r.audit.planned) } : undefined,
            report: r.report.kind === 'report' ? { ...r.report, atText: formatDateTime(r.report.at) } : undefined,
            notYet: r.report.kind === 'not-yet' ? r.report.checks.join(' and ') : undefined,
            unavailable: r.report.kind === 'unavailable' ? r.report.reason : undefined,
            noAudit: r.report.kind === 'no-audit' ? r.report.state : undefined,
          },
  };
}

/** The 503 page when Temporal does not list in time. */
export function notListedInTime(reply: FastifyReply, err: VisibilityTimeout): PageError {
  reply.header('retry-after', '30');
  return new PageError(503, {
    heading: 'Please try again in a minute',
    paragraphs: [`${err.message}, so this page cannot be shown now.`, 'Nothing was changed. Reload the page in a minute.'],
  });
}

export function homePages(ctx: PageContext): FastifyPluginCallback {
  return (app, _options, done) => {
    const { config } = ctx;
    app.get('/', consoleGet(null), consoleHandler(ctx, async (request: FastifyRequest, reply: FastifyReply) => {
      const principal = request.principal;
      const client = app.deps.temporal;
      const now = new Date();
      const organization = organizationOf(ctx);
      const timeZone = organization?.organization.timezone ?? 'UTC';
      const showAttention = can(request, 'console.attention') && client !== undefined;
      try {
        const [work, attention] = await Promise.all([
          principal?.kind === 'person'
            ? client
              ? listWithin(client, config.CONSOLE_LIST_TIMEOUT_MS, 'your open work', () => openWorkOf(ctx, principal.id))
              : openWorkOf(ctx, principal.id)
            : Promise.resolve({ items: [], countText: '' }),
          showAttention
            ? readAttention(
                {
                  client,
                  taskQueue: config.TEMPORAL_TASK_QUEUE,
                  timeZone,
                  listTimeoutMs: config.CONSOLE_LIST_TIMEOUT_MS,
                  queryTimeoutMs: config.PAGE_QUERY_TIMEOUT_MS,
                  readinessChecks: organization?.certificationCycle?.readinessChecks ?? ['60d', '30d'],
                },
                now,
              )
            : Promise.resolve(undefined),
        ]);
        return sendConsole(
          request,
          reply,
          HOME,
          { name: principalName(request), work, attention: attention ? attentionModel(ctx, attention, now, timeZone) : undefined },
          { title: 'Home', section: 'home' },
        );
      } catch (err) {
        if (err instanceof VisibilityTimeout) {
          request.log.warn({ err }, 'console home: Temporal did not list in time');
          throw notListedInTime(reply, err);
        }
        throw err;
      }
    }));
    done();
  };
}
