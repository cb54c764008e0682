/**
 * Waiting for things to come up, each with a deadline: a TCP port, an HTTP URL, an arbitrary
 * async check. Also free-port helpers for running the stack beside other things.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export class WaitTimeoutError extends Error {
  constructor(what: string, timeoutMs: number, lastError?: string) {
    super(
      `timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}` +
        (lastError ? ` (last error: ${lastError})` : ''),
    );
    this.name = 'WaitTimeoutError';
  }
}

export interface WaitOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** Pause between attempts. */
  intervalMs?: number;
  /** Stops waiting early (e.g. the process that should answer has died). */
  signal?: AbortSignal;
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}

/**
 * Calls `check` until it returns a value other than undefined, throws WaitTimeoutError at the
 * deadline. Errors thrown by `check` count as "not yet" and are reported with the timeout.
 */
export async function waitFor<T>(
  what: string,
  check: (attemptSignal: AbortSignal) => Promise<T | undefined>,
  { timeoutMs, intervalMs = 200, signal }: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: string | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new WaitTimeoutError(what, timeoutMs, lastError);
    const attempt = AbortSignal.timeout(Math.min(remaining, 5_000));
    const attemptSignal = signal ? AbortSignal.any([attempt, signal]) : attempt;
    try {
      const result = await check(attemptSignal);
      if (result !== undefined) return result;
      lastError = undefined;
    } catch (err) {
      signal?.throwIfAborted();
      lastError = describe(err);
    }
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())), undefined, {
      signal,
    }).catch(() => undefined);
  }
}

/** Resolves once a TCP connection to host:port succeeds within `timeoutMs`. */
export function canConnect(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function waitForPort(host: string, port: number, options: WaitOptions): Promise<true> {
  return waitFor(
    `${host}:${port} to accept connections`,
    async () => ((await canConnect(host, port)) ? true : undefined),
    options,
  );
}

/** Waits until GET `url` answers with `expectStatus` (default: any 2xx). Returns the status. */
export function waitForHttp(
  url: string,
  options: WaitOptions & { expectStatus?: number },
): Promise<number> {
  return waitFor(
    `${url} to answer`,
    async (attemptSignal) => {
      const res = await fetch(url, { signal: attemptSignal, redirect: 'manual' });
      await res.body?.cancel();
      const ok = options.expectStatus ? res.status === options.expectStatus : res.ok;
      if (!ok) throw new Error(`HTTP ${res.status}`);
      return res.status;
    },
    options,
  );
}

/** True when nothing listens on host:port and we could bind it ourselves. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/** A TCP port the OS reports as free right now. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host }, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not determine a free port'));
      });
    });
  });
}

/** `count` distinct free ports. */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort(host));
  return [...ports];
}
