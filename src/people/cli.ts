/**
 * `aimsflow people ...` and `aimsflow organization reload`: what a person holds in running
 * work, handing it over before they leave, and putting a changed organization file into force.
 *
 *   aimsflow people work sofia.lind
 *   aimsflow people handover sofia.lind --to marco.rossi --reason "moves to the risk team"
 *   aimsflow organization reload [--reason "..."]
 */
import type { Command } from 'commander';
import type { CliContext } from '../cli/context.js';

interface WorkItem {
  workflowId: string;
  type: string;
  title: string;
  state?: string;
  dueAt?: string;
  parts: string[];
  to?: string;
}

const line = (i: WorkItem) => `${i.workflowId}  ${i.parts.join('+')}  ${i.state ?? ''}  ${i.dueAt?.slice(0, 10) ?? ''}  ${i.title}${i.to ? `  → ${i.to}` : ''}`;

export function registerPeopleCommands(program: Command, ctx: CliContext): void {
  const people = program.command('people').description("people's part in running work, and handing it over (5.3, 7.2)");

  people
    .command('work')
    .argument('<person>', 'a person id, e.g. sofia.lind')
    .description('the running work a person owns or must act on')
    .action(async (person: string) => {
      const work = await ctx.api().request<{ personId: string; inOrganization: boolean; items: WorkItem[] }>('GET', `/admin/people/${encodeURIComponent(person)}/work`);
      const head = `${person}${work.inOrganization ? '' : ' (not in the organization file)'}: ${work.items.length} item(s)`;
      ctx.print(work, [head, ...work.items.map(line)].join('\n'));
    });

  people
    .command('handover')
    .argument('<person>', 'who hands over')
    .requiredOption('--to <person>', 'who takes over')
    .requiredOption('--reason <text>', 'why, for the record')
    .description("hand all of a person's running work to someone else")
    .action(async (person: string, o: { to: string; reason: string }) => {
      const started = await ctx.api().request<{ workflowId: string; items: WorkItem[] }>('POST', `/admin/people/${encodeURIComponent(person)}/handover`, {
        to: o.to,
        reason: o.reason,
      });
      ctx.print(started, [`handing over ${started.items.length} item(s) to ${o.to} (${started.workflowId})`, ...started.items.map(line)].join('\n'));
    });

  program
    .command('organization')
    .description('the organization file in force')
    .command('reload')
    .option('--reason <text>', 'why, for the record')
    .description('put the organization file into force after checking it against running work')
    .action(async (o: { reason?: string }) => {
      const result = await ctx.api().request<{ status: string; version: number; leavers: string[]; changeWorkflowId?: string }>(
        'POST',
        '/admin/organization/reload',
        o.reason ? { reason: o.reason } : {},
      );
      const moved = result.leavers.length ? `; handing over the work of ${result.leavers.join(', ')} (${result.changeWorkflowId ?? ''})` : '';
      ctx.print(result, result.status === 'unchanged' ? `unchanged (version ${result.version})` : `version ${result.version} in force${moved}`);
    });
}
