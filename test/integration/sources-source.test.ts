// createCredentialSource as the credential server uses it (called on every refresh), against moto with
// signature checks on, with an in-memory store (test/helpers/memory-store.ts) holding the long-term key.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadEnv } from '../../src/config/env.js';
import { createCredentialSource } from '../../src/sources/index.js';
import { fixedClock } from '../../src/util/clock.js';
import { startMoto } from '../helpers/moto.js';
import { makeTestEnv } from '../helpers/env.js';
import { memoryStore } from '../helpers/memory-store.js';

describe('createCredentialSource (moto, signature checks on)', () => {
  test('repeated and concurrent calls share one AssumeRole and answer from memory while fresh', async (t) => {
    const moto = await startMoto(t, { roles: ['app'] });
    const te = await makeTestEnv(t, {
      endpoint: moto.url,
      awsConfig: `[profile app]\nrole_arn = ${moto.identity.roles.app}\nsource_profile = dev\n`,
    });
    const store = memoryStore({
      dev: { accessKeyId: moto.identity.accessKeyId, secretAccessKey: moto.identity.secretAccessKey },
    });
    const clock = fixedClock(Date.now());
    const source = await createCredentialSource({ profile: 'app' }, { env: loadEnv(te.vars), store, clock });
    const [a, b, c] = await Promise.all([source(), source(), source()]);
    assert.equal(moto.countRequests('AssumeRole'), 1);
    assert.equal(a?.accessKeyId, b?.accessKeyId);
    assert.equal(a?.accessKeyId, c?.accessKeyId);
    const reads = store.calls.get('getKey');
    for (let i = 0; i < 5; i++) assert.equal((await source()).accessKeyId, a.accessKeyId);
    assert.equal(store.calls.get('getKey'), reads, 'no store read while the session is fresh');
    assert.equal(moto.countRequests('AssumeRole'), 1);
    assert.match(a.arn ?? '', /:assumed-role\/app\//);
    // 50 minutes on: 10 minutes left of the one-hour session, less than the 15-minute margin
    clock.advance(50 * 60_000);
    const renewed = await source();
    assert.notEqual(renewed.accessKeyId, a.accessKeyId);
    assert.equal(moto.countRequests('AssumeRole'), 2);
    // after dispose nothing is answered from memory (a Vault lease behind it would be revoked)
    await source.dispose();
    const reads2 = store.calls.get('getKey') ?? 0;
    await source();
    assert.equal(store.calls.get('getKey'), reads2 + 1);
  });
});
