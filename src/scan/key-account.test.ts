import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { accountOfKeyId, keyIdForAccount } from './key-account.js';

test('the published example decodes to its account', () => {
  assert.equal(accountOfKeyId('ASIAY34FZKBOKMUTVV7A'), '609629065308');
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
