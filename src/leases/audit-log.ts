// Audit log: JSON lines under $KEYLESS_HOME (time, client, source address, container, role, outcome).
// Never a secret: clients appear by a short hash of their id, credentials by a redacted key id.
//
// Bounded whatever the request rate: entries are folded in memory per interval (the same client, role
// and outcome from the same address become one line with a `count`), written once per interval in one
// append, and the file is rotated by size (audit.log → audit.log.1 … .N). The file is opened without
// following symlinks and must be a regular file.
import { constants } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ensurePrivateDir } from '../util/atomic-file.js';

export interface AuditEntry {
  client?: string | undefined;
  source: string;
  container?: string | undefined;
  role?: string | undefined;
  endpoint: 'ecs' | 'imds';
  outcome: string;
  key?: string | undefined;
}

/** One line of the audit log as written (a folded entry: `count` requests from `time` to `until`). */
export type AuditRecord = Partial<AuditEntry> & {
  time: string;
  outcome: string;
  count?: number;
  until?: string;
};

export type AuditLog = ((entry: AuditEntry) => void) & {
  /** writes what is pending (on shutdown, in tests) */
  flush?: () => Promise<void>;
};

export interface AuditLogOptions {
  /** fold and write every this many ms (default 1000) */
  intervalMs?: number;
  /** rotate when the file would pass this size (default 10 MiB) */
  maxBytes?: number;
  /** rotated files kept (default 3: audit.log.1 … .3) */
  keep?: number;
  /** distinct lines held per interval before the rest are only counted (default 10,000) */
  maxDistinct?: number;
  /**
   * Also hands each folded batch to this function as it is written (live status; at most once per
   * interval, never per request).
   */
  onBatch?: (records: AuditRecord[]) => void;
}

export const AUDIT_DEFAULTS = { intervalMs: 1_000, maxBytes: 10 * 1024 * 1024, keep: 3, maxDistinct: 10_000 };

interface Folded {
  first: number;
  last: number;
  count: number;
  entry: AuditEntry;
}

export function fileAuditLog(path: string, options: AuditLogOptions = {}): AuditLog {
  const o = { ...AUDIT_DEFAULTS, ...options };
  let pending = new Map<string, Folded>();
  let overflow = 0;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let size: number | undefined;
  let warned = false;

  const rotate = async (): Promise<void> => {
    await rm(`${path}.${o.keep}`, { force: true });
    for (let i = o.keep - 1; i >= 1; i--)
      await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => undefined);
    await rename(path, `${path}.1`).catch(() => undefined);
    size = 0;
  };

  const write = async (text: string): Promise<void> => {
    await ensurePrivateDir(dirname(path));
    if (size === undefined)
      size = await stat(path).then(
        (s) => s.size,
        () => 0,
      );
    const bytes = Buffer.byteLength(text);
    if (size > 0 && size + bytes > o.maxBytes) await rotate();
    const fh = await open(
      path,
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
      0o600,
    );
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new Error(`${path} is not a regular file`);
      await fh.write(text);
      size += bytes;
    } finally {
      await fh.close();
    }
  };

  const flush = async (): Promise<void> => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (pending.size === 0 && overflow === 0) return writing;
    const batch = pending;
    const dropped = overflow;
    pending = new Map();
    overflow = 0;
    const records: AuditRecord[] = [];
    for (const f of batch.values())
      records.push({
        time: new Date(f.first).toISOString(),
        ...f.entry,
        ...(f.count > 1 ? { count: f.count, until: new Date(f.last).toISOString() } : {}),
      });
    if (dropped > 0)
      records.push({ time: new Date().toISOString(), outcome: 'not-itemised', count: dropped });
    // (undefined fields vanish in JSON)
    let text = '';
    for (const r of records) text += `${JSON.stringify(r)}\n`;
    try {
      o.onBatch?.(records);
    } catch {
      // a broken observer must not lose the log
    }
    // one write at a time; a slow disk makes batches larger, not more numerous
    writing = writing.then(() =>
      write(text).catch((err: Error) => {
        if (!warned) process.stderr.write(`keyless: cannot write the audit log ${path}: ${err.message}\n`);
        warned = true;
      }),
    );
    return writing;
  };

  const log: AuditLog = (entry) => {
    const now = Date.now();
    const k = `${entry.outcome}|${entry.endpoint}|${entry.source}|${entry.client ?? ''}|${entry.role ?? ''}|${entry.key ?? ''}|${entry.container ?? ''}`;
    const f = pending.get(k);
    if (f) {
      f.count++;
      f.last = now;
    } else if (pending.size < o.maxDistinct) pending.set(k, { first: now, last: now, count: 1, entry });
    else overflow++;
    timer ??= setTimeout(() => void flush(), o.intervalMs);
  };
  log.flush = flush;
  return log;
}
