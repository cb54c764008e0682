/**
 * What every admin CLI command gets: the admin API client (made on first use, so `--help`
 * works without configuration), output in the chosen format, and input files read as YAML or
 * JSON.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { CliError, createAdminApi, parseCliEnv, type AdminApi } from './client.js';

export interface CliContext {
  api(): AdminApi;
  /** Prints a result: JSON with `--json`, otherwise the text when given, else indented JSON. */
  print(value: unknown, text?: string): void;
  /** Reads a YAML or JSON file (`-` for standard input); a parse error names the file and line. */
  readInput(file: string): Promise<unknown>;
  /** Reads a file as text (`-` for standard input). */
  readText(file: string): Promise<string>;
}

export function createCliContext(options: {
  env: NodeJS.ProcessEnv;
  json: () => boolean;
  out: (line: string) => void;
  stdin?: () => Promise<string>;
}): CliContext {
  let api: AdminApi | undefined;
  const readText = async (file: string): Promise<string> => {
    try {
      return file === '-' ? await (options.stdin ?? readStdin)() : await readFile(file, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  return {
    api() {
      api ??= createAdminApi(parseCliEnv(options.env));
      return api;
    },
    print(value, text) {
      options.out(options.json() || text === undefined ? JSON.stringify(value, null, 2) : text);
    },
    readText,
    async readInput(file) {
      const content = await readText(file);
      try {
        return parseYaml(content) as unknown;
      } catch (err) {
        throw new CliError(`${file}: not valid YAML or JSON (${err instanceof Error ? err.message : String(err)})`);
      }
    },
  };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
