/**
 * The console's evidence pages: browse the ledger by subject, clause and kind (paged, each
 * record marked verified as `GET /admin/records` marks it), one record with its place in the
 * hash chain, a verification of the whole chain against the anchors mailed outside the
 * database, the audit pack to download and the management-review packs to open.
 *
 * Verifying is a POST (it reads every record, so a link followed by a crawler or prefetcher
 * must not start it) that changes nothing: it answers the result as a page. Filters and the
 * anchor field are checked by the records routes' own schemas.
 */
import type { FastifyPluginCallback } from 'fastify';
import { listQuerySchema, verifyQuerySchema } from '../api/routes/records.js';
import { HttpError } from '../api/errors.js';
import type { PageContext } from '../api/pages/common.js';
import { anchorText } from '../records/anchors.js';
import type { RecordFilter, VerifyResult } from '../records/types.js';
import { DEFAULT_LIST_LIMIT } from '../records/validation.js';
import { MANAGEMENT_REVIEW_WORKFLOW } from '../management-review/contract.js';
import { memoText, workflowsOf } from '../temporal/visibility.js';
import { consoleGet, consolePost } from './guard.js';
import { consoleHandler } from './handler.js';
import { fieldErrors, formBody, field } from './forms.js';
import { consolePathOf, consolePaths } from './paths.js';
import { FILTERS, listed, parseFilters, tableOpen, temporalUrlOf, timeText, type FilterSpec } from './register.js';
import { can, consoleView, sendConsole } from './render.js';
import '../api/deps.js';

const FILTER_SPECS: FilterSpec[] = [
  { name: 'subject', label: 'Subject', hint: 'Exact, e.g. corrective-action/NC-2027-004' },
  { name: 'subjectPrefix', label: 'Subject starts with', hint: 'e.g. management-review/' },
  { name: 'kind', label: 'Kind', hint: 'e.g. task.completed' },
  { name: 'clause', label: 'Clause or control', hint: 'e.g. 10.2 or A.6.2.8' },
  { name: 'from', label: 'From', hint: 'ISO-8601 with time zone' },
  { name: 'to', label: 'To', hint: 'ISO-8601 with time zone' },
];

const RECORDS_TABLE = `${tableOpen('records', '{{countText}}')}
<thead><tr><th scope="col">#</th><th scope="col">Occurred</th><th scope="col">Kind</th><th scope="col">Subject</th><th scope="col">Actor</th><th scope="col">Clauses</th><th scope="col">Verified</th></tr></thead><tbody>
{{#each records}}<tr><th scope="row"><a href="{{url}}">{{seq}}</a></th><td><time datetime="{{occurredAt}}">{{occurredText}}</time></td><td>{{kind}}</td><td><a href="{{subjectUrl}}">{{subject}}</a></td><td>{{actor}}</td><td>{{clausesText}}</td><td>{{#if verified}}yes{{else}}<strong>no</strong>{{/if}}</td></tr>
{{/each}}</tbody></table></div>`;

const VERIFY_FORM = `<form method="post" action="/console/evidence/verify">
<input type="hidden" name="csrf" value="{{csrf}}">
{{> consoleField name="anchor" label="Anchors (optional)" type="textarea" value=verify.anchor error=verify.error hint="One or more known ledger heads, <seq>:<hash>, from the anchor mails; separate them with commas or lines. Without one, the chain is checked against itself."}}
<div class="inline-actions"><button type="submit">Verify the ledger</button></div>
</form>`;

