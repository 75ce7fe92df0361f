// keyless rotate against moto_server with signature checks: moto accepts a new key at once and
// refuses a deleted one, so these tests see exactly which keys work after each step.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { loadEnv } from '../../src/config/env.js';
import { FileStore } from '../../src/store/file-store.js';
import { rotateKey, type RotationApi } from '../../src/store/rotate.js';
import { awsRotationApi } from '../../src/store/rotate-aws.js';
import { KEYLESS_BIN, runKeyless } from '../helpers/cli.js';
import { makeTestEnv } from '../helpers/env.js';
import { startMoto } from '../helpers/moto.js';
import { accessKeyIdsOf, createTestUser, keyWorks } from '../helpers/iam-users.js';
import { cliErrorCode } from '../helpers/store.js';

function storeAt(keylessHome: string, passphrase: string): FileStore {
  return new FileStore({
    vaultDir: join(keylessHome, 'vault'),
    sessionsDir: join(keylessHome, 'sessions'),
    lockFile: join(keylessHome, 'locks', 'vault.lock'),
    passphrase: async () => passphrase,
  });
}

class Killed extends Error {}

/** The real API, "killed" just before or just after its n-th call (1-based). */
function killingApi(real: RotationApi, n: number, when: 'before' | 'after'): RotationApi {
  let calls = 0;
  let dead = false;
  const wrap =
    <A extends unknown[], T>(fn: (...a: A) => Promise<T>) =>
    async (...a: A): Promise<T> => {
      // a killed process makes no further call, so once dead every call fails (retries included)
      if (dead) throw new Killed('already killed');
      calls++;
      if (calls === n && when === 'before') dead = true;
      if (dead) throw new Killed(`killed before call ${n}`);
      const out = await fn(...a);
      if (calls === n && when === 'after') dead = true;
      if (dead) throw new Killed(`killed after call ${n}`);
      return out;
    };
  return {
    whoAmI: wrap(real.whoAmI),
    createAccessKey: wrap(real.createAccessKey),
    deleteAccessKey: wrap(real.deleteAccessKey),
    listAccessKeys: wrap(real.listAccessKeys),
  };
}

