/**
 * A throwaway PostgreSQL cluster from the server binaries (`apt-get install postgresql`, or see
 * findPostgresBinDir), in a temporary directory on a free 127.0.0.1 port. PostgreSQL refuses to run as
 * root, so as root the server tools run as the `postgres` system user. The cluster can be
 * stopped and started again on the same port (a records-database outage).
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './wait.js';
import { findOnPath } from '../temporal-cli.js';

const run = promisify(execFile);

/**
 * The PostgreSQL server bin directory: `POSTGRES_BIN`, else the newest Debian/Ubuntu one
 * (/usr/lib/postgresql/<version>/bin), else the directory of `initdb` on PATH (Homebrew, Fedora).
 */
export function findPostgresBinDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const hasTools = (bin: string) => existsSync(path.join(bin, 'initdb')) && existsSync(path.join(bin, 'pg_ctl'));
  if (env.POSTGRES_BIN) return hasTools(env.POSTGRES_BIN) ? env.POSTGRES_BIN : undefined;
  const initdb = findOnPath('initdb', env);
  const onPath = initdb && hasTools(path.dirname(initdb)) ? path.dirname(initdb) : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return onPath;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = path.join(root, v, 'bin');
    if (hasTools(bin)) return bin;
  }
  return onPath;
}

export interface PostgresCluster {
  port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  adminUrl: string;
  /** Stops the server at once (as a crash would), keeping its data. */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
}

export async function startPostgresCluster(options: { bin?: string; log?: string } = {}): Promise<PostgresCluster> {
  const bin = options.bin ?? findPostgresBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found (apt-get install postgresql)');
  const isRoot = process.getuid?.() === 0;
  const asOwner = (file: string, args: string[]) =>
    isRoot ? run('runuser', ['-u', 'postgres', '--', file, ...args], { timeout: 120_000 }) : run(file, args, { timeout: 120_000 });

  const dir = await mkdtemp(path.join(os.tmpdir(), 'aimsflow-pg-'));
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    await chown(dir, uid, gid);
  }
  await chmod(dir, 0o700);
  const data = path.join(dir, 'data');
  const pgCtl = path.join(bin, 'pg_ctl');
  await asOwner(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);

  let port = 0;
  const startOn = (p: number) =>
    asOwner(pgCtl, [
      '-D',
      data,
      '-l',
      options.log ?? path.join(dir, 'server.log'),
      '-o',
      `-p ${p} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`,
      '-w',
      '-t',
      '60',
      'start',
    ]);
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await startOn(port);
      break;
    } catch (err) {
      if (attempt === 2) {
        await rm(dir, { recursive: true, force: true });
        throw new Error(`PostgreSQL test cluster did not start: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  const stopArgs = ['-D', data, '-m', 'immediate', '-w', 'stop'];
  // A run that dies must not leave a server behind.
  const onExit = () => {
    try {
      if (isRoot) execFileSync('runuser', ['-u', 'postgres', '--', pgCtl, ...stopArgs], { stdio: 'ignore', timeout: 30_000 });
      else execFileSync(pgCtl, stopArgs, { stdio: 'ignore', timeout: 30_000 });
    } catch {
      // already stopped
    }
  };
  process.once('exit', onExit);
  let destroyed = false;
  return {
    port,
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    kill: async () => {
      await asOwner(pgCtl, stopArgs).catch(() => undefined);
    },
    start: async () => {
      await startOn(port);
    },
    destroy: async () => {
      if (destroyed) return;
      destroyed = true;
      process.removeListener('exit', onExit);
      await asOwner(pgCtl, stopArgs).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
