import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { detectCredentials } from './detectors.js';
import { scanDockerfile } from './dockerfile.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../../test/helpers/keys.js';

const scan = (text: string) => detectCredentials(text, { base: { path: 'f' } });
const rules = (text: string) => scan(text).map((f) => f.rule);

describe('credential detectors', () => {
  test('finds a key id and its paired secret, with line numbers and redacted excerpts', () => {
    const id = fakeAccessKeyId();
    const secret = fakeSecretAccessKey();
    const f = scan(`x\nkey = ${id}\nsecret = ${secret}\n`);
    assert.deepEqual(
      f.map((x) => [x.rule, x.location.line]),
      [
        ['SCAN_AWS_ACCESS_KEY_ID', 2],
        ['SCAN_AWS_SECRET_ACCESS_KEY', 3],
      ],
    );
    for (const x of f) {
      assert.ok(!x.excerpt.includes(secret) && !x.message.includes(secret) && !x.message.includes(id));
    }
    // not even the secret's first characters
    assert.equal(f[1]?.excerpt, '…(40 chars)');
    assert.equal(f[1]?.severity, 'critical');
  });

  test('a paired secret needs both letter cases and a digit, "+" or "/": a word or a hash is not one', () => {
    const id = fakeAccessKeyId();
    const letters = (n: number): string =>
      Array.from({ length: n }, (_, i) => String.fromCharCode((i % 2 ? 97 : 65) + ((i * 7) % 26))).join('');
    // a real-shaped secret without any digit (1 in 900 random ones) is still paired
    const noDigit = `${letters(20)}/${letters(19)}`;
    assert.deepEqual(rules(`key ${id} secret ${noDigit}`), [
      'SCAN_AWS_ACCESS_KEY_ID',
      'SCAN_AWS_SECRET_ACCESS_KEY',
    ]);
    assert.deepEqual(
      rules(`key ${id} name ${letters(40)}`),
      ['SCAN_AWS_ACCESS_KEY_ID'],
      'letters only: a word',
    );
    const hash = randomBytes(20).toString('hex');
    assert.deepEqual(rules(`key ${id} sha ${hash}`), ['SCAN_AWS_ACCESS_KEY_ID'], 'one letter case: a hash');
  });

  test('a secret assigned to a secret-like name is found without a key id nearby', () => {
    assert.deepEqual(rules(`AWS_SECRET_ACCESS_KEY=${fakeSecretAccessKey()}`), ['SCAN_AWS_SECRET_ACCESS_KEY']);
  });

  test('the AWS documentation examples and placeholders are informational', () => {
    const f = scan(
      'aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n',
    );
    assert.ok(f.length > 0 && f.every((x) => x.severity === 'info'));
  });

  test('hashes, base64 blobs, minified code and binary files give no false positives', () => {
    const hashes = Array.from({ length: 50 }, () =>
      createHash('sha1').update(randomBytes(8)).digest('hex'),
    ).join('\n');
    const blob = randomBytes(3000).toString('base64');
    const minified = `var a=function(){return"${randomBytes(30).toString('base64')}"};`.repeat(20);
    assert.deepEqual(rules(`${hashes}\n${blob}\n${minified}`), []);
    assert.deepEqual(rules(`\u0000\u0001${fakeAccessKeyId()}`), []);
  });

  test('keyless:ignore on the line suppresses it', () => {
    assert.deepEqual(rules(`k = ${fakeAccessKeyId()} # keyless:ignore`), []);
  });

  test('Dockerfile: secret-named ARG/ENV without a value and COPY of .aws are findings; secret mounts are not', () => {
    const f = scanDockerfile(
      'FROM x\nARG AWS_SECRET_ACCESS_KEY\nENV AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID\nCOPY .aws /root/.aws\nRUN --mount=type=secret,id=aws,target=/root/.aws/credentials aws s3 ls\nRUN --mount=type=secret,id=aws,env=AWS_SECRET_ACCESS_KEY true\n',
      'Dockerfile',
    );
    assert.deepEqual(
      f.map((x) => [x.rule, x.location.line]),
      [
        ['SCAN_DOCKERFILE_SECRET_ARG_ENV', 2],
        ['SCAN_DOCKERFILE_SECRET_ARG_ENV', 3],
        ['SCAN_DOCKERFILE_COPY_CREDENTIALS', 4],
      ],
    );
    assert.match(f[0]?.fix ?? '', /--mount=type=secret|keyless build/);
  });

  test('placeholders assigned as secrets are info, never critical: a repeated character, a SHA-1 (issue 22)', () => {
    const id = fakeAccessKeyId();
    const sha1 = createHash('sha1').update(randomBytes(8)).digest('hex');
    for (const value of ['a'.repeat(40), sha1]) {
      const f = scan(`aws_access_key_id = ${id}\naws_secret_access_key = ${value}\n`);
      assert.ok(!f.some((x) => x.severity === 'critical'), value);
      assert.ok(
        f.some((x) => x.rule === 'SCAN_AWS_EXAMPLE_KEY' && x.severity === 'info'),
        value,
      );
    }
  });

  test('a 40-character value pairs only when placed as a value, not merely near a key id (issue 22)', () => {
    const id = fakeAccessKeyId();
    const secret = fakeSecretAccessKey();
    // assigned or placed as a field in the usual syntaxes: paired
    for (const text of [
      `{"AccessKeyId": "${id}", "SecretAccessKey": "${secret}"}`,
      `aws:\n  id: ${id}\n  secret: ${secret}\n`,
      `Access key ID,Secret access key\n${id},${secret}\n`,
      `<Key>${id}</Key><Secret>${secret}</Secret>`,
      `${id}\n${secret}\n`,
      `aws configure set aws_secret_access_key ${secret} # ${id}`,
    ])
      assert.ok(rules(text).includes('SCAN_AWS_SECRET_ACCESS_KEY'), text);
    // random base64 runs within 1 KB of a key id, assigned to nothing: not its secret
    const noise = Array.from({ length: 8 }, () => fakeSecretAccessKey()).join(' ');
    assert.deepEqual(rules(`id ${id} then data ${noise} end`), ['SCAN_AWS_ACCESS_KEY_ID']);
  });

  test('a secret with no key id near it, by the names people use in every syntax (issue 22)', () => {
    const secret = fakeSecretAccessKey();
    const esc = JSON.stringify(JSON.stringify({ awsSecretKey: secret }));
    for (const text of [
      `aws_secret_key = ${secret}`, // INI / env, no key id anywhere
      `{"awsSecretKey": "${secret}"}`, // JSON
      `{"config": ${esc}}`, // escaped JSON
      `aws.secretkey=${secret}`, // properties
      `aws {\n  "secret_key": "${secret}"\n}`, // an AWS block (HCL / JSON)
      `MyAWS_secret_KEY=${secret}`,
      `<SecretAccessKey>${secret}</SecretAccessKey>`, // XML
      `aws:\n  secret_key: ${secret}\n`, // YAML under an aws key
      `$config['aws_secret_access_key'] => '${secret}';`, // code
    ]) {
      const f = scan(text);
      assert.ok(
        f.some((x) => x.rule === 'SCAN_AWS_SECRET_ACCESS_KEY' && x.severity === 'critical'),
        `found in: ${text.slice(0, 60)}`,
      );
    }
    // a generic secret_key with no AWS context anywhere is not an AWS secret
    assert.deepEqual(rules(`stripe:\n  secret_key: ${secret}\n`), []);
  });

  test('more secret names: AWS_SECRET, XML attributes, command-line flags, separators (issue 22)', () => {
    const secret = fakeSecretAccessKey();
    for (const text of [
      `AWS_SECRET=${secret}`,
      `<add key="AWSSecretKey" value="${secret}" />`,
      `aws iam x --secret-access-key ${secret}`,
      `aws-secret-key: ${secret}`,
      `Secret access key: ${secret} (aws console)`,
      `awsSecret := "${secret}"`,
    ])
      assert.deepEqual(rules(text), ['SCAN_AWS_SECRET_ACCESS_KEY'], text.slice(0, 40));
  });

  test('Terraform/OpenTofu: secret_key inside provider "aws" or backend "s3", however long the block', () => {
    const secret = fakeSecretAccessKey();
    const filler = Array.from({ length: 20 }, (_, i) => `    setting_${i} = "value-${i}"`).join('\n');
    for (const header of ['provider "aws" {', 'terraform {\n  backend "s3" {'])
      assert.deepEqual(
        rules(
          `${header}\n  default_tags {\n    tags = { Team = "x" }\n  }\n${filler}\n  secret_key = "${secret}"\n}\n`,
        ),
        ['SCAN_AWS_SECRET_ACCESS_KEY'],
        header,
      );
    // after the block is closed, its header no longer counts
    assert.deepEqual(
      rules(
        `provider "aws" {\n  region = "eu-west-1"\n}\n${filler}\nprovider "other" {\n  secret_key = "${secret}"\n}\n`,
      ),
      [],
    );
    // another provider's block is no AWS context
    assert.deepEqual(rules(`provider "vault" {\n${filler}\n  secret_key = "${secret}"\n}\n`), []);
  });

  test('CloudFormation: a secret-key parameter with its secret under Default (YAML and JSON)', () => {
    let secret = fakeSecretAccessKey();
    while (!/[0-9+/]/.test(secret) || !/[A-Z]/.test(secret) || !/[a-z]/.test(secret))
      secret = fakeSecretAccessKey();
    const yaml = (name: string, rest: string) =>
      `AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n  ${name}:\n    Type: String\n    NoEcho: true\n${rest}\n`;
    for (const name of ['SecretKey', 'AwsSecretAccessKey', 'SecretAccessKey', 'ExportSecretKey'])
      assert.deepEqual(
        scan(yaml(name, `    Default: ${secret}`)).map((f) => [f.rule, f.location.line]),
        [['SCAN_AWS_SECRET_ACCESS_KEY', 6]],
        name,
      );
    const json = `{\n  "Parameters": {\n    "SecretKey": {\n      "Type": "String",\n      "Default": "${secret}"\n    }\n  }\n}\n`;
    assert.deepEqual(
      scan(json).map((f) => [f.rule, f.location.line]),
      [['SCAN_AWS_SECRET_ACCESS_KEY', 5]],
    );
    // no Default; a Default in the next parameter's block; a hex digest (informational only)
    assert.deepEqual(rules(yaml('SecretKey', '  Checksum:\n    Default: ' + secret)), []);
    assert.deepEqual(rules(yaml('SecretKey', '    Description: given at deploy time')), []);
    assert.deepEqual(rules(yaml('SecretKey', `    Default: ${'ab12'.repeat(10)}`)), ['SCAN_AWS_EXAMPLE_KEY']);
    // not a CloudFormation template and no AWS context: a generic secret key's default is not found
    assert.deepEqual(rules(`settings:\n  SecretKey:\n    Default: ${secret}\n`), []);
  });

  test('session tokens under other names: session, session_token, aws_token in YAML, XML, JSON (issue 22)', () => {
    const id = fakeAccessKeyId('ASIA');
    const token = `IQoJb3JpZ2luX2Vj${randomBytes(240).toString('base64').replace(/=+$/, '')}`;
    const random = randomBytes(240).toString('base64');
    for (const text of [
      `aws:\n  id: ${id}\n  session: ${token}\n`,
      `creds:\n  id: ${id}\n  session_token: ${random}\n`,
      `<c><id>${id}</id><Session>${token}</Session></c>`,
      `{"id": "${id}", "aws_token": "${random}"}`,
      `{"aws_token": "${random}"}`,
      `<aws_token>${random}</aws_token>`,
      `security_token: ${token}`, // no AWS context, but an STS token's own header
    ])
      assert.ok(rules(text).includes('SCAN_AWS_SESSION_TOKEN'), text.slice(0, 50));
    // short names mean nothing without a key id next to them; nor a generic security token
    assert.deepEqual(rules(`web:\n  session: ${random}\n  token: ${random}\n`), []);
    assert.deepEqual(rules(`csrf:\n  security_token: ${random}\n`), []);
  });
});
