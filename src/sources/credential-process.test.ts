import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromCredentialProcess, splitCommand } from './credential-process.js';
import { isKeylessError } from '../errors.js';

test('splitCommand honours quotes and backslashes without a shell', () => {
  assert.deepEqual(splitCommand(`a "b c" 'd e' f\\ g ""`), ['a', 'b c', 'd e', 'f g', '']);
  assert.deepEqual(splitCommand('x; rm -rf /'), ['x;', 'rm', '-rf', '/']);
});

test('a credential_process that fails or prints no JSON is named with what to do', async () => {
  const fails = (pattern: RegExp) => (err: unknown) => isKeylessError(err) && pattern.test(err.message);
  await assert.rejects(
    fromCredentialProcess('p', '/bin/false', {}),
    fails(/credential_process "\/bin\/false" failed .*Run it by hand/),
  );
  await assert.rejects(
    fromCredentialProcess('p', 'echo not-json', { PATH: process.env.PATH }),
    fails(/did not print JSON\. Run it by hand/),
  );
});
