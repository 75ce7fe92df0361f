import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { renderExport } from './export.js';

const creds = {
  accessKeyId: 'ASIA-test-id',
  secretAccessKey: `se'cr"et $(touch /tmp/x) \`x\``,
  sessionToken: 'tok/+=',
  expiration: new Date('2030-01-02T03:04:05Z'),
};

test('env format quotes every value so a shell reads it back byte for byte', () => {
  const text = renderExport(creds, 'env', 'eu-west-1');
  const out = execFileSync(
    'sh',
    ['-c', `${text}\nprintf '%s\\n' "$AWS_SECRET_ACCESS_KEY" "$AWS_DEFAULT_REGION"`],
    {
      encoding: 'utf8',
      env: {},
    },
  );
  assert.equal(out, `${creds.secretAccessKey}\neu-west-1\n`);
  assert.match(text, /^export AWS_CREDENTIAL_EXPIRATION='2030-01-02T03:04:05.000Z'$/m);
});

test('credential-process format is the AWS Version 1 JSON with an ISO 8601 Expiration', () => {
  assert.deepEqual(JSON.parse(renderExport(creds, 'credential-process', undefined)), {
    Version: 1,
    AccessKeyId: creds.accessKeyId,
    SecretAccessKey: creds.secretAccessKey,
    SessionToken: creds.sessionToken,
    Expiration: '2030-01-02T03:04:05.000Z',
  });
});
