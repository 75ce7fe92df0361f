// Reads aws-vault's "file" backend (99designs/keyring file.go): one JWE compact file per item in
// ~/.awsvault/keys, PBES2-HS256+A128KW (PBKDF2-HMAC-SHA256, p2c iterations, salt = alg ‖ 0x00 ‖ p2s)
// wrapping a random AES-256-GCM content key (RFC 7516/7518). The payload is a JSON keyring.Item whose
// Data is base64 of aws.Credentials (`AccessKeyID`, v2) or `AccessKeyId` (older). Session and OIDC
// items are skipped: only long-term keys are imported. Format notes:
// shared/docs/reference/credential-serving.md §4.4.
import { createDecipheriv, pbkdf2Sync } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KeylessError } from '../errors.js';
import { VaultErrorCode } from './errors.js';
import type { LongTermKey } from './types.js';

export const AWS_VAULT_ALG = 'PBES2-HS256+A128KW';
export const AWS_VAULT_ENC = 'A256GCM';
/** aws-vault writes 8192; jose2go ≥1.6 refuses more than 1,300,000 on read, and so do we. */
export const MAX_P2C = 1_300_000;
const MIN_P2C = 1000;
/** RFC 3394 default initial value */
const KW_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');

export type AwsVaultItem =
  | { readonly kind: 'key'; readonly file: string; readonly profile: string; readonly key: LongTermKey }
  | { readonly kind: 'skipped'; readonly file: string; readonly name: string; readonly reason: string };

/** Thrown for an item the passphrase does not open (aws-vault has no verifier: items may differ). */
export class AwsVaultPassphraseError extends Error {
  override name = 'AwsVaultPassphraseError';
}

/** Decrypts one JWE compact item; throws AwsVaultPassphraseError or VAULT_IMPORT_ITEM_INVALID. */
export function decryptAwsVaultItem(jwe: string, passphrase: string, where: string): Buffer {
  const parts = jwe.trim().split('.');
  if (parts.length !== 5) throw invalidItem(where, 'not a JWE compact serialization (5 parts)');
  const [h, ek, iv, ct, tag] = parts.map((p) => Buffer.from(p, 'base64url')) as [
    Buffer,
    Buffer,
    Buffer,
    Buffer,
    Buffer,
  ];
  let header: { alg?: unknown; enc?: unknown; p2c?: unknown; p2s?: unknown };
  try {
    header = JSON.parse(h.toString('utf8')) as typeof header;
  } catch {
    throw invalidItem(where, 'its JWE header is not JSON');
  }
  if (header.alg !== AWS_VAULT_ALG || header.enc !== AWS_VAULT_ENC) {
    throw invalidItem(where, `unsupported algorithms ${String(header.alg)} / ${String(header.enc)}`);
  }
  if (
    !Number.isSafeInteger(header.p2c) ||
    (header.p2c as number) < MIN_P2C ||
    (header.p2c as number) > MAX_P2C
  ) {
    throw invalidItem(where, `iteration count p2c=${String(header.p2c)} is outside ${MIN_P2C}-${MAX_P2C}`);
  }
  if (typeof header.p2s !== 'string' || ek.length !== 40 || iv.length !== 12 || tag.length !== 16) {
    throw invalidItem(where, 'salt, wrapped key, IV or tag has the wrong size');
  }
  const salt = Buffer.concat([
    Buffer.from(AWS_VAULT_ALG, 'utf8'),
    Buffer.from([0]),
    Buffer.from(header.p2s, 'base64url'),
  ]);
  const kek = pbkdf2Sync(Buffer.from(passphrase, 'utf8'), salt, header.p2c as number, 16, 'sha256');
  let cek: Buffer;
  try {
    const unwrap = createDecipheriv('id-aes128-wrap', kek, KW_IV);
    cek = Buffer.concat([unwrap.update(ek), unwrap.final()]);
  } catch {
    // RFC 3394 unwrap has its own integrity check: a wrong passphrase fails here.
    throw new AwsVaultPassphraseError(`${where} does not open with this passphrase`);
  }
  try {
    const gcm = createDecipheriv('aes-256-gcm', cek, iv, { authTagLength: 16 });
    gcm.setAAD(Buffer.from(parts[0] as string, 'ascii'));
    gcm.setAuthTag(tag);
    return Buffer.concat([gcm.update(ct), gcm.final()]);
  } catch {
    throw invalidItem(where, 'its content fails authentication (altered or damaged)');
  }
}

