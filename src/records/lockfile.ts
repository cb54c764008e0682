/**
 * An exclusive lock on an embedded database directory: PGlite serves exactly one process,
 * and two processes writing the same directory would corrupt it. The lock file holds the
 * owner's pid; a lock left by a process that no longer runs is taken over.
 */
import { open, readFile, unlink } from 'node:fs/promises';

export class DirectoryLockedError extends Error {
  constructor(
    readonly path: string,
    readonly pid: number,
  ) {
    super(
      `${path} is held by process ${pid}${pid === process.pid ? ' (this process)' : ''}: ` +
        'the embedded records database serves one process at a time; set DATABASE_URL to share records between processes',
    );
    this.name = 'DirectoryLockedError';
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock at `path`; resolves to its release function. */
export async function acquireLock(path: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await unlink(path).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number.parseInt((await readFile(path, 'utf8').catch(() => '')).trim(), 10);
    if (Number.isInteger(owner) && owner > 0 && isRunning(owner)) throw new DirectoryLockedError(path, owner);
    // Left behind by a process that has ended (or half-written by one that died while taking it).
    await unlink(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
  throw new Error(`could not take the lock ${path}`);
}
