// Key derivation and authenticated encryption for vault items: bytes in, bytes out.
// scrypt (RFC 7914) turns the passphrase into a vault master key; HKDF-SHA256 (RFC 5869) derives one
// key per item from it and the item's own random salt; AES-256-GCM seals the item with its header as
// additional authenticated data. Parameters, salts and nonces travel in each item's header.
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  scrypt,
} from 'node:crypto';

export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/**
 * N=2^17, r=8, p=1: 128 MiB and ~0.4 s per derivation on a 2-core machine; the interactive setting
 * recommended for file encryption (OWASP Password Storage Cheat Sheet lists N=2^17 r=8 p=1 as its
 * first scrypt option). aws-vault's file backend uses PBKDF2-SHA256 with 8,192 iterations.
 */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };

/** Bounds accepted from disk, so a crafted header cannot demand gigabytes or hours (nor be weak). */
export const SCRYPT_BOUNDS = { minLogN: 14, maxLogN: 20, maxR: 16, maxP: 4 } as const;

export const MASTER_KEY_BYTES = 32;
export const SALT_BYTES = 16;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const CHECK_BYTES = 16;

export function isAcceptableScrypt(params: ScryptParams): boolean {
  const { N, r, p } = params;
  if (![N, r, p].every((x) => Number.isSafeInteger(x) && x > 0)) return false;
  const logN = Math.log2(N);
  return (
    Number.isInteger(logN) &&
    logN >= SCRYPT_BOUNDS.minLogN &&
    logN <= SCRYPT_BOUNDS.maxLogN &&
    r <= SCRYPT_BOUNDS.maxR &&
    p <= SCRYPT_BOUNDS.maxP
  );
}

/** scrypt(passphrase, salt) → 32-byte master key. */
export function deriveMasterKey(passphrase: string, salt: Uint8Array, params: ScryptParams): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes; allow that plus slack (Node's default maxmem is 32 MiB).
  const maxmem = 128 * params.N * params.r * 2 + 16 * 1024 * 1024;
  return new Promise((resolve, reject) =>
    scrypt(passphrase.normalize('NFC'), salt, MASTER_KEY_BYTES, { ...params, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

const derived = new Map<string, Promise<Buffer>>();

/**
 * deriveMasterKey with an in-process cache per (passphrase, salt, parameters): every item of one
 * vault shares the vault salt, so opening twenty items costs one scrypt run, not twenty.
 */
export function cachedMasterKey(passphrase: string, salt: Uint8Array, params: ScryptParams): Promise<Buffer> {
  const id = createHash('sha256')
    .update(JSON.stringify([passphrase, Buffer.from(salt).toString('base64'), params.N, params.r, params.p]))
    .digest('base64');
  let key = derived.get(id);
  if (key === undefined) {
    key = deriveMasterKey(passphrase, salt, params);
    key.catch(() => derived.delete(id));
    derived.set(id, key);
  }
  return key;
}

/** HKDF-SHA256 subkey of the master key for one purpose (and optionally one item's salt). */
export function subKey(master: Uint8Array, purpose: string, salt: Uint8Array = Buffer.alloc(0)): Buffer {
  return Buffer.from(hkdfSync('sha256', master, salt, `keyless vault v1 ${purpose}`, 32));
}

/**
 * A key check value stored in every item header: it tells a wrong passphrase (check differs) from a
 * damaged item (check matches, authentication fails), and lets a writer refuse to add an item that
 * the rest of the vault could not be opened with. It reveals no more than the ciphertext already does.
 */
export function keyCheck(master: Uint8Array): Buffer {
  return createHmac('sha256', subKey(master, 'check')).update('key check').digest().subarray(0, CHECK_BYTES);
}

/** Opaque file name for an item: HMAC of its kind and name, so names never appear on disk. */
export function itemFileName(master: Uint8Array, kind: string, name: string): string {
  return createHmac('sha256', subKey(master, 'file names'))
    .update(`${kind}\0${name}`)
    .digest('hex')
    .slice(0, 40);
}

export function randomSalt(): Buffer {
  return randomBytes(SALT_BYTES);
}

export function randomNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

/** AES-256-GCM; returns ciphertext ‖ 16-byte tag. */
export function seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  c.setAAD(aad);
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

/** Inverse of seal; returns undefined when authentication fails (wrong key or altered bytes). */
export function unseal(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): Buffer | undefined {
  if (sealed.length < TAG_BYTES) return undefined;
  const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  d.setAAD(aad);
  d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG_BYTES)), d.final()]);
  } catch {
    return undefined;
  }
}
