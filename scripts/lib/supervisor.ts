/**
 * Process supervision for the local stack: starts named children in their own process groups,
 * prefixes every output line with the child's name, restarts a child that dies on its own
 * after a growing delay, gives up when one keeps crashing, and stops everything in reverse
 * start order (SIGTERM, then SIGKILL after a grace period).
 *
 * The restart rule (see `RestartPolicy`): the first restart of a child waits `initialDelayMs`,
 * each further one twice as long up to `maxDelayMs`; a child that stayed up `resetAfterMs`
 * before crashing starts again from `initialDelayMs`. When one child crashes `maxCrashes`
 * times within `windowMs`, the supervisor restarts it no more and reports that it gave up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';

export interface ChildSpec {
  /** Short name used as the output prefix and in messages. */
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

/** One supervised part; it keeps its name across restarts, its pid is the current process's. */
export interface SupervisedChild {
  readonly name: string;
  /** pid of the current process (the group leader). */
  readonly pid: number;
  /** How many times it was restarted after a crash. */
  readonly restarts: number;
  isRunning(): boolean;
}

export interface RestartPolicy {
  /** Delay before the first restart after a crash. */
  initialDelayMs: number;
  /** The delay doubles with each crash up to this. */
  maxDelayMs: number;
  /** A child that was up at least this long before crashing restarts after `initialDelayMs` again. */
  resetAfterMs: number;
  /** This many crashes of one child within `windowMs` and it is not restarted again. */
  maxCrashes: number;
  windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  resetAfterMs: 60_000,
  maxCrashes: 5,
  windowMs: 5 * 60_000,
};

export type RestartDecision =
  | { restart: true; delayMs: number; crashesInWindow: number }
  | { restart: false; crashesInWindow: number };

/** The crash record of one child and what the policy makes of its next crash (pure; clock injected). */
export class CrashHistory {
  private readonly crashTimes: number[] = [];
  private streak = 0;

  constructor(private readonly policy: RestartPolicy) {}

  /** Records a crash at `now` of a process that had been up `upMs`. */
  crashed(now: number, upMs: number): RestartDecision {
    const { initialDelayMs, maxDelayMs, resetAfterMs, maxCrashes, windowMs } = this.policy;
    this.crashTimes.push(now);
    while (this.crashTimes.length > 0 && this.crashTimes[0]! <= now - windowMs) this.crashTimes.shift();
    const crashesInWindow = this.crashTimes.length;
    if (crashesInWindow >= maxCrashes) return { restart: false, crashesInWindow };
    if (upMs >= resetAfterMs) this.streak = 0;
    const delayMs = Math.min(maxDelayMs, initialDelayMs * 2 ** this.streak);
    this.streak += 1;
    return { restart: true, delayMs, crashesInWindow };
  }
}

/** What happened to a child that was not asked to stop. */
export type SupervisorEvent =
  | { kind: 'crashed'; child: SupervisedChild; exit: string; delayMs: number; crashesInWindow: number }
  | { kind: 'restarted'; child: SupervisedChild }
  | { kind: 'gave-up'; child: SupervisedChild; exit: string; crashesInWindow: number };

export interface SupervisorOptions {
  /** Where prefixed output lines go. */
  write: (text: string) => void;
  /** How long a child may take to exit after SIGTERM before it gets SIGKILL. */
  graceMs: number;
  /** Colour the prefixes (for terminals). */
  color?: boolean;
  /** Render pino JSON log lines as short readable lines. */
  prettyJson?: boolean;
  /** When and how often crashed children restart; DEFAULT_RESTART_POLICY when not given. */
  restart?: RestartPolicy;
  /** Told of every crash, restart and give-up. After `gave-up` the child stays down. */
  onEvent?: (event: SupervisorEvent) => void;
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

/** One process of a child: a spawn, its exit and its output. */
class Run {
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;

