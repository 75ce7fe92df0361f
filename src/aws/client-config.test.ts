import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadEnv } from '../config/env.js';
import { isKeylessError } from '../errors.js';
import { awsClientConfig } from './client-config.js';

const env = loadEnv({ HOME: '/nonexistent' });

test('a region that is not one host name label is a config error naming it, not an SDK crash later', () => {
  assert.throws(
    () => awsClientConfig(env, { service: 'EC2', region: 'x y' }),
    (err: unknown) =>
      isKeylessError(err) &&
      err.code === 'CONFIG_INVALID' &&
      /region "x y".*--region, AWS_REGION/.test(err.message),
  );
  assert.equal(awsClientConfig(env, { service: 'EC2', region: 'eu-west-1' }).region, 'eu-west-1');
  assert.equal(awsClientConfig(env, { service: 'EC2' }).region, 'us-east-1');
});
