/**
 * `aimsflow certification ...`: start and follow a certificate's cycle (Stage 1, Stage 2,
 * surveillance, recertification) through the admin API.
 *
 *   aimsflow certification start --file cycle.yaml
 *   aimsflow certification list [--state overdue]
 *   aimsflow certification show CERT-2027-01
 *   aimsflow certification move-dates CERT-2027-01 --surveillance1 2028-02-14 --reason "auditor unavailable"
 *   aimsflow certification outcome CERT-2027-01 --file outcome.yaml
 *   aimsflow certification decision CERT-2027-01 --decision granted --decided-on 2027-03-16 --accepted-plans NC-2027-004
 *   aimsflow certification end CERT-2027-01 --reason "certificate transferred"
 */
import type { Command } from 'commander';
import { BY_HELP, CliError } from '../cli/client.js';
import type { CliContext } from '../cli/context.js';

interface Issue {
  path: string;
  rule: string;
  message: string;
}

interface Ack {
  certificateId: string;
  state: string;
  message: string;
  warnings: Issue[];
  nonconformities?: Array<{ ref: string; ncId: string; severity: string; deadlineAt: string }>;
}

interface Detail {
  workflowId: string;
  executionStatus: string;
  status: {
    state: string;
    cycle: number;
    certificate?: { decisionDate: string; expiresOn: string };
    plan: Record<string, string | undefined>;
    current?: string;
    audits: Array<{ audit: string; planned: string; completedOn?: string; result?: string; missed: boolean; findings: Array<{ ref: string; severity: string; ncId?: string }> }>;
    history: Array<{ cycle: number }>;
  };
}

const path = (certificateId: string, action = '') => `/admin/certifications/${encodeURIComponent(certificateId)}${action ? `/${action}` : ''}`;
const warningLines = (warnings: Issue[]) => warnings.map((w) => `warning: ${w.path}: ${w.message} (rule ${w.rule})`);

