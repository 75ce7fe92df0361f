import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isKeylessError } from '../errors.js';
import { randomNonce, randomSalt } from './crypto.js';
import { encodeHeader } from './envelope.js';
import { openItem, sealItem, vaultKey } from './item.js';

const FAST = { N: 2 ** 14, r: 8, p: 1 };

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isKeylessError(err)) return err.code;
    throw err;
  }
  return 'none';
}

describe('vault item', () => {
  test('opens with the passphrase it was sealed with', async () => {
    const key = await vaultKey('pass one', randomSalt(), FAST);
    const bytes = sealItem(key, 'key', { profile: 'dev', n: 1 });
    const opened = await openItem('pass one', bytes, 'item', 'vault');
    assert.deepEqual(opened.payload, { profile: 'dev', n: 1 });
    assert.equal(opened.kind, 'key');
  });

  test('a wrong passphrase is VAULT_BAD_PASSPHRASE, told apart from damage', async () => {
    const key = await vaultKey('pass one', randomSalt(), FAST);
    const bytes = sealItem(key, 'key', { profile: 'dev' });
    assert.equal(await codeOf(openItem('pass two', bytes, 'item', 'vault')), 'VAULT_BAD_PASSPHRASE');
  });

  test('a changed ciphertext byte or header field is VAULT_ITEM_CORRUPT', async () => {
    const key = await vaultKey('pass one', randomSalt(), FAST);
    const bytes = sealItem(key, 'key', { profile: 'dev' });
    const last = Buffer.from(bytes);
    last[last.length - 1] = (last[last.length - 1] as number) ^ 0x80;
    assert.equal(await codeOf(openItem('pass one', last, 'item', 'vault')), 'VAULT_ITEM_CORRUPT');
    // Same length, so the envelope still parses: only authentication can notice the change.
    const text = bytes.toString('latin1');
    const nonce = /"nonce":"(.)/.exec(text)?.[1] ?? 'A';
    const altered = text.replace(/"nonce":"./, `"nonce":"${nonce === 'A' ? 'B' : 'A'}`);
    assert.equal(
      await codeOf(openItem('pass one', Buffer.from(altered, 'latin1'), 'item', 'vault')),
      'VAULT_ITEM_CORRUPT',
    );
  });

  test('a header demanding out-of-bounds scrypt work is refused before deriving', async () => {
    const header = {
      kind: 'key' as const,
      kdf: { alg: 'scrypt' as const, N: 2 ** 24, r: 8, p: 1, salt: randomSalt() },
      check: randomSalt(),
      aead: 'A256GCM' as const,
      salt: randomSalt(),
      nonce: randomNonce(),
      len: 32,
    };
    const bytes = Buffer.concat([encodeHeader(header), Buffer.alloc(32)]);
    const t0 = performance.now();
    assert.equal(await codeOf(openItem('p', bytes, 'item', 'vault')), 'VAULT_ITEM_CORRUPT');
    assert.ok(performance.now() - t0 < 1000, 'no 16 GiB derivation was attempted');
  });
});
