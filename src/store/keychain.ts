// The OS keychain backend (macOS Keychain, Windows Credential Manager, Linux Secret Service) through
// @napi-rs/keyring, a maintained N-API binding of the keyring-rs crate. Used only when the user picks
// it (--backend keychain, KEYLESS_BACKEND=keychain, or "backend": "keychain" in config.json).
// Each profile is one keychain entry (service "keyless", account "key:<profile>") holding the same
// JSON record the file backend encrypts; an index entry lists the profiles, since not every platform
// can enumerate entries. On Linux the Secret Service is required: keyring-rs would otherwise fall back
// to the kernel keyring, which forgets everything at reboot.
import { createHash } from 'node:crypto';
import { KeylessError, isKeylessError } from '../errors.js';
import type { Credentials } from '../sources/types.js';
import { VaultErrorCode } from './errors.js';
import { keyInfo, keyPayload, parseKeyPayload, parseSessionPayload, sessionPayload } from './records.js';
import type {
  KeyRecord,
  LongTermKey,
  PutRecordOptions,
  StoredKeyInfo,
  StoreProblem,
  VaultStore,
} from './types.js';

export const KEYCHAIN_SERVICE = 'keyless';
const INDEX_ACCOUNT = 'index';

/** The part of @napi-rs/keyring's Entry that keyless uses. */
interface KeyringEntry {
  getPassword(): string | null;
  setPassword(password: string): void;
  deletePassword(): boolean;
}
type EntryFactory = (service: string, account: string) => KeyringEntry;

export interface KeychainStoreOptions {
  service?: string;
  /** Linux store: "secret-service" (default, persistent) or "keyutils" (kernel keyring, until reboot) */
  linuxStore?: 'secret-service' | 'keyutils';
}

/** Loads the native binding; VAULT_KEYCHAIN_UNAVAILABLE when it is not installed for this platform. */
export async function openKeychainStore(options: KeychainStoreOptions = {}): Promise<KeychainStore> {
  let mod: { Entry: new (s: string, a: string, o?: object) => KeyringEntry };
  try {
    mod = (await import('@napi-rs/keyring')) as unknown as typeof mod;
  } catch (err) {
    throw unavailable(`the native keyring module could not be loaded: ${(err as Error).message}`, err);
  }
  const linux = { linux: { store: options.linuxStore ?? 'secret-service' } };
  const store = new KeychainStore((s, a) => new mod.Entry(s, a, linux), options.service ?? KEYCHAIN_SERVICE);
  await store.probe();
  return store;
}

export class KeychainStore implements VaultStore {
  readonly backend = 'keychain';
  readonly location: string;
  readonly #entry: EntryFactory;
  readonly #service: string;

  constructor(entry: EntryFactory, service: string) {
    this.#entry = entry;
    this.#service = service;
    this.location = `the OS keychain (service "${service}")`;
  }

  /** Touches the keychain once so an absent platform store fails early with a clear message. */
  async probe(): Promise<void> {
    this.#get(INDEX_ACCOUNT);
  }

  async getKey(profile: string): Promise<LongTermKey | undefined> {
    return (await this.getRecord(profile))?.key;
  }

  async putKey(profile: string, key: LongTermKey): Promise<void> {
    await this.putRecord({ profile, key, addedAt: new Date().toISOString() });
  }

  async getRecord(profile: string): Promise<KeyRecord | undefined> {
    const text = this.#get(`key:${profile}`);
    if (text === undefined) return undefined;
    const record = parseJson(text, parseKeyPayload);
    if (record === undefined || record.profile !== profile) throw damaged(profile);
    return record;
  }

  async putRecord(record: KeyRecord, options: PutRecordOptions = {}): Promise<void> {
    if (options.mode === 'create' && this.#get(`key:${record.profile}`) !== undefined) {
      throw new KeylessError(
        VaultErrorCode.PROFILE_EXISTS,
        `profile ${record.profile} is already in ${this.location}. Use --force to replace its key.`,
      );
    }
    this.#set(`key:${record.profile}`, JSON.stringify(keyPayload(record)));
    const profiles = this.#index();
    if (!profiles.includes(record.profile))
      this.#set(INDEX_ACCOUNT, JSON.stringify([...profiles, record.profile]));
  }

