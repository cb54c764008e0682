/**
 * `aimsflow keys ...`: API keys for API_KEYS, made and hashed on this machine (no API call).
 *
 *   aimsflow keys hash [key]           the SHA-256 of a key (from standard input when not given)
 *   aimsflow keys new --name N --person P
 *   aimsflow keys new --name N --service S --role operations-admin [--role ...]
 *
 * `new` prints the key once (hand it to its holder) and the entry to add to API_KEYS, which
 * holds only its hash.
 */
import type { Command } from 'commander';
import { CliError } from '../cli/client.js';
import type { CliContext } from '../cli/context.js';
import { apiKeyEntrySchema, hashKey, newKey } from './api-keys.js';
import { SERVICE_ROLES } from './permissions.js';

export function registerKeyCommands(program: Command, ctx: CliContext): void {
  const keys = program.command('keys').description('API keys: make one, or hash one for API_KEYS');

  keys
    .command('hash')
    .description('print the SHA-256 of a key, as API_KEYS lists it')
    .argument('[key]', 'the key (default: read from standard input, so it stays out of the shell history)')
    .action(async (key: string | undefined) => {
      const value = (key ?? (await ctx.readText('-'))).trim();
      if (value.length < 16) throw new CliError('the key must be at least 16 characters');
      ctx.print({ sha256: hashKey(value) }, hashKey(value));
    });

  keys
    .command('new')
    .description('make a key for a person or a service and print it with its API_KEYS entry')
    .requiredOption('--name <name>', 'the name logs and the ledger show for the key')
    .option('--person <id>', 'the person of the organization file the key belongs to')
    .option('--service <name>', 'the service the key belongs to (e.g. scheduler, ci, operations)')
    .option('--role <role>', `a role of the service (${SERVICE_ROLES.join(', ')}); repeat for more`, (v: string, all: string[] = []) => [...all, v])
    .action((opts: { name: string; person?: string; service?: string; role?: string[] }) => {
      const key = newKey();
      const entry = apiKeyEntrySchema.safeParse({
        name: opts.name,
        sha256: hashKey(key),
        ...(opts.person ? { person: opts.person } : {}),
        ...(opts.service ? { service: opts.service } : {}),
        ...(opts.role ? { roles: opts.role } : {}),
      });
      if (!entry.success) {
        throw new CliError('the key was not made', entry.error.issues.map((i) => `${i.path.join('.') || '(entry)'}: ${i.message}`));
      }
      ctx.print({ key, entry: entry.data }, [`key (shown once; give it to its holder): ${key}`, `API_KEYS entry: ${JSON.stringify(entry.data)}`].join('\n'));
    });
}
