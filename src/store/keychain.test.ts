// The keychain backend's bookkeeping over an in-memory keyring (stand-in keyring): this machine has
// no Secret Service and refuses the kernel keyring, so the real binding is only tested for its
// "unavailable" message (test/integration/store-cli.test.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isKeylessError } from '../errors.js';
import { KeychainStore } from './keychain.js';

function memoryKeyring(): {
  entries: Map<string, string>;
  factory: ConstructorParameters<typeof KeychainStore>[0];
} {
  const entries = new Map<string, string>();
  return {
    entries,
    factory: (service, account) => {
      const id = `${service}/${account}`;
      return {
        getPassword: () => entries.get(id) ?? null,
        setPassword: (p: string) => void entries.set(id, p),
        deletePassword: () => entries.delete(id),
      };
    },
  };
}

const key = (n: number) => ({
  accessKeyId: `AKIA${String(n).padStart(16, '0')}`,
  secretAccessKey: 's'.repeat(40),
});

describe('KeychainStore (stand-in keyring)', () => {
  test('stores one entry per profile plus an index, lists, removes and refuses to overwrite in create mode', async () => {
    const { entries, factory } = memoryKeyring();
    const store = new KeychainStore(factory, 'keyless');
    await store.putRecord(
      { profile: 'b', key: key(2), addedAt: '2026-01-02T00:00:00.000Z' },
      { mode: 'create' },
    );
    await store.putKey('a', key(1));
    assert.deepEqual(await store.getKey('b'), key(2));
    assert.deepEqual(JSON.parse(entries.get('keyless/index') ?? '[]'), ['b', 'a']);
    assert.deepEqual(
      (await store.listKeys()).map((k) => [k.profile, k.backend]),
      [
        ['a', 'keychain'],
        ['b', 'keychain'],
      ],
    );
    await assert.rejects(
      store.putRecord({ profile: 'a', key: key(3), addedAt: 'x' }, { mode: 'create' }),
      /already in/,
    );
    assert.equal(await store.removeKey('a'), true);
    assert.equal(await store.removeKey('a'), false);
    assert.deepEqual(JSON.parse(entries.get('keyless/index') ?? '[]'), ['b']);
  });

  test('an entry edited by another program is VAULT_ITEM_CORRUPT, listed as a problem beside the good ones', async () => {
    const { entries, factory } = memoryKeyring();
    const store = new KeychainStore(factory, 'keyless');
    await store.putKey('good', key(1));
    await store.putKey('bad', key(2));
    entries.set('keyless/key:bad', 'hello');
    await assert.rejects(
      store.getKey('bad'),
      (e: unknown) => isKeylessError(e) && e.code === 'VAULT_ITEM_CORRUPT',
    );
    const { records, problems } = await store.listRecords();
    assert.deepEqual(
      records.map((r) => r.profile),
      ['good'],
    );
    assert.equal(problems[0]?.code, 'VAULT_ITEM_CORRUPT');
  });

  test('caches sessions under a hashed account name', async () => {
    const { entries, factory } = memoryKeyring();
    const store = new KeychainStore(factory, 'keyless');
    const creds = {
      accessKeyId: 'ASIAX',
      secretAccessKey: 'y',
      sessionToken: 't',
      expiration: new Date('2030-01-01T00:00:00Z'),
    };
    await store.putSession('profile dev role arn:aws:iam::1:role/x', creds);
    assert.deepEqual(await store.getSession('profile dev role arn:aws:iam::1:role/x'), creds);
    assert.ok(
      [...entries.keys()].every((k) => !k.includes('role/x')),
      'the cache key is not an account name',
    );
    await store.removeSession('profile dev role arn:aws:iam::1:role/x');
    assert.equal(await store.getSession('profile dev role arn:aws:iam::1:role/x'), undefined);
  });

  test('a platform failure becomes VAULT_KEYCHAIN_UNAVAILABLE with what to do', async () => {
    const store = new KeychainStore(() => {
      throw new Error('Platform failure: DBus error');
    }, 'keyless');
    await assert.rejects(store.getKey('a'), (e: unknown) => {
      assert.ok(isKeylessError(e));
      assert.equal(e.code, 'VAULT_KEYCHAIN_UNAVAILABLE');
      assert.match(e.message, /DBus error/);
      assert.match(e.message, /file backend/);
      return true;
    });
  });
});
