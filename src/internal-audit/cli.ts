/**
 * `aimsflow audit ...`: the internal audit programme of a year (ISO/IEC 42001 9.2).
 *
 *   aimsflow audit start 2027 [--file plan.yaml]      start the programme (with its plan, or ask the AIMS manager for one)
 *   aimsflow audit plan 2027 --file plan.yaml         submit the plan of a programme waiting for one
 *   aimsflow audit list                               the programmes and their audits' states
 *   aimsflow audit show 2027                          every audit, its state, warnings and the timeline
 *   aimsflow audit add 2027 --file audit.yaml         add an unplanned audit
 *   aimsflow audit reschedule 2027 A-03 --start 2027-06-01 --end 2027-06-03 --reason "..."
 *   aimsflow audit auditor 2027 A-03 liam.walsh --reason "..."
 *   aimsflow audit cancel 2027 A-03 --reason "..."
 *   aimsflow audit close-year 2027 --reason "..."     write the year-end report now
 *   aimsflow audit summary [--from 2027-01-01] [--to 2027-12-31]
 *
 * A plan file holds `audits:` (a list) or is the list itself; each audit has auditId, title,
 * scope (clauses, controls, processes, aiSystems), window (start, end), leadAuditor, auditee.
 */
import type { Command } from 'commander';
import { BY_HELP, CliError } from '../cli/client.js';
import type { CliContext } from '../cli/context.js';

interface Ack {
  message: string;
  warnings?: string[];
}

interface ProgrammeDetail {
  executionStatus: string;
  status: {
    state: string;
    year: number;
    audits: Array<{ auditId: string; title: string; state: string; leadAuditor: string; auditee: string; window: { start: string; end: string }; ncIds: string[] }>;
    warnings: Array<{ message: string }>;
    timeline: Array<{ at: string; type: string; by: string; detail: string }>;
  };
}

const yearArg = (value: string): number => {
  if (!/^\d{4}$/.test(value)) throw new CliError(`year: "${value}" is not a year such as 2027`);
  return Number(value);
};

/** The audits of a plan file: `{ audits: [...] }` or the list itself. */
function auditsOf(input: unknown, file: string): unknown {
  if (Array.isArray(input)) return input;
  if (input && typeof input === 'object' && 'audits' in input) return (input).audits;
  throw new CliError(`${file}: expected a list of audits, or an object with "audits"`);
}

const withWarnings = (ack: Ack) => [ack.message, ...(ack.warnings ?? []).map((w) => `warning: ${w}`)].join('\n');

