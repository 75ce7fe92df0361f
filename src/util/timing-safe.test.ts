import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timingSafeEqualString } from './timing-safe.js';

test('timingSafeEqualString accepts equal strings and refuses any difference', () => {
  assert.equal(timingSafeEqualString('abc123', 'abc123'), true);
  assert.equal(timingSafeEqualString('abc123', 'abc124'), false);
  assert.equal(timingSafeEqualString('abc123', 'abc1234'), false);
  assert.equal(timingSafeEqualString('', 'a'), false);
});