describe('keyless rotate (moto, signature checks on)', () => {
  test('creates a new key, verifies it, deletes the old one at AWS, and stores the new one', async (t) => {
    const moto = await startMoto(t, { roles: [] });
    const user = await createTestUser(moto);
    const env = await makeTestEnv(t, { endpoint: moto.url });
    const add = await runKeyless(['add', 'dev', '--env'], {
      env: { ...env.vars, AWS_ACCESS_KEY_ID: user.accessKeyId, AWS_SECRET_ACCESS_KEY: user.secretAccessKey },
    });
    assert.equal(add.code, 0, add.stderr);
    moto.resetCounts();
    const r = await runKeyless(['rotate', 'dev'], { env: env.vars });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /rotated profile dev: AKIA…\w{4} deleted, AKIA…\w{4} in use/);
    assert.ok(!r.stderr.includes(user.secretAccessKey) && !r.stdout.includes(user.accessKeyId));
    const stored = await storeAt(env.keylessHome, env.vars.KEYLESS_PASSPHRASE as string).getRecord('dev');
    assert.ok(stored !== undefined);
    assert.notEqual(stored.key.accessKeyId, user.accessKeyId);
    assert.equal(stored.rotation, undefined, 'no rotation left pending');
    assert.deepEqual(await accessKeyIdsOf(moto, user.userName), [stored.key.accessKeyId]);
    assert.equal(await keyWorks(moto, stored.key), true, 'the new key signs requests');
    assert.equal(await keyWorks(moto, user), false, 'the old key is refused');
    assert.equal(moto.countRequests('CreateAccessKey'), 1);
    assert.equal(moto.countRequests('DeleteAccessKey'), 1);
  });

  test('a rotation interrupted before or after any AWS call leaves a working key, and rotate again finishes it', async (t) => {
    const moto = await startMoto(t, { roles: [] });
    const env = await makeTestEnv(t, { endpoint: moto.url });
    const real = awsRotationApi(loadEnv(env.vars));
    const store = storeAt(env.keylessHome, 'rotate passphrase');
    // A full rotation makes 5 calls: whoAmI(old), CreateAccessKey, whoAmI(old), whoAmI(new), DeleteAccessKey.
    for (let n = 1; n <= 5; n++) {
      for (const when of ['before', 'after'] as const) {
        const user = await createTestUser(moto);
        const profile = `p${n}${when}`;
        await store.putRecord({ profile, key: user, addedAt: new Date().toISOString() });
        await assert.rejects(
          rotateKey(store, profile, killingApi(real, n, when), { verifyTimeoutMs: 0 }),
          `${profile} was interrupted`,
        );
        const during = await store.getRecord(profile);
        assert.ok(during !== undefined);
        assert.equal(
          await keyWorks(moto, during.key),
          true,
          `${profile}: the stored key works after the interruption`,
        );
        const done = await rotateKey(store, profile, real);
        const after = await store.getRecord(profile);
        assert.equal(after?.rotation, undefined, profile);
        assert.equal(after?.key.accessKeyId, done.newAccessKeyId);
        assert.equal(await keyWorks(moto, after!.key), true, `${profile}: the new key works`);
        assert.deepEqual(
          await accessKeyIdsOf(moto, user.userName),
          [done.newAccessKeyId],
          `${profile}: only the new key is left`,
        );
        assert.equal(await keyWorks(moto, user), false, `${profile}: the original key is deleted`);
      }
    }
  });

  test('keyless rotate SIGKILLed at random moments never leaves the profile without a working key', async (t) => {
    const moto = await startMoto(t, { roles: [] });
    const env = await makeTestEnv(t, { endpoint: moto.url });
    const store = storeAt(env.keylessHome, env.vars.KEYLESS_PASSPHRASE as string);
    for (const [i, delay] of [300, 600, 800, 1000, 1300].entries()) {
      const user = await createTestUser(moto);
      const profile = `k${i}`;
      await store.putRecord({ profile, key: user, addedAt: new Date().toISOString() });
      const child = spawn(process.execPath, [KEYLESS_BIN, 'rotate', profile], {
        env: env.vars,
        stdio: 'ignore',
      });
      const exited = new Promise((r) => child.once('exit', r));
      setTimeout(() => child.kill('SIGKILL'), delay);
      await exited;
      const during = await storeAt(env.keylessHome, env.vars.KEYLESS_PASSPHRASE as string).getRecord(profile);
      assert.equal(await keyWorks(moto, during!.key), true, `${profile}: works after a kill at ${delay} ms`);
      const again = await runKeyless(['rotate', profile], { env: env.vars });
      assert.equal(again.code, 0, again.stderr);
      const after = await storeAt(env.keylessHome, env.vars.KEYLESS_PASSPHRASE as string).getRecord(profile);
      assert.equal(after?.rotation, undefined);
      assert.deepEqual(await accessKeyIdsOf(moto, user.userName), [after!.key.accessKeyId]);
    }
  });

  test('rotate of a missing profile is VAULT_PROFILE_NOT_FOUND; an unusable key is VAULT_ROTATE_FAILED with nothing changed', async (t) => {
    const moto = await startMoto(t, { roles: [] });
    const env = await makeTestEnv(t, { endpoint: moto.url });
    const vars = { ...env.vars, KEYLESS_DEBUG: '1' };
    const missing = await runKeyless(['rotate', 'nope'], { env: vars });
    assert.equal(missing.code, 2);
    assert.equal(cliErrorCode(missing), 'VAULT_PROFILE_NOT_FOUND');
    const user = await createTestUser(moto);
    const bogus = {
      accessKeyId: user.accessKeyId,
      secretAccessKey: `${user.secretAccessKey.slice(0, -4)}AAAA`,
    };
    await storeAt(env.keylessHome, env.vars.KEYLESS_PASSPHRASE as string).putRecord({
      profile: 'bad',
      key: bogus,
      addedAt: new Date().toISOString(),
    });
    const r = await runKeyless(['rotate', 'bad'], { env: vars });
    assert.equal(r.code, 2);
    assert.equal(cliErrorCode(r), 'VAULT_ROTATE_FAILED');
    assert.match(r.stderr, /SignatureDoesNotMatch/);
    const after = await storeAt(env.keylessHome, env.vars.KEYLESS_PASSPHRASE as string).getRecord('bad');
    assert.deepEqual(after?.key, bogus);
    assert.equal(after?.rotation, undefined);
    assert.deepEqual(await accessKeyIdsOf(moto, user.userName), [user.accessKeyId], 'no key was created');
  });
});