  constructor(
    readonly process: ChildProcess & { pid: number },
    readonly startedAt: number,
  ) {
    this.exited = new Promise((resolve) => {
      process.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  get pid(): number {
    return this.process.pid;
  }

  /** Signals the run's whole process group (it was started detached, as a group leader). */
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

class Child implements SupervisedChild {
  stopping = false;
  restarts = 0;
  restartTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly spec: ChildSpec,
    readonly prefix: string,
    readonly history: CrashHistory,
    public run: Run,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get pid(): number {
    return this.run.pid;
  }

  isRunning(): boolean {
    return this.run.exitInfo === undefined;
  }
}

export function describeExit({ code, signal }: ExitInfo): string {
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}

export class Supervisor {
  private readonly children: Child[] = [];
  private readonly prefixWidth = 8;
  private readonly now = Date.now;
  private shuttingDown = false;

  constructor(private readonly options: SupervisorOptions) {
    // Last resort when this process exits without a clean stop: leave no orphans behind.
    process.once('exit', () => {
      for (const child of this.children) {
        clearTimeout(child.restartTimer);
        if (child.isRunning()) child.run.signalGroup('SIGKILL');
      }
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

  /**
   * Starts a child in its own process group with piped, prefixed output; from then on it is
   * restarted whenever it dies without having been asked to stop. Throws when the command
   * cannot be started at all.
   */
  start(spec: ChildSpec): SupervisedChild {
    if (this.shuttingDown) throw new Error(`not starting ${spec.name}: shutting down`);
    const prefix = this.prefix(spec.name, this.children.length);
    const history = new CrashHistory(this.options.restart ?? DEFAULT_RESTART_POLICY);
    const ref: { child?: Child } = {};
    const run = this.spawnRun(spec, prefix, () => ref.child?.stopping === true);
    const child = new Child(spec, prefix, history, run);
    ref.child = child;
    this.children.push(child);
    this.watch(child);
    return child;
  }

  private spawnRun(spec: ChildSpec, prefix: string, stopping: () => boolean): Run {
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
    const run = new Run(proc as ChildProcess & { pid: number }, this.now());
    const forward = (stream: NodeJS.ReadableStream) => {
      const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });
      rl.on('line', (line) => {
        if (spec.quietWhileStopping && stopping()) return;
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
    return run;
  }

  /** Restarts the child's current run when it dies on its own. */
  private watch(child: Child): void {
    const run = child.run;
    void run.exited.then((info) => {
      if (child.stopping || this.shuttingDown) return;
      // Whatever the crashed process left in its group (it may hold the ports) goes too.
      run.signalGroup('SIGKILL');
      this.crashed(child, describeExit(info), this.now() - run.startedAt);
    });
  }

  private crashed(child: Child, exit: string, upMs: number): void {
    const decision = child.history.crashed(this.now(), upMs);
    if (!decision.restart) {
      this.options.onEvent?.({ kind: 'gave-up', child, exit, crashesInWindow: decision.crashesInWindow });
      return;
    }
    this.options.onEvent?.({ kind: 'crashed', child, exit, delayMs: decision.delayMs, crashesInWindow: decision.crashesInWindow });
    child.restartTimer = setTimeout(() => {
      child.restartTimer = undefined;
      if (child.stopping || this.shuttingDown) return;
      const startedAt = this.now();
      try {
        child.run = this.spawnRun(child.spec, child.prefix, () => child.stopping);
      } catch (err) {
        this.crashed(child, err instanceof Error ? err.message : String(err), this.now() - startedAt);
        return;
      }
      child.restarts += 1;
      this.watch(child);
      this.options.onEvent?.({ kind: 'restarted', child });
    }, decision.delayMs);
  }

  private async stopChild(child: Child): Promise<void> {
    child.stopping = true;
    clearTimeout(child.restartTimer);
    const run = child.run;
    if (!child.isRunning()) {
      run.signalGroup('SIGKILL');
      return;
    }
    run.signalGroup('SIGTERM');
    const timedOut = Symbol('timeout');
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      run.exited,
      new Promise<typeof timedOut>((resolve) => {
        timer = setTimeout(() => resolve(timedOut), this.options.graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (result === timedOut) {
      this.options.write(
        `${child.name} did not stop within ${this.options.graceMs} ms; sending SIGKILL\n`,
      );
      run.signalGroup('SIGKILL');
      await run.exited;
    } else {
      // Anything the child left behind in its group goes too.
      run.signalGroup('SIGKILL');
    }
  }

  /** Stops all children, last started first; none is restarted from now on. Safe to call more than once. */
  async stopAll(): Promise<void> {
    this.shuttingDown = true;
    for (const child of this.children) clearTimeout(child.restartTimer);
    for (const child of [...this.children].reverse()) await this.stopChild(child);
  }

  /** Sends SIGKILL to every child group at once (second Ctrl-C). */
  killAll(): void {
    this.shuttingDown = true;
    for (const child of this.children) {
      child.stopping = true;
      clearTimeout(child.restartTimer);
      child.run.signalGroup('SIGKILL');
    }
  }
}
