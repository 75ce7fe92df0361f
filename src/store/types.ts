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
