import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { accountOfKeyId, keyIdForAccount } from './key-account.js';

test('the bit layout, built by hand at test time: flag bit 47, account in bits 7-46 of the first 48 bits', () => {
  // an id assembled here without keyIdForAccount: 48 bits = flag | account << 7 | 7 low bits,
  // then 2 more bits, as 10 base32 characters after the prefix, then 6 random ones
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  for (const account of ['609629065308', '000000000001', '999999999999']) {
    const bits = (((1n << 47n) | (BigInt(account) << 7n) | 0x55n) << 2n) | 3n;
    let id = 'ASIA';
    for (let i = 9; i >= 0; i--) id += A[Number((bits >> BigInt(5 * i)) & 31n)];
    id += 'QQQQQQ';
    assert.equal(accountOfKeyId(id), account, id);
  }
});

test('round trip for random accounts and prefixes', () => {
  for (let i = 0; i < 2_000; i++) {
    const account = String(randomInt(1, 999_999_999_999)).padStart(12, '0');
    const prefix = (['AKIA', 'ASIA', 'ABIA'] as const)[i % 3] as string;
    const id = keyIdForAccount(account, prefix);
    assert.match(id, /^(AKIA|ASIA|ABIA)[A-Z2-7]{16}$/);
    assert.equal(accountOfKeyId(id), account, id);
  }
});

test('older formats and the documentation examples claim no account', () => {
  for (const id of [
    'AKIAIOSFODNN7EXAMPLE',
    'AKIAI44QH8DHBEXAMPLE',
    'AKIAJ' + 'A'.repeat(15),
    'AKIAP' + '2'.repeat(15),
  ])
    assert.equal(accountOfKeyId(id), undefined, id);
  assert.equal(accountOfKeyId('AKIA1234'), undefined);
  assert.equal(accountOfKeyId('XXXX' + 'Q'.repeat(16)), undefined);
});
