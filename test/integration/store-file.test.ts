// The file backend against a real file system: layout, modes, what the bytes reveal, bad input.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, stat, truncate, writeFile, rename, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FileStore } from '../../src/store/file-store.js';
import type { KeyRecord } from '../../src/store/types.js';
import { tempDir } from '../helpers/tmp.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../helpers/keys.js';
import { errorCode, itemFiles, snapshot } from '../helpers/store.js';

async function makeStore(t: Parameters<typeof tempDir>[0], passphrase = 'correct horse battery') {
  const home = await tempDir(t);
  return { home, store: storeAt(home, passphrase) };
}

function storeAt(home: string, passphrase: string): FileStore {
  return new FileStore({
    vaultDir: join(home, 'vault'),
    sessionsDir: join(home, 'sessions'),
    lockFile: join(home, 'locks', 'vault.lock'),
    passphrase: async () => passphrase,
  });
}

function record(profile: string): KeyRecord {
  return {
    profile,
    key: { accessKeyId: fakeAccessKeyId(), secretAccessKey: fakeSecretAccessKey() },
    addedAt: new Date().toISOString(),
  };
}

describe('FileStore', () => {
  test('stores, lists and removes keys, one 0600 file per item in 0700 folders', async (t) => {
    const { home, store } = await makeStore(t);
    const dev = record('dev');
    const prod = record('prod');
    await store.putRecord(dev);
    await store.putRecord(prod);
    assert.deepEqual(await store.getKey('dev'), dev.key);
    assert.deepEqual(await storeAt(home, 'correct horse battery').getRecord('prod'), prod);
    assert.equal(await store.getKey('missing'), undefined);
    const files = await itemFiles(join(home, 'vault'));
    assert.equal(files.length, 2);
    for (const f of files) assert.equal((await stat(f)).mode & 0o777, 0o600);
    for (const d of ['vault', 'locks']) assert.equal((await stat(join(home, d))).mode & 0o777, 0o700);
    const listed = await store.listKeys();
    assert.deepEqual(
      listed.map((k) => [k.profile, k.accessKeyIdRedacted, k.backend]),
      [
        ['dev', `${dev.key.accessKeyId.slice(0, 4)}…${dev.key.accessKeyId.slice(-4)}`, 'file'],
        ['prod', `${prod.key.accessKeyId.slice(0, 4)}…${prod.key.accessKeyId.slice(-4)}`, 'file'],
      ],
    );
    assert.equal(await store.removeKey('dev'), true);
    assert.equal(await store.removeKey('dev'), false);
    assert.equal(await store.getKey('dev'), undefined);
    assert.equal((await itemFiles(join(home, 'vault'))).length, 1);
  });

  test('the files contain neither the secret, the key id nor the profile name, in any common encoding', async (t) => {
    const { home, store } = await makeStore(t);
    const r = record('my-production-profile');
    await store.putRecord(r);
    await store.putSession('cache-key-my-production-profile', {
      accessKeyId: fakeAccessKeyId('ASIA'),
      secretAccessKey: fakeSecretAccessKey(),
      sessionToken: 'session-token-value-xyz',
      expiration: new Date(Date.now() + 3600_000),
    });
    const names = [...(await readdir(join(home, 'vault'))), ...(await readdir(join(home, 'sessions')))];
    const needles = [
      r.key.accessKeyId,
      r.key.secretAccessKey,
      r.profile,
      'production',
      'session-token-value-xyz',
    ];
    for (const n of names) for (const s of needles) assert.ok(!n.includes(s), `file name ${n} leaks ${s}`);
    for (const f of [
      ...(await itemFiles(join(home, 'vault'))),
      ...(await itemFiles(join(home, 'sessions'))),
    ]) {
      const bytes = await readFile(f);
      for (const s of needles) {
        for (const form of [
          Buffer.from(s),
          Buffer.from(Buffer.from(s).toString('base64')),
          Buffer.from(Buffer.from(s).toString('hex')),
        ]) {
          assert.equal(bytes.indexOf(form), -1, `${f} contains ${s}`);
        }
      }
    }
  });

  test('a wrong passphrase is VAULT_BAD_PASSPHRASE for reads and writes, and writes nothing', async (t) => {
    const { home, store } = await makeStore(t);
    await store.putRecord(record('dev'));
    const before = await snapshot([join(home, 'vault'), join(home, 'sessions')]);
    const wrong = storeAt(home, 'wrong passphrase');
    assert.equal(await errorCode(wrong.getKey('dev')), 'VAULT_BAD_PASSPHRASE');
    assert.equal(await errorCode(wrong.putRecord(record('other'))), 'VAULT_BAD_PASSPHRASE');
    assert.equal(await errorCode(wrong.removeKey('dev')), 'VAULT_BAD_PASSPHRASE');
    assert.equal(await errorCode(wrong.listRecords()), 'VAULT_BAD_PASSPHRASE');
    assert.equal(
      await errorCode(wrong.putSession('s', { accessKeyId: 'a', secretAccessKey: 'b' })),
      'VAULT_BAD_PASSPHRASE',
    );
    assert.deepEqual(await snapshot([join(home, 'vault'), join(home, 'sessions')]), before);
  });

  test('a tampered item is VAULT_ITEM_CORRUPT and a truncated one VAULT_ITEM_TRUNCATED; the others still open', async (t) => {
    const { home, store } = await makeStore(t);
    for (const p of ['a', 'b', 'c']) await store.putRecord(record(p));
    const reopen = (): FileStore => storeAt(home, 'correct horse battery');
    const files = await itemFiles(join(home, 'vault'));
    const [f1, f2] = files as [string, string];
    const bytes = await readFile(f1);
    bytes[bytes.length - 5] = (bytes[bytes.length - 5] as number) ^ 0x01;
    await writeFile(f1, bytes);
    await truncate(f2, (await stat(f2)).size - 7);
    const { records, problems } = await reopen().listRecords();
    assert.equal(records.length, 1, 'the intact item is still listed');
    assert.deepEqual(problems.map((p) => p.code).sort(), ['VAULT_ITEM_CORRUPT', 'VAULT_ITEM_TRUNCATED']);
    for (const p of problems) assert.match(p.message, /Restore it from a backup, or remove that file/);
    assert.equal(await errorCode(reopen().listKeys()), problems[0]?.code);
    // getKey of the damaged profiles reports the damage, not "missing"
    const codes = await Promise.all(['a', 'b', 'c'].map((p) => errorCode(reopen().getKey(p))));
    assert.deepEqual(codes.sort(), ['VAULT_ITEM_CORRUPT', 'VAULT_ITEM_TRUNCATED', 'none']);
  });

  test('an item renamed over another profile is refused instead of serving the wrong key', async (t) => {
    const { home, store } = await makeStore(t);
    await store.putRecord(record('dev'));
    const [devFile] = await itemFiles(join(home, 'vault'));
    await store.putRecord(record('prod'));
    const prodFile = (await itemFiles(join(home, 'vault'))).find((f) => f !== devFile) as string;
    await rename(devFile as string, prodFile);
    assert.equal(
      await errorCode(storeAt(home, 'correct horse battery').getKey('prod')),
      'VAULT_ITEM_CORRUPT',
    );
  });

  test('a vault path that is not a readable folder is VAULT_UNREADABLE and nothing is written', async (t) => {
    const home = await tempDir(t);
    await writeFile(join(home, 'vault'), 'not a folder');
    const store = storeAt(home, 'p');
    assert.equal(await errorCode(store.getKey('dev')), 'VAULT_UNREADABLE');
    assert.equal(await errorCode(store.putRecord(record('dev'))), 'VAULT_UNREADABLE');
    await assert.rejects(store.listKeys(), /chmod 700/);
    assert.equal(await readFile(join(home, 'vault'), 'utf8'), 'not a folder');
  });

  test('create mode refuses an existing profile with VAULT_PROFILE_EXISTS and keeps the old key', async (t) => {
    const { store } = await makeStore(t);
    const first = record('dev');
    await store.putRecord(first, { mode: 'create' });
    assert.equal(await errorCode(store.putRecord(record('dev'), { mode: 'create' })), 'VAULT_PROFILE_EXISTS');
    assert.deepEqual(await store.getKey('dev'), first.key);
    const second = record('dev');
    await store.putRecord(second);
    assert.deepEqual(await store.getKey('dev'), second.key);
  });

  test('caches sessions encrypted; a damaged session is a cache miss, never an error', async (t) => {
    const { home, store } = await makeStore(t);
    const creds = {
      accessKeyId: fakeAccessKeyId('ASIA'),
      secretAccessKey: fakeSecretAccessKey(),
      sessionToken: 'tok',
      expiration: new Date('2030-01-01T00:00:00Z'),
      roleArn: 'arn:aws:iam::123456789012:role/r',
    };
    await store.putSession('k1', creds);
    assert.deepEqual(await store.getSession('k1'), creds);
    assert.equal(await store.getSession('k2'), undefined);
    const [f] = await itemFiles(join(home, 'sessions'));
    await truncate(f as string, 10);
    assert.equal(await storeAt(home, 'correct horse battery').getSession('k1'), undefined);
    await store.removeSession('k1');
    assert.deepEqual(await itemFiles(join(home, 'sessions')), []);
  });

  test('putSession drops expired and damaged sessions but keeps live ones and every key', async (t) => {
    const { home, store } = await makeStore(t);
    await store.putRecord(record('dev'));
    const session = (ms: number) => ({
      accessKeyId: fakeAccessKeyId('ASIA'),
      secretAccessKey: fakeSecretAccessKey(),
      sessionToken: 't',
      expiration: new Date(Date.now() + ms),
    });
    await store.putSession('damaged', session(3600_000));
    const [damaged] = await itemFiles(join(home, 'sessions'));
    await truncate(damaged as string, 20);
    await store.putSession('expired', session(-1000));
    const live = session(3600_000);
    await store.putSession('live', live);
    assert.equal((await itemFiles(join(home, 'sessions'))).length, 1, 'only the live session is left');
    assert.deepEqual(await store.getSession('live'), live);
    assert.equal(await store.getSession('expired'), undefined);
    assert.ok(await store.getKey('dev'));
  });

  test('a temp file left by a killed writer is cleaned up by the next write and never listed', async (t) => {
    const { home, store } = await makeStore(t);
    await store.putRecord(record('dev'));
    await mkdir(join(home, 'vault'), { recursive: true });
    await writeFile(join(home, 'vault', '.abc.123.def.tmp'), 'half written');
    assert.equal((await store.listRecords()).records.length, 1);
    await store.putRecord(record('prod'));
    assert.deepEqual(
      (await readdir(join(home, 'vault'))).filter((n) => n.endsWith('.tmp')),
      [],
    );
  });

  test('listing 20 items derives the key once (measured against one scrypt run)', async (t) => {
    const { home, store } = await makeStore(t, 'list timing passphrase');
    for (let i = 0; i < 20; i++) await store.putRecord(record(`p${i}`));
    const { deriveMasterKey, randomSalt, DEFAULT_SCRYPT } = await import('../../src/store/crypto.js');
    const t0 = performance.now();
    await deriveMasterKey('x', randomSalt(), DEFAULT_SCRYPT);
    const oneKdf = performance.now() - t0;
    const fresh = storeAt(home, 'list timing passphrase');
    const t1 = performance.now();
    assert.equal((await fresh.listRecords()).records.length, 20);
    const list = performance.now() - t1;
    // One derivation plus 20 AES-GCM opens; per-item scrypt would be ~20x one derivation.
    assert.ok(
      list < oneKdf * 4,
      `listing took ${list.toFixed(0)} ms, one derivation ${oneKdf.toFixed(0)} ms`,
    );
  });
});
