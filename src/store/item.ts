// One vault item: a JSON payload sealed under a key derived from the vault master key and the item's
// own random salt, inside an envelope (envelope.ts). Pure apart from randomness.
import { timingSafeEqual } from 'node:crypto';
import { KeylessError } from '../errors.js';
import {
  cachedMasterKey,
  isAcceptableScrypt,
  keyCheck,
  randomNonce,
  randomSalt,
  seal,
  subKey,
  TAG_BYTES,
  unseal,
  type ScryptParams,
} from './crypto.js';
import { corrupt, decodeEnvelope, encodeHeader, type EnvelopeHeader, type ItemKind } from './envelope.js';
import { VaultErrorCode } from './errors.js';

/** A master key with what is needed to write items that the same passphrase opens. */
export interface VaultKey {
  readonly master: Buffer;
  readonly salt: Buffer;
  readonly params: ScryptParams;
  readonly check: Buffer;
}

export async function vaultKey(passphrase: string, salt: Buffer, params: ScryptParams): Promise<VaultKey> {
  const master = await cachedMasterKey(passphrase, salt, params);
  return { master, salt, params, check: keyCheck(master) };
}

/** The vault key an existing item was written with, checked against the passphrase. */
export async function vaultKeyForHeader(
  passphrase: string,
  header: EnvelopeHeader,
  where: string,
  vaultDir: string,
): Promise<VaultKey> {
  const params: ScryptParams = { N: header.kdf.N, r: header.kdf.r, p: header.kdf.p };
  if (!isAcceptableScrypt(params)) throw corrupt(where, 'its key derivation parameters are out of bounds');
  const key = await vaultKey(passphrase, header.kdf.salt, params);
  if (!timingSafeEqual(key.check, header.check)) throw badPassphrase(vaultDir);
  return key;
}

export function badPassphrase(vaultDir: string): KeylessError {
  return new KeylessError(
    VaultErrorCode.BAD_PASSPHRASE,
    `the passphrase does not open the vault at ${vaultDir}. Check KEYLESS_PASSPHRASE or the ` +
      'passphraseCommand in config.json, and try again; nothing was changed.',
    { details: { path: vaultDir } },
  );
}

export function sealItem(key: VaultKey, kind: ItemKind, payload: unknown): Buffer {
  const plaintext = Buffer.from(JSON.stringify(payload), 'utf8');
  const header: EnvelopeHeader = {
    kind,
    kdf: { alg: 'scrypt', ...key.params, salt: key.salt },
    check: key.check,
    aead: 'A256GCM',
    salt: randomSalt(),
    nonce: randomNonce(),
    len: plaintext.length + TAG_BYTES,
  };
  const aad = encodeHeader(header);
  const itemKey = subKey(key.master, `item ${kind}`, header.salt);
  return Buffer.concat([aad, seal(itemKey, header.nonce, plaintext, aad)]);
}

/**
 * Opens an item. Throws VAULT_ITEM_TRUNCATED / VAULT_ITEM_CORRUPT / VAULT_ITEM_UNSUPPORTED for
 * damaged files and VAULT_BAD_PASSPHRASE when the passphrase is not the vault's.
 */
export async function openItem(
  passphrase: string,
  bytes: Buffer,
  where: string,
  vaultDir: string,
): Promise<{ kind: ItemKind; payload: unknown; key: VaultKey }> {
  const env = decodeEnvelope(bytes, where);
  const key = await vaultKeyForHeader(passphrase, env.header, where, vaultDir);
  const itemKey = subKey(key.master, `item ${env.header.kind}`, env.header.salt);
  const plain = unseal(itemKey, env.header.nonce, env.sealed, env.aad);
  if (plain === undefined) throw corrupt(where, 'authentication failed although the passphrase is right');
  try {
    return { kind: env.header.kind, payload: JSON.parse(plain.toString('utf8')), key };
  } catch {
    throw corrupt(where, 'its content is not valid JSON');
  }
}
