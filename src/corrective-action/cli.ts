/**
 * `aimsflow nc ...`: raise and follow nonconformities.
 *
 *   aimsflow nc raise --file nc.yaml [--key <idempotency-key>]
 *   aimsflow nc list [--state overdue] [--severity major] [--owner sofia.lind]
 *   aimsflow nc show NC-2027-004
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import type { CliContext } from '../cli/context.js';

interface NcListItem {
  ncId: string;
  title: string;
  severity?: string;
  state: string;
  owner?: string;
  targetAt?: string;
  overdue: boolean;
}

export function registerNonconformityCommands(program: Command, ctx: CliContext): void {
  const nc = program.command('nc').description('nonconformities and their corrective actions (ISO/IEC 42001 10.2)');

  nc.command('raise')
    .description('raise a nonconformity from a YAML or JSON file (title, description, severity, source, owner, ...)')
    .requiredOption('-f, --file <path>', 'the nonconformity, YAML or JSON (- for standard input)')
    .option('--key <key>', 'idempotency key: the same key always raises the same NC (default: a new one)')
    .action(async (o: { file: string; key?: string }) => {
      const body = await ctx.readInput(o.file);
      const key = o.key ?? `cli-${randomUUID()}`;
      const raised = await ctx.api().request<{ ncId: string; workflowId: string; created: boolean }>('POST', '/admin/nonconformities', body, {
        'idempotency-key': key,
      });
      ctx.print(raised, `${raised.ncId} ${raised.created ? 'raised' : 'was already raised with this key'} (${raised.workflowId})`);
    });

  nc.command('list')
    .description('list nonconformities')
    .option('--state <state>', 'e.g. root-cause, closed')
    .option('--severity <severity>', 'major or minor')
    .option('--owner <person>', "the owner's person id")
    .option('--overdue', 'only those past their overall target')
    .action(async (o: { state?: string; severity?: string; owner?: string; overdue?: boolean }) => {
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(o)) if (v !== undefined) query.set(k, String(v));
      const { items } = await ctx.api().request<{ items: NcListItem[] }>('GET', `/admin/nonconformities${query.size ? `?${query.toString()}` : ''}`);
      ctx.print(
        items,
        items.length
          ? items
              .map((i) => `${i.ncId}  ${(i.severity ?? '').padEnd(5)}  ${(i.overdue ? 'OVERDUE ' : '') + i.state}  ${i.owner ?? ''}  ${i.title}`)
              .join('\n')
          : 'No nonconformities match.',
      );
    });

  nc.command('show')
    .argument('<ncId>', 'e.g. NC-2027-004')
    .description('a nonconformity with its whole timeline')
    .action(async (ncId: string) => {
      const detail = await ctx.api().request<{ status: { state: string; title?: string; timeline: { at: string; type: string; by: string; detail: string }[] } }>(
        'GET',
        `/admin/nonconformities/${encodeURIComponent(ncId)}`,
      );
      const lines = [`${ncId}: ${detail.status.title ?? ''} (${detail.status.state})`, ...detail.status.timeline.map((e) => `  ${e.at}  ${e.type}  ${e.by}: ${e.detail}`)];
      ctx.print(detail, lines.join('\n'));
    });
}
