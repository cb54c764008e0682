/**
 * The console's pages of objectives (6.2, 9.1) and of the AI policy (5.2, A.2.4, 7.3): the
 * register of objectives, one objective with its chart, its series and its ledger records, the
 * policy's versions, and one version with its text, the changes from the one before and who has
 * and has not acknowledged it. The chart is built from numbers and escaped text
 * (src/objectives/chart.ts).
 */
import type { FastifyPluginCallback } from 'fastify';
import { WorkflowNotFoundError } from '@temporalio/client';
import { HttpError } from '../api/errors.js';
import type { PageContext } from '../api/pages/common.js';
import { temporalClient } from '../api/plugins/temporal-routes.js';
import { consoleGet } from '../console/guard.js';
import { consoleHandler } from '../console/handler.js';
import { consolePaths } from '../console/paths.js';
import { LEDGER, OPERATIONS, dayOf, ledgerOf, listed, queried, tableOpen, temporalUrlOf } from '../console/register.js';
import { consoleView, sendConsole } from '../console/render.js';
import { acknowledgementsOf, policyDiff, policyVersions } from '../policy/versions.js';
import { searchAttributes } from '../temporal/search-attributes.js';
import { isoOf, memoText, workflowsOf } from '../temporal/visibility.js';
import { objectiveChartSvg } from './chart.js';
import { objectiveStatusQuery, objectiveWorkflowId, OBJECTIVE_WORKFLOW } from './contract.js';
import { objectiveIdSchema } from './schema.js';
import '../api/deps.js';

const OBJECTIVES = consoleView(`<h1>AI objectives</h1>
<p>Each objective with its owner, its latest measurement and its state (ISO/IEC 42001 6.2, 9.1).</p>
{{#if items.length}}${tableOpen('objectives', '{{items.length}} objectives')}
<thead><tr><th scope="col">Objective</th><th scope="col">Owner</th><th scope="col">State</th><th scope="col">Latest</th><th scope="col">Next measurement</th><th scope="col">Operations</th></tr></thead><tbody>
{{#each items}}<tr><th scope="row"><a href="{{url}}">{{objectiveId}}</a><br><span class="meta">{{statement}}</span></th><td>{{owner}}</td><td>{{state}}</td><td>{{#if last}}{{last.value}} ({{last.at}}){{else}}not measured{{/if}}</td><td>{{nextAt}}</td><td>{{#if temporalUrl}}<a href="{{temporalUrl}}" rel="noreferrer" aria-label="Workflow of {{objectiveId}} in the Temporal UI">Workflow</a>{{/if}}</td></tr>
{{/each}}</tbody></table></div>
{{else}}<p>No objective is registered.</p>{{/if}}
<p><a href="${consolePaths.policy}">The AI policy</a></p>`);

const OBJECTIVE = consoleView(`<h1>Objective {{objectiveId}}</h1>
${OPERATIONS}
<p>{{definition.statement}}</p>
<p class="meta">Serves: {{definition.serves}} · owner {{definition.owner}} · measured every {{every}} by {{measurer}}: {{definition.measurement.method}}</p>
<p>{{definition.metric.name}}: target {{definition.metric.target}} {{definition.metric.unit}}, at risk past {{definition.metric.atRisk}} {{definition.metric.unit}} ({{direction}}). State: <strong>{{state}}</strong>.</p>
<figure class="chart">{{{chart}}}</figure>
{{#if series.length}}${tableOpen('series', 'Measurements, oldest first')}
<thead><tr><th scope="col">#</th><th scope="col">Date</th><th scope="col">Value</th><th scope="col">Evaluation</th><th scope="col">Misses in a row</th><th scope="col">By</th><th scope="col">Method</th><th scope="col">Evidence</th></tr></thead><tbody>
{{#each series}}<tr><td>{{n}}</td><td>{{date}}</td><td>{{value}}</td><td>{{evaluation}}</td><td>{{missesInRow}}</td><td>{{by}}</td><td>{{method}}</td><td>{{#if evidence}}<a href="{{evidence}}" rel="noreferrer" aria-label="link to the evidence of measurement {{n}}">link</a>{{/if}}</td></tr>
{{/each}}</tbody></table></div>
{{else}}<p>Not measured yet.</p>{{/if}}
${LEDGER}
<p><a href="${consolePaths.objectives}">All objectives</a></p>`);

