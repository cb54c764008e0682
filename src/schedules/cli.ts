/**
 * `aimsflow schedules ...`: the yearly schedules of the recurring cycles.
 *
 *   aimsflow schedules set internal-audit-programme --month 1 --day 5 [--hour 8] [--year-offset 1]
 *   aimsflow schedules set management-review --month 10 --day 1 --meeting-after 45d
 *   aimsflow schedules list | get <kind> | pause <kind> [--note ..] | resume <kind> | run <kind> | delete <kind>
 */
import { InvalidArgumentError, type Command } from 'commander';
import { scheduledCycleKinds } from './schema.js';
import type { CycleScheduleView } from './manage.js';
import { CliError } from '../cli/client.js';
import type { CliContext } from '../cli/context.js';

function kindArg(value: string): string {
  if (!(scheduledCycleKinds as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`must be one of ${scheduledCycleKinds.join(', ')}`);
  }
  return value;
}

function int(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number`);
    return Number(value);
  };
}

function describe(s: CycleScheduleView): string {
  const { month, day, hour, minute, timezone } = s.settings as { month: number; day: number; hour: number; minute: number; timezone?: string };
  const when = `every year on ${String(day).padStart(2, '0')}/${String(month).padStart(2, '0')} at ${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')} ${timezone ?? 'UTC'}`;
  const lines = [`${s.kind}: ${when}${s.paused ? ` (paused${s.note ? `: ${s.note}` : ''})` : ''}`, `  schedule id: ${s.scheduleId}`];
  if (s.nextRuns[0]) lines.push(`  next run:    ${s.nextRuns[0]}`);
  for (const run of s.recentRuns.slice(-3)) lines.push(`  ran ${run.takenAt} -> ${run.launcherWorkflowId}`);
  return lines.join('\n');
}

export function registerScheduleCommands(program: Command, ctx: CliContext): void {
  const schedules = program.command('schedules').description('yearly schedules that start the internal audit programme and the management review');
  const path = (kind: string) => `/admin/schedules/${kind}`;

  schedules
    .command('list')
    .description('show the yearly schedules')
    .action(async () => {
      const { items } = await ctx.api().request<{ items: CycleScheduleView[] }>('GET', '/admin/schedules');
      ctx.print(items, items.length ? items.map(describe).join('\n') : 'No yearly schedules yet: create one with `aimsflow schedules set <kind> --month M --day D`.');
    });

  schedules
    .command('get')
    .argument('<kind>', scheduledCycleKinds.join(' | '), kindArg)
    .description('show one yearly schedule')
    .action(async (kind: string) => {
      const s = await ctx.api().request<CycleScheduleView>('GET', path(kind));
      ctx.print(s, describe(s));
    });

  schedules
    .command('set')
    .argument('<kind>', scheduledCycleKinds.join(' | '), kindArg)
    .description('create or update a yearly schedule (the same settings again change nothing)')
    .requiredOption('--month <1-12>', 'month it fires in', int('--month'))
    .requiredOption('--day <1-31>', 'day of the month', int('--day'))
    .option('--hour <0-23>', 'hour (default 8)', int('--hour'))
    .option('--minute <0-59>', 'minute (default 0)', int('--minute'))
    .option('--timezone <zone>', "IANA time zone (default: the organization's)")
    .option('--paused', 'create or keep it paused')
    .option('--note <text>', 'a note shown in the Temporal UI')
    .option('--year-offset <0|1>', 'audit programme: 1 to plan next year\'s programme', int('--year-offset'))
    .option('--meeting-after <duration>', 'management review: meeting this long after it fires, e.g. 45d')
    .action(async (kind: string, o: Record<string, unknown>) => {
      const body = {
        month: o.month,
        day: o.day,
        ...(o.hour !== undefined ? { hour: o.hour } : {}),
        ...(o.minute !== undefined ? { minute: o.minute } : {}),
        ...(o.timezone !== undefined ? { timezone: o.timezone } : {}),
        paused: o.paused === true,
        ...(o.note !== undefined ? { note: o.note } : {}),
        ...(o.yearOffset !== undefined ? { yearOffset: o.yearOffset } : {}),
        ...(o.meetingAfter !== undefined ? { meetingAfter: o.meetingAfter } : {}),
      };
      const s = await ctx.api().request<CycleScheduleView>('PUT', path(kind), body);
      ctx.print(s, describe(s));
    });

  for (const [name, text] of [
    ['pause', 'pause a yearly schedule'],
    ['resume', 'resume a paused yearly schedule'],
  ] as const) {
    schedules
      .command(name)
      .argument('<kind>', scheduledCycleKinds.join(' | '), kindArg)
      .option('--note <text>', 'why, shown in the Temporal UI')
      .description(text)
      .action(async (kind: string, o: { note?: string }) => {
        const s = await ctx.api().request<CycleScheduleView>('POST', `${path(kind)}/${name}`, o.note ? { note: o.note } : {});
        ctx.print(s, describe(s));
      });
  }

  schedules
    .command('run')
    .argument('<kind>', scheduledCycleKinds.join(' | '), kindArg)
    .description("run it now: starts this year's cycle unless it was already started")
    .action(async (kind: string) => {
      const result = await ctx.api().request('POST', `${path(kind)}/run`);
      ctx.print(result, `${kind}: triggered`);
    });

  schedules
    .command('delete')
    .argument('<kind>', scheduledCycleKinds.join(' | '), kindArg)
    .option('--yes', 'confirm')
    .description('delete a yearly schedule (cycles it started keep running)')
    .action(async (kind: string, o: { yes?: boolean }) => {
      if (!o.yes) throw new CliError(`not deleted: add --yes to delete the ${kind} schedule`);
      await ctx.api().request('DELETE', path(kind));
      ctx.print({ kind, deleted: true }, `${kind}: schedule deleted`);
    });
}
