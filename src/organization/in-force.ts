/**
 * The organization a process starts with: the newest version accepted in the records store,
 * or the organization file when none was accepted yet. A file that does not parse is reported
 * with its problems; a process that has an accepted version goes on with it ("the old file
 * stays in force until fixed"), one that has none exits.
 */
import type { Logger } from '../logger.js';
import type { RecordsStore } from '../records/types.js';
import { OrganizationHolder } from './holder.js';
import { loadOrganization, OrganizationFileError } from './load.js';
import type { Organization } from './schema.js';

export async function organizationInForce(
  file: string,
  records: Pick<RecordsStore, 'organizations'>,
  logger: Logger,
): Promise<{ file: Organization | undefined; holder: OrganizationHolder }> {
  let fromFile: Organization | undefined;
  let problem: OrganizationFileError | undefined;
  try {
    fromFile = await loadOrganization(file);
  } catch (err) {
    if (!(err instanceof OrganizationFileError)) throw err;
    problem = err;
  }
  const latest = await records.organizations.latest();
  if (!fromFile && !latest) {
    process.stderr.write(`${problem?.message ?? `cannot load ${file}`}\n`);
    process.exit(1);
  }
  if (problem) logger.error({ problems: problem.problems }, `${problem.message.split('\n')[0]}; the organization version in force stays`);
  const holder = new OrganizationHolder(fromFile as Organization, records, logger);
  await holder.refresh();
  holder.watch();
  return { file: fromFile, holder };
}
