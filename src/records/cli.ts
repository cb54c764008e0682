/**
 * `aimsflow records ...`: read and check the evidence ledger through the admin API.
 *
 *   aimsflow records list [--subject S] [--subject-prefix P] [--kind K] [--clause C] [--from T] [--to T] [--after-seq N] [--limit N]
 *   aimsflow records verify
 *
 * Both mark what the hash chain does not vouch for: `list` flags each unverified record and ends
 * with a note, `verify` lists every broken record and exits 1 when there is any.
 */
import type { Command } from 'commander';
import { CliError } from '../cli/client.js';
import type { CliContext } from '../cli/context.js';
import type { CheckedRecord, LedgerBreak, LedgerStatus, VerifyResult } from './types.js';

/** One line per break: seq, id, kinds, then the reason without its `record N:` prefix. */
export function breakLine(b: LedgerBreak): string {
  const reason = b.reason.replace(/^record \d+: /, '');
  return `  seq ${b.seq}  ${b.id ?? '(no record)'}  ${b.kinds.join('+')}: ${reason}`;
}

export function verifyText(result: VerifyResult): string {
  if (result.ok) return `ledger intact: ${result.records} records`;
  const lines = [
    `ledger broken: ${result.breakCount} broken record${result.breakCount === 1 ? '' : 's'} among ${result.records} read; ` +
      `verified through record ${result.verifiedThrough}, records from seq ${result.verifiedThrough + 1} on are unverified`,
    ...result.breaks.map(breakLine),
  ];
  const more = result.breakCount - result.breaks.length;
  if (more > 0) lines.push(`  ... and ${more} more (only the first ${result.breaks.length} are listed)`);
  return lines.join('\n');
}

export function listText(records: CheckedRecord[], ledger: LedgerStatus, nextAfterSeq: number | null): string {
  if (records.length === 0) return ledger.note ? `No records match.\n${ledger.note}` : 'No records match.';
  const lines = records.map(
    (r) => `${String(r.seq).padStart(6)}  ${r.verified ? 'verified  ' : 'UNVERIFIED'}  ${r.occurredAt}  ${r.kind}  ${r.subject}  ${r.actor}  ${r.id}`,
  );
  if (nextAfterSeq !== null) lines.push(`More: add --after-seq ${nextAfterSeq}`);
  if (ledger.note) lines.push(`Note: ${ledger.note}`);
  return lines.join('\n');
}

const listOptions = [
  ['subject', 'subject', 'exact subject, usually a workflow id'],
  ['subject-prefix', 'subjectPrefix', 'subject prefix, e.g. corrective-action/'],
  ['kind', 'kind', 'record kind, e.g. task.completed'],
  ['clause', 'clause', 'clause or Annex A control, e.g. 10.2 or A.6.2.8'],
  ['from', 'from', 'occurred at or after (ISO-8601 with time zone)'],
  ['to', 'to', 'occurred before (ISO-8601 with time zone)'],
  ['after-seq', 'afterSeq', 'only records after this seq (the "More" hint pages on)'],
  ['limit', 'limit', 'at most this many records (default 100, at most 1000)'],
] as const;

export function registerRecordsCommands(program: Command, ctx: CliContext): void {
  const records = program.command('records').description('the evidence ledger');

  const list = records.command('list').description('list evidence records in chain order, each marked verified or UNVERIFIED');
  for (const [flag, , help] of listOptions) list.option(`--${flag} <value>`, help);
  list.action(async (o: Record<string, string | undefined>) => {
    const query = new URLSearchParams();
    for (const [, name] of listOptions) {
      const value = o[name];
      if (value !== undefined) query.set(name, value);
    }
    const page = await ctx
      .api()
      .request<{ records: CheckedRecord[]; nextAfterSeq: number | null; ledger: LedgerStatus }>('GET', `/admin/records${query.size ? `?${query.toString()}` : ''}`);
    ctx.print(page, listText(page.records, page.ledger, page.nextAfterSeq));
  });

  records
    .command('verify')
    .description('check the hash chain of every record; lists every broken record and exits 1 if there is any')
    .action(async () => {
      const result = await ctx.api().request<VerifyResult>('GET', '/admin/records/verify');
      ctx.print(result, verifyText(result));
      if (!result.ok) {
        throw new CliError(`the evidence ledger failed verification: ${result.breakCount} broken record${result.breakCount === 1 ? '' : 's'}, first at seq ${result.brokenAt}`);
      }
    });
}
