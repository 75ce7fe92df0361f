// The default backend: one encrypted file per item under $KEYLESS_HOME/vault (long-term keys) and
// $KEYLESS_HOME/sessions (cached STS sessions). Files are 0600 in 0700 folders, replaced atomically,
// and every write holds $KEYLESS_HOME/locks/vault.lock so two processes never interleave.
// File names are HMACs under a key derived from the passphrase: no profile name appears on disk.
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { KeylessError, isKeylessError } from '../errors.js';
import type { Credentials } from '../sources/types.js';
import { ensurePrivateDir, writeFileAtomic } from '../util/atomic-file.js';
import { withLock } from '../util/file-lock.js';
import { systemClock, type Clock } from '../util/clock.js';
import { DEFAULT_SCRYPT, itemFileName, randomSalt } from './crypto.js';
import { corrupt, decodeEnvelope, type EnvelopeHeader, type ItemKind } from './envelope.js';
import { VaultErrorCode } from './errors.js';
import { openItem, sealItem, vaultKey, vaultKeyForHeader, type VaultKey } from './item.js';
import { keyInfo, keyPayload, parseKeyPayload, parseSessionPayload, sessionPayload } from './records.js';
import type {
  KeyRecord,
  LongTermKey,
  PutRecordOptions,
  StoredKeyInfo,
  StoreProblem,
  VaultStore,
} from './types.js';

/** Asks for the passphrase; `creating` is true when the vault has no item yet (confirm it). */
export type PassphraseProvider = (context: { vaultDir: string; creating: boolean }) => Promise<string>;

export interface FileStoreOptions {
  vaultDir: string;
  sessionsDir: string;
  lockFile: string;
  passphrase: PassphraseProvider;
  /** how long a writer waits for another (default 30 s) */
  lockTimeoutMs?: number;
  /** for session expiry (default the system clock) */
  clock?: Clock;
}

const ITEM_NAME = /^[0-9a-f]{40}$/;
const ITEM_ERRORS = new Set<string>([
  VaultErrorCode.ITEM_CORRUPT,
  VaultErrorCode.ITEM_TRUNCATED,
  VaultErrorCode.ITEM_UNSUPPORTED,
]);

export class FileStore implements VaultStore {
  readonly backend = 'file';
  readonly location: string;
  readonly #o: FileStoreOptions;
  #passphrase: Promise<string> | undefined;
  /** the vault key last resolved, for when the only item left is damaged */
  #known: VaultKey | undefined;

  constructor(options: FileStoreOptions) {
    this.#o = options;
    this.location = options.vaultDir;
  }

  async getKey(profile: string): Promise<LongTermKey | undefined> {
    return (await this.getRecord(profile))?.key;
  }

  async putKey(profile: string, key: LongTermKey): Promise<void> {
    await this.putRecord({ profile, key, addedAt: new Date().toISOString() });
  }

