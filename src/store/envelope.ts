// The versioned on-disk format of one vault item (pure: bytes ⇄ parts).
//
//   "KLV" | version (1 byte, 0x01) | header length (uint32 BE) | header (UTF-8 JSON) | ciphertext ‖ tag
//
// The header carries everything needed to open the item with the passphrase alone (KDF parameters,
// vault salt, key check, item salt, nonce) and the sealed length, so a cut-off file is told apart from
// an altered one. Every byte before the ciphertext is the AEAD's additional data: changing a parameter
// fails authentication. Names, key ids and dates live only inside the ciphertext.
import { KeylessError } from '../errors.js';
import { CHECK_BYTES, NONCE_BYTES, SALT_BYTES, TAG_BYTES, type ScryptParams } from './crypto.js';
import { VaultErrorCode } from './errors.js';

export const ENVELOPE_MAGIC = Buffer.from('KLV', 'ascii');
export const ENVELOPE_VERSION = 1;
const PREFIX_BYTES = ENVELOPE_MAGIC.length + 1 + 4;
const MAX_HEADER_BYTES = 4096;

export type ItemKind = 'key' | 'session';

export interface EnvelopeHeader {
  readonly kind: ItemKind;
  readonly kdf: { readonly alg: 'scrypt'; readonly salt: Buffer } & ScryptParams;
  /** key check value of the master key (crypto.keyCheck) */
  readonly check: Buffer;
  readonly aead: 'A256GCM';
  /** this item's HKDF salt */
  readonly salt: Buffer;
  readonly nonce: Buffer;
  /** length of ciphertext ‖ tag */
  readonly len: number;
}

export interface DecodedEnvelope {
  readonly header: EnvelopeHeader;
  /** the bytes authenticated as additional data (prefix and header) */
  readonly aad: Buffer;
  readonly sealed: Buffer;
}

/** Builds prefix ‖ header; the caller seals with it as AAD and appends the result. */
export function encodeHeader(header: EnvelopeHeader): Buffer {
  const json = Buffer.from(
    JSON.stringify({
      kind: header.kind,
      kdf: {
        alg: header.kdf.alg,
        N: header.kdf.N,
        r: header.kdf.r,
        p: header.kdf.p,
        salt: header.kdf.salt.toString('base64'),
      },
      check: header.check.toString('base64'),
      aead: header.aead,
      salt: header.salt.toString('base64'),
      nonce: header.nonce.toString('base64'),
      len: header.len,
    }),
    'utf8',
  );
  const prefix = Buffer.alloc(PREFIX_BYTES);
  ENVELOPE_MAGIC.copy(prefix, 0);
  prefix.writeUInt8(ENVELOPE_VERSION, ENVELOPE_MAGIC.length);
  prefix.writeUInt32BE(json.length, ENVELOPE_MAGIC.length + 1);
  return Buffer.concat([prefix, json]);
}

/**
 * Splits an item file into header, AAD and sealed bytes.
 * Throws VAULT_ITEM_TRUNCATED, VAULT_ITEM_CORRUPT or VAULT_ITEM_UNSUPPORTED; `where` names the file.
 */
export function decodeEnvelope(bytes: Buffer, where: string): DecodedEnvelope {
  const magicPart = bytes.subarray(0, ENVELOPE_MAGIC.length);
  if (!ENVELOPE_MAGIC.subarray(0, magicPart.length).equals(magicPart)) {
    throw corrupt(where, 'it does not start with the keyless vault marker');
  }
  if (bytes.length < PREFIX_BYTES) throw truncated(where);
  const version = bytes.readUInt8(ENVELOPE_MAGIC.length);
  if (version !== ENVELOPE_VERSION) {
    throw new KeylessError(
      VaultErrorCode.ITEM_UNSUPPORTED,
      `the vault item ${where} uses format version ${version}, which this keyless (format ${ENVELOPE_VERSION}) cannot read. Upgrade keyless.`,
      { details: { path: where, version } },
    );
  }
  const headerLength = bytes.readUInt32BE(ENVELOPE_MAGIC.length + 1);
  if (headerLength === 0 || headerLength > MAX_HEADER_BYTES)
    throw corrupt(where, 'its header length is invalid');
  if (bytes.length < PREFIX_BYTES + headerLength) throw truncated(where);
  const aad = bytes.subarray(0, PREFIX_BYTES + headerLength);
  const header = parseHeader(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength), where);
  const sealed = bytes.subarray(PREFIX_BYTES + headerLength);
  if (sealed.length < header.len) throw truncated(where);
  if (sealed.length > header.len) throw corrupt(where, 'it is longer than its header says');
  return { header, aad, sealed };
}

function parseHeader(json: Buffer, where: string): EnvelopeHeader {
  let raw: unknown;
  try {
    raw = JSON.parse(json.toString('utf8'));
  } catch {
    throw corrupt(where, 'its header is not valid JSON');
  }
  const h = raw as Record<string, unknown>;
  const kdf = (h?.kdf ?? {}) as Record<string, unknown>;
  const bytesOf = (v: unknown, n: number): Buffer | undefined => {
    if (typeof v !== 'string') return undefined;
    const b = Buffer.from(v, 'base64');
    return b.length === n ? b : undefined;
  };
  const kdfSalt = bytesOf(kdf.salt, SALT_BYTES);
  const check = bytesOf(h.check, CHECK_BYTES);
  const salt = bytesOf(h.salt, SALT_BYTES);
  const nonce = bytesOf(h.nonce, NONCE_BYTES);
  const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
  if (
    (h.kind !== 'key' && h.kind !== 'session') ||
    !isInt(kdf.N) ||
    !isInt(kdf.r) ||
    !isInt(kdf.p) ||
    !isInt(h.len) ||
    (h.len as number) < TAG_BYTES ||
    kdfSalt === undefined ||
    check === undefined ||
    salt === undefined ||
    nonce === undefined
  ) {
    throw corrupt(where, 'its header is missing fields');
  }
  if (kdf.alg !== 'scrypt' || h.aead !== 'A256GCM') {
    throw new KeylessError(
      VaultErrorCode.ITEM_UNSUPPORTED,
      `the vault item ${where} uses algorithms this keyless does not know (${String(kdf.alg)}, ${String(h.aead)}). Upgrade keyless.`,
      { details: { path: where } },
    );
  }
  return {
    kind: h.kind,
    kdf: { alg: 'scrypt', N: kdf.N, r: kdf.r, p: kdf.p, salt: kdfSalt },
    check,
    aead: 'A256GCM',
    salt,
    nonce,
    len: h.len as number,
  };
}

function truncated(where: string): KeylessError {
  return new KeylessError(
    VaultErrorCode.ITEM_TRUNCATED,
    `the vault item ${where} is cut off (shorter than its header says), e.g. by a full disk or an interrupted copy. ` +
      'Restore it from a backup, or remove that file and add the profile again; the other items are untouched.',
    { details: { path: where } },
  );
}

export function corrupt(where: string, why: string): KeylessError {
  return new KeylessError(
    VaultErrorCode.ITEM_CORRUPT,
    `the vault item ${where} is damaged or was altered (${why}). ` +
      'Restore it from a backup, or remove that file and add the profile again; the other items are untouched.',
    { details: { path: where } },
  );
}
