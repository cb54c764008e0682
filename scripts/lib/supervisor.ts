/**
 * Process supervision for the local stack: starts named children in their own process groups,
 * prefixes every output line with the child's name, reports children that die on their own,
 * and stops everything in reverse start order (SIGTERM, then SIGKILL after a grace period).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';

export interface ChildSpec {
  /** Short name used as the output prefix and in error messages. */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Drop the child's output once it has been asked to stop (for noisy shutdowns). */
  quietWhileStopping?: boolean;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SupervisedChild {
  readonly name: string;
  readonly pid: number;
  /** Settles when the process has exited. */
  readonly exited: Promise<ExitInfo>;
  /** Aborted when the process exits, for cancelling waits on it. */
  readonly exitSignal: AbortSignal;
  isRunning(): boolean;
}

export interface SupervisorOptions {
  /** Where prefixed output lines go. */
  write: (text: string) => void;
  /** How long a child may take to exit after SIGTERM before it gets SIGKILL. */
  graceMs: number;
  /** Colour the prefixes (for terminals). */
  color?: boolean;
  /** Render pino JSON log lines as short readable lines. */
  prettyJson?: boolean;
  /** Called once when a child exits without having been asked to stop. */
  onUnexpectedExit?: (child: SupervisedChild, info: ExitInfo) => void;
}

const COLORS = [36, 35, 33, 32, 34, 31];
const PINO_LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};
const PINO_HIDDEN_KEYS = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'name', 'v', 'err']);

/** Turns one pino JSON line into `LEVEL message {extra}`; leaves anything else untouched. */
export function formatLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof record !== 'object' || record === null) return line;
  const entry = record as Record<string, unknown>;
  if (typeof entry.level !== 'number' || typeof entry.msg !== 'string') return line;
  const level = PINO_LEVELS[entry.level] ?? String(entry.level);
  const extra = Object.fromEntries(Object.entries(entry).filter(([k]) => !PINO_HIDDEN_KEYS.has(k)));
  let text = `${level} ${entry.msg}`;
  if (Object.keys(extra).length > 0) text += ` ${JSON.stringify(extra)}`;
  const err = entry.err as { stack?: unknown } | undefined;
  if (err && typeof err.stack === 'string') text += `\n${err.stack}`;
  return text;
}

class Child implements SupervisedChild {
  readonly exited: Promise<ExitInfo>;
  readonly exitSignal: AbortSignal;
  stopping = false;
  private exitInfo: ExitInfo | undefined;

  constructor(
    readonly spec: ChildSpec,
    readonly process: ChildProcess & { pid: number },
  ) {
    const controller = new AbortController();
    this.exitSignal = controller.signal;
    this.exited = new Promise((resolve) => {
      process.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        controller.abort(new Error(`${spec.name} exited`));
        resolve(this.exitInfo);
      });
    });
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number {
    return this.process.pid;
  }

  isRunning(): boolean {
    return this.exitInfo === undefined;
  }

  /** Signals the child's whole process group (it was started detached, as a group leader). */
  signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // The group is gone already; signal the leader directly in case it is still reaped late.
      try {
        this.process.kill(signal);
      } catch {
        // Already exited.
      }
    }
  }
}

export function describeExit({ code, signal }: ExitInfo): string {
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}

export class Supervisor {
  private readonly children: Child[] = [];
  private readonly prefixWidth = 8;
  private shuttingDown = false;

  constructor(private readonly options: SupervisorOptions) {
    // Last resort when this process exits without a clean stop: leave no orphans behind.
    process.once('exit', () => {
      for (const child of this.children) if (child.isRunning()) child.signalGroup('SIGKILL');
    });
  }

  get started(): readonly SupervisedChild[] {
    return this.children;
  }

  private prefix(name: string, index: number): string {
    const label = name.padEnd(this.prefixWidth);
    if (!this.options.color) return `${label}| `;
    const color = COLORS[index % COLORS.length] ?? 36;
    return `\u001b[${color}m${label}|\u001b[0m `;
  }

  /** Starts a child in its own process group with piped, prefixed output. */
  start(spec: ChildSpec): SupervisedChild {
    if (this.shuttingDown) throw new Error(`not starting ${spec.name}: shutting down`);
    const proc = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (proc.pid === undefined) {
      // spawn reports the reason asynchronously through 'error'; surface it synchronously.
      proc.once('error', () => undefined);
      throw new Error(`could not start ${spec.name} (${spec.command} not found or not executable)`);
    }
    const child = new Child(spec, proc as ChildProcess & { pid: number });
    const prefix = this.prefix(spec.name, this.children.length);
    this.children.push(child);

    const forward = (stream: NodeJS.ReadableStream) => {
      const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });
      rl.on('line', (line) => {
        if (child.stopping && spec.quietWhileStopping) return;
        const text = this.options.prettyJson ? formatLogLine(line) : line;
        this.options.write(
          text
            .split('\n')
            .map((l) => `${prefix}${l}\n`)
            .join(''),
        );
      });
    };
    forward(proc.stdout);
    forward(proc.stderr);
    proc.once('error', (err) => {
      this.options.write(`${prefix}failed to start: ${err.message}\n`);
    });

    void child.exited.then((info) => {
      if (!child.stopping && !this.shuttingDown) this.options.onUnexpectedExit?.(child, info);
    });
    return child;
  }

  private async stopChild(child: Child): Promise<void> {
    child.stopping = true;
    if (!child.isRunning()) {
      child.signalGroup('SIGKILL');
      return;
    }
    child.signalGroup('SIGTERM');
    const timedOut = Symbol('timeout');
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      child.exited,
      new Promise<typeof timedOut>((resolve) => {
        timer = setTimeout(() => resolve(timedOut), this.options.graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (result === timedOut) {
      this.options.write(
        `${child.name} did not stop within ${this.options.graceMs} ms; sending SIGKILL\n`,
      );
      child.signalGroup('SIGKILL');
      await child.exited;
    } else {
      // Anything the child left behind in its group goes too.
      child.signalGroup('SIGKILL');
    }
  }

  /** Stops all children, last started first. Safe to call more than once. */
  async stopAll(): Promise<void> {
    this.shuttingDown = true;
    for (const child of [...this.children].reverse()) await this.stopChild(child);
  }

  /** Sends SIGKILL to every child group at once (second Ctrl-C). */
  killAll(): void {
    this.shuttingDown = true;
    for (const child of this.children) {
      child.stopping = true;
      child.signalGroup('SIGKILL');
    }
  }
}
