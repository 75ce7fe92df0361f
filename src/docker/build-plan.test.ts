import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { KeylessError } from '../errors.js';
import { buildkitMode, credentialsFileText, dockerfileOf, mountsAwsSecret } from './build-plan.js';
import { streamContains } from './build-scan.js';

describe('build plan', () => {
  test('finds the Dockerfile from -f/--file, else the context', () => {
    assert.deepEqual(dockerfileOf(['-t', 'x', '--build-arg', 'A=1', 'ctx']), { context: 'ctx' });
    assert.deepEqual(dockerfileOf(['-f', 'd/Dockerfile.dev', '.']), {
      dockerfile: 'd/Dockerfile.dev',
      context: '.',
    });
    assert.deepEqual(dockerfileOf(['--file=F', '.']), { dockerfile: 'F', context: '.' });
  });

  test('recognises a mount of the aws secret', () => {
    assert.ok(mountsAwsSecret('FROM x\nRUN --mount=type=secret,id=aws,target=/root/.aws/credentials true\n'));
    assert.ok(mountsAwsSecret('RUN --mount=id=aws,type=secret true'));
    assert.ok(!mountsAwsSecret('FROM x\nRUN --mount=type=secret,id=other true\n'));
  });

  test('picks buildx, else the legacy builder before CLI 23, else says what to do', () => {
    assert.equal(buildkitMode('docker', '24.0.7', true), 'buildx');
    assert.equal(buildkitMode('docker', '20.10.24+dfsg1', false), 'legacy');
    assert.throws(
      () => buildkitMode('/usr/local/bin/docker', '24.0.7', false),
      (e: unknown) =>
        e instanceof KeylessError &&
        e.code === 'BUILD_NO_BUILDKIT' &&
        /buildx/.test(e.message) &&
        /KEYLESS_DOCKER/.test(e.message),
    );
  });

  test('writes the credentials file with the session token', () => {
    const text = credentialsFileText({ accessKeyId: 'id', secretAccessKey: 'sk', sessionToken: 'tok' });
    assert.equal(
      text,
      '[default]\naws_access_key_id = id\naws_secret_access_key = sk\naws_session_token = tok\n',
    );
  });

  test('finds a needle that straddles two chunks', async () => {
    const chunks = [Buffer.from('xxxxsec'), Buffer.from('retyyyy')];
    assert.equal(await streamContains(Readable.from(chunks), [Buffer.from('secret')]), true);
    assert.equal(await streamContains(Readable.from(chunks), [Buffer.from('secrex')]), false);
  });
});