export function registerInternalAuditCommands(program: Command, ctx: CliContext): void {
  const audit = program.command('audit').description('the internal audit programme and its audits (ISO/IEC 42001 9.2)');
  const path = (year: number, rest = '') => `/admin/internal-audit-programmes/${year}${rest}`;

  audit
    .command('start')
    .argument('<year>', 'the programme year, e.g. 2027')
    .description("start a year's programme; without --file the AIMS manager is asked for the plan")
    .option('-f, --file <path>', 'the plan (YAML or JSON): a list of audits, or { audits, policy }')
    .option('--by <person>', BY_HELP)
    .action(async (yearText: string, o: { file?: string; by?: string }) => {
      const year = yearArg(yearText);
      const input = o.file ? await ctx.readInput(o.file) : undefined;
      const policy = input && typeof input === 'object' && !Array.isArray(input) && 'policy' in input ? { policy: (input).policy } : {};
      const body = { year, ...(input !== undefined ? { audits: auditsOf(input, o.file ?? '') } : {}), ...policy, ...(o.by ? { requestedBy: o.by } : {}) };
      const started = await ctx.api().request<{ workflowId: string; warnings: string[] }>('POST', '/admin/internal-audit-programmes', body);
      ctx.print(started, withWarnings({ message: `started ${started.workflowId}${o.file ? '' : ' (waiting for its plan)'}`, warnings: started.warnings }));
    });

  audit
    .command('plan')
    .argument('<year>')
    .description('submit the plan of a programme waiting for one')
    .requiredOption('-f, --file <path>', 'the plan (YAML or JSON): a list of audits, or { audits }')
    .option('--by <person>', BY_HELP)
    .option('--note <text>', 'a note for the approver')
    .action(async (yearText: string, o: { file: string; by?: string; note?: string }) => {
      const year = yearArg(yearText);
      const audits = auditsOf(await ctx.readInput(o.file), o.file);
      const ack = await ctx.api().request<Ack>('PUT', path(year, '/plan'), { audits, ...(o.by ? { by: o.by } : {}), ...(o.note ? { note: o.note } : {}) });
      ctx.print(ack, withWarnings(ack));
    });

  audit
    .command('list')
    .description('the programmes, newest first, with the state of each audit')
    .action(async () => {
      const { items } = await ctx.api().request<{ items: Array<{ year: number | null; workflowId: string; state: string; audits: Record<string, string> }> }>(
        'GET',
        '/admin/internal-audit-programmes',
      );
      ctx.print(
        items,
        items.length
          ? items.map((p) => `${p.year ?? '?'}  ${p.state.padEnd(9)}  ${Object.entries(p.audits).map(([id, st]) => `${id} ${st}`).join(', ') || 'no audits yet'}  (${p.workflowId})`).join('\n')
          : 'No internal audit programmes.',
      );
    });

  audit
    .command('show')
    .argument('<year>')
    .description('the programme: every audit with its state, the warnings and the timeline')
    .action(async (yearText: string) => {
      const year = yearArg(yearText);
      const detail = await ctx.api().request<ProgrammeDetail>('GET', path(year));
      const s = detail.status;
      const lines = [
        `Internal audit programme ${year}: ${s.state} (${detail.executionStatus})`,
        ...s.audits.map((a) => `  ${a.auditId}  ${a.state.padEnd(11)}  ${a.window.start} to ${a.window.end}  ${a.leadAuditor} → ${a.auditee}  ${a.title}${a.ncIds.length ? `  NCs: ${a.ncIds.join(', ')}` : ''}`),
        ...s.warnings.map((w) => `  warning: ${w.message}`),
        ...s.timeline.map((e) => `  ${e.at}  ${e.type}  ${e.by}: ${e.detail}`),
      ];
      ctx.print(detail, lines.join('\n'));
    });

  audit
    .command('add')
    .argument('<year>')
    .description('add an unplanned audit to a running programme')
    .requiredOption('-f, --file <path>', 'the audit (YAML or JSON)')
    .option('--reason <text>', 'why it is added')
    .option('--already-held', 'the audit already took place (its window may lie in the past; a reason is required)')
    .option('--by <person>', BY_HELP)
    .action(async (yearText: string, o: { file: string; reason?: string; alreadyHeld?: boolean; by?: string }) => {
      const year = yearArg(yearText);
      const body = {
        audit: await ctx.readInput(o.file),
        ...(o.reason ? { reason: o.reason } : {}),
        ...(o.alreadyHeld ? { alreadyHeld: true } : {}),
        ...(o.by ? { by: o.by } : {}),
      };
      const ack = await ctx.api().request<Ack>('POST', path(year, '/audits'), body);
      ctx.print(ack, withWarnings(ack));
    });

  audit
    .command('reschedule')
    .argument('<year>')
    .argument('<auditId>', 'e.g. A-03')
    .description('move an audit to another window (the invitation is updated)')
    .requiredOption('--start <date>', 'first day (YYYY-MM-DD) or instant')
    .requiredOption('--end <date>', 'last day (YYYY-MM-DD) or instant')
    .requiredOption('--reason <text>', 'why it moves')
    .option('--already-held', 'the audit already took place in this window (it may lie in the past)')
    .option('--by <person>', BY_HELP)
    .action(async (yearText: string, auditId: string, o: { start: string; end: string; reason: string; alreadyHeld?: boolean; by?: string }) => {
      const year = yearArg(yearText);
      const ack = await ctx.api().request<Ack>('POST', path(year, `/audits/${encodeURIComponent(auditId)}/reschedule`), {
        window: { start: o.start, end: o.end },
        reason: o.reason,
        ...(o.alreadyHeld ? { alreadyHeld: true } : {}),
        ...(o.by ? { by: o.by } : {}),
      });
      ctx.print(ack, ack.message);
    });

  audit
    .command('auditor')
    .argument('<year>')
    .argument('<auditId>')
    .argument('<person>', 'the new lead auditor')
    .description('give an audit another lead auditor (impartiality is checked again)')
    .requiredOption('--reason <text>', 'why')
    .option('--by <person>', BY_HELP)
    .action(async (yearText: string, auditId: string, person: string, o: { reason: string; by?: string }) => {
      const year = yearArg(yearText);
      const ack = await ctx.api().request<Ack>('POST', path(year, `/audits/${encodeURIComponent(auditId)}/auditor`), {
        leadAuditor: person,
        reason: o.reason,
        ...(o.by ? { by: o.by } : {}),
      });
      ctx.print(ack, ack.message);
    });

  audit
    .command('cancel')
    .argument('<year>')
    .argument('<auditId>')
    .description('cancel an audit (a cancelled invitation is sent)')
    .requiredOption('--reason <text>', 'why')
    .option('--by <person>', BY_HELP)
    .action(async (yearText: string, auditId: string, o: { reason: string; by?: string }) => {
      const year = yearArg(yearText);
      const ack = await ctx.api().request<Ack>('POST', path(year, `/audits/${encodeURIComponent(auditId)}/cancel`), { reason: o.reason, ...(o.by ? { by: o.by } : {}) });
      ctx.print(ack, ack.message);
    });

  audit
    .command('close-year')
    .argument('<year>')
    .description('write the year-end report now (audits not started are cancelled)')
    .requiredOption('--reason <text>', 'why now')
    .option('--by <person>', BY_HELP)
    .action(async (yearText: string, o: { reason: string; by?: string }) => {
      const year = yearArg(yearText);
      const ack = await ctx.api().request<Ack>('POST', path(year, '/close-year'), { reason: o.reason, ...(o.by ? { by: o.by } : {}) });
      ctx.print(ack, ack.message);
    });

  audit
    .command('summary')
    .description('internal audit results of a period, from the evidence ledger')
    .option('--from <date>', 'start of the period')
    .option('--to <date>', 'end of the period (a date counts as its whole day)')
    .action(async (o: { from?: string; to?: string }) => {
      const query = new URLSearchParams();
      if (o.from) query.set('from', o.from);
      if (o.to) query.set('to', o.to);
      const summary = await ctx.api().request<
        | { available: true; auditsReported: number; findingsByType: Record<string, number>; ncIds: string[]; period: { from: string; to: string } }
        | { available: false; reason: string }
      >('GET', `/admin/internal-audits/summary${query.size ? `?${query.toString()}` : ''}`);
      if (!summary.available) throw new CliError(`audit results unavailable: ${summary.reason}`);
      const f = summary.findingsByType;
      ctx.print(
        summary,
        `${summary.auditsReported} audit(s) reported ${summary.period.from} to ${summary.period.to}: ${f.majorNc} major NC, ${f.minorNc} minor NC, ${f.observation} observation(s), ${f.opportunity} opportunit(ies); NCs: ${summary.ncIds.join(', ') || 'none'}`,
      );
    });
}
