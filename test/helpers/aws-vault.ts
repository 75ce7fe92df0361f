// Writes items in aws-vault's file-backend format (99designs/keyring file.go + jose2go) with
// node:crypto, exactly as shared/docs/reference/credential-serving.md §4.4 describes them.
import { createCipheriv, pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface AwsVaultItemOptions {
  p2c?: number;
}

/** JWE compact PBES2-HS256+A128KW / A256GCM of a keyring.Item {Key, Data, ...}. */
export function makeAwsVaultItem(
  key: string,
  data: object,
  passphrase: string,
  options: AwsVaultItemOptions = {},
): string {
  const p2s = randomBytes(12);
  // Go's encoding/json sorts map keys; the header is a map in jose2go.
  const header = {
    alg: 'PBES2-HS256+A128KW',
    created: '2026-11-22 17:04:05.123456789 +0000 UTC m=+0.012345678',
    enc: 'A256GCM',
    p2c: options.p2c ?? 8192,
    p2s: p2s.toString('base64url'),
  };
  const protectedB64 = Buffer.from(JSON.stringify(header)).toString('base64url');
  const salt = Buffer.concat([Buffer.from('PBES2-HS256+A128KW'), Buffer.from([0]), p2s]);
  const kek = pbkdf2Sync(passphrase, salt, header.p2c, 16, 'sha256');
  const cek = randomBytes(32);
  const wrap = createCipheriv('id-aes128-wrap', kek, Buffer.from('A6A6A6A6A6A6A6A6', 'hex'));
  const encryptedKey = Buffer.concat([wrap.update(cek), wrap.final()]);
  const iv = randomBytes(12);
  const payload = JSON.stringify({
    Key: key,
    Data: Buffer.from(JSON.stringify(data)).toString('base64'),
    Label: `aws-vault (${key})`,
    Description: '',
    KeychainNotTrustApplication: false,
    KeychainNotSynchronizable: false,
  });
  const gcm = createCipheriv('aes-256-gcm', cek, iv);
  gcm.setAAD(Buffer.from(protectedB64, 'ascii'));
  const ct = Buffer.concat([gcm.update(payload), gcm.final()]);
  return [protectedB64, encryptedKey, iv, ct, gcm.getAuthTag()]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

/** aws-sdk-go-v2 aws.Credentials as aws-vault v7 stores long-term keys. */
export function awsVaultCredentials(accessKeyId: string, secretAccessKey: string): object {
  return {
    AccessKeyID: accessKeyId,
    SecretAccessKey: secretAccessKey,
    SessionToken: '',
    Source: '',
    CanExpire: false,
    Expires: '0001-01-01T00:00:00Z',
  };
}

/** aws-vault's file name for an item key: only "/" and "%" are escaped. */
export function awsVaultFileName(key: string): string {
  return key.replace(/%/g, '%25').replace(/\//g, '%2F');
}

export async function writeAwsVaultItem(
  dir: string,
  key: string,
  data: object,
  passphrase: string,
): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, awsVaultFileName(key));
  await writeFile(path, makeAwsVaultItem(key, data, passphrase), { mode: 0o600 });
  return path;
}
