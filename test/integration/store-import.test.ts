// keyless import aws-vault against folders in aws-vault's file-backend format: items made with
// node:crypto by test/helpers/aws-vault.ts, and one made by Python's `cryptography` package as an
// independent implementation of the same JWE (PBES2-HS256+A128KW, A256GCM).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runKeyless, runProcess } from '../helpers/cli.js';
import { makeTestEnv } from '../helpers/env.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../helpers/keys.js';
import { awsVaultCredentials, writeAwsVaultItem } from '../helpers/aws-vault.js';
import { cliErrorCode, itemFiles } from '../helpers/store.js';

const AV_PASS = 'aws-vault file passphrase';

const PYTHON_ITEM = `
import base64, json, os, sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
key, access_key_id, secret, passphrase = sys.argv[1:5]
p2s = os.urandom(12)
header = json.dumps({"alg": "PBES2-HS256+A128KW", "created": "2026-11-22 17:04:05 +0000 UTC", "enc": "A256GCM",
                     "p2c": 8192, "p2s": b64(p2s)}, separators=(",", ":"), sort_keys=True)
kek = PBKDF2HMAC(hashes.SHA256(), 16, b"PBES2-HS256+A128KW\\x00" + p2s, 8192).derive(passphrase.encode())
cek = os.urandom(32)
iv = os.urandom(12)
data = json.dumps({"AccessKeyID": access_key_id, "SecretAccessKey": secret, "SessionToken": "", "Source": "",
                   "CanExpire": False, "Expires": "0001-01-01T00:00:00Z"}).encode()
item = json.dumps({"Key": key, "Data": base64.b64encode(data).decode(), "Label": "aws-vault (%s)" % key,
                   "Description": "", "KeychainNotTrustApplication": False, "KeychainNotSynchronizable": False})
protected = b64(header.encode())
sealed = AESGCM(cek).encrypt(iv, item.encode(), protected.encode())
print(".".join([protected, b64(aes_key_wrap(kek, cek)), b64(iv), b64(sealed[:-16]), b64(sealed[-16:])]))
`;

async function listProfiles(
  vars: Record<string, string>,
): Promise<{ profile: string; accessKeyId: string }[]> {
  const r = await runKeyless(['list', '--json'], { env: vars });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { profile: string; accessKeyId: string }[];
}

const redacted = (id: string): string => `${id.slice(0, 4)}…${id.slice(-4)}`;

