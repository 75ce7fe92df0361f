import { test } from 'node:test';
import assert from 'node:assert/strict';
import { awsFailureHint, awsFailureKind, awsFailureMessage } from './failure.js';

function sdkError(name: string, message: string, code?: string): Error {
  const e = new Error(message) as Error & { code?: string };
  e.name = name;
  if (code !== undefined) e.code = code;
  return e;
}

test('an SDK error is classified by what the user can do about it', () => {
  assert.equal(
    awsFailureKind(sdkError('CredentialsProviderError', 'Could not load credentials')),
    'no-credentials',
  );
  assert.equal(
    awsFailureKind(sdkError('Error', 'connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED')),
    'unreachable',
  );
  assert.equal(
    awsFailureKind(sdkError('InvalidClientTokenId', 'The security token is invalid')),
    'key-refused',
  );
  assert.equal(awsFailureKind(sdkError('UnauthorizedOperation', 'not authorized')), 'denied');
  assert.equal(awsFailureKind(sdkError('InvalidInstanceID.Malformed', 'bad id')), 'other');
  assert.equal(awsFailureKind(undefined), 'other');
});

test('the hint says what to do; unknown failures get none', () => {
  assert.match(awsFailureHint(sdkError('CredentialsProviderError', 'x')) ?? '', /--profile PROFILE/);
  assert.match(awsFailureHint(sdkError('Error', 'x', 'ENOTFOUND')) ?? '', /AWS_ENDPOINT_URL/);
  assert.match(awsFailureHint(sdkError('SignatureDoesNotMatch', 'x')) ?? '', /keyless add PROFILE --force/);
  assert.equal(awsFailureHint(sdkError('Throttling', 'x')), undefined);
});

test('the message is the first line, named, without a trailing period', () => {
  assert.equal(
    awsFailureMessage(
      sdkError('CredentialsProviderError', 'Could not load credentials from any providers.\nmore'),
    ),
    'CredentialsProviderError: Could not load credentials from any providers',
  );
  assert.equal(awsFailureMessage(sdkError('Error', 'connect ECONNREFUSED')), 'connect ECONNREFUSED');
});