const POLICY_VERSIONS = consoleView(`<h1>AI policy versions</h1>
<p>Every approved version of the AI policy (ISO/IEC 42001 5.2, A.2.4), each bound to the hash top management approved.</p>
{{#if items.length}}${tableOpen('versions', 'Approved versions, oldest first')}
<thead><tr><th scope="col">Version</th><th scope="col">Approved</th><th scope="col">By</th><th scope="col">Content hash (sha256)</th></tr></thead><tbody>
{{#each items}}<tr><th scope="row"><a href="{{url}}">{{version}}</a></th><td>{{approvedAt}}</td><td>{{approvedBy}}</td><td class="hash">{{contentHash}}</td></tr>
{{/each}}</tbody></table></div>
{{else}}<p>No version of the AI policy has been approved yet.</p>{{/if}}
<p><a href="${consolePaths.objectives}">AI objectives</a></p>`);

const POLICY_VERSION = consoleView(`<h1>AI policy, version {{version}}</h1>
<p class="meta">Approved {{approvedAt}} by {{approvedBy}} · owner {{owner}} · sha256 <span class="hash">{{contentHash}}</span></p>
<div class="prose">{{text}}</div>
{{#if diff}}<h2>Changes from version {{diff.from}}</h2>
<pre class="diff entered" tabindex="0" role="region" aria-label="Changes from version {{diff.from}}">{{#each diff.lines}}<span class="diff-{{kind}}">{{op}} {{line}}</span>
{{/each}}</pre>{{/if}}
<h2>Acknowledgements</h2>
{{#if acknowledgements}}
<p>{{acknowledgements.acknowledged.length}} of {{acknowledgements.total}} acknowledged ({{acknowledgements.rateText}}).</p>
${tableOpen('acknowledgements', 'Who has and has not acknowledged this version')}
<thead><tr><th scope="col">Person</th><th scope="col">Acknowledged</th></tr></thead><tbody>
{{#each acknowledgements.acknowledged}}<tr><td>{{person}}</td><td>{{at}}</td></tr>
{{/each}}{{#each acknowledgements.pending}}<tr><td>{{this}}</td><td><strong>not yet</strong></td></tr>
{{/each}}</tbody></table></div>
{{else}}<p>No acknowledgement was asked for this version.</p>{{/if}}
<p><a href="${consolePaths.policy}">All versions</a></p>`);

