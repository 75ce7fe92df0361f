import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitCommand } from './credential-process.js';

test('splitCommand honours quotes and backslashes without a shell', () => {
  assert.deepEqual(splitCommand(`a "b c" 'd e' f\\ g ""`), ['a', 'b c', 'd e', 'f g', '']);
  assert.deepEqual(splitCommand('x; rm -rf /'), ['x;', 'rm', '-rf', '/']);
});
