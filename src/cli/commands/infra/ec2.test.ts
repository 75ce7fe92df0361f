import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeylessError } from '../../../errors.js';
import { ec2Failed } from './ec2.js';

test('an EC2 API failure becomes a user error saying what to check, never an internal error', () => {
  const noCreds = Object.assign(new Error('Could not load credentials from any providers'), {
    name: 'CredentialsProviderError',
  });
  const e = ec2Failed(noCreds);
  assert.equal(e.code, 'EC2_API_FAILED');
  assert.equal(e.exitCode, 2);
  assert.match(e.message, /Could not load credentials.*--profile PROFILE/);
  const malformed = Object.assign(new Error('Invalid id: "bogus"'), { name: 'InvalidInstanceID.Malformed' });
  assert.match(ec2Failed(malformed).message, /InvalidInstanceID\.Malformed.*Check --instance-id/);
  const own = new KeylessError('EC2_INSTANCE_NOT_FOUND', 'x');
  assert.equal(ec2Failed(own), own);
});
