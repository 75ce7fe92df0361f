// An in-memory SecretStore for unit tests of sources (no passphrase, no files). Counts calls so tests
// can prove what was read and written; `locked` makes every call fail as a store without a passphrase.
import { KeylessError } from '../../src/errors.js';
import type { Credentials } from '../../src/sources/types.js';
import type { LongTermKey, SecretStore, StoredKeyInfo } from '../../src/store/types.js';

export interface MemoryStore extends SecretStore {
  readonly keys: Map<string, LongTermKey>;
  readonly sessions: Map<string, Credentials>;
  /** method name → number of calls */
  readonly calls: Map<string, number>;
  /** when true every call throws VAULT_PASSPHRASE_REQUIRED, as the file store without a passphrase */
  locked: boolean;
}

export function memoryStore(keys: Record<string, LongTermKey> = {}): MemoryStore {
  const store: MemoryStore = {
    backend: 'memory',
    keys: new Map(Object.entries(keys)),
    sessions: new Map(),
    calls: new Map(),
    locked: false,
    async getKey(profile) {
      guard('getKey');
      return store.keys.get(profile);
    },
    async putKey(profile, key) {
      guard('putKey');
      store.keys.set(profile, key);
    },
    async removeKey(profile) {
      guard('removeKey');
      return store.keys.delete(profile);
    },
    async listKeys(): Promise<StoredKeyInfo[]> {
      guard('listKeys');
      return [...store.keys.entries()].map(([profile, k]) => ({
        profile,
        accessKeyIdRedacted: `${k.accessKeyId.slice(0, 4)}…${k.accessKeyId.slice(-4)}`,
        addedAt: new Date(0).toISOString(),
        backend: 'memory',
      }));
    },
    async getSession(cacheKey) {
      guard('getSession');
      return store.sessions.get(cacheKey);
    },
    async putSession(cacheKey, credentials) {
      guard('putSession');
      store.sessions.set(cacheKey, credentials);
    },
    async removeSession(cacheKey) {
      guard('removeSession');
      store.sessions.delete(cacheKey);
    },
  };
  function guard(method: string): void {
    store.calls.set(method, (store.calls.get(method) ?? 0) + 1);
    if (store.locked) throw new KeylessError('VAULT_PASSPHRASE_REQUIRED', 'no passphrase (memory store)');
  }
  return store;
}