const BROWSE = consoleView(`<h1>Evidence</h1>
<p>The append-only, hash-chained ledger: every record of every process, in chain order. {{ledgerText}}</p>
{{#if ledger.note}}<div class="notice notice-warn" role="status"><p>{{ledger.note}}</p></div>{{/if}}
${FILTERS}
{{#if records.length}}${RECORDS_TABLE}
<nav class="pager" aria-label="Pages">{{#if firstUrl}}<a href="{{firstUrl}}">First page</a>{{/if}}{{#if nextUrl}}<a href="{{nextUrl}}">Next page</a>{{/if}}</nav>
{{else}}<p>{{#if filtered}}No record matches these filters.{{else}}The ledger is empty.{{/if}}</p>{{/if}}
{{#if exportUrl}}<section aria-labelledby="pack-title"><h2 id="pack-title">Audit pack</h2>
<p>The records {{#if filtered}}matching these filters{{else}}of the whole ledger{{/if}} as NDJSON, with the chain's verification and the anchors mailed so far: <a href="{{exportUrl}}" download>download the audit pack</a>.</p></section>{{/if}}
{{#if verifyAllowed}}<section aria-labelledby="verify-title"><h2 id="verify-title">Verify the ledger</h2>
<p>Recomputes every hash from the first record. Nothing is changed.</p>
${VERIFY_FORM}
{{#if anchors.length}}${tableOpen('anchors', 'Ledger heads mailed outside the database')}
<thead><tr><th scope="col">Anchor</th><th scope="col">Captured</th><th scope="col">Mailed</th><th scope="col">To</th></tr></thead><tbody>
{{#each anchors}}<tr><td class="hash">{{anchor}}</td><td>{{atText}}</td><td>{{publishedText}}</td><td>{{recipientsText}}</td></tr>
{{/each}}</tbody></table></div>{{/if}}
</section>{{/if}}
{{#if reviewsAllowed}}<section aria-labelledby="reviews-title"><h2 id="reviews-title">Management-review packs</h2>
{{#if reviews.length}}<ul class="plain">{{#each reviews}}<li><a href="{{packUrl}}">Pack of management review {{reviewId}}</a> <span class="small">({{state}})</span></li>{{/each}}</ul>
{{else}}<p>No management review has been held.</p>{{/if}}</section>{{/if}}`);

const RECORD = consoleView(`<h1>Record {{record.seq}}: {{record.kind}}</h1>
<p class="status">{{#if record.verified}}<span class="badge badge-done">Verified</span>{{else}}<span class="badge badge-overdue">Not verified</span>{{/if}}</p>
<p>Record {{record.seq}} of {{head.seq}} in the chain. {{#if record.verified}}It and every record before it check out, and the next link (or the ledger head) confirms its hash.{{else}}{{ledger.note}}{{/if}}</p>
<dl class="facts">
<dt>Subject</dt><dd><a href="{{subjectUrl}}">{{record.subject}}</a>{{#if temporalUrl}} · <a href="{{temporalUrl}}" rel="noreferrer">its workflow in the Temporal UI</a>{{/if}}</dd>
<dt>Kind</dt><dd>{{record.kind}}</dd>
<dt>Occurred</dt><dd><time datetime="{{record.occurredAt}}">{{occurredText}}</time></dd>
<dt>Recorded</dt><dd><time datetime="{{record.recordedAt}}">{{recordedText}}</time></dd>
<dt>Actor</dt><dd>{{record.actor}}</dd>
<dt>Clauses</dt><dd>{{clausesText}}</dd>
<dt>Id</dt><dd class="hash">{{record.id}}</dd>
<dt>Content hash</dt><dd class="hash">{{record.contentHash}}</dd>
<dt>Previous hash</dt><dd class="hash">{{record.prevHash}}</dd>
<dt>Hash</dt><dd class="hash">{{record.hash}}</dd>
</dl>
<nav class="pager" aria-label="Chain">{{#if prevUrl}}<a href="{{prevUrl}}">Previous record ({{prevSeq}})</a>{{/if}}{{#if nextUrl}}<a href="{{nextUrl}}">Next record ({{nextSeq}})</a>{{/if}}</nav>
<h2>Content</h2>
<pre class="entered" tabindex="0" role="region" aria-label="Content of the record">{{content}}</pre>
<p><a href="{{subjectRecordsUrl}}">Every record about {{record.subject}}</a> · <a href="/console/evidence">The whole ledger</a></p>`);

