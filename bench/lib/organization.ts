/**
 * A bench organization: the example organization file with `count` more people (process
 * engineers reporting to the AIMS manager), so load can come from many distinct people.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { EXAMPLE_ORG_FILE } from './aimsflow.js';

/** `bench.person-001`, ... */
export function benchPeople(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `bench.person-${String(i + 1).padStart(3, '0')}`);
}

/** Writes the example organization with `count` bench people to `file`; their ids. */
export async function writeBenchOrganization(file: string, count: number): Promise<string[]> {
  const org = parse(await readFile(EXAMPLE_ORG_FILE, 'utf8')) as { people: Array<Record<string, string>> };
  const ids = benchPeople(count);
  org.people.push(
    ...ids.map((id, i) => ({ id, name: `Bench Person ${i + 1}`, email: `${id}@northwind.example`, title: 'Process Engineer', manager: 'priya.raman' })),
  );
  await writeFile(file, stringify(org));
  return ids;
}
