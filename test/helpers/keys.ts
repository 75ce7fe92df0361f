// AWS-shaped keys generated at test time, never committed (scanners and push protection would flag them).
import { randomBytes, randomInt } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A random access key id with the given prefix (AKIA, ASIA, ...), 20 characters. */
export function fakeAccessKeyId(prefix = 'AKIA'): string {
  let s = prefix;
  while (s.length < 20) s += BASE32[randomInt(BASE32.length)];
  return s;
}

/** A random 40-character secret access key. */
export function fakeSecretAccessKey(): string {
  return randomBytes(30)
    .toString('base64')
    .replace(/[^A-Za-z0-9+/]/g, 'A')
    .slice(0, 40);
}
