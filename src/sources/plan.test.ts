import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProfileFiles } from './profile-file.js';
import { planProfile, planWebIdentity } from './plan.js';

const config = `
[default]
region = eu-west-1

[profile dev]
region = us-east-2
mfa_serial = arn:aws:iam::123456789012:mfa/alice ; comment

[profile admin]
role_arn = arn:aws:iam::123456789012:role/admin
source_profile = dev
external_id = ext-1
duration_seconds = 1800

[profile deep]
role_arn = arn:aws:iam::123456789012:role/deep
source_profile = admin
mfa_serial = arn:aws:iam::123456789012:mfa/alice

[profile loop-a]
role_arn = arn:aws:iam::123456789012:role/a
source_profile = loop-b

[profile loop-b]
role_arn = arn:aws:iam::123456789012:role/b
source_profile = loop-a

[profile short]
role_arn = arn:aws:iam::123456789012:role/x
source_profile = dev
duration_seconds = 60

[profile proc]
credential_process = /usr/bin/thing --flag "a b"

[profile vp]
vault_path = aws/sts/deploy
vault_ttl = 15m

[profile sso]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = Dev

[sso-session corp]
sso_start_url = https://example.awsapps.com/start
`;

const files = parseProfileFiles(
  config,
  '[plain]\naws_access_key_id = AKIDPLAINTEXT\naws_secret_access_key = s\n',
);

describe('planProfile', () => {
  test('a plain profile gets GetSessionToken with its MFA serial, keys from the keyless vault', () => {
    const p = planProfile(files, 'dev');
    assert.equal(p.base.kind, 'long-term');
    assert.deepEqual(p.sessionToken, { mfaSerial: 'arn:aws:iam::123456789012:mfa/alice' });
    assert.equal(p.region, 'us-east-2');
    assert.equal(p.roles.length, 0);
  });

  test('a source_profile chain of any depth becomes ordered AssumeRole steps on the first source', () => {
    const p = planProfile(files, 'deep');
    assert.equal(p.base.profile, 'dev');
    assert.deepEqual(
      p.roles.map((r) => r.roleArn),
      ['arn:aws:iam::123456789012:role/admin', 'arn:aws:iam::123456789012:role/deep'],
    );
    assert.equal(p.roles[0]?.externalId, 'ext-1');
    assert.equal(p.roles[0]?.durationSeconds, 1800);
    assert.equal(p.roles[1]?.mfaSerial, 'arn:aws:iam::123456789012:mfa/alice');
    assert.equal(p.sessionToken, undefined, 'long-term keys call AssumeRole directly');
    assert.equal(p.region, 'us-east-2', 'region from the nearest profile that has one');
  });

  test('a cycle is refused and named', () => {
    assert.throws(() => planProfile(files, 'loop-a'), /loop-a → loop-b → loop-a/);
  });

  test('duration_seconds out of 900-43200 is a config error naming the profile and key', () => {
    assert.throws(
      () => planProfile(files, 'short'),
      /\[profile short\] duration_seconds: expected .*900 to 43200, got "60"/,
    );
  });

  test('credential_process, Vault and SSO profiles get their own base step', () => {
    assert.equal(planProfile(files, 'proc').base.kind, 'process');
    const v = planProfile(files, 'vp').base;
    assert.deepEqual(v, { kind: 'vault', profile: 'vp', path: 'aws/sts/deploy', ttl: '15m' });
    assert.equal(planProfile(files, 'sso').base.kind, 'sso');
  });

  test('plaintext keys are used with a warning to move them into keyless', () => {
    const p = planProfile(files, 'plain');
    assert.equal(p.base.kind, 'long-term');
    assert.match(p.warnings.join(), /keyless add plain/);
  });

  test('a profile in neither file is a keyless-vault-only profile', () => {
    const p = planProfile(files, 'vaultonly');
    assert.deepEqual(p.base, { kind: 'long-term', profile: 'vaultonly' });
    assert.ok(p.sessionToken);
  });
});

describe('web identity plans', () => {
  const wi = parseProfileFiles(
    `
[profile ci]
role_arn = arn:aws:iam::123456789012:role/ci
web_identity_token_file = /var/run/token
role_session_name = my-job
[profile on-top]
role_arn = arn:aws:iam::123456789012:role/deploy
source_profile = ci
[profile no-role]
web_identity_token_file = /var/run/token
`,
    '',
  );

  test('role_arn with web_identity_token_file is AssumeRoleWithWebIdentity, with no source profile', () => {
    const plan = planProfile(wi, 'ci');
    assert.deepEqual(plan.base, {
      kind: 'web-identity',
      profile: 'ci',
      spec: { kind: 'file', path: '/var/run/token' },
      roleArn: 'arn:aws:iam::123456789012:role/ci',
      roleSessionName: 'my-job',
    });
    assert.deepEqual(plan.roles, []);
    assert.equal(plan.sessionToken, undefined);
  });

  test('a role profile can chain on a web identity profile', () => {
    const plan = planProfile(wi, 'on-top');
    assert.equal(plan.base.kind, 'web-identity');
    assert.deepEqual(
      plan.roles.map((r) => r.roleArn),
      ['arn:aws:iam::123456789012:role/deploy'],
    );
  });

  test('web_identity_token_file without role_arn is refused', () => {
    assert.throws(() => planProfile(wi, 'no-role'), /web_identity_token_file: needs role_arn/);
  });

  test('--oidc needs a role ARN, and a real one', () => {
    assert.throws(
      () =>
        planWebIdentity({
          spec: { kind: 'env', variable: 'T' },
          roleArn: undefined,
          roleArnFrom: '--role-arn',
        }),
      /pass --role-arn ARN/,
    );
    assert.throws(
      () =>
        planWebIdentity({ spec: { kind: 'env', variable: 'T' }, roleArn: 'ci', roleArnFrom: 'AWS_ROLE_ARN' }),
      /AWS_ROLE_ARN "ci" is not an IAM role ARN/,
    );
  });
});
