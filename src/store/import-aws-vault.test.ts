import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { awsVaultCredentials, awsVaultFileName, makeAwsVaultItem } from '../../test/helpers/aws-vault.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../../test/helpers/keys.js';
import { isKeylessError } from '../errors.js';
import {
  AwsVaultPassphraseError,
  classifyAwsVaultItem,
  decodeItemFileName,
  decryptAwsVaultItem,
  readAwsVaultDir,
} from './import-aws-vault.js';
import { tempDir } from '../../test/helpers/tmp.js';
import { join } from 'node:path';

describe('aws-vault file backend items', () => {
  test('decrypts a PBES2-HS256+A128KW / A256GCM item to its keyring item', () => {
    const id = fakeAccessKeyId();
    const secret = fakeSecretAccessKey();
    const jwe = makeAwsVaultItem('dev', awsVaultCredentials(id, secret), 'vault pass');
    const item = classifyAwsVaultItem(decryptAwsVaultItem(jwe, 'vault pass', 'dev'), 'dev');
    assert.deepEqual(item, {
      kind: 'key',
      file: 'dev',
      profile: 'dev',
      key: { accessKeyId: id, secretAccessKey: secret },
    });
  });

  test('a wrong passphrase fails the key unwrap; altered content or a huge p2c is refused', () => {
    const jwe = makeAwsVaultItem(
      'dev',
      awsVaultCredentials(fakeAccessKeyId(), fakeSecretAccessKey()),
      'right',
    );
    assert.throws(() => decryptAwsVaultItem(jwe, 'wrong', 'dev'), AwsVaultPassphraseError);
    const parts = jwe.split('.');
    const ct = Buffer.from(parts[3] as string, 'base64url');
    ct[0] = (ct[0] as number) ^ 1;
    parts[3] = ct.toString('base64url');
    assert.throws(
      () => decryptAwsVaultItem(parts.join('.'), 'right', 'dev'),
      (e: unknown) => isKeylessError(e) && e.code === 'VAULT_IMPORT_ITEM_INVALID',
    );
    const slow = makeAwsVaultItem('dev', {}, 'right', { p2c: 2_000_000 });
    assert.throws(() => decryptAwsVaultItem(slow, 'right', 'dev'), /p2c=2000000/);
    assert.throws(() => decryptAwsVaultItem('a.b.c', 'right', 'dev'), /5 parts/);
  });

  test('imports long-term keys in both spellings and skips sessions and SSO tokens', () => {
    const id = fakeAccessKeyId();
    const secret = fakeSecretAccessKey();
    const plain = (key: string, data: object): Buffer =>
      decryptAwsVaultItem(makeAwsVaultItem(key, data, 'p'), 'p', key);
    assert.equal(
      classifyAwsVaultItem(plain('old', { AccessKeyId: id, SecretAccessKey: secret }), 'old').kind,
      'key',
    );
    const session = {
      AccessKeyId: fakeAccessKeyId('ASIA'),
      SecretAccessKey: secret,
      SessionToken: 't',
      Expiration: 'x',
    };
    for (const key of ['sts.GetSessionToken,ZGV2,,1763831045', 'oidc:https://example.awsapps.com/start']) {
      assert.equal(classifyAwsVaultItem(plain(key, session), key).kind, 'skipped', key);
    }
    const withToken = classifyAwsVaultItem(
      plain('temp', { ...awsVaultCredentials(id, secret), SessionToken: 'tok' }),
      'temp',
    );
    assert.equal(withToken.kind, 'skipped');
  });

  test('a missing folder is said before the passphrase is asked for; an empty one asks for none', async (t) => {
    let asked = 0;
    const ask = (): Promise<string> => {
      asked++;
      return Promise.reject(new Error('asked'));
    };
    const dir = await tempDir(t);
    await assert.rejects(
      readAwsVaultDir(join(dir, 'missing'), ask),
      (e: unknown) => isKeylessError(e) && e.code === 'VAULT_IMPORT_UNREADABLE',
    );
    assert.deepEqual(await readAwsVaultDir(dir, ask), []);
    assert.equal(asked, 0);
  });

  test('file names unescape "/" and "%" as aws-vault escapes them', () => {
    const key = 'oidc:https://x/%y';
    assert.equal(awsVaultFileName(key), 'oidc:https:%2F%2Fx%2F%25y');
    assert.equal(decodeItemFileName(awsVaultFileName(key)), key);
  });
});
