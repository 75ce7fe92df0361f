import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isKeylessError } from '../errors.js';
import { randomNonce, randomSalt } from './crypto.js';
import { decodeEnvelope, encodeHeader, type EnvelopeHeader } from './envelope.js';

function sample(): Buffer {
  const header: EnvelopeHeader = {
    kind: 'key',
    kdf: { alg: 'scrypt', N: 2 ** 17, r: 8, p: 1, salt: randomSalt() },
    check: randomSalt(),
    aead: 'A256GCM',
    salt: randomSalt(),
    nonce: randomNonce(),
    len: 40,
  };
  return Buffer.concat([encodeHeader(header), Buffer.alloc(40, 7)]);
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isKeylessError(err)) return err.code;
    throw err;
  }
  return 'none';
}

describe('vault envelope', () => {
  test('decodes what it encoded, with every byte before the ciphertext as AAD', () => {
    const bytes = sample();
    const d = decodeEnvelope(bytes, 'item');
    assert.equal(d.header.kind, 'key');
    assert.equal(d.header.kdf.N, 2 ** 17);
    assert.equal(d.sealed.length, 40);
    assert.equal(d.aad.length + d.sealed.length, bytes.length);
  });

  test('every cut-off prefix, including an empty file, is reported as VAULT_ITEM_TRUNCATED', () => {
    const bytes = sample();
    for (let n = 0; n < bytes.length; n++) {
      assert.equal(
        codeOf(() => decodeEnvelope(bytes.subarray(0, n), 'item')),
        'VAULT_ITEM_TRUNCATED',
        `length ${n}`,
      );
    }
  });

  test('extra bytes, a foreign file or a broken header are VAULT_ITEM_CORRUPT', () => {
    const bytes = sample();
    assert.equal(
      codeOf(() => decodeEnvelope(Buffer.concat([bytes, Buffer.from([0])]), 'i')),
      'VAULT_ITEM_CORRUPT',
    );
    assert.equal(
      codeOf(() => decodeEnvelope(Buffer.from('{"not":"ours"}'), 'i')),
      'VAULT_ITEM_CORRUPT',
    );
    const broken = Buffer.from(bytes);
    broken[10] = 0x7b; // '{' inside the JSON header where a quote or letter was
    broken[11] = 0x7b;
    assert.equal(
      codeOf(() => decodeEnvelope(broken, 'i')),
      'VAULT_ITEM_CORRUPT',
    );
  });

  test('a newer format version is VAULT_ITEM_UNSUPPORTED, not corrupt', () => {
    const bytes = Buffer.from(sample());
    bytes[3] = 2;
    assert.equal(
      codeOf(() => decodeEnvelope(bytes, 'i')),
      'VAULT_ITEM_UNSUPPORTED',
    );
  });

  test('the header holds no name, key id or date in plain text', () => {
    const text = sample().toString('latin1');
    assert.doesNotMatch(text, /profile|AKIA|20\d\d-/);
  });
});
