/**
 * `aimsflow objectives ...`, `aimsflow policy ...` and `aimsflow competence`: AI objectives and
 * their measurement (6.2, 9.1), the AI policy's versions, reviews and acknowledgements (5.2,
 * A.2.4, 7.3), and competence (7.2).
 *
 *   aimsflow objectives list
 *   aimsflow objectives register --file objective.yaml
 *   aimsflow objectives show model-accuracy
 *   aimsflow objectives series model-accuracy
 *   aimsflow objectives change model-accuracy --file changes.yaml --reason "tighter target"
 *   aimsflow objectives retire model-accuracy --reason "replaced"
 *   aimsflow objectives sync
 *   aimsflow policy versions | policy show 2 | policy diff 2 [--from 1] | policy acknowledgements 2
 *   aimsflow policy review 2027 [--reason "..."]
 *   aimsflow competence
 */
import type { Command } from 'commander';
import { CliError } from '../cli/client.js';
import type { CliContext } from '../cli/context.js';

interface Measurement {
  n: number;
  at: string;
  value: number;
  evaluation: string;
  target: number;
}

const path = (id: string) => `/admin/objectives/${encodeURIComponent(id)}`;

export function registerObjectiveCommands(program: Command, ctx: CliContext): void {
  const objectives = program.command('objectives').description('AI objectives and their measurement (ISO/IEC 42001 6.2, 9.1)');

  objectives
    .command('list')
    .description('the register of objectives with their latest value and state')
    .action(async () => {
      const { items } = await ctx.api().request<{ items: Array<{ objectiveId: string; state: string; owner?: string; last?: { value: number; at: string }; nextAt?: string; statement: string }> }>('GET', '/admin/objectives');
      ctx.print(
        items,
        items.length
          ? items.map((i) => [i.objectiveId.padEnd(28), i.state.padEnd(13), (i.owner ?? '').padEnd(14), i.last ? `last ${i.last.value} (${i.last.at.slice(0, 10)})` : 'not measured', i.nextAt ? `next ${i.nextAt.slice(0, 10)}` : ''].join(' ')).join('\n')
          : 'no objectives',
      );
    });

  objectives
    .command('register')
    .description('register an objective from a YAML or JSON file ({definition, policy?})')
    .requiredOption('--file <file>', 'the objective (- for standard input)')
    .action(async (o: { file: string }) => {
      const body = (await ctx.readInput(o.file)) as Record<string, unknown> | null;
      if (!body || typeof body !== 'object') throw new CliError(`${o.file}: expected an object with a definition`);
      const r = await ctx.api().request<{ objectiveId: string; workflowId: string }>('POST', '/admin/objectives', 'definition' in body ? body : { definition: body });
      ctx.print(r, `${r.objectiveId} registered (${r.workflowId})`);
    });

  objectives
    .command('show <objectiveId>')
    .description('one objective: definition, state, series and history')
    .action(async (id: string) => {
      const d = await ctx.api().request<{ status: { state: string; definition: { statement: string; metric: { name: string; unit: string; target: number } }; series: Measurement[]; nextAt: string } }>('GET', path(id));
      const { status: s } = d;
      ctx.print(
        d,
        [
          `${id}: ${s.definition.statement}`,
          `state ${s.state} · ${s.definition.metric.name}, target ${s.definition.metric.target} ${s.definition.metric.unit} · next ${s.nextAt.slice(0, 10)}`,
          ...s.series.map((m) => `  ${m.n}. ${m.at.slice(0, 10)} ${m.value} (${m.evaluation})`),
        ].join('\n'),
      );
    });

  objectives
    .command('series <objectiveId>')
    .description("an objective's measurements from the ledger")
    .action(async (id: string) => {
      const r = await ctx.api().request<{ items: Measurement[] }>('GET', `${path(id)}/series`);
      ctx.print(r, r.items.length ? r.items.map((m) => `${m.n}. ${m.at.slice(0, 10)} ${m.value} (${m.evaluation}, target ${m.target})`).join('\n') : 'no measurements');
    });

  objectives
    .command('change <objectiveId>')
    .description("change an objective's definition (the fields to change, from a file)")
    .requiredOption('--file <file>', 'the changes (- for standard input)')
    .requiredOption('--reason <text>', 'why')
    .action(async (id: string, o: { file: string; reason: string }) => {
      const changes = await ctx.readInput(o.file);
      const r = await ctx.api().request<{ message: string }>('PATCH', path(id), { changes, reason: o.reason });
      ctx.print(r, r.message);
    });

  objectives
    .command('retire <objectiveId>')
    .description('retire an objective')
    .requiredOption('--reason <text>', 'why')
    .action(async (id: string, o: { reason: string }) => {
      const r = await ctx.api().request<{ message: string }>('POST', `${path(id)}/retire`, { reason: o.reason });
      ctx.print(r, r.message);
    });

  objectives
    .command('sync')
    .description("start the workflow of every objective in the organization file that does not run yet")
    .action(async () => {
      const r = await ctx.api().request<{ started: string[]; running: string[]; updated: string[]; failed: Array<{ objectiveId: string; reason: string }> }>('POST', '/admin/objectives/sync');
      ctx.print(r, [`started: ${r.started.join(', ') || 'none'}`, `already running: ${r.running.join(', ') || 'none'}`, ...(r.updated.length ? [`updated from the file: ${r.updated.join(', ')}`] : []), ...r.failed.map((f) => `FAILED ${f.objectiveId}: ${f.reason}`)].join('\n'));
      if (r.failed.length) throw new CliError(`${r.failed.length} objective(s) could not be started`);
    });

  const policy = program.command('policy').description('the AI policy: versions, reviews and acknowledgements (ISO/IEC 42001 5.2, A.2.4, 7.3)');

  policy
    .command('versions')
    .description('the approved versions')
    .action(async () => {
      const { items } = await ctx.api().request<{ items: Array<{ version: number; approvedAt: string; approvedBy: string[]; contentHash: string }> }>('GET', '/admin/policy/versions');
      ctx.print(items, items.length ? items.map((v) => `${v.version}  approved ${v.approvedAt.slice(0, 10)} by ${v.approvedBy.join(', ')}  sha256 ${v.contentHash}`).join('\n') : 'no approved version');
    });

  policy
    .command('show <version>')
    .description('one version with its text')
    .action(async (version: string) => {
      const v = await ctx.api().request<{ version: number; text: string; approvedAt: string }>('GET', `/admin/policy/versions/${encodeURIComponent(version)}`);
      ctx.print(v, `version ${v.version}, approved ${v.approvedAt.slice(0, 10)}\n\n${v.text}`);
    });

  policy
    .command('diff <version>')
    .description('what changed from an earlier version')
    .option('--from <version>', 'the earlier version (default the one before)')
    .action(async (version: string, o: { from?: string }) => {
      const r = await ctx.api().request<{ from: number; to: number; lines: Array<{ op: string; line: string }> }>('GET', `/admin/policy/versions/${encodeURIComponent(version)}/diff${o.from ? `?from=${encodeURIComponent(o.from)}` : ''}`);
      ctx.print(r, [`--- version ${r.from}`, `+++ version ${r.to}`, ...r.lines.map((l) => `${l.op}${l.line}`)].join('\n'));
    });

  policy
    .command('acknowledgements <version>')
    .description('who has and has not acknowledged a version')
    .action(async (version: string) => {
      const r = await ctx.api().request<{ acknowledged: Array<{ person: string; at: string }>; pending: string[]; rate: number | null }>('GET', `/admin/policy/versions/${encodeURIComponent(version)}/acknowledgements`);
      ctx.print(
        r,
        [
          `acknowledged (${r.acknowledged.length}): ${r.acknowledged.map((a) => `${a.person} ${a.at.slice(0, 10)}`).join(', ') || 'nobody'}`,
          `not yet (${r.pending.length}): ${r.pending.join(', ') || 'nobody'}`,
          `rate: ${r.rate === null ? 'nobody in scope' : `${Math.round(r.rate * 1000) / 10} %`}`,
        ].join('\n'),
      );
    });

  policy
    .command('review <reviewRef>')
    .description('start a review of the AI policy')
    .option('--reason <text>', 'why now')
    .action(async (reviewRef: string, o: { reason?: string }) => {
      const r = await ctx.api().request<{ workflowId: string }>('POST', '/admin/policy/reviews', { reviewRef, ...(o.reason ? { reason: o.reason } : {}) });
      ctx.print(r, `review started (${r.workflowId})`);
    });

  program
    .command('competence')
    .description('required competences without valid evidence, and evidence to renew soon (ISO/IEC 42001 7.2)')
    .action(async () => {
      const r = await ctx.api().request<{ gaps: Array<{ person: string; competence: string; reason: string }>; renewals: Array<{ person: string; competence: string; expiresOn: string }> }>('GET', '/admin/competence');
      ctx.print(
        r,
        [
          `gaps: ${r.gaps.map((g) => `${g.person} ${g.competence} (${g.reason})`).join(', ') || 'none'}`,
          `to renew: ${r.renewals.map((g) => `${g.person} ${g.competence} by ${g.expiresOn}`).join(', ') || 'none'}`,
        ].join('\n'),
      );
    });
}
