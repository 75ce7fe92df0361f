import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../../../../test/helpers/keys.js';
import { isKeylessError } from '../../../errors.js';
import { keyFromStdinText } from './key-input.js';

const missing = (pattern: RegExp) => (err: unknown) =>
  isKeylessError(err) && err.code === 'VAULT_KEY_INPUT_MISSING' && pattern.test(err.message);

test('two lines on stdin are the key id and the secret', () => {
  const id = fakeAccessKeyId();
  const secret = fakeSecretAccessKey();
  assert.deepEqual(keyFromStdinText(`${id}\r\n\n${secret}\n`), { accessKeyId: id, secretAccessKey: secret });
});

test('nothing on stdin says how to give the keys; one line says what is missing from what was piped', () => {
  assert.throws(() => keyFromStdinText(''), missing(/no terminal to ask .*--env/));
  assert.throws(
    () => keyFromStdinText(`${fakeAccessKeyId()}\n`),
    missing(/stdin holds one line.*expects two/),
  );
});