const VERIFIED = consoleView(`<h1>Ledger verification</h1>
{{#if result.ok}}<div class="notice notice-done" role="status"><h2>The chain is intact</h2><p>{{result.records}} records checked; every hash recomputed from the first record matches{{#if anchorsText}}, and {{anchorsText}}{{/if}}.</p></div>
{{else}}<div class="notice notice-error" role="alert"><h2>The chain is broken</h2><p>{{result.breakCount}} break{{#unless oneBreak}}s{{/unless}}; the first at record {{result.brokenAt}}: {{result.reason}}. Records up to {{result.verifiedThrough}} are verified.</p></div>{{/if}}
<dl class="facts">
<dt>Records</dt><dd>{{result.records}}</dd>
<dt>Verified through</dt><dd>{{result.verifiedThrough}}</dd>
<dt>Head</dt><dd class="hash">{{result.head}}</dd>
</dl>
{{#if anchors.length}}${tableOpen('verdicts', 'Anchors given')}
<thead><tr><th scope="col">Anchor</th><th scope="col">Verdict</th><th scope="col">Recomputed hash</th></tr></thead><tbody>
{{#each anchors}}<tr><td class="hash">{{seq}}:{{hash}}</td><td>{{status}}</td><td class="hash">{{recomputed}}</td></tr>
{{/each}}</tbody></table></div>{{/if}}
{{#if result.breaks.length}}${tableOpen('breaks', 'Breaks, in chain order')}
<thead><tr><th scope="col">Record</th><th scope="col">What is wrong</th></tr></thead><tbody>
{{#each result.breaks}}<tr><td>{{seq}}</td><td>{{reason}}</td></tr>
{{/each}}</tbody></table></div>{{/if}}
<h2>Verify again</h2>
${VERIFY_FORM}
<p><a href="/console/evidence">Back to the evidence</a></p>`);

/** A query string of the filters that are set (and `extra`). */
function queryOf(filter: Record<string, string | number | undefined>, extra: Record<string, string | number> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...filter, ...extra })) if (v !== undefined && v !== '') params.set(k, String(v));
  const q = params.toString();
  return q ? `?${q}` : '';
}

