// Reads the access key id and secret for `keyless add`: from the environment (--env), a hidden
// terminal prompt, or two lines on stdin. Never from argv. Validates their shape.
import { KeylessError } from '../../../errors.js';
import type { KeylessEnv } from '../../../config/env.js';
import { VaultErrorCode } from '../../../store/errors.js';
import type { LongTermKey } from '../../../store/types.js';

/** IAM user keys start with AKIA; ASIA ids are temporary (STS) keys that need a session token. */
const ACCESS_KEY_ID = /^AKIA[A-Z0-9]{12,124}$/;
/** IAM secrets are 40 characters of base64 alphabet; allow some room. */
const SECRET = /^[A-Za-z0-9/+=]{30,128}$/;

export async function readKeyInput(env: KeylessEnv, fromEnv: boolean): Promise<LongTermKey> {
  if (fromEnv) {
    const id = env.vars.AWS_ACCESS_KEY_ID;
    const secret = env.vars.AWS_SECRET_ACCESS_KEY;
    if (!id || !secret) {
      throw new KeylessError(
        VaultErrorCode.KEY_INPUT_MISSING,
        '--env needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment; set both, or drop --env to be asked.',
      );
    }
    return validateKey(id.trim(), secret.trim());
  }
  if (process.stdin.isTTY) {
    const { hiddenTtyPrompt } = await import('../../../store/tty-prompt.js');
    const id = await hiddenTtyPrompt('AWS access key id:');
    const secret = await hiddenTtyPrompt('AWS secret access key:');
    return validateKey(id.trim(), secret.trim());
  }
  return keyFromStdinText(await readStdin());
}

/** Two non-empty lines piped to stdin: the access key id, then the secret. */
export function keyFromStdinText(text: string): LongTermKey {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) {
    throw new KeylessError(
      VaultErrorCode.KEY_INPUT_MISSING,
      'no terminal to ask for the keys on: pass --env with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set, ' +
        'or pipe two lines (access key id, then secret) to stdin.',
    );
  }
  if (lines.length === 1) {
    throw new KeylessError(
      VaultErrorCode.KEY_INPUT_MISSING,
      'stdin holds one line; keyless add expects two: the access key id, then the secret access key. Nothing was stored.',
    );
  }
  return validateKey((lines[0] as string).trim(), (lines[1] as string).trim());
}

/** Throws VAULT_INVALID_KEY naming what is wrong; the message never contains the secret. */
export function validateKey(accessKeyId: string, secretAccessKey: string): LongTermKey {
  if (accessKeyId.startsWith('ASIA')) {
    throw new KeylessError(
      VaultErrorCode.INVALID_KEY,
      'the access key id starts with ASIA: that is a temporary STS key, which expires. keyless stores long-term ' +
        'IAM user keys (AKIA…); give those instead.',
    );
  }
  if (!ACCESS_KEY_ID.test(accessKeyId)) {
    throw new KeylessError(
      VaultErrorCode.INVALID_KEY,
      `the access key id does not look like an IAM user key (expected AKIA followed by 16 upper-case letters or digits, got ${accessKeyId.length} characters). Check that id and secret were not swapped.`,
    );
  }
  if (!SECRET.test(secretAccessKey)) {
    throw new KeylessError(
      VaultErrorCode.INVALID_KEY,
      `the secret access key does not look like one (expected 40 characters of A-Z a-z 0-9 / + =, got ${secretAccessKey.length} characters). Copy it again from the IAM console or CreateAccessKey output.`,
    );
  }
  return { accessKeyId, secretAccessKey };
}

/** Two lines of a key id and a secret are under 100 bytes; anything past 4 KiB is not a key. */
export const MAX_STDIN_BYTES = 4096;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of process.stdin) {
    n += (c as Buffer).length;
    if (n > MAX_STDIN_BYTES) {
      process.stdin.destroy();
      throw new KeylessError(
        VaultErrorCode.INVALID_KEY,
        `stdin holds more than ${MAX_STDIN_BYTES} bytes; keyless add expects two lines: the access key id, then the secret access key. Nothing was stored.`,
      );
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