export function objectivePages(ctx: PageContext): FastifyPluginCallback {
  return (app, _options, done) => {
    const taskQueue = app.deps.config.TEMPORAL_TASK_QUEUE;

    app.get('/objectives', consoleGet('objective.read'), consoleHandler(ctx, async (request, reply) => {
      const items = await listed(request, reply, 'the objectives', async () => {
        const found = [];
        for await (const info of temporalClient(app).workflow.list({ query: workflowsOf(taskQueue, OBJECTIVE_WORKFLOW).join(' AND ') })) {
          const sa = info.typedSearchAttributes;
          const id = sa.get(searchAttributes.ref) ?? info.workflowId.replace(/^objective\//, '');
          const last = info.memo?.last as { value: number; at: string } | null | undefined;
          const running = info.status.name === 'RUNNING';
          found.push({
            objectiveId: id,
            url: consolePaths.objective(id),
            statement: memoText(info.memo?.title) ?? '',
            owner: sa.get(searchAttributes.owner) ?? '',
            state: running ? (sa.get(searchAttributes.state) ?? 'not-measured') : 'retired',
            ...(last ? { last: { value: last.value, at: dayOf(last.at) } } : {}),
            nextAt: running ? dayOf(isoOf(sa.get(searchAttributes.dueDate))) : '',
            temporalUrl: temporalUrlOf(request, info.workflowId),
          });
          if (found.length >= 1000) break;
        }
        return found;
      });
      items.sort((a, b) => a.objectiveId.localeCompare(b.objectiveId));
      return sendConsole(request, reply, OBJECTIVES, { items }, { title: 'AI objectives', section: 'registers' });
    }));

    app.get('/objectives/:objectiveId', consoleGet('objective.read'), consoleHandler(ctx, async (request, reply) => {
      const parsed = objectiveIdSchema.safeParse((request.params as { objectiveId: string }).objectiveId);
      if (!parsed.success) throw new HttpError(400, `The objective id ${parsed.error.issues[0]?.message ?? 'is not valid'}.`);
      const objectiveId = parsed.data;
      const workflowId = objectiveWorkflowId(objectiveId);
      const status = await queried(request, () => temporalClient(app).workflow.getHandle(workflowId).query(objectiveStatusQuery)).catch((err: unknown) => {
          if (err instanceof WorkflowNotFoundError) throw new HttpError(404, `No objective ${objectiveId}.`);
          throw err;
        });
      const d = status.definition;
      const model = {
        objectiveId,
        workflowId,
        temporalUrl: temporalUrlOf(request, workflowId),
        definition: d,
        state: status.state,
        every: d.every,
        measurer: d.measurement.by ?? d.owner,
        direction: d.metric.direction === 'higher-is-better' ? 'higher is better' : 'lower is better',
        // Scaled down to a phone's width (the printable pack keeps its fixed size).
        chart: objectiveChartSvg({ title: d.metric.name, unit: d.metric.unit, target: d.metric.target, atRisk: d.metric.atRisk, points: status.series }).replace(/^<svg /, '<svg style="max-width:100%;height:auto" '),
        series: status.series.map((m) => ({ ...m, date: dayOf(m.at), evaluation: m.evaluation.replace('-', ' ') })),
        ledger: await ledgerOf(app.deps.records, workflowId, { children: true }),
      };
      return sendConsole(request, reply, OBJECTIVE, model, { title: `Objective ${objectiveId}`, section: 'registers' });
    }));

    app.get('/policy', consoleGet('policy.read'), consoleHandler(ctx, async (request, reply) => {
      const items = (await policyVersions(app.deps.records)).map((v) => ({
        version: v.version,
        url: consolePaths.policyVersion(v.version),
        approvedAt: dayOf(v.approvedAt),
        approvedBy: v.approvedBy.join(', '),
        contentHash: v.contentHash,
      }));
      return sendConsole(request, reply, POLICY_VERSIONS, { items }, { title: 'AI policy versions', section: 'registers' });
    }));

    app.get('/policy/:version', consoleGet('policy.read'), consoleHandler(ctx, async (request, reply) => {
      const raw = (request.params as { version: string }).version;
      if (!/^\d{1,9}$/.test(raw) || Number(raw) < 1) throw new HttpError(400, `The version must be a whole number from 1 (got "${raw}").`);
      const number = Number(raw);
      const versions = await policyVersions(app.deps.records);
      const v = versions.find((x) => x.version === number);
      if (!v) throw new HttpError(404, `No approved version ${number} of the AI policy.`);
      const before = versions.filter((x) => x.version < v.version).at(-1);
      const acks = await acknowledgementsOf(app.deps.records, v.version);
      const model = {
        ...v,
        approvedAt: dayOf(v.approvedAt),
        approvedBy: v.approvedBy.join(', '),
        ...(before
          ? { diff: { from: before.version, lines: policyDiff(before.text, v.text).map((l) => ({ ...l, kind: l.op === '+' ? 'added' : l.op === '-' ? 'removed' : 'kept' })) } }
          : {}),
        ...(acks
          ? {
              acknowledgements: {
                acknowledged: acks.acknowledged.map((a) => ({ person: a.person, at: dayOf(a.at) })),
                pending: acks.pending,
                total: acks.acknowledged.length + acks.pending.length,
                rateText: acks.rate === null ? 'nobody in scope' : `${Math.round(acks.rate * 1000) / 10} %`,
              },
            }
          : {}),
      };
      return sendConsole(request, reply, POLICY_VERSION, model, { title: `AI policy version ${v.version}`, section: 'registers' });
    }));

    done();
  };
}
