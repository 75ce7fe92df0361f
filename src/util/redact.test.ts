import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactAccessKeyId, redactSecrets } from './redact.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../../test/helpers/keys.js';

test('redactAccessKeyId keeps the first and last four characters only', () => {
  const id = fakeAccessKeyId('AKIA');
  const r = redactAccessKeyId(id);
  assert.equal(r, `AKIA…${id.slice(-4)}`);
  assert.ok(!r.includes(id.slice(4, 16)));
});

test('redactSecrets removes every occurrence of each secret', () => {
  const s = fakeSecretAccessKey();
  assert.equal(redactSecrets(`a ${s} b ${s}`, [s, undefined]), 'a **** b ****');
});
