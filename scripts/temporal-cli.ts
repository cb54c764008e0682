/**
 * Locates the Temporal CLI (which embeds the dev server and the Web UI), building it from
 * source with Go when it is missing.
 *
 * Look-up order: the TEMPORAL_CLI variable, `temporal` on PATH, then Go's bin directory
 * (`go env GOBIN`, else the first entry of `go env GOPATH` + `/bin`, else `~/go/bin`).
 *
 * From the shell, `npx tsx scripts/temporal-cli.ts` prints the path (building it if needed).
 */
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Newest CLI release that `go install` accepts (later tags carry a replace directive). */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

export const GO_INSTALL_COMMAND = `go install ${TEMPORAL_CLI_MODULE}`;

export const BUILDING_MESSAGE =
  'Building the Temporal CLI from source with Go; the first build takes several minutes…';

/** Upper bound for `go install` (download and compile on a slow machine). */
const GO_INSTALL_TIMEOUT_MS = 30 * 60_000;
/** Upper bound for `go env`. */
const GO_ENV_TIMEOUT_MS = 20_000;

/** Well-known places Go is installed to when it is not on PATH. */
const GO_FALLBACK_LOCATIONS = ['/usr/local/go/bin/go', '/usr/lib/go/bin/go'];

export class TemporalCliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemporalCliError';
  }
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds an executable by name on the PATH of `env`. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** The `go` executable: on PATH, else at a well-known install location. */
export function findGo(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return findOnPath('go', env) ?? GO_FALLBACK_LOCATIONS.find(isExecutableFile);
}

/** Directories `go install` writes binaries to, most specific first. */
export function goBinDirectories(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  const go = findGo(env);
  if (go) {
    try {
      const [gobin = '', gopath = ''] = execFileSync(go, ['env', 'GOBIN', 'GOPATH'], {
        encoding: 'utf8',
        env,
        timeout: GO_ENV_TIMEOUT_MS,
        stdio: ['ignore', 'pipe', 'ignore'],
      }).split('\n');
      if (gobin.trim()) dirs.push(gobin.trim());
      const firstGopath = gopath.trim().split(path.delimiter).find(Boolean);
      if (firstGopath) dirs.push(path.join(firstGopath, 'bin'));
    } catch {
      // `go env` failing leaves the defaults below.
    }
  }
  if (env.GOBIN) dirs.push(env.GOBIN);
  const firstGopath = env.GOPATH?.split(path.delimiter).find(Boolean);
  if (firstGopath) dirs.push(path.join(firstGopath, 'bin'));
  dirs.push(path.join(env.HOME ?? os.homedir(), 'go', 'bin'));
  return [...new Set(dirs)];
}

/**
 * The Temporal CLI binary, or undefined when none is installed.
 * Throws TemporalCliError when TEMPORAL_CLI names something that is not an executable file.
 */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env.TEMPORAL_CLI?.trim();
  if (fromEnv) {
    const resolved = path.resolve(fromEnv);
    if (!isExecutableFile(resolved)) {
      throw new TemporalCliError(
        `TEMPORAL_CLI is set to ${fromEnv}, which is not an executable file. ` +
          `Point it at a Temporal CLI binary or unset it.`,
      );
    }
    return resolved;
  }
  const onPath = findOnPath('temporal', env);
  if (onPath) return onPath;
  for (const dir of goBinDirectories(env)) {
    const candidate = path.join(dir, 'temporal');
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** `go install <module>`, its output shown, within the time limit. */
export function runGoInstall(go: string, env: NodeJS.ProcessEnv, module = TEMPORAL_CLI_MODULE): Promise<void> {
  const command = `go install ${module}`;
  return new Promise((resolve, reject) => {
    const child = spawn(go, ['install', module], {
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: GO_INSTALL_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    child.once('error', (err) =>
      reject(new TemporalCliError(`could not run ${go}: ${err.message}`)),
    );
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else if (signal)
        reject(
          new TemporalCliError(
            `${command} was stopped by ${signal}` +
              (signal === 'SIGKILL' ? ` (time limit ${GO_INSTALL_TIMEOUT_MS / 60_000} min)` : ''),
          ),
        );
      else reject(new TemporalCliError(`${command} failed with exit code ${code}`));
    });
  });
}

/**
 * The Temporal CLI binary; builds it with `go install` when it is missing and Go is available.
 * `log` receives progress messages meant for a person.
 */
export async function ensureTemporalCli(
  log: (msg: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const found = findTemporalCli(env);
  if (found) return found;

  const go = findGo(env);
  if (!go) {
    throw new TemporalCliError(
      'The Temporal CLI was not found (looked at TEMPORAL_CLI, PATH and Go\'s bin directory) and Go is not installed.\n' +
        `Install Go 1.22 or newer (https://go.dev/dl/) and run:\n  ${GO_INSTALL_COMMAND}\n` +
        'or set TEMPORAL_CLI to the path of a Temporal CLI binary.',
    );
  }
  log(BUILDING_MESSAGE);
  // Make sure the toolchain finds its own helpers even when only a fallback location matched.
  const goEnv = { ...env, PATH: [path.dirname(go), env.PATH ?? ''].filter(Boolean).join(path.delimiter) };
  await runGoInstall(go, goEnv);
  const built = findTemporalCli(goEnv);
  if (!built) {
    throw new TemporalCliError(
      `${GO_INSTALL_COMMAND} succeeded but no temporal binary was found in ${goBinDirectories(goEnv).join(', ')}. ` +
        'Set TEMPORAL_CLI to the built binary.',
    );
  }
  log(`Temporal CLI built: ${built}`);
  return built;
}

const invokedDirectly =
  process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);

if (invokedDirectly) {
  try {
    const cli = await ensureTemporalCli((msg) => process.stderr.write(`${msg}\n`));
    process.stdout.write(`${cli}\n`);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
