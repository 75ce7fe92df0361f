// The store surface: long-term keys and cached sessions at rest, encrypted.
// Flow: store → sources → leases → server → clients. Other areas call openStore(env) and use the
// SecretStore interface; vault commands use the fuller VaultStore.
import { join } from 'node:path';
import type { KeylessEnv } from '../config/env.js';
import { nonEmpty } from '../config/env.js';
import { keylessPaths } from '../config/paths.js';
import { usageError } from '../errors.js';
import { BACKENDS, readStoreConfig, type BackendName } from './config.js';
import { FileStore } from './file-store.js';
import { passphraseProvider, type HiddenPrompt } from './passphrase.js';
import type { VaultStore } from './types.js';

export type {
  SecretStore,
  VaultStore,
  KeyRecord,
  LongTermKey,
  RotationState,
  StoredKeyInfo,
  StoreProblem,
} from './types.js';
export { VaultErrorCode } from './errors.js';
export type { BackendName } from './config.js';

export const BACKEND_ENV = 'KEYLESS_BACKEND';

export interface OpenStoreOptions {
  /** overrides KEYLESS_BACKEND and config.json */
  backend?: string;
  /** hidden prompt for the passphrase; default: the terminal when stdin is one */
  prompt?: HiddenPrompt;
  /** whether stdin is a terminal (default process.stdin.isTTY) */
  isTTY?: boolean;
}

/**
 * Opens the configured store. Backend precedence: options.backend → KEYLESS_BACKEND → "backend" in
 * $KEYLESS_HOME/config.json → "file". Nothing is decrypted (and no passphrase asked) until an item is
 * needed. Throws USAGE for an unknown backend, VAULT_KEYCHAIN_UNAVAILABLE when the OS has no keychain.
 */
export async function openStore(env: KeylessEnv, options: OpenStoreOptions = {}): Promise<VaultStore> {
  const paths = keylessPaths(env.keylessHome);
  const config = await readStoreConfig(paths.configFile);
  const fromEnv = nonEmpty(env.vars[BACKEND_ENV]);
  const backend = resolveBackend(
    options.backend ?? fromEnv ?? config.backend,
    options.backend !== undefined ? '--backend' : fromEnv !== undefined ? BACKEND_ENV : 'config.json',
  );
  if (backend === 'keychain') {
    const { openKeychainStore } = await import('./keychain.js');
    return openKeychainStore();
  }
  const isTTY = options.isTTY ?? Boolean(process.stdin.isTTY);
  const prompt = options.prompt ?? (isTTY ? (await import('./tty-prompt.js')).hiddenTtyPrompt : undefined);
  return new FileStore({
    vaultDir: paths.vaultDir,
    sessionsDir: paths.sessionsDir,
    lockFile: join(paths.locksDir, 'vault.lock'),
    passphrase: passphraseProvider({
      fromEnv: env.passphrase,
      ...(config.passphraseCommand !== undefined ? { command: config.passphraseCommand } : {}),
      configFile: paths.configFile,
      isTTY,
      ...(prompt !== undefined ? { prompt } : {}),
    }),
  });
}

/** `from` names where the value came from (--backend, KEYLESS_BACKEND), so the error says what to fix. */
export function resolveBackend(name: string | undefined, from?: string): BackendName {
  if (name === undefined) return 'file';
  if ((BACKENDS as readonly string[]).includes(name)) return name as BackendName;
  throw usageError(
    `unknown vault backend "${name.slice(0, 40)}"${from ? ` (from ${from})` : ''}: use "file" (default) or "keychain".`,
  );
}
