/**
 * `aimsflow records ...`: read and check the evidence ledger through the admin API.
 *
 *   aimsflow records list [--subject S] [--subject-prefix P] [--kind K] [--clause C] [--from T] [--to T] [--after-seq N] [--limit N]
 *   aimsflow records verify [--anchor <seq>:<hash>]...
 *   aimsflow records anchors
 *   aimsflow records verify-pack <pack.ndjson> [--anchor <seq>:<hash>]... [--anchor-file <ledger-anchor-N.json>]...
 *
 * Both mark what the hash chain does not vouch for: `list` flags each unverified record and ends
 * with a note, `verify` lists every broken record and exits 1 when there is any. With anchors
 * (ledger heads kept outside the database), `verify` also checks that the chain recomputed from
 * the first record reaches each of them. `verify-pack` works offline, on an exported audit pack
 * and the anchor files from the anchor mails, without the API.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { InvalidArgumentError, type Command } from 'commander';
import { parseAnchor, parseAnchorFile, type AnchorFile } from './anchors.js';
import { verifyAuditPack, type AuditPackCheck } from './export.js';
import { CliError } from '../cli/client.js';
import type { CliContext } from '../cli/context.js';
import type { AnchorRef, AnchorVerdict, CheckedRecord, LedgerAnchor, LedgerBreak, LedgerStatus, VerifyResult } from './types.js';

/** One line per break: seq, id, kinds, then the reason without its `record N:` prefix. */
export function breakLine(b: LedgerBreak): string {
  const reason = b.reason.replace(/^record \d+: /, '');
  return `  seq ${b.seq}  ${b.id ?? '(no record)'}  ${b.kinds.join('+')}: ${reason}`;
}

function anchorLines(verdicts: AnchorVerdict[] | undefined): string[] {
  return (verdicts ?? []).map((v) =>
    v.status === 'match'
      ? `  anchor ${v.seq}:${v.hash.slice(0, 16)}…  matches the recomputed chain`
      : v.status === 'mismatch'
        ? `  anchor ${v.seq}:${v.hash.slice(0, 16)}…  DOES NOT MATCH (recomputed ${v.recomputed?.slice(0, 16) ?? ''}…)`
        : `  anchor ${v.seq}:${v.hash.slice(0, 16)}…  BEYOND THE LEDGER HEAD`,
  );
}

export function verifyText(result: VerifyResult): string {
  if (result.ok) {
    const n = result.anchors?.length ?? 0;
    return [`ledger intact: ${result.records} records${n ? `, and the chain reaches ${n === 1 ? 'the anchor' : `all ${n} anchors`}` : ''}`, ...anchorLines(result.anchors)].join('\n');
  }
  const lines = [
    `ledger broken: ${result.breakCount} broken record${result.breakCount === 1 ? '' : 's'} among ${result.records} read; ` +
      `verified through record ${result.verifiedThrough}, records from seq ${result.verifiedThrough + 1} on are unverified`,
    ...result.breaks.map(breakLine),
  ];
  const more = result.breakCount - result.breaks.length;
  if (more > 0) lines.push(`  ... and ${more} more (only the first ${result.breaks.length} are listed)`);
  lines.push(...anchorLines(result.anchors));
  return lines.join('\n');
}

export function packCheckText(check: AuditPackCheck): string {
  const lines = check.ok
    ? [`audit pack intact: ${check.records} records, head ${check.head}`]
    : [`audit pack FAILED verification (line ${check.line}): ${check.reason}`];
  if (!check.ok && check.firstDifference) {
    lines.push(`  first record that differs from the anchored chain: seq ${check.firstDifference.seq}${check.firstDifference.id ? ` (${check.firstDifference.id})` : ''}`);
  }
  lines.push(...anchorLines(check.anchors));
  return lines.join('\n');
}

function anchorOption(value: string, previous: string[] = []): string[] {
  for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const parsed = parseAnchor(part);
    if (typeof parsed === 'string') throw new InvalidArgumentError(parsed);
  }
  return [...previous, value];
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

async function* fileLines(file: string, stdin: () => Promise<string>): AsyncGenerator<string> {
  if (file === '-') {
    yield* (await stdin()).split('\n');
    return;
  }
  const stream = createReadStream(file, { encoding: 'utf8' });
  try {
    yield* createInterface({ input: stream, crlfDelay: Infinity });
  } finally {
    stream.destroy();
  }
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
    .option('--anchor <seq:hash>', 'a ledger head kept outside the database (from an anchor mail); repeatable or comma-separated', anchorOption)
    .action(async (o: { anchor?: string[] }) => {
      const query = new URLSearchParams();
      for (const a of o.anchor ?? []) query.append('anchor', a);
      const result = await ctx.api().request<VerifyResult>('GET', `/admin/records/verify${query.size ? `?${query.toString()}` : ''}`);
      ctx.print(result, verifyText(result));
      if (!result.ok) {
        throw new CliError(`the evidence ledger failed verification: ${result.breakCount} broken record${result.breakCount === 1 ? '' : 's'}, first at seq ${result.brokenAt}`);
      }
    });

  records
    .command('anchors')
    .description('list the ledger heads captured and mailed outside the database')
    .action(async () => {
      const { items } = await ctx.api().request<{ items: Array<Omit<LedgerAnchor, 'recordHashes'> & { anchor: string }> }>('GET', '/admin/records/anchors');
      const text = items.length
        ? items.map((a) => `${a.anchor}  captured ${a.at}  ${a.publishedAt ? `mailed ${a.publishedAt} to ${a.recipients.join(', ')}` : 'NOT MAILED YET'}`).join('\n')
        : 'No anchors yet: the daily anchor run captures and mails the ledger head.';
      ctx.print(items, text);
    });

  records
    .command('verify-pack')
    .argument('<file>', 'an audit pack exported with GET /admin/records/export (unfiltered), or - for standard input')
    .description('check an exported audit pack offline: its hash chain from record 1 and its anchors; exits 1 on any problem')
    .option('--anchor <seq:hash>', 'a ledger head kept outside the database; repeatable or comma-separated', anchorOption)
    .option('--anchor-file <file>', 'an anchor file from an anchor mail (ledger-anchor-<seq>.json); repeatable', collect)
    .action(async (file: string, o: { anchor?: string[]; anchorFile?: string[] }) => {
      const anchors: AnchorRef[] = (o.anchor ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean).map((v) => parseAnchor(v) as AnchorRef);
      const anchorFiles: AnchorFile[] = [];
      for (const f of o.anchorFile ?? []) {
        const parsed = parseAnchorFile(await ctx.readText(f));
        if (typeof parsed === 'string') throw new CliError(`${f}: ${parsed}`);
        anchorFiles.push(parsed);
      }
      let check: AuditPackCheck;
      try {
        check = await verifyAuditPack(fileLines(file, () => ctx.readText('-')), { anchors, anchorFiles });
      } catch (err) {
        throw new CliError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
      }
      ctx.print(check, packCheckText(check));
      if (!check.ok) throw new CliError(`the audit pack failed verification: ${check.reason}`);
    });
}
