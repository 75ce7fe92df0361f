import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { detectCredentials } from './detectors.js';
import { scanDockerfile } from './dockerfile.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../../test/helpers/keys.js';

const scan = (text: string) => detectCredentials(text, { base: { path: 'f' } });
const rules = (text: string) => scan(text).map((f) => f.rule);

describe('credential detectors', () => {
  test('finds a key id and its paired secret, with line numbers and redacted excerpts', () => {
    const id = fakeAccessKeyId();
    const secret = fakeSecretAccessKey();
    const f = scan(`x\nkey = ${id}\nsecret = ${secret}\n`);
    assert.deepEqual(
      f.map((x) => [x.rule, x.location.line]),
      [
        ['SCAN_AWS_ACCESS_KEY_ID', 2],
        ['SCAN_AWS_SECRET_ACCESS_KEY', 3],
      ],
    );
    for (const x of f) {
      assert.ok(!x.excerpt.includes(secret) && !x.message.includes(secret) && !x.message.includes(id));
    }
    assert.equal(f[1]?.severity, 'critical');
  });

  test('a secret assigned to a secret-like name is found without a key id nearby', () => {
    assert.deepEqual(rules(`AWS_SECRET_ACCESS_KEY=${fakeSecretAccessKey()}`), ['SCAN_AWS_SECRET_ACCESS_KEY']);
  });

  test('the AWS documentation examples and placeholders are informational', () => {
    const f = scan(
      'aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n',
    );
    assert.ok(f.length > 0 && f.every((x) => x.severity === 'info'));
  });

  test('hashes, base64 blobs, minified code and binary files give no false positives', () => {
    const hashes = Array.from({ length: 50 }, () =>
      createHash('sha1').update(randomBytes(8)).digest('hex'),
    ).join('\n');
    const blob = randomBytes(3000).toString('base64');
    const minified = `var a=function(){return"${randomBytes(30).toString('base64')}"};`.repeat(20);
    assert.deepEqual(rules(`${hashes}\n${blob}\n${minified}`), []);
    assert.deepEqual(rules(`\u0000\u0001${fakeAccessKeyId()}`), []);
  });

  test('keyless:ignore on the line suppresses it', () => {
    assert.deepEqual(rules(`k = ${fakeAccessKeyId()} # keyless:ignore`), []);
  });

  test('Dockerfile: secret-named ARG/ENV without a value and COPY of .aws are findings; secret mounts are not', () => {
    const f = scanDockerfile(
      'FROM x\nARG AWS_SECRET_ACCESS_KEY\nENV AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID\nCOPY .aws /root/.aws\nRUN --mount=type=secret,id=aws,target=/root/.aws/credentials aws s3 ls\nRUN --mount=type=secret,id=aws,env=AWS_SECRET_ACCESS_KEY true\n',
      'Dockerfile',
    );
    assert.deepEqual(
      f.map((x) => [x.rule, x.location.line]),
      [
        ['SCAN_DOCKERFILE_SECRET_ARG_ENV', 2],
        ['SCAN_DOCKERFILE_SECRET_ARG_ENV', 3],
        ['SCAN_DOCKERFILE_COPY_CREDENTIALS', 4],
      ],
    );
    assert.match(f[0]?.fix ?? '', /--mount=type=secret|keyless build/);
  });
});
