/**
 * A child process of a bench (the dev server, aimsflow, the bare worker), its output written
 * straight to a log file (so the bench's own event loop never handles it), with a signal that
 * fires when it exits and a stop that asks politely (SIGTERM to its process group) before it
 * insists. Every process group still running is killed when the bench exits, however it exits.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => process.exit(130));
}

export interface Spawned {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Aborted when the process exits. */
  readonly exitSignal: AbortSignal;
  /** Its last lines of output. */
  recent(lines?: number): string[];
  /** Adds its last lines of output to an error's message. */
  explain(err: unknown): Error;
  /** SIGTERM to its process group, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where its standard output and error go (appended). */
  logFile: string;
}

/** Starts `command` in a process group of its own, its output appended to `logFile`. */
export function spawnLogged(name: string, command: string, args: readonly string[], options: SpawnOptions): Spawned {
  const fd = openSync(options.logFile, 'a');
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name} did not start (${command})`);
  liveGroups.add(pid);
  const controller = new AbortController();
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      liveGroups.delete(pid);
      controller.abort(new Error(`${name} exited (${signal ?? `code ${code}`})`));
      resolve();
    });
  });
  child.on('error', () => undefined);
  const running = () => child.exitCode === null && child.signalCode === null;
  const recent = (lines = 40) => {
    try {
      return readFileSync(options.logFile, 'utf8').split('\n').filter(Boolean).slice(-lines);
    } catch {
      return [];
    }
  };
  return {
    name,
    pid,
    logFile: options.logFile,
    exitSignal: controller.signal,
    recent,
    explain(err) {
      const error = err instanceof Error ? err : new Error(String(err));
      const lines = recent();
      error.message += lines.length ? `\nlast output of ${name} (${options.logFile}):\n${lines.join('\n')}` : `\n${name} wrote nothing to ${options.logFile}`;
      return error;
    },
    async stop(graceMs = 15_000) {
      if (!running()) return;
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