describe('keyless import aws-vault', () => {
  test('imports the long-term keys of an aws-vault folder and skips sessions, SSO tokens and foreign items', async (t) => {
    const env = await makeTestEnv(t);
    const dir = join(env.home, '.awsvault', 'keys');
    const dev = { id: fakeAccessKeyId(), secret: fakeSecretAccessKey() };
    const old = { id: fakeAccessKeyId(), secret: fakeSecretAccessKey() };
    const py = { id: fakeAccessKeyId(), secret: fakeSecretAccessKey() };
    await writeAwsVaultItem(dir, 'dev', awsVaultCredentials(dev.id, dev.secret), AV_PASS);
    await writeAwsVaultItem(
      dir,
      'team/old',
      { AccessKeyID: old.id, SecretAccessKey: old.secret, SessionToken: '', ProviderName: '' },
      AV_PASS,
    );
    const session = {
      AccessKeyId: fakeAccessKeyId('ASIA'),
      SecretAccessKey: fakeSecretAccessKey(),
      SessionToken: 'tok',
      Expiration: '2026-11-22T18:00:00Z',
    };
    await writeAwsVaultItem(
      dir,
      `sts.GetSessionToken,${Buffer.from('dev').toString('base64')},,1763831045`,
      session,
      AV_PASS,
    );
    await writeAwsVaultItem(dir, 'oidc:https://example.awsapps.com/start', { Token: 'x' }, AV_PASS);
    await writeAwsVaultItem(
      dir,
      'other-pass',
      awsVaultCredentials(fakeAccessKeyId(), fakeSecretAccessKey()),
      'another passphrase',
    );
    const made = await runProcess('python3', ['-c', PYTHON_ITEM, 'from-python', py.id, py.secret, AV_PASS], {
      env: process.env as Record<string, string>,
    });
    assert.equal(made.code, 0, made.stderr);
    await writeFile(join(dir, 'from-python'), made.stdout.trim(), { mode: 0o600 });

    const r = await runKeyless(['import', 'aws-vault'], {
      env: { ...env.vars, AWS_VAULT_FILE_PASSPHRASE: AV_PASS },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /imported 3 profile\(s\)/);
    assert.match(r.stderr, /skipped sts\.GetSessionToken.*cached session/);
    assert.match(r.stderr, /skipped oidc:https:\/\/example\.awsapps\.com\/start/);
    assert.match(r.stderr, /skipped other-pass: does not open with this passphrase/);
    for (const s of [dev.secret, old.secret, py.secret, dev.id])
      assert.ok(!r.stderr.includes(s) && !r.stdout.includes(s));
    assert.deepEqual(
      (await listProfiles(env.vars)).map((r) => [r.profile, r.accessKeyId]),
      [
        ['dev', redacted(dev.id)],
        ['from-python', redacted(py.id)],
        ['team/old', redacted(old.id)],
      ],
    );

    // Running it again keeps what is stored; --profile with --force replaces just that one.
    const again = await runKeyless(['import', 'aws-vault'], {
      env: { ...env.vars, AWS_VAULT_FILE_PASSPHRASE: AV_PASS },
    });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /kept dev: already stored/);
    await writeAwsVaultItem(
      dir,
      'dev',
      awsVaultCredentials(fakeAccessKeyId(), fakeSecretAccessKey()),
      AV_PASS,
    );
    const forced = await runKeyless(['import', 'aws-vault', '--dir', dir, '--profile', 'dev', '--force'], {
      env: { ...env.vars, AWS_VAULT_FILE_PASSPHRASE: AV_PASS },
    });
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /imported 1 profile\(s\)/);
    assert.notEqual((await listProfiles(env.vars))[0]?.accessKeyId, redacted(dev.id));
  });

  test('a wrong aws-vault passphrase is VAULT_IMPORT_BAD_PASSPHRASE and imports nothing', async (t) => {
    const env = await makeTestEnv(t);
    const dir = join(env.home, 'av');
    await writeAwsVaultItem(
      dir,
      'dev',
      awsVaultCredentials(fakeAccessKeyId(), fakeSecretAccessKey()),
      AV_PASS,
    );
    const r = await runKeyless(['import', 'aws-vault', '--dir', dir], {
      env: { ...env.vars, AWS_VAULT_FILE_PASSPHRASE: 'wrong', KEYLESS_DEBUG: '1' },
    });
    assert.equal(r.code, 2);
    assert.equal(cliErrorCode(r), 'VAULT_IMPORT_BAD_PASSPHRASE');
    assert.match(r.stderr, /AWS_VAULT_FILE_PASSPHRASE/);
    assert.deepEqual(await itemFiles(join(env.keylessHome, 'vault')), []);
  });

  test('a missing folder is VAULT_IMPORT_UNREADABLE; no passphrase without a terminal says how to give it', async (t) => {
    const env = await makeTestEnv(t);
    const missing = await runKeyless(['import', 'aws-vault', '--dir', join(env.home, 'nope')], {
      env: { ...env.vars, AWS_VAULT_FILE_PASSPHRASE: AV_PASS, KEYLESS_DEBUG: '1' },
    });
    assert.equal(missing.code, 2);
    assert.equal(cliErrorCode(missing), 'VAULT_IMPORT_UNREADABLE');
    assert.match(missing.stderr, /--dir/);
    // asked for only once the folder holds items (a missing folder is said first, above)
    const id = fakeAccessKeyId();
    await writeAwsVaultItem(
      join(env.home, '.awsvault', 'keys'),
      'dev',
      awsVaultCredentials(id, fakeSecretAccessKey()),
      AV_PASS,
    );
    const noPass = await runKeyless(['import', 'aws-vault'], { env: { ...env.vars, KEYLESS_DEBUG: '1' } });
    assert.equal(cliErrorCode(noPass), 'VAULT_PASSPHRASE_REQUIRED');
    assert.match(noPass.stderr, /AWS_VAULT_FILE_PASSPHRASE/);
  });
});
