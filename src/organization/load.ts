/**
 * Loads and validates the organization file (YAML). Errors name the field path and the
 * problem, e.g. `roles.aimsManager: unknown person "zoe" (not in people)`.
 */
import { readFile } from 'node:fs/promises';
import { parse, YAMLParseError } from 'yaml';
import { organizationSchema, type Organization } from './schema.js';

export class OrganizationFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`Invalid organization file ${file}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'OrganizationFileError';
  }
}

function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    return out ? `${out}.${String(key)}` : String(key);
  }, '');
}

/** Validates an already-parsed document. */
export function parseOrganization(document: unknown, file = '(inline)'): Organization {
  const result = organizationSchema.safeParse(document);
  if (!result.success) {
    throw new OrganizationFileError(
      file,
      result.error.issues.map((issue) => `${formatPath(issue.path) || '(root)'}: ${issue.message}`),
    );
  }
  return result.data;
}

export function parseOrganizationYaml(text: string, file = '(inline)'): Organization {
  let document: unknown;
  try {
    document = parse(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    if (err instanceof YAMLParseError) {
      throw new OrganizationFileError(file, [`YAML syntax: ${err.message.split('\n')[0] ?? err.message}`]);
    }
    throw err;
  }
  return parseOrganization(document, file);
}

export async function loadOrganization(file: string): Promise<Organization> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new OrganizationFileError(file, [
      code === 'ENOENT' ? 'file not found (set ORG_FILE to your organization file)' : `cannot read: ${String(err)}`,
    ]);
  }
  return parseOrganizationYaml(text, file);
}

