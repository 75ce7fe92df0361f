import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { KeylessError } from '../errors.js';
import {
  buildOverride,
  composeVersion,
  findKeylessServices,
  isAwsFolderMount,
  keyVarsInEnvFile,
} from './compose-override.js';

const f = (text: string, path = 'docker-compose.yml') => ({ path, text });

describe('compose override', () => {
  test('finds services asking by x-keyless or label, and gives --profile to those naming none', () => {
    const services = findKeylessServices(
      [
        f(`version: "3.8"
services:
  a:
    image: busybox
    x-keyless: {profile: dev}
  b:
    image: busybox
    labels:
      keyless.role-arn: arn:aws:iam::123456789012:role/b
  c:
    image: busybox
    x-keyless: true
  d:
    image: busybox
`),
      ],
      'fallback',
    );
    assert.deepEqual(
      services.map((s) => [s.name, s.profile, s.roleArn]),
      [
        ['a', 'dev', undefined],
        ['b', undefined, 'arn:aws:iam::123456789012:role/b'],
        ['c', 'fallback', undefined],
      ],
    );
  });

  test('a later file overrides the profile and adds networks, as compose merges', () => {
    const services = findKeylessServices([
      f('services:\n  a:\n    image: x\n    x-keyless: {profile: dev}\n    networks: [front]\n'),
      f(
        'services:\n  a:\n    x-keyless: {profile: prod}\n    networks: [back]\n',
        'docker-compose.override.yml',
      ),
    ]);
    assert.equal(services[0]?.profile, 'prod');
    assert.deepEqual(services[0]?.networks, { form: 'list', names: ['front', 'back'] });
  });

  test('the override adds the keyless network next to the service networks, the URI and the labels', () => {
    const text = buildOverride({
      services: [
        { name: 'a', profile: 'dev', envFiles: [] },
        {
          name: 'b',
          roleArn: 'arn:aws:iam::123456789012:role/b',
          networks: { form: 'map', names: ['back'] },
          envFiles: [],
        },
      ],
      grants: new Map([
        ['a', { relativeUri: '/v1/creds/A', clientHash: 'ha', region: 'eu-west-1' }],
        ['b', { relativeUri: '/v1/creds/B', clientHash: 'hb' }],
      ]),
      network: 'keyless',
      version: '3.8',
    });
    const doc = parse(text);
    assert.equal(doc.version, '3.8');
    assert.deepEqual(doc.networks, { keyless: { external: true } });
    assert.deepEqual(doc.services.a.networks, ['default', 'keyless']);
    assert.deepEqual(doc.services.b.networks, { back: null, keyless: null });
    assert.deepEqual(doc.services.a.environment, {
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v1/creds/A',
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
    });
    assert.deepEqual(doc.services.a.labels, { 'keyless.client': 'ha', 'keyless.profile': 'dev' });
    assert.deepEqual(doc.services.b.labels, {
      'keyless.client': 'hb',
      'keyless.role-arn': 'arn:aws:iam::123456789012:role/b',
    });
  });

  test('a service given a web identity gets a keyless.oidc label naming where the token comes from, never a token', () => {
    const text = buildOverride({
      services: [
        {
          name: 'ci',
          roleArn: 'arn:aws:iam::123456789012:role/ci',
          oidc: 'github:sts.amazonaws.com',
          envFiles: [],
        },
      ],
      grants: new Map([['ci', { relativeUri: '/v1/creds/C', clientHash: 'hc' }]]),
      network: 'keyless',
    });
    assert.deepEqual(parse(text).services.ci.labels, {
      'keyless.client': 'hc',
      'keyless.role-arn': 'arn:aws:iam::123456789012:role/ci',
      'keyless.oidc': 'github:sts.amazonaws.com',
    });
  });

  test('refuses a key in the environment map, naming file and line', () => {
    assert.throws(
      () =>
        findKeylessServices([
          f(
            'services:\n  a:\n    x-keyless: {profile: dev}\n    environment:\n      FOO: bar\n      AWS_SECRET_ACCESS_KEY: nope\n',
            'stack.yml',
          ),
        ]),
      (e: unknown) =>
        e instanceof KeylessError &&
        e.code === 'COMPOSE_KEY_IN_ENV' &&
        /^stack\.yml:6: service "a" sets AWS_SECRET_ACCESS_KEY/.test(e.message),
    );
  });

  test('refuses a key in the environment list form, naming file and line', () => {
    assert.throws(
      () =>
        findKeylessServices([
          f(
            'services:\n  a:\n    labels: ["keyless.profile=dev"]\n    environment:\n      - AWS_SESSION_TOKEN\n',
          ),
        ]),
      /docker-compose\.yml:5: service "a" sets AWS_SESSION_TOKEN/,
    );
  });

  test('refuses a mount of ~/.aws, naming file and line; a service not asking is left alone', () => {
    assert.throws(
      () =>
        findKeylessServices([
          f(
            'services:\n  a:\n    x-keyless: {profile: dev}\n    volumes:\n      - ./data:/data\n      - ~/.aws:/root/.aws:ro\n',
          ),
        ]),
      (e: unknown) =>
        e instanceof KeylessError &&
        e.code === 'COMPOSE_AWS_MOUNT' &&
        e.message.startsWith('docker-compose.yml:6:'),
    );
    assert.deepEqual(
      findKeylessServices([f('services:\n  other:\n    environment: {AWS_ACCESS_KEY_ID: x}\n')]),
      [],
    );
  });

  test('refuses network_mode and a malformed x-keyless with their lines', () => {
    assert.throws(
      () =>
        findKeylessServices([f('services:\n  a:\n    x-keyless: {profile: dev}\n    network_mode: host\n')]),
      /docker-compose\.yml:4: .*network_mode/,
    );
    assert.throws(
      () => findKeylessServices([f('services:\n  a:\n    x-keyless: dev\n')]),
      /docker-compose\.yml:3: .*x-keyless/,
    );
  });

  test('finds AWS key lines in env_file contents and recognises AWS folder mounts', () => {
    assert.deepEqual(keyVarsInEnvFile('# c\nFOO=1\nexport AWS_ACCESS_KEY_ID=x\n\nAWS_SESSION_TOKEN=y\n'), [
      { name: 'AWS_ACCESS_KEY_ID', line: 3 },
      { name: 'AWS_SESSION_TOKEN', line: 5 },
    ]);
    assert.ok(isAwsFolderMount('~/.aws'));
    assert.ok(isAwsFolderMount('${HOME}/.aws/'));
    assert.ok(isAwsFolderMount('/root/.aws/credentials'));
    assert.ok(!isAwsFolderMount('./aws'));
    assert.equal(composeVersion([f('services: {}\n'), f('version: "2.4"\n')]), '2.4');
  });
});
