/**
 * The console's Statement of Applicability (6.1.3): the version in force (or any earlier one)
 * with every Annex A control, the versions with who changed them, why and their approval, the
 * diff between two versions, and links to the printable HTML and CSV exports the admin API
 * serves. Versions are read from the ledger as the API reads them.
 */
import type { FastifyPluginCallback } from 'fastify';
import { z } from 'zod';
import { HttpError } from '../api/errors.js';
import type { PageContext } from '../api/pages/common.js';
import { consoleGet } from '../console/guard.js';
import { consoleHandler } from '../console/handler.js';
import { consolePaths } from '../console/paths.js';
import { LEDGER, ledgerOf, tableOpen, timeText } from '../console/register.js';
import { consoleView, sendConsole } from '../console/render.js';
import { versionParam } from './routes.js';
import { soaDiff, SOA_SUBJECT } from './schema.js';
import { soaVersions, type SoaVersion } from './store.js';
import '../api/deps.js';

const SOA = consoleView(`<h1>Statement of Applicability, version {{soa.version}}</h1>
<p>{{#if inForce}}The version in force.{{else}}An earlier version; <a href="${consolePaths.soa}">the version in force</a> is {{latest}}.{{/if}} {{#if soa.approved}}Approved by {{soa.approved.by}} on {{approvedText}}.{{else}}Not approved.{{/if}} sha256 <span class="hash">{{soa.hash}}</span></p>
<p class="inline-actions"><a class="button button-secondary" href="/admin/soa/export.html?version={{soa.version}}">Printable version</a><a class="button button-secondary" href="/admin/soa/export.csv?version={{soa.version}}" download>Download as CSV</a></p>
${tableOpen('controls', '{{includedCount}} of {{soa.controls.length}} Annex A controls included')}
<thead><tr><th scope="col">Control</th><th scope="col">Included</th><th scope="col">Justification</th><th scope="col">Implementation</th><th scope="col">Owner</th><th scope="col">Evidence</th><th scope="col">Risks</th></tr></thead><tbody>
{{#each controls}}<tr><th scope="row">{{control}}<br><span class="meta">{{title}}</span></th><td>{{#if included}}yes{{else}}<strong>no</strong>{{/if}}</td><td>{{justification}}</td><td>{{implementation}}</td><td>{{owner}}</td><td>{{evidenceText}}</td><td>{{#each riskLinks}}<a href="{{url}}">{{id}}</a> {{/each}}</td></tr>
{{/each}}</tbody></table></div>
<section aria-labelledby="versions-title"><h2 id="versions-title">Versions</h2>
${tableOpen('versions', 'Every version, oldest first')}
<thead><tr><th scope="col">Version</th><th scope="col">Changed</th><th scope="col">By</th><th scope="col">Why</th><th scope="col">Approved</th><th scope="col">Changes</th></tr></thead><tbody>
{{#each versions}}<tr><th scope="row"><a href="{{url}}">{{version}}</a></th><td>{{atText}}</td><td>{{by}}</td><td>{{reason}}</td><td>{{#if approved}}{{approved.by}}{{else}}no{{/if}}</td><td>{{#if diffUrl}}<a href="{{diffUrl}}" aria-label="from {{previous}} to {{version}}">from {{previous}}</a>{{/if}}</td></tr>
{{/each}}</tbody></table></div></section>
${LEDGER}`);

const DIFF = consoleView(`<h1>Statement of Applicability: changes from version {{from}} to {{to}}</h1>
{{#if changes.length}}${tableOpen('diff', '{{changes.length}} changed fields')}
<thead><tr><th scope="col">Control</th><th scope="col">Field</th><th scope="col">Version {{from}}</th><th scope="col">Version {{to}}</th></tr></thead><tbody>
{{#each changes}}<tr><th scope="row">{{control}}</th><td>{{field}}</td><td>{{fromText}}</td><td>{{toText}}</td></tr>
{{/each}}</tbody></table></div>
{{else}}<p>Nothing changed between these versions.</p>{{/if}}
<p><a href="${consolePaths.soa}?version={{to}}">Version {{to}}</a> · <a href="${consolePaths.soa}">The version in force</a></p>`);

const text = (value: unknown) => (value === null || value === undefined ? '' : Array.isArray(value) ? value.join(', ') : typeof value === 'string' ? value : JSON.stringify(value));

export function soaPages(ctx: PageContext): FastifyPluginCallback {
  return (app, _options, done) => {
    const org = () => {
      const o = app.deps.organization?.();
      if (!o) throw new HttpError(503, 'The organization file is not loaded.');
      return o;
    };
    const query = <S extends z.ZodType>(schema: S, value: unknown): z.output<S> => {
      const parsed = schema.safeParse(value ?? {});
      if (!parsed.success) throw new HttpError(400, `Invalid query: ${parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(query)'}: ${i.message}`).join('; ')}`);
      return parsed.data;
    };
    const pick = (all: SoaVersion[], version: number | undefined): SoaVersion => {
      const found = version === undefined ? all.at(-1) : all[version];
      if (!found) throw new HttpError(404, `No SoA version ${version}: the versions are 0 to ${all.length - 1}.`);
      return found;
    };

    app.get('/soa', consoleGet('soa.read'), consoleHandler(ctx, async (request, reply) => {
      const { version } = query(z.strictObject({ version: versionParam.optional() }), request.query);
      const all = await soaVersions(app.deps.records, org());
      const soa = pick(all, version);
      const model = {
        soa,
        inForce: soa.version === all.length - 1,
        latest: all.length - 1,
        approvedText: timeText(soa.approved?.at),
        includedCount: soa.controls.filter((c) => c.included).length,
        controls: soa.controls.map((c) => ({ ...c, evidenceText: c.evidence.join(', '), riskLinks: c.risks.map((id) => ({ id, url: consolePaths.risk(id) })) })),
        versions: all.map((v) => ({
          ...v,
          url: `${consolePaths.soa}?version=${v.version}`,
          atText: v.at ? timeText(v.at) : 'baseline',
          ...(v.version > 0 ? { previous: v.version - 1, diffUrl: `${consolePaths.soa}/diff?from=${v.version - 1}&to=${v.version}` } : {}),
        })),
        ledger: await ledgerOf(app.deps.records, SOA_SUBJECT),
      };
      return sendConsole(request, reply, SOA, model, { title: `Statement of Applicability, version ${soa.version}`, section: 'registers' });
    }));

    app.get('/soa/diff', consoleGet('soa.read'), consoleHandler(ctx, async (request, reply) => {
      const { from, to } = query(z.strictObject({ from: versionParam, to: versionParam }), request.query);
      const all = await soaVersions(app.deps.records, org());
      const a = pick(all, from);
      const b = pick(all, to);
      const changes = soaDiff(a.controls, b.controls).map((c) => ({ ...c, fromText: text(c.from), toText: text(c.to) }));
      return sendConsole(request, reply, DIFF, { from: a.version, to: b.version, changes }, { title: `SoA changes from ${a.version} to ${b.version}`, section: 'registers' });
    }));

    done();
  };
}
