import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../../test/helpers/keys.js';
import { isKeylessError } from '../errors.js';
import { rotateKey, type RotationApi } from './rotate.js';
import type { KeyRecord, VaultStore } from './types.js';

test('a rotation that cannot reach AWS says so and what to check; nothing is saved', async () => {
  const record: KeyRecord = {
    profile: 'dev',
    key: { accessKeyId: fakeAccessKeyId(), secretAccessKey: fakeSecretAccessKey() },
    addedAt: '2026-01-01T00:00:00.000Z',
  };
  let saves = 0;
  const store = {
    location: '/vault',
    getRecord: async (p: string) => (p === 'dev' ? record : undefined),
    putRecord: async () => {
      saves++;
    },
  } as unknown as VaultStore;
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  const api = {
    whoAmI: () => Promise.reject(refused),
  } as unknown as RotationApi;
  await assert.rejects(
    rotateKey(store, 'dev', api),
    (err: unknown) =>
      isKeylessError(err) &&
      err.code === 'VAULT_ROTATE_FAILED' &&
      /could not check the current key: Error: connect ECONNREFUSED 127\.0\.0\.1:1\. AWS could not be reached: check the network .*AWS_ENDPOINT_URL if it is set\. The stored key/.test(
        err.message,
      ),
  );
  assert.equal(saves, 0);
});
