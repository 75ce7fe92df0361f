import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explain } from './sts.js';

test('an STS failure says what to check when keyless knows it (unreachable endpoint, refused key)', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  const e = explain(refused, 'GetSessionToken');
  assert.equal(e.code, 'SOURCE_STS_FAILED');
  assert.match(
    e.message,
    /^STS GetSessionToken failed: Error: connect ECONNREFUSED .*check the network .*AWS_ENDPOINT_URL/,
  );
  const invalid = Object.assign(new Error('The security token included in the request is invalid'), {
    name: 'InvalidClientTokenId',
  });
  assert.match(explain(invalid, 'GetSessionToken').message, /does not accept the key/);
  const other = Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
  assert.equal(
    explain(other, 'GetSessionToken').message,
    'STS GetSessionToken failed: Throttling: Rate exceeded',
  );
});
