// ECR tokens cached per registry and credential identity (never the rotating access key id, which
// would miss on every new session) in one 0600 file under $KEYLESS_HOME/ecr, written atomically.
// A token is reused until half its validity has passed and is never handed out expired. A corrupt
// file is rebuilt (and logged). Nothing else ever holds a token.
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-file.js';
import { acquireLock } from '../util/file-lock.js';

export interface CachedToken {
  username: string;
  secret: string;
  /** epoch ms */
  expiresAt: number;
  requestedAt: number;
  /** the registry host and the credentials' identity (a profile, a role), for `keyless ecr cache list` */
  registry?: string;
  identity?: string;
}

interface CacheFile {
  version: 1;
  tokens: Record<string, CachedToken>;
}

export function cacheKey(parts: { kind: string; host: string; region: string; identity: string }): string {
  return createHash('sha256')
    .update(JSON.stringify([parts.kind, parts.host, parts.region, parts.identity]))
    .digest('hex');
}

/** Usable: not past half of its validity window, and at least 5 minutes from expiry. */
export function usable(t: CachedToken, now: number): boolean {
  const half = t.requestedAt + (t.expiresAt - t.requestedAt) / 2;
  return now < half && t.expiresAt - now > 5 * 60_000;
}

export async function readCache(path: string, log: (line: string) => void): Promise<CacheFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return { version: 1, tokens: {} };
  }
  try {
    const parsed = JSON.parse(text) as CacheFile;
    if (parsed.version !== 1 || typeof parsed.tokens !== 'object' || parsed.tokens === null)
      throw new Error('unknown shape');
    return parsed;
  } catch (err) {
    log(`token cache ${path} is corrupt (${(err as Error).message}); rebuilding it`);
    return { version: 1, tokens: {} };
  }
}

export async function writeCache(path: string, cache: CacheFile, now: number): Promise<void> {
  for (const [k, t] of Object.entries(cache.tokens)) if (t.expiresAt <= now) delete cache.tokens[k];
  await writeFileAtomic(path, JSON.stringify(cache));
}

/**
 * Adds one token under the cache lock: the file is read again under it, so concurrent helpers (docker
 * pulling several images at once) never drop each other's new entry.
 */
export async function storeToken(
  path: string,
  key: string,
  token: CachedToken,
  now: number,
  log: (line: string) => void,
): Promise<void> {
  const release = await acquireLock(`${path}.lock`, { timeoutMs: 5_000, staleMs: 30_000 });
  try {
    const cache = await readCache(path, log);
    cache.tokens[key] = token;
    await writeCache(path, cache, now);
  } finally {
    await release();
  }
}

/** Forgets every cached token; returns how many there were. */
export async function clearCache(path: string, log: (line: string) => void): Promise<number> {
  const release = await acquireLock(`${path}.lock`, { timeoutMs: 5_000, staleMs: 30_000 });
  try {
    const n = Object.keys((await readCache(path, log)).tokens).length;
    await rm(path, { force: true });
    return n;
  } finally {
    await release();
  }
}
