import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadEnv } from '../config/env.js';
import { isKeylessError } from '../errors.js';
import { tempDir } from '../../test/helpers/tmp.js';
import { openStore, resolveBackend } from './index.js';

test('an unknown backend names where it came from, so the user knows what to fix', async (t) => {
  const home = await tempDir(t);
  const env = loadEnv({ HOME: home, KEYLESS_HOME: `${home}/.keyless`, KEYLESS_BACKEND: 'bogus' });
  const from = (where: string) => (err: unknown) =>
    isKeylessError(err) && err.code === 'USAGE' && err.message.includes(`"bogus" (from ${where})`);
  await assert.rejects(openStore(env), from('KEYLESS_BACKEND'));
  await assert.rejects(openStore(env, { backend: 'bogus' }), from('--backend'));
  assert.equal(resolveBackend(undefined), 'file');
  assert.equal(resolveBackend('keychain', '--backend'), 'keychain');
});