/** Pure: a decrypted keyring.Item → a long-term key to import, or the reason it is skipped. */
export function classifyAwsVaultItem(plain: Buffer, file: string): AwsVaultItem {
  let item: { Key?: unknown; Data?: unknown };
  try {
    item = JSON.parse(plain.toString('utf8')) as typeof item;
  } catch {
    throw invalidItem(file, 'its content is not a keyring item');
  }
  const name = typeof item.Key === 'string' ? item.Key : '';
  if (name === '' || typeof item.Data !== 'string')
    throw invalidItem(file, 'its keyring item has no Key or Data');
  // aws-vault's session cache ("sts.GetSessionToken,…", older "session,…") and SSO tokens ("oidc:…").
  if (/^(sts\.|session,|oidc:)/.test(name))
    return { kind: 'skipped', file, name, reason: 'a cached session, not a long-term key' };
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(Buffer.from(item.Data, 'base64').toString('utf8')) as Record<string, unknown>;
  } catch {
    return { kind: 'skipped', file, name, reason: 'its data is not AWS credentials' };
  }
  const accessKeyId = data.AccessKeyID ?? data.AccessKeyId;
  const secretAccessKey = data.SecretAccessKey;
  if (
    typeof accessKeyId !== 'string' ||
    typeof secretAccessKey !== 'string' ||
    accessKeyId === '' ||
    secretAccessKey === ''
  ) {
    return { kind: 'skipped', file, name, reason: 'its data is not AWS credentials' };
  }
  if (typeof data.SessionToken === 'string' && data.SessionToken !== '') {
    return { kind: 'skipped', file, name, reason: 'temporary credentials (with a session token)' };
  }
  return { kind: 'key', file, profile: name, key: { accessKeyId, secretAccessKey } };
}

export interface ReadAwsVaultOptions {
  /** import only these profiles */
  profiles?: string[];
}

/**
 * Decrypts every item of an aws-vault key folder (the passphrase, when a function, is asked for only
 * when the folder lists and holds items). Items the passphrase does not open are reported
 * as skipped; when none opens, VAULT_IMPORT_BAD_PASSPHRASE. An unreadable folder is
 * VAULT_IMPORT_UNREADABLE.
 */
export async function readAwsVaultDir(
  dir: string,
  passphraseSource: string | (() => Promise<string>),
  options: ReadAwsVaultOptions = {},
): Promise<AwsVaultItem[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
  } catch (err) {
    throw new KeylessError(
      VaultErrorCode.IMPORT_UNREADABLE,
      `cannot read the aws-vault folder ${dir} (${(err as NodeJS.ErrnoException).code ?? String(err)}). ` +
        'Pass the folder of its file backend with --dir (aws-vault --file-dir / AWS_VAULT_FILE_DIR).',
      { cause: err },
    );
  }
  // asked only once the folder is known to hold items: a missing folder is said first
  const passphrase =
    typeof passphraseSource === 'string' || names.length === 0 ? passphraseSource : await passphraseSource();
  const wanted = options.profiles !== undefined ? new Set(options.profiles) : undefined;
  const out: AwsVaultItem[] = [];
  let opened = 0;
  let locked = 0;
  for (const file of names) {
    const path = join(dir, file);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      out.push({
        kind: 'skipped',
        file,
        name: decodeItemFileName(file),
        reason: `unreadable (${(err as NodeJS.ErrnoException).code})`,
      });
      continue;
    }
    let item: AwsVaultItem;
    try {
      item = classifyAwsVaultItem(decryptAwsVaultItem(text, passphrase as string, path), file);
      opened++;
    } catch (err) {
      if (err instanceof AwsVaultPassphraseError) {
        locked++;
        item = {
          kind: 'skipped',
          file,
          name: decodeItemFileName(file),
          reason: 'does not open with this passphrase',
        };
      } else if (err instanceof KeylessError) {
        item = { kind: 'skipped', file, name: decodeItemFileName(file), reason: err.message };
      } else throw err;
    }
    const name = item.kind === 'key' ? item.profile : item.name;
    if (wanted === undefined || wanted.has(name)) out.push(item);
  }
  if (opened === 0 && locked > 0) {
    throw new KeylessError(
      VaultErrorCode.IMPORT_BAD_PASSPHRASE,
      `the passphrase does not open any item in ${dir}. Set AWS_VAULT_FILE_PASSPHRASE to the passphrase aws-vault uses ` +
        '(or type it at the prompt) and try again; nothing was imported.',
    );
  }
  return out;
}

/** aws-vault escapes only "/" and "%" in file names (mtibben/percent). */
export function decodeItemFileName(file: string): string {
  return file.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

function invalidItem(where: string, why: string): KeylessError {
  return new KeylessError(
    VaultErrorCode.IMPORT_ITEM_INVALID,
    `the aws-vault item ${where} cannot be read: ${why}.`,
  );
}