export function evidencePages(ctx: PageContext): FastifyPluginCallback {
  return (app, _options, done) => {
    const records = () => app.deps.records;

    /** The management reviews, newest first, with a link to each pack (from Temporal visibility). */
    const reviews = async () => {
      const client = app.deps.temporal;
      if (!client) return [];
      const items = [];
      for await (const info of client.workflow.list({ query: workflowsOf(app.deps.config.TEMPORAL_TASK_QUEUE, MANAGEMENT_REVIEW_WORKFLOW).join(' AND ') })) {
        const reviewId = info.workflowId.replace(/^management-review\//, '');
        items.push({ reviewId, state: memoText(info.memo?.state) ?? info.status.name.toLowerCase(), packUrl: `/admin/management-reviews/${encodeURIComponent(reviewId)}/pack` });
        if (items.length >= 50) break;
      }
      return items;
    };

    const anchorsModel = async () =>
      (await records().anchors.list()).map((a) => ({
        anchor: anchorText(a),
        atText: timeText(a.at),
        publishedText: a.publishedAt ? timeText(a.publishedAt) : 'not yet',
        recipientsText: a.recipients.join(', '),
      }));

    app.get('/evidence', consoleGet('records.read'), consoleHandler(ctx, async (request, reply) => {
      const filters = parseFilters(listQuerySchema, request.query, consolePaths.evidence, FILTER_SPECS);
      const side = {
        verifyAllowed: can(request, 'records.verify'),
        anchors: can(request, 'records.verify') ? await anchorsModel() : [],
        verify: {},
        ...(can(request, 'management-review.read') ? { reviewsAllowed: true, reviews: await listed(request, reply, 'the management reviews', reviews) } : {}),
      };
      if (!filters.ok) return sendConsole(request, reply, BROWSE, { filters: filters.model, records: [], ...side }, { title: 'Evidence', section: 'evidence', status: 400 });
      const { afterSeq, limit, ...filter } = filters.filter;
      const pageSize = limit ?? DEFAULT_LIST_LIMIT;
      const read = await records().read({ ...dropEmpty(filter), ...(afterSeq !== undefined ? { afterSeq } : {}), limit: pageSize });
      const last = read.records.at(-1);
      const model = {
        filters: filters.model,
        filtered: Object.keys(dropEmpty(filter)).length > 0,
        ledger: read.ledger,
        ledgerText: read.ledger.intact ? `The chain is intact through record ${read.ledger.verifiedThrough}.` : '',
        records: read.records.map((r) => ({
          ...r,
          url: consolePaths.record(r.seq),
          subjectUrl: consolePathOf(r.subject),
          occurredText: timeText(r.occurredAt),
          clausesText: r.clauses.join(', '),
        })),
        countText: `Records ${read.records[0]?.seq ?? ''} to ${last?.seq ?? ''}${afterSeq !== undefined ? ` (after ${afterSeq})` : ''}`,
        firstUrl: afterSeq !== undefined ? `${consolePaths.evidence}${queryOf(filter, limit ? { limit } : {})}` : undefined,
        nextUrl: last && read.records.length === pageSize ? `${consolePaths.evidence}${queryOf(filter, { afterSeq: last.seq, ...(limit ? { limit } : {}) })}` : undefined,
        exportUrl: can(request, 'records.export') ? `/admin/records/export${queryOf(filter)}` : undefined,
        ...side,
      };
      return sendConsole(request, reply, BROWSE, model, { title: 'Evidence', section: 'evidence' });
    }));

    app.get('/evidence/:seq', consoleGet('records.read'), consoleHandler(ctx, async (request, reply) => {
      const raw = (request.params as { seq: string }).seq;
      if (!/^\d{1,15}$/.test(raw) || Number(raw) < 1) throw new HttpError(400, `The record number must be a whole number from 1 (got "${raw}").`);
      const seq = Number(raw);
      const read = await records().read({ afterSeq: seq - 1, limit: 1 });
      const record = read.records[0];
      if (!record || record.seq !== seq) throw new HttpError(404, `No record ${seq} in the ledger.`);
      const head = await records().head();
      const model = {
        record,
        head,
        ledger: read.ledger,
        subjectUrl: consolePathOf(record.subject),
        // Subjects are workflow ids, except the ledger-only registers (a risk, the SoA).
        temporalUrl: /^(risk\/|soa$)/.test(record.subject) ? undefined : temporalUrlOf(request, record.subject),
        subjectRecordsUrl: consolePaths.evidenceOf(record.subject),
        occurredText: timeText(record.occurredAt),
        recordedText: timeText(record.recordedAt),
        clausesText: record.clauses.join(', '),
        content: JSON.stringify(record.content, null, 2),
        ...(seq > 1 ? { prevUrl: consolePaths.record(seq - 1), prevSeq: seq - 1 } : {}),
        ...(seq < head.seq ? { nextUrl: consolePaths.record(seq + 1), nextSeq: seq + 1 } : {}),
      };
      return sendConsole(request, reply, RECORD, model, { title: `Record ${seq}`, section: 'evidence' });
    }));

    app.post('/evidence/verify', consolePost('records.verify'), consoleHandler(ctx, async (request, reply) => {
      const anchor = field(formBody(request), 'anchor');
      const lines = anchor.split(/[\n\r]+/).map((l) => l.trim()).filter(Boolean);
      const parsed = verifyQuerySchema.safeParse(lines.length ? { anchor: lines } : {});
      if (!parsed.success) {
        const verify = { anchor, error: fieldErrors(parsed.error).anchor ?? parsed.error.issues[0]?.message };
        return sendConsole(request, reply, BROWSE, { filters: parseFilters(listQuerySchema, {}, consolePaths.evidence, FILTER_SPECS).model, records: [], verifyAllowed: true, anchors: await anchorsModel(), verify }, { title: 'Evidence', section: 'evidence', status: 400 });
      }
      const anchors = parsed.data.anchor ?? [];
      const result: VerifyResult = await records().verify(anchors.length ? { anchors } : {});
      if (!result.ok) request.log.error({ breakCount: result.breakCount, verifiedThrough: result.verifiedThrough }, 'evidence ledger failed verification');
      const matched = result.anchors?.filter((a) => a.status === 'match').length ?? 0;
      return sendConsole(
        request,
        reply,
        VERIFIED,
        {
          result,
          oneBreak: !result.ok && result.breakCount === 1,
          anchors: result.anchors ?? [],
          anchorsText: anchors.length ? `${matched} of ${anchors.length} anchor${anchors.length === 1 ? '' : 's'} match` : '',
          verify: { anchor },
        },
        { title: 'Ledger verification', section: 'evidence' },
      );
    }));

    done();
  };
}

function dropEmpty(value: RecordFilter): RecordFilter {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== ''));
}

