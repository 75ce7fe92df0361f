import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  secretName,
  specWithSecret,
  specWithoutKeyless,
  renderCredentialsFile,
  rotationDue,
  SECRET_PATH,
} from './secret-plan.js';
import type { ServiceSpec } from '../engine/swarm.js';

const base = (): ServiceSpec => ({
  Name: 'api',
  Labels: { team: 'a' },
  TaskTemplate: { ContainerSpec: { Image: 'x', Env: ['FOO=1', 'AWS_REGION=eu-west-1'] } },
});

describe('secret plan', () => {
  test('secret names stay within 64 characters and end alphanumeric', () => {
    const n = secretName('a'.repeat(80), 12);
    assert.ok(n.length <= 64);
    assert.match(n, /-v12$/);
    assert.equal(secretName('api', 1), 'keyless-api-v1');
  });

  test('adding sets the file, env and start-first order, and keeps the user own region', () => {
    const s = specWithSecret(
      base(),
      { id: 'sid1', name: 'keyless-api-v1' },
      { profile: 'dev', durationSeconds: 3600, region: 'us-east-1' },
    );
    const env = s.TaskTemplate.ContainerSpec.Env ?? [];
    assert.ok(env.includes(`AWS_SHARED_CREDENTIALS_FILE=${SECRET_PATH}`));
    assert.ok(env.includes('AWS_REGION=eu-west-1'), 'user value kept');
    assert.ok(env.includes('AWS_DEFAULT_REGION=us-east-1'));
    assert.equal(s.UpdateConfig?.Order, 'start-first');
    assert.equal(s.TaskTemplate.ContainerSpec.Secrets?.length, 1);
  });

  test('swapping versions keeps one reference; removing restores the spec the user had', () => {
    const one = specWithSecret(
      base(),
      { id: 'sid1', name: 'keyless-api-v1' },
      { profile: 'dev', durationSeconds: 3600, region: 'us-east-1' },
    );
    const two = specWithSecret(
      one,
      { id: 'sid2', name: 'keyless-api-v2' },
      { profile: 'dev', durationSeconds: 3600, region: 'us-east-1' },
    );
    assert.deepEqual(
      two.TaskTemplate.ContainerSpec.Secrets?.map((r) => r.SecretID),
      ['sid2'],
    );
    const back = specWithoutKeyless(two);
    assert.deepEqual(back.TaskTemplate.ContainerSpec.Env, ['FOO=1', 'AWS_REGION=eu-west-1']);
    assert.deepEqual(back.Labels, { team: 'a' });
    assert.deepEqual(back.TaskTemplate.ContainerSpec.Secrets, []);
    assert.equal(back.UpdateConfig?.Order, 'stop-first');
  });

  test('never renders credentials without a session token', () => {
    assert.throws(() => renderCredentialsFile({ accessKeyId: 'AKIDLONGTERM', secretAccessKey: 's' }));
  });

  test('rotation is due when forced, or within refresh-before of expiry', () => {
    const exp = new Date(10_000);
    assert.equal(rotationDue(exp, 0, 5_000, false), false);
    assert.equal(rotationDue(exp, 5_000, 5_000, false), true);
    assert.equal(rotationDue(exp, 0, 5_000, true), true);
  });
});
