import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { registryKey, resolveRegistry, validateSetting, type RegistrySettings } from './registry-settings.js';
import { defaultCredentialKind, looksLikeEc2 } from './fetch-token.js';
import type { KeylessEnv } from '../config/env.js';

const settings: RegistrySettings = {
  version: 1,
  registries: {
    '127.0.0.1:5000': { account: '123456789012', region: 'eu-west-1', profile: 'prod' },
    'ecr.internal.example': {
      account: '210987654321',
      region: 'cn-north-1',
      roleArn: 'arn:aws-cn:iam::210987654321:role/pull',
    },
    '123456789012.dkr.ecr.us-east-1.amazonaws.com': {
      account: '123456789012',
      region: 'us-east-1',
      profile: 'ci',
    },
  },
};

describe('registry settings', () => {
  test('keys: host or host:port, lower case, no scheme or path, :443 dropped', () => {
    assert.equal(registryKey('https://Registry.Example:443/v2/'), 'registry.example');
    assert.equal(registryKey('127.0.0.1:5000'), '127.0.0.1:5000');
    assert.equal(registryKey('http://127.0.0.1:5000/v2/x'), '127.0.0.1:5000');
  });

  test('a mapped host of any form is that ECR registry with its credentials; an ECR host by name; others are not served', () => {
    const a = resolveRegistry('http://127.0.0.1:5000/v2/', settings);
    assert.deepEqual(a, {
      registry: {
        kind: 'private',
        host: '127.0.0.1:5000',
        account: '123456789012',
        region: 'eu-west-1',
        fips: false,
        partition: 'aws',
      },
      configured: '127.0.0.1:5000',
      profile: 'prod',
    });
    const b = resolveRegistry('ecr.internal.example', settings);
    assert.equal(b?.registry.kind === 'private' && b.registry.partition, 'aws-cn');
    assert.equal(b?.roleArn, 'arn:aws-cn:iam::210987654321:role/pull');
    assert.equal(resolveRegistry('123456789012.dkr.ecr.us-east-1.amazonaws.com', settings)?.profile, 'ci');
    const byName = resolveRegistry('210987654321.dkr.ecr.eu-central-1.amazonaws.com', settings);
    assert.deepEqual(
      [byName?.registry.kind, byName?.configured, byName?.profile],
      ['private', undefined, undefined],
    );
    assert.equal(resolveRegistry('127.0.0.1:5001', settings), undefined);
    assert.equal(resolveRegistry('docker.io', settings), undefined);
  });

  test('bad settings are refused naming the field', () => {
    assert.throws(() => validateSetting('h', { account: '12345', region: 'eu-west-1' }), /account "12345"/);
    assert.throws(
      () => validateSetting('h', { account: '123456789012', region: 'Europe' }),
      /region "Europe"/,
    );
    assert.throws(
      () => validateSetting('h', { account: '123456789012', region: 'eu-west-1', roleArn: 'role/x' }),
      /not an IAM role ARN/,
    );
  });
});

describe('ECR credentials without a profile, decided without probing', () => {
  const env = (vars: Record<string, string>): KeylessEnv =>
    ({ vars, home: '/home/u' }) as unknown as KeylessEnv;
  const none = () => false;
  test('environment keys, a container endpoint, a web identity, shared files, then the instance role only on EC2', () => {
    assert.equal(
      defaultCredentialKind(env({ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' }), none, none),
      'env',
    );
    assert.equal(
      defaultCredentialKind(env({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/x' }), none, none),
      'container',
    );
    assert.equal(
      defaultCredentialKind(env({ AWS_WEB_IDENTITY_TOKEN_FILE: '/t', AWS_ROLE_ARN: 'r' }), none, none),
      'web-identity',
    );
    assert.equal(
      defaultCredentialKind(env({}), (p) => p === '/home/u/.aws/config', none),
      'shared-files',
    );
    assert.equal(defaultCredentialKind(env({}), none, none), undefined, 'off EC2: nothing, at once');
    assert.equal(
      defaultCredentialKind(env({}), none, () => true),
      'instance',
    );
    assert.equal(
      defaultCredentialKind(env({ AWS_EC2_METADATA_DISABLED: 'true' }), none, () => true),
      undefined,
    );
    assert.equal(
      defaultCredentialKind(env({ KEYLESS_EC2: '0' }), none, () => true),
      undefined,
    );
    assert.equal(defaultCredentialKind(env({ KEYLESS_EC2: '1' }), none, none), 'instance');
  });

  test('EC2 is recognised from the DMI vendor, the instance id asset tag, or the Xen hypervisor uuid', () => {
    const files = (m: Record<string, string>) => (p: string) => m[p];
    assert.ok(looksLikeEc2(files({ '/sys/devices/virtual/dmi/id/sys_vendor': 'Amazon EC2\n' })));
    assert.ok(
      looksLikeEc2(files({ '/sys/devices/virtual/dmi/id/board_asset_tag': 'i-0123456789abcdef0\n' })),
    );
    assert.ok(looksLikeEc2(files({ '/sys/hypervisor/uuid': 'ec2e1916-9099-7caf-fd21-012345abcdef\n' })));
    assert.ok(!looksLikeEc2(files({ '/sys/devices/virtual/dmi/id/sys_vendor': 'QEMU\n' })));
    assert.ok(!looksLikeEc2(files({})));
  });
});
