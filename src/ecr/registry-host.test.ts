import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRegistryHost } from './registry-host.js';

test('every ECR host form and caller form is recognised with account, region and partition', () => {
  const cases: [string, string, string, string, boolean][] = [
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com', '123456789012', 'eu-west-1', 'aws', false],
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com:443', '123456789012', 'eu-west-1', 'aws', false],
    [
      'https://123456789012.dkr.ecr.eu-west-1.amazonaws.com:443/v2/x',
      '123456789012',
      'eu-west-1',
      'aws',
      false,
    ],
    [
      '123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com',
      '123456789012',
      'us-gov-west-1',
      'aws-us-gov',
      true,
    ],
    ['123456789012.dkr-ecr.us-east-1.on.aws', '123456789012', 'us-east-1', 'aws', false],
    ['123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn', '123456789012', 'cn-north-1', 'aws-cn', false],
    [
      '123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn',
      '123456789012',
      'cn-north-1',
      'aws-cn',
      false,
    ],
    ['123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu', '123456789012', 'eusc-de-east-1', 'aws-eusc', false],
    ['123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov', '123456789012', 'us-iso-east-1', 'aws-iso', false],
    [
      '123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov',
      '123456789012',
      'us-isob-east-1',
      'aws-iso-b',
      false,
    ],
  ];
  for (const [input, account, region, partition, fips] of cases) {
    const r = parseRegistryHost(input);
    assert.ok(r && r.kind === 'private', input);
    assert.deepEqual([r.account, r.region, r.partition, r.fips], [account, region, partition, fips], input);
  }
  assert.deepEqual(parseRegistryHost('https://public.ecr.aws'), {
    kind: 'public',
    host: 'public.ecr.aws',
    region: 'us-east-1',
    partition: 'aws',
  });
  assert.equal(parseRegistryHost('ecr-public.aws.com')?.kind, 'public');
  for (const other of [
    'docker.io',
    'https://index.docker.io/v1/',
    '127.0.0.1:5000',
    '12345.dkr.ecr.eu-west-1.amazonaws.com',
    'x.dkr.ecr.eu-west-1.amazonaws.com.evil.com',
  ]) {
    assert.equal(parseRegistryHost(other), undefined, other);
  }
});
