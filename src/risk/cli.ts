/**
 * `aimsflow risks ...`, `aimsflow risk-assessment start` and `aimsflow soa ...`: the AI risk
 * register, risk assessments and the Statement of Applicability through the admin API.
 *
 *   aimsflow risks list [--state S] [--scope credit-scoring|aims] [--owner P] [--level L] [--category C]
 *   aimsflow risks show R-001
 *   aimsflow risks add --file risk.yaml
 *   aimsflow risks update R-001 --file change.yaml
 *   aimsflow risks accept R-001 --comment "..."
 *   aimsflow risk-assessment start credit-scoring [--reason "..."]
 *   aimsflow soa show [--version N]
 *   aimsflow soa diff --from N --to M
 *   aimsflow soa edit --file changes.yaml
 *   aimsflow soa review 2027
 */
import type { Command } from 'commander';
import type { CliContext } from '../cli/context.js';

interface RiskRow {
  riskId: string;
  title: string;
  state: string;
  owner: string;
  aiSystems: string[];
  inherent?: { level: string };
  residual?: { level: string };
}

const riskLine = (r: RiskRow) =>
  `${r.riskId}  ${r.state.padEnd(17)}  ${(r.residual?.level ?? r.inherent?.level ?? '-').padEnd(8)}  ${r.owner.padEnd(14)}  ${r.aiSystems.join(',') || 'AIMS'}  ${r.title}`;

export function registerRiskCommands(program: Command, ctx: CliContext): void {
  const risks = program.command('risks').description('the AI risk register (6.1.2, 6.1.3, 8.2, 8.3)');
  risks
    .command('list')
    .description('the register: open risks by default')
    .option('--state <state>', 'identified, assessed, treatment-planned, accepted, treated, review-due or closed')
    .option('--scope <scope>', 'an AI system id, or aims for AIMS-wide risks')
    .option('--owner <person>', 'the risk owner')
    .option('--level <level>', 'the residual (else inherent) level')
    .option('--category <category>', 'an Annex C category')
    .action(async (o: Record<string, string | undefined>) => {
      const query = new URLSearchParams(Object.entries(o).filter((e): e is [string, string] => e[1] !== undefined));
      const r = await ctx.api().request<{ risks: RiskRow[] }>('GET', `/admin/risks${query.size ? `?${query.toString()}` : ''}`);
      ctx.print(r, r.risks.length ? r.risks.map(riskLine).join('\n') : 'No risks match.');
    });
  risks
    .command('show')
    .argument('<riskId>', 'e.g. R-001')
    .description('one risk with its history')
    .action(async (riskId: string) => {
      const r = await ctx.api().request<{ risk: RiskRow; history: Array<{ occurredAt: string; kind: string; actor: string; change: string }> }>('GET', `/admin/risks/${encodeURIComponent(riskId)}`);
      ctx.print(r, [riskLine(r.risk), ...r.history.map((h) => `  ${h.occurredAt}  ${h.kind}  ${h.actor}  ${h.change}`)].join('\n'));
    });
  risks
    .command('add')
    .requiredOption('-f, --file <path>', 'the risk (title, description, categories, owner, aiSystems, inherent), YAML or JSON (- for standard input)')
    .description('add a risk to the register')
    .action(async (o: { file: string }) => {
      const r = await ctx.api().request<{ risk: RiskRow }>('POST', '/admin/risks', await ctx.readInput(o.file));
      ctx.print(r, `${r.risk.riskId} added (${r.risk.state})`);
    });
  risks
    .command('update')
    .argument('<riskId>', 'e.g. R-001')
    .requiredOption('-f, --file <path>', 'the change with its reason (title, owner, inherent, residual, controls, close), YAML or JSON')
    .description('change a risk outside a running assessment, or close it')
    .action(async (riskId: string, o: { file: string }) => {
      const r = await ctx.api().request<{ risk: RiskRow }>('PATCH', `/admin/risks/${encodeURIComponent(riskId)}`, await ctx.readInput(o.file));
      ctx.print(r, `${r.risk.riskId} updated (${r.risk.state})`);
    });
  risks
    .command('accept')
    .argument('<riskId>', 'e.g. R-001')
    .requiredOption('--comment <text>', 'why the residual risk is accepted')
    .description("accept a risk's residual level (top management, not the risk owner)")
    .action(async (riskId: string, o: { comment: string }) => {
      const r = await ctx.api().request<{ risk: RiskRow; contentHash: string }>('POST', `/admin/risks/${encodeURIComponent(riskId)}/accept`, { comment: o.comment });
      ctx.print(r, `${r.risk.riskId} accepted (${r.risk.residual?.level ?? '-'}), bound to ${r.contentHash}`);
    });

  program
    .command('risk-assessment')
    .description('risk assessments')
    .command('start')
    .argument('<scope>', 'an AI system id, or aims')
    .option('--reason <text>', 'why it runs now')
    .description('start a risk assessment of an AI system or the AIMS')
    .action(async (scope: string, o: { reason?: string }) => {
      const r = await ctx.api().request<{ workflowId: string }>('POST', '/admin/risk-assessments', { scope, ...(o.reason ? { reason: o.reason } : {}) });
      ctx.print(r, `started ${r.workflowId}`);
    });

  const soa = program.command('soa').description('the Statement of Applicability (6.1.3)');
  soa
    .command('show')
    .option('--version <n>', 'a version (default: the one in force)')
    .description('every Annex A control: included or excluded, justification, implementation, owner')
    .action(async (o: { version?: string }) => {
      const v = await ctx.api().request<{ version: number; hash: string; approved: { by: string } | null; controls: Array<{ control: string; included: boolean; implementation: string | null; owner: string | null; justification: string }> }>(
        'GET',
        `/admin/soa${o.version !== undefined ? `?version=${encodeURIComponent(o.version)}` : ''}`,
      );
      const lines = v.controls.map((c) => `${c.control.padEnd(8)} ${(c.included ? c.implementation ?? '' : 'excluded').padEnd(11)} ${(c.owner ?? '-').padEnd(14)} ${c.justification}`);
      ctx.print(v, [`version ${v.version} (${v.approved ? `approved by ${v.approved.by}` : 'not approved'}) sha256 ${v.hash}`, ...lines].join('\n'));
    });
  soa
    .command('diff')
    .requiredOption('--from <n>', 'the earlier version')
    .requiredOption('--to <n>', 'the later version')
    .description('what changed between two versions')
    .action(async (o: { from: string; to: string }) => {
      const d = await ctx.api().request<{ changes: Array<{ control: string; field: string; from: unknown; to: unknown }> }>('GET', `/admin/soa/diff?from=${encodeURIComponent(o.from)}&to=${encodeURIComponent(o.to)}`);
      ctx.print(d, d.changes.length ? d.changes.map((c) => `${c.control} ${c.field}: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`).join('\n') : 'No change.');
    });
  soa
    .command('edit')
    .requiredOption('-f, --file <path>', '{ changes: [{ control, included, justification, implementation, owner, evidence }], reason }, YAML or JSON')
    .description('change controls (a new version)')
    .action(async (o: { file: string }) => {
      const r = await ctx.api().request<{ version: number }>('PUT', '/admin/soa', await ctx.readInput(o.file));
      ctx.print(r, `SoA version ${r.version} recorded`);
    });
  soa
    .command('review')
    .argument('<year>', 'the year reviewed')
    .description('start the SoA review of a year now (as its schedule would)')
    .action(async (year: string) => {
      const r = await ctx.api().request<{ workflowId: string }>('POST', '/admin/soa/reviews', { year: Number(year) });
      ctx.print(r, `started ${r.workflowId}`);
    });
}
