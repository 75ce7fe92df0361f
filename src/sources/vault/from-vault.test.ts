import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseVaultPath, normalizeTtl } from './from-vault.js';

describe('parseVaultPath', () => {
  test('splits mount, kind and role, nested mounts included', () => {
    assert.deepEqual(parseVaultPath('aws/creds/deploy'), { mount: 'aws', kind: 'creds', role: 'deploy' });
    assert.deepEqual(parseVaultPath('/team/aws/sts/ci/'), { mount: 'team/aws', kind: 'sts', role: 'ci' });
  });
  test('refuses a path that is not MOUNT/creds|sts/ROLE, naming the profile', () => {
    assert.throws(
      () => parseVaultPath('aws/roles/deploy', 'p1'),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'SOURCE_VAULT_CONFIG');
        assert.match(e.message, /profile p1/);
        assert.match(e.message, /aws\/creds\/deploy/);
        return true;
      },
    );
  });
});

describe('normalizeTtl', () => {
  test('accepts seconds, s, m and h', () => {
    assert.equal(normalizeTtl('900'), '900s');
    assert.equal(normalizeTtl('900s'), '900s');
    assert.equal(normalizeTtl('15m'), '900s');
    assert.equal(normalizeTtl('1h'), '3600s');
  });
  test('refuses anything else', () => {
    assert.throws(() => normalizeTtl('soon'), /not a duration/);
  });
});

describe('fromVault iam_user wait (in-process fake Vault client)', () => {
  test('waits until the verifier accepts the new key, then hands it out', async () => {
    const { fromVault } = await import('./from-vault.js');
    let checks = 0;
    const slept: number[] = [];
    const source = fromVault(
      { path: 'aws/creds/u' },
      {
        client: {
          config: { address: 'http://vault.test', token: 't', tokenSource: 'VAULT_TOKEN', skipVerify: false },
          call: async () => ({
            status: 200,
            body: {
              lease_id: 'aws/creds/u/1',
              lease_duration: 3600,
              data: { access_key: 'AKIDTEST', secret_key: 'sk', security_token: null },
            },
          }),
        },
        verify: async () => ++checks >= 3,
        sleep: async (ms) => void slept.push(ms),
      },
    );
    const creds = await source();
    assert.equal(creds.accessKeyId, 'AKIDTEST');
    assert.equal(checks, 3);
    assert.deepEqual(slept, [250, 500]);
  });
});
