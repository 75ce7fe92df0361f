// The secret store's surface. Implementations: file-store (default), keychain.
import type { Credentials } from '../sources/types.js';

export interface LongTermKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface StoredKeyInfo {
  readonly profile: string;
  /** redacted, e.g. AKIA…WXYZ */
  readonly accessKeyIdRedacted: string;
  readonly addedAt: string;
  readonly backend: string;
}

export interface SecretStore {
  readonly backend: string;
  getKey(profile: string): Promise<LongTermKey | undefined>;
  putKey(profile: string, key: LongTermKey): Promise<void>;
  /** true when something was removed */
  removeKey(profile: string): Promise<boolean>;
  listKeys(): Promise<StoredKeyInfo[]>;
  /** short-lived sessions cached under an opaque key (e.g. a hash of profile + role + mfa serial) */
  getSession(cacheKey: string): Promise<Credentials | undefined>;
  putSession(cacheKey: string, credentials: Credentials): Promise<void>;
  removeSession(cacheKey: string): Promise<void>;
}

/**
 * A rotation in progress (`keyless rotate`), saved before each step so a killed rotate can finish:
 * - "creating": CreateAccessKey is about to be called; a key created after startedAt that the vault
 *   does not know is this rotation's orphan.
 * - "created": `other` is the new key, not yet verified; the record's key is still the old one.
 * - "promoted": the record's key is the new, verified key; `other` is the old one, still to be deleted.
 * In every stage the record's key is one that works.
 */
export type RotationState =
  | { readonly stage: 'creating'; readonly startedAt: string }
  | { readonly stage: 'created' | 'promoted'; readonly other: LongTermKey; readonly startedAt: string };

/** Everything stored for one profile's long-term key. */
export interface KeyRecord {
  readonly profile: string;
  readonly key: LongTermKey;
  /** ISO 8601 */
  readonly addedAt: string;
  readonly rotation?: RotationState;
}

export interface PutRecordOptions {
  /** "create" refuses an existing profile with VAULT_PROFILE_EXISTS; default "replace" */
  mode?: 'create' | 'replace';
}

/** A problem with one item found while listing: the others are still listed. */
export interface StoreProblem {
  readonly code: string;
  readonly message: string;
}

/** The full store surface (add/list/remove/rotate/import use it); a SecretStore for everyone else. */
export interface VaultStore extends SecretStore {
  /** where the items live, for messages: a folder, or the OS keychain service */
  readonly location: string;
  getRecord(profile: string): Promise<KeyRecord | undefined>;
  putRecord(record: KeyRecord, options?: PutRecordOptions): Promise<void>;
  listRecords(): Promise<{ records: KeyRecord[]; problems: StoreProblem[] }>;
}
