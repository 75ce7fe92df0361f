// A cross-process lock: an exclusive lock file holding the owner's pid. A lock whose owner is dead
// (or older than staleMs) is taken over, so a killed writer never blocks the store forever.
import { open, readFile, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KeylessError, CommonErrorCode } from '../errors.js';
import { ensurePrivateDir } from './atomic-file.js';

export interface LockOptions {
  /** how long to wait for the lock (default 10 s) */
  timeoutMs?: number;
  /** a lock older than this is taken over even if its pid looks alive (default 60 s) */
  staleMs?: number;
}

export type Release = () => Promise<void>;

export async function acquireLock(lockPath: string, options: LockOptions = {}): Promise<Release> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const staleMs = options.staleMs ?? 60_000;
  await ensurePrivateDir(dirname(lockPath));
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx', 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await rm(lockPath, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await isStale(lockPath, staleMs)) {
      await rm(lockPath, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      throw new KeylessError(
        CommonErrorCode.LOCK_TIMEOUT,
        `another keyless process holds the lock ${lockPath} (waited ${Math.round(timeoutMs / 1000)} s). ` +
          'Wait for it to finish; if no keyless process runs, remove that file.',
      );
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
}

export async function withLock<T>(lockPath: string, fn: () => Promise<T>, options?: LockOptions): Promise<T> {
  const release = await acquireLock(lockPath, options);
  try {
    return await fn();
  } finally {
    await release();
  }
}

async function isStale(lockPath: string, staleMs: number): Promise<boolean> {
  try {
    const [text, st] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
    const pid = Number.parseInt(text.trim(), 10);
    if (Number.isInteger(pid) && pid > 0 && !isAlive(pid)) return true;
    // An empty file is a writer killed between create and write: stale once it is a little old.
    if (!Number.isInteger(pid) && Date.now() - st.mtimeMs > 1000) return true;
    return Date.now() - st.mtimeMs > staleMs;
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
