// Error codes of the vault (store/). Each is its own code so scripts and `keyless doctor` can tell
// them apart; every message says what to do next. All exit with status 2.

export const VaultErrorCode = {
  /** the passphrase does not open the items already in the vault */
  BAD_PASSPHRASE: 'VAULT_BAD_PASSPHRASE',
  /** an item fails authentication or does not parse: tampered with or damaged */
  ITEM_CORRUPT: 'VAULT_ITEM_CORRUPT',
  /** an item is shorter than its header says: cut off by a full disk or a copy */
  ITEM_TRUNCATED: 'VAULT_ITEM_TRUNCATED',
  /** an item written by a newer keyless (format version or algorithm unknown here) */
  ITEM_UNSUPPORTED: 'VAULT_ITEM_UNSUPPORTED',
  PROFILE_NOT_FOUND: 'VAULT_PROFILE_NOT_FOUND',
  PROFILE_EXISTS: 'VAULT_PROFILE_EXISTS',
  /** the vault folder (or a file in it) cannot be read or written */
  UNREADABLE: 'VAULT_UNREADABLE',
  /** no passphrase source is available (no KEYLESS_PASSPHRASE, no command, no terminal) */
  PASSPHRASE_REQUIRED: 'VAULT_PASSPHRASE_REQUIRED',
  PASSPHRASE_COMMAND_FAILED: 'VAULT_PASSPHRASE_COMMAND_FAILED',
  /** the new passphrase and its repetition differ */
  PASSPHRASE_MISMATCH: 'VAULT_PASSPHRASE_MISMATCH',
  KEYCHAIN_UNAVAILABLE: 'VAULT_KEYCHAIN_UNAVAILABLE',
  /** an access key id or secret that cannot be an AWS long-term key */
  INVALID_KEY: 'VAULT_INVALID_KEY',
  /** no key material given (no terminal and nothing on stdin, or --env without the variables) */
  KEY_INPUT_MISSING: 'VAULT_KEY_INPUT_MISSING',
  IMPORT_BAD_PASSPHRASE: 'VAULT_IMPORT_BAD_PASSPHRASE',
  IMPORT_UNREADABLE: 'VAULT_IMPORT_UNREADABLE',
  IMPORT_ITEM_INVALID: 'VAULT_IMPORT_ITEM_INVALID',
  ROTATE_FAILED: 'VAULT_ROTATE_FAILED',
  ROTATE_KEY_LIMIT: 'VAULT_ROTATE_KEY_LIMIT',
} as const;

export type VaultErrorCode = (typeof VaultErrorCode)[keyof typeof VaultErrorCode];
