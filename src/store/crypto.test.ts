import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cachedMasterKey,
  deriveMasterKey,
  isAcceptableScrypt,
  itemFileName,
  keyCheck,
  randomNonce,
  randomSalt,
  seal,
  subKey,
  unseal,
} from './crypto.js';

const FAST = { N: 2 ** 14, r: 8, p: 1 };

describe('vault crypto', () => {
  test('seal then unseal returns the plaintext, and any changed byte fails authentication', () => {
    const key = subKey(randomSalt(), 'test');
    const nonce = randomNonce();
    const aad = Buffer.from('header');
    const sealed = seal(key, nonce, Buffer.from('secret text'), aad);
    assert.equal(unseal(key, nonce, sealed, aad)?.toString(), 'secret text');
    for (let i = 0; i < sealed.length; i++) {
      const bad = Buffer.from(sealed);
      bad[i] = (bad[i] as number) ^ 1;
      assert.equal(unseal(key, nonce, bad, aad), undefined, `byte ${i}`);
    }
    assert.equal(unseal(key, nonce, sealed, Buffer.from('Header')), undefined);
    assert.equal(unseal(subKey(randomSalt(), 'test'), nonce, sealed, aad), undefined);
  });

  test('scrypt parameters from disk are accepted only within bounds', () => {
    assert.ok(isAcceptableScrypt({ N: 2 ** 17, r: 8, p: 1 }));
    assert.ok(!isAcceptableScrypt({ N: 2 ** 10, r: 8, p: 1 }), 'too weak');
    assert.ok(!isAcceptableScrypt({ N: 2 ** 24, r: 8, p: 1 }), 'too costly');
    assert.ok(!isAcceptableScrypt({ N: 100_000, r: 8, p: 1 }), 'not a power of two');
    assert.ok(!isAcceptableScrypt({ N: 2 ** 15, r: 0, p: 1 }));
  });

  test('the master key depends on passphrase and salt; the cache returns the same key', async () => {
    const salt = randomSalt();
    const a = await deriveMasterKey('one', salt, FAST);
    assert.deepEqual(await cachedMasterKey('one', salt, FAST), a);
    assert.notDeepEqual(await deriveMasterKey('two', salt, FAST), a);
    assert.notDeepEqual(await deriveMasterKey('one', randomSalt(), FAST), a);
    const t0 = performance.now();
    await cachedMasterKey('one', salt, FAST);
    assert.ok(performance.now() - t0 < 5, 'a cached key costs no derivation');
  });

  test('key check and file names are deterministic per key and reveal nothing of the name', () => {
    const m = randomSalt();
    assert.deepEqual(keyCheck(m), keyCheck(Buffer.from(m)));
    assert.notDeepEqual(keyCheck(m), keyCheck(randomSalt()));
    const name = itemFileName(m, 'key', 'production');
    assert.match(name, /^[0-9a-f]{40}$/);
    assert.equal(itemFileName(m, 'key', 'production'), name);
    assert.notEqual(itemFileName(m, 'session', 'production'), name);
    assert.notEqual(itemFileName(randomSalt(), 'key', 'production'), name);
  });
});
