/**
 * The real parts the tests run against, found on this machine: which are required (their
 * absence fails the run), which are optional (their absence skips the tests that need them,
 * with the reason), and where each was found. `npm test` prints this before anything runs;
 * the test files use the same answers for their skips, so a machine without a part skips the
 * same tests every time and says why.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findOnPath, findTemporalCli } from '../temporal-cli.js';
import { findPostgresBinDir } from './postgres-cluster.js';
import { findTopologyTools } from './topology.js';

export interface Part {
  name: string;
  /** Where it was found, or undefined when missing. */
  found: string | undefined;
  required: boolean;
  /** What is skipped (optional part) or fails (required part) without it, and how to get it. */
  without: string;
}

const executable = (file: string) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** `docker compose` on this machine: the docker client and its compose plugin, or why not. */
export function dockerCompose(): { docker: string; version: string } | { missing: string } {
  const docker = findOnPath('docker');
  if (!docker) return { missing: 'no docker client on PATH (apt-get install docker.io)' };
  try {
    const version = execFileSync(docker, ['compose', 'version', '--short'], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    return { docker, version };
  } catch {
    return { missing: 'the docker client has no compose plugin (apt-get install docker-compose-plugin, or build it as .ci/run does)' };
  }
}

/** Where `.ci/run` installs schemathesis (a Python venv); `SCHEMATHESIS` names another `st`. */
export const SCHEMATHESIS_VENV = path.join(os.homedir(), '.cache', 'aimsflow', 'schemathesis');

/**
 * The schemathesis command line (`st`) and its version: `SCHEMATHESIS`, else `schemathesis`
 * on PATH, else the venv `.ci/run` installs; or why there is none.
 */
export function findSchemathesis(env: NodeJS.ProcessEnv = process.env): { st: string; version: string } | { missing: string } {
  const how = `python3 -m venv ${SCHEMATHESIS_VENV} && ${SCHEMATHESIS_VENV}/bin/pip install 'schemathesis==4.*', or set SCHEMATHESIS to an st binary`;
  const given = env.SCHEMATHESIS;
  const st = given ?? findOnPath('schemathesis', env) ?? path.join(SCHEMATHESIS_VENV, 'bin', 'st');
  if (!existsSync(st) || !executable(st)) {
    return { missing: given ? `SCHEMATHESIS=${given} is not an executable file` : `schemathesis is not installed (${how})` };
  }
  try {
    const out = execFileSync(st, ['--version'], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
    const version = /version\s+(\S+)/.exec(out)?.[1] ?? out.trim();
    if (!version.startsWith('4.')) return { missing: `${st} is schemathesis ${version}; the fuzz test needs 4.x (${how})` };
    return { st, version };
  } catch (err) {
    return { missing: `${st} --version failed (${err instanceof Error ? err.message : String(err)})` };
  }
}

export function findParts(env: NodeJS.ProcessEnv = process.env): Part[] {
  let cli: string | undefined;
  try {
    cli = findTemporalCli(env);
  } catch {
    cli = undefined;
  }
  const topology = findTopologyTools(env);
  const compose = dockerCompose();
  const schemathesis = findSchemathesis(env);
  const postgresUrl = env.TEST_DATABASE_URL;
  const postgresBin = findPostgresBinDir(env);
  return [
    { name: 'Temporal CLI (dev server)', found: cli, required: true, without: 'every workflow test fails (npm test builds it with Go when Go is installed)' },
    {
      name: 'PostgreSQL server',
      found: postgresUrl ? 'TEST_DATABASE_URL' : postgresBin,
      required: true,
      without: 'the records store and production-topology tests fail (apt-get install postgresql)',
    },
    {
      name: 'Temporal server and SQL tool (production topology)',
      found: 'missing' in topology ? undefined : `${topology.server}, ${topology.sqlTool}`,
      required: false,
      without: `the production-topology fault suite is skipped: ${'missing' in topology ? topology.missing : ''}`,
    },
    {
      name: 'Chromium',
      found: existsSync(CHROMIUM_PATH) && executable(CHROMIUM_PATH) ? CHROMIUM_PATH : undefined,
      required: false,
      without: `the browser tests are skipped (apt-get install chromium, or set CHROMIUM_PATH; looked at ${CHROMIUM_PATH})`,
    },
    {
      name: 'docker compose (validation only, no engine)',
      found: 'missing' in compose ? undefined : `${compose.docker} (compose ${compose.version})`,
      required: false,
      without: `the docker-compose.yml tests are skipped: ${'missing' in compose ? compose.missing : ''}`,
    },
    {
      name: 'schemathesis (API fuzzer)',
      found: 'missing' in schemathesis ? undefined : `${schemathesis.st} (${schemathesis.version})`,
      required: false,
      without: `the OpenAPI fuzz test is skipped: ${'missing' in schemathesis ? schemathesis.missing : ''}`,
    },
  ];
}

/** The report `npm test` prints first. */
export function partsReport(parts: Part[]): string {
  const lines = parts.map((p) => (p.found ? `  found    ${p.name}: ${p.found}` : `  ${p.required ? 'MISSING' : 'missing'}  ${p.name}: ${p.without}`));
  return ['Real parts for the tests:', ...lines].join('\n');
}

/** Whether an optional part is here, and the reason to print when its tests are skipped. */
export function optionalPart(name: string): { here: boolean; skipReason: string } {
  const part = findParts().find((p) => p.name === name);
  return { here: Boolean(part?.found), skipReason: part?.without ?? `${name} is not known` };
}
