import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isKeylessError } from '../../../errors.js';
import { sourceFromFlags } from './resolve.js';

test('an empty profile name (an unset variable) is a usage error, not "profile  has no credentials"', async () => {
  await assert.rejects(
    sourceFromFlags('', {}),
    (err: unknown) =>
      isKeylessError(err) && err.code === 'USAGE' && /profile name is empty/.test(err.message),
  );
});