  async removeKey(profile: string): Promise<boolean> {
    const removed = this.#call(() => this.#entry(this.#service, `key:${profile}`).deletePassword());
    const profiles = this.#index();
    if (profiles.includes(profile))
      this.#set(INDEX_ACCOUNT, JSON.stringify(profiles.filter((p) => p !== profile)));
    return removed;
  }

  async listKeys(): Promise<StoredKeyInfo[]> {
    const { records, problems } = await this.listRecords();
    if (problems[0] !== undefined) throw new KeylessError(problems[0].code, problems[0].message);
    return records.map((r) => keyInfo(r, this.backend));
  }

  async listRecords(): Promise<{ records: KeyRecord[]; problems: StoreProblem[] }> {
    const records: KeyRecord[] = [];
    const problems: StoreProblem[] = [];
    for (const profile of this.#index()) {
      try {
        const r = await this.getRecord(profile);
        if (r !== undefined) records.push(r);
      } catch (err) {
        if (!isKeylessError(err) || err.code !== VaultErrorCode.ITEM_CORRUPT) throw err;
        problems.push({ code: err.code, message: err.message });
      }
    }
    records.sort((a, b) => a.profile.localeCompare(b.profile));
    return { records, problems };
  }

  async getSession(cacheKey: string): Promise<Credentials | undefined> {
    const text = this.#get(sessionAccount(cacheKey));
    return text === undefined ? undefined : parseJson(text, (raw) => parseSessionPayload(raw, cacheKey));
  }

  async putSession(cacheKey: string, credentials: Credentials): Promise<void> {
    this.#set(sessionAccount(cacheKey), JSON.stringify(sessionPayload(cacheKey, credentials)));
  }

  async removeSession(cacheKey: string): Promise<void> {
    this.#call(() => this.#entry(this.#service, sessionAccount(cacheKey)).deletePassword());
  }

  #index(): string[] {
    const text = this.#get(INDEX_ACCOUNT);
    const list = text === undefined ? [] : parseJson(text, (raw) => raw);
    return Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string') : [];
  }

  #get(account: string): string | undefined {
    return this.#call(() => this.#entry(this.#service, account).getPassword()) ?? undefined;
  }

  #set(account: string, value: string): void {
    this.#call(() => this.#entry(this.#service, account).setPassword(value));
  }

  #call<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw unavailable((err as Error).message, err);
    }
  }
}

/** Session cache keys may be long; the keychain account is a hash of it. */
function sessionAccount(cacheKey: string): string {
  return `session:${createHash('sha256').update(cacheKey).digest('hex').slice(0, 40)}`;
}

function parseJson<T>(text: string, parse: (raw: unknown) => T | undefined): T | undefined {
  try {
    return parse(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function damaged(profile: string): KeylessError {
  return new KeylessError(
    VaultErrorCode.ITEM_CORRUPT,
    `the keychain entry for profile ${profile} is not a keyless record (edited by another program?). ` +
      `Remove it with \`keyless remove ${profile} --backend keychain\` and add the profile again.`,
  );
}

export function unavailable(detail: string, cause?: unknown): KeylessError {
  const platform =
    process.platform === 'linux'
      ? 'On Linux this needs a running Secret Service (gnome-keyring or KeePassXC) on the D-Bus session bus. '
      : '';
  return new KeylessError(
    VaultErrorCode.KEYCHAIN_UNAVAILABLE,
    `the OS keychain is not available here (${detail}). ${platform}` +
      'Use the encrypted file backend instead: drop --backend keychain, or unset KEYLESS_BACKEND / "backend" in config.json.',
    { cause },
  );
}