export function registerCertificationCommands(program: Command, ctx: CliContext): void {
  const cert = program.command('certification').description('the certification cycle: Stage 1 and 2, surveillance, recertification');

  const printAck = (ack: Ack) => {
    const ncs = (ack.nonconformities ?? []).map((n) => `  ${n.ncId} (${n.severity}, finding ${n.ref}, due ${n.deadlineAt})`);
    ctx.print(ack, [`${ack.certificateId}: ${ack.message} State: ${ack.state}.`, ...ncs, ...warningLines(ack.warnings)].join('\n'));
  };

  cert
    .command('start')
    .description("start a certificate's cycle from a YAML or JSON file (certificateId, plan, optional certificate and body)")
    .requiredOption('-f, --file <path>', 'the cycle, YAML or JSON (- for standard input)')
    .action(async (o: { file: string }) => {
      const body = await ctx.readInput(o.file);
      const started = await ctx.api().request<{ certificateId: string; workflowId: string; warnings: Issue[] }>('POST', '/admin/certifications', body);
      ctx.print(started, [`${started.certificateId}: cycle started (${started.workflowId})`, ...warningLines(started.warnings)].join('\n'));
    });

  cert
    .command('list')
    .description('list certificates and the state of their cycles')
    .option('--state <state>', 'e.g. surveillance-due, overdue, suspended')
    .action(async (o: { state?: string }) => {
      const { items } = await ctx
        .api()
        .request<{ items: Array<{ certificateId: string; state: string; cycle?: number; dueAt?: string; expiresOn?: string; executionStatus: string }> }>(
          'GET',
          `/admin/certifications${o.state ? `?state=${encodeURIComponent(o.state)}` : ''}`,
        );
      ctx.print(
        items,
        items.length
          ? items.map((i) => `${i.certificateId}  ${i.state}  cycle ${i.cycle ?? '?'}  ${i.dueAt ? `next ${i.dueAt}` : ''}  ${i.expiresOn ? `expires ${i.expiresOn}` : ''}`.trimEnd()).join('\n')
          : 'No certification cycles match.',
      );
    });

  cert
    .command('show')
    .argument('<certificateId>', 'e.g. CERT-2027-01')
    .description('state, plan, audits and history of a certificate')
    .action(async (certificateId: string) => {
      const d = await ctx.api().request<Detail>('GET', path(certificateId));
      const s = d.status;
      const lines = [
        `${certificateId}: ${s.state} (cycle ${s.cycle}, ${d.executionStatus.toLowerCase()})${s.certificate ? ` · decided ${s.certificate.decisionDate}, expires ${s.certificate.expiresOn}` : ''}`,
        ...s.audits.map(
          (a) =>
            `  ${a.audit.padEnd(16)} planned ${a.planned}${a.completedOn ? ` · held ${a.completedOn} · ${a.result ?? ''}` : ''}${a.missed ? ' · WINDOW MISSED' : ''}${a.findings.length ? ` · ${a.findings.length} finding(s)` : ''}`,
        ),
        ...(s.current ? [`  next: ${s.current}`] : []),
        ...(s.history.length ? [`  earlier cycles: ${s.history.map((h) => h.cycle).join(', ')}`] : []),
      ];
      ctx.print(d, lines.join('\n'));
    });

  cert
    .command('move-dates')
    .argument('<certificateId>')
    .description('move planned audit dates (checked against the certification rules again)')
    .option('--stage1 <date>')
    .option('--stage2 <date>')
    .option('--decision <date>', 'the planned certification decision')
    .option('--surveillance1 <date>')
    .option('--surveillance2 <date>')
    .option('--recertification <date>')
    .requiredOption('--reason <text>', 'why the dates move')
    .option('--by <person>', BY_HELP)
    .action(async (certificateId: string, o: Record<string, string | undefined>) => {
      const { reason, by, ...rest } = o;
      const dates = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
      if (Object.keys(dates).length === 0) throw new CliError('give at least one date to move, e.g. --surveillance1 2028-02-14');
      printAck(await ctx.api().request<Ack>('POST', path(certificateId, 'dates'), { dates, reason, ...(by ? { by } : {}) }));
    });

  cert
    .command('outcome')
    .argument('<certificateId>')
    .description("record an audit's outcome and the body's findings from a YAML or JSON file (audit, completedOn, result, findings)")
    .requiredOption('-f, --file <path>', 'the outcome, YAML or JSON (- for standard input)')
    .action(async (certificateId: string, o: { file: string }) => {
      printAck(await ctx.api().request<Ack>('POST', path(certificateId, 'outcomes'), await ctx.readInput(o.file)));
    });

  cert
    .command('decision')
    .argument('<certificateId>')
    .description("record the certification body's decision")
    .requiredOption('--decision <decision>', 'granted, refused, suspended, reinstated or withdrawn')
    .requiredOption('--decided-on <date>', 'the day of the decision')
    .option('--expires-on <date>', 'the new expiry (granted; default three years)')
    .option('--reason <text>')
    .option('--next-plan <path>', 'with a recertification: the next cycle\'s dates (surveillance1, surveillance2, recertification), YAML or JSON')
    .option('--accepted-plans <ncIds>', "granted: the NCs (comma-separated) whose action plans the body accepted; every open major's is required")
    .option('--by <person>', BY_HELP)
    .action(async (certificateId: string, o: { decision: string; decidedOn: string; expiresOn?: string; reason?: string; nextPlan?: string; acceptedPlans?: string; by?: string }) => {
      const body = {
        decision: o.decision,
        decidedOn: o.decidedOn,
        ...(o.expiresOn ? { expiresOn: o.expiresOn } : {}),
        ...(o.reason ? { reason: o.reason } : {}),
        ...(o.nextPlan ? { nextPlan: await ctx.readInput(o.nextPlan) } : {}),
        ...(o.acceptedPlans ? { acceptedPlans: o.acceptedPlans.split(',').map((id) => id.trim()).filter(Boolean) } : {}),
        ...(o.by ? { by: o.by } : {}),
      };
      printAck(await ctx.api().request<Ack>('POST', path(certificateId, 'decisions'), body));
    });

  cert
    .command('end')
    .argument('<certificateId>')
    .description('end the certification cycle')
    .requiredOption('--reason <text>')
    .option('--by <person>', BY_HELP)
    .action(async (certificateId: string, o: { reason: string; by?: string }) => {
      printAck(await ctx.api().request<Ack>('POST', path(certificateId, 'end'), { reason: o.reason, ...(o.by ? { by: o.by } : {}) }));
    });
}