  async getRecord(profile: string): Promise<KeyRecord | undefined> {
    const key = await this.#referenceKey();
    if (key === undefined) return undefined;
    const path = join(this.#o.vaultDir, itemFileName(key.master, 'key', profile));
    const bytes = await this.#readItem(path);
    if (bytes === undefined) return undefined;
    const record = await this.#openKey(bytes, path);
    if (record.profile !== profile) throw corrupt(path, 'it holds another profile (was it renamed?)');
    return record;
  }

  async putRecord(record: KeyRecord, options: PutRecordOptions = {}): Promise<void> {
    await this.#write(this.#o.vaultDir, 'key', record.profile, keyPayload(record), options.mode === 'create');
  }

  async removeKey(profile: string): Promise<boolean> {
    return this.#locked(async () => {
      const key = await this.#referenceKey();
      if (key === undefined) return false;
      const path = join(this.#o.vaultDir, itemFileName(key.master, 'key', profile));
      if ((await this.#readItem(path)) === undefined) return false;
      await rm(path);
      return true;
    });
  }

  async listKeys(): Promise<StoredKeyInfo[]> {
    const { records, problems } = await this.listRecords();
    const first = problems[0];
    if (first !== undefined) throw new KeylessError(first.code, first.message);
    return records.map((r) => keyInfo(r, this.backend));
  }

  async listRecords(): Promise<{ records: KeyRecord[]; problems: StoreProblem[] }> {
    const records: KeyRecord[] = [];
    const problems: StoreProblem[] = [];
    if ((await this.#referenceKey()) === undefined) return { records, problems };
    for (const name of await this.#itemNames(this.#o.vaultDir)) {
      const path = join(this.#o.vaultDir, name);
      try {
        const bytes = await this.#readItem(path);
        if (bytes !== undefined) records.push(await this.#openKey(bytes, path));
      } catch (err) {
        if (!isKeylessError(err) || err.code === VaultErrorCode.UNREADABLE) throw err;
        problems.push({ code: err.code, message: err.message });
      }
    }
    records.sort((a, b) => a.profile.localeCompare(b.profile));
    return { records, problems };
  }

  /** A damaged session item is only a cache miss: sessions can always be minted again. */
  async getSession(cacheKey: string): Promise<Credentials | undefined> {
    const key = await this.#referenceKey();
    if (key === undefined) return undefined;
    const path = join(this.#o.sessionsDir, itemFileName(key.master, 'session', cacheKey));
    const bytes = await this.#readItem(path);
    if (bytes === undefined) return undefined;
    try {
      const opened = await openItem(await this.#pass(false), bytes, path, this.#o.vaultDir);
      return opened.kind === 'session' ? parseSessionPayload(opened.payload, cacheKey) : undefined;
    } catch (err) {
      if (isKeylessError(err) && ITEM_ERRORS.has(err.code)) return undefined;
      throw err;
    }
  }

  /** Also drops expired and damaged session items, so the cache does not grow without end. */
  async putSession(cacheKey: string, credentials: Credentials): Promise<void> {
    await this.#write(this.#o.sessionsDir, 'session', cacheKey, sessionPayload(cacheKey, credentials), false);
    await this.#locked(() => this.#purgeSessions());
  }

  async removeSession(cacheKey: string): Promise<void> {
    await this.#locked(async () => {
      const key = await this.#referenceKey();
      if (key === undefined) return;
      await rm(join(this.#o.sessionsDir, itemFileName(key.master, 'session', cacheKey)), { force: true });
    });
  }

  async #write(dir: string, kind: ItemKind, name: string, payload: unknown, create: boolean): Promise<void> {
    // Derive outside the lock (scrypt takes a while); inside, look again: another process may have
    // created the vault meanwhile, and the new item must open with the same passphrase as the others.
    await this.#referenceKey();
    await this.#locked(async () => {
      await this.#removeTempFiles(dir);
      const key =
        (await this.#referenceKey()) ??
        (await vaultKey(await this.#pass(true), randomSalt(), DEFAULT_SCRYPT));
      this.#known = key;
      const path = join(dir, itemFileName(key.master, kind, name));
      if (create && (await this.#readItem(path)) !== undefined) {
        throw new KeylessError(
          VaultErrorCode.PROFILE_EXISTS,
          `profile ${name} is already in the vault. Use --force to replace its key, or \`keyless rotate ${name}\` to rotate it.`,
          { details: { profile: name } },
        );
      }
      try {
        await ensurePrivateDir(dir);
        await writeFileAtomic(path, sealItem(key, kind, payload));
      } catch (err) {
        throw unreadable(dir, err);
      }
    });
  }

  async #purgeSessions(): Promise<void> {
    const now = (this.#o.clock ?? systemClock).now();
    const pass = await this.#pass(false);
    for (const name of await this.#itemNames(this.#o.sessionsDir)) {
      const path = join(this.#o.sessionsDir, name);
      const bytes = await this.#readItem(path);
      if (bytes === undefined) continue;
      let stale: boolean;
      try {
        const opened = await openItem(pass, bytes, path, this.#o.vaultDir);
        const expiration = (opened.payload as { expiration?: unknown } | null)?.expiration;
        stale = typeof expiration === 'string' && Date.parse(expiration) <= now;
      } catch (err) {
        // an item under another passphrase is left alone; a damaged one is only a lost cache entry
        stale = isKeylessError(err) && ITEM_ERRORS.has(err.code);
      }
      if (stale) await rm(path, { force: true });
    }
  }

  async #openKey(bytes: Buffer, path: string): Promise<KeyRecord> {
    const opened = await openItem(await this.#pass(false), bytes, path, this.#o.vaultDir);
    const record = opened.kind === 'key' ? parseKeyPayload(opened.payload) : undefined;
    if (record === undefined) throw corrupt(path, 'its content is not a key record');
    return record;
  }

  /**
   * The vault key of the first readable item (vault, then sessions), checked against the passphrase:
   * VAULT_BAD_PASSPHRASE when it does not match. undefined when the vault has no item yet.
   */
  async #referenceKey(): Promise<VaultKey | undefined> {
    for (const dir of [this.#o.vaultDir, this.#o.sessionsDir]) {
      for (const name of await this.#itemNames(dir)) {
        const path = join(dir, name);
        const bytes = await this.#readItem(path);
        if (bytes === undefined) continue;
        let header: EnvelopeHeader;
        try {
          header = decodeEnvelope(bytes, path).header;
        } catch {
          continue;
        }
        this.#known = await vaultKeyForHeader(await this.#pass(false), header, path, this.#o.vaultDir);
        return this.#known;
      }
    }
    return this.#known;
  }

  #pass(creating: boolean): Promise<string> {
    this.#passphrase ??= this.#o.passphrase({ vaultDir: this.#o.vaultDir, creating });
    return this.#passphrase;
  }

  async #itemNames(dir: string): Promise<string[]> {
    try {
      return (await readdir(dir)).filter((n) => ITEM_NAME.test(n)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw unreadable(dir, err);
    }
  }

  async #readItem(path: string): Promise<Buffer | undefined> {
    try {
      return await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw unreadable(path, err);
    }
  }

  /** Temp files of writers killed mid-write; under the lock no live writer owns one. */
  async #removeTempFiles(dir: string): Promise<void> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const n of names) {
      if (n.startsWith('.') && n.endsWith('.tmp')) await rm(join(dir, n), { force: true });
    }
  }

  #locked<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(this.#o.lockFile, fn, { timeoutMs: this.#o.lockTimeoutMs ?? 30_000 });
  }
}

function unreadable(path: string, cause: unknown): KeylessError {
  if (isKeylessError(cause)) return cause;
  const code = (cause as NodeJS.ErrnoException).code ?? 'error';
  return new KeylessError(
    VaultErrorCode.UNREADABLE,
    `cannot use the vault at ${path} (${code}). It must be a folder (files in it) owned by you with mode 0700 ` +
      `(files 0600): check with \`ls -ld ${path}\` and fix the owner or mode (chmod 700); nothing was changed.`,
    { cause, details: { path, errno: code } },
  );
}
