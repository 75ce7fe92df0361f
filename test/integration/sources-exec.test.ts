// keyless add / exec / export against moto_server with signature checking on, with real awscli v1
// and boto3. Emulator difference: moto's GetSessionToken always returns its fixed example key, which
// its own signature check then rejects; so the GetSessionToken path is proven by the keys handed out
// (not the long-term ones, with a session token) and validity is proven on the AssumeRole path.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startMoto, type Moto } from '../helpers/moto.js';
import { makeTestEnv, type TestEnv } from '../helpers/env.js';
import { runKeyless, runProcess, KEYLESS_BIN } from '../helpers/cli.js';
import { startVaultStandin, addToken } from '../helpers/vault-standin.js';

const PRINT_ENV = `process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('AWS_') || k.startsWith('KEYLESS_')))))`;

async function setup(t: TestContext, awsConfig = ''): Promise<{ moto: Moto; te: TestEnv }> {
  const moto = await startMoto(t, { roles: ['app', 'deep'] });
  const config =
    `[profile dev]\nregion = us-east-1\n\n` +
    `[profile app]\nrole_arn = ${moto.identity.roles.app}\nsource_profile = dev\n\n` +
    `[profile deep]\nrole_arn = ${moto.identity.roles.deep}\nsource_profile = app\n\n` +
    awsConfig.replaceAll('ROLE_APP', moto.identity.roles.app as string);
  const te = await makeTestEnv(t, { endpoint: moto.url, awsConfig: config });
  const add = await runKeyless(['add', 'dev', '--env'], {
    env: {
      ...te.vars,
      AWS_ACCESS_KEY_ID: moto.identity.accessKeyId,
      AWS_SECRET_ACCESS_KEY: moto.identity.secretAccessKey,
    },
  });
  assert.equal(add.code, 0, add.stderr);
  return { moto, te };
}

describe('keyless exec and export (moto, signature checks on)', () => {
  test('exec of a plain profile hands the command a GetSessionToken session, never the long-term key (moto: fixed session key)', async (t) => {
    const { moto, te } = await setup(t);
    const r = await runKeyless(['exec', 'dev', '--', process.execPath, '-e', PRINT_ENV], {
      env: { ...te.vars, AWS_PROFILE: 'other', AWS_SESSION_TOKEN: 'stale' },
    });
    assert.equal(r.code, 0, r.stderr);
    const env = JSON.parse(r.stdout) as Record<string, string>;
    assert.notEqual(env.AWS_ACCESS_KEY_ID, moto.identity.accessKeyId);
    assert.notEqual(env.AWS_SECRET_ACCESS_KEY, moto.identity.secretAccessKey);
    assert.ok(env.AWS_SESSION_TOKEN && env.AWS_SESSION_TOKEN !== 'stale');
    assert.ok(env.AWS_CREDENTIAL_EXPIRATION && Date.parse(env.AWS_CREDENTIAL_EXPIRATION) > Date.now());
    assert.equal(env.AWS_REGION, 'us-east-1');
    assert.equal(env.AWS_PROFILE, undefined, 'AWS_PROFILE removed');
    assert.equal(env.KEYLESS_PASSPHRASE, undefined, 'the vault passphrase never reaches the command');
    assert.equal(moto.countRequests('GetSessionToken'), 1);
    assert.ok(!r.stderr.includes(moto.identity.secretAccessKey));
  });

  test('exec of a role profile: awscli v1 shows the assumed-role ARN in a signature-checked call', async (t) => {
    const { moto, te } = await setup(t);
    const r = await runKeyless(
      ['exec', 'app', '--', 'aws', 'sts', 'get-caller-identity', '--query', 'Arn', '--output', 'text'],
      { env: te.vars },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.trim(), /^arn:aws:sts::123456789012:assumed-role\/app\/keyless-app$/);
    assert.equal(moto.countRequests('GetSessionToken'), 0, 'long-term keys call AssumeRole directly');
  });

  test('a two-deep source_profile chain assumes both roles; a second exec reuses the cached sessions', async (t) => {
    const { moto, te } = await setup(t);
    const first = await runKeyless(
      ['exec', 'deep', '--', 'aws', 'sts', 'get-caller-identity', '--query', 'Arn', '--output', 'text'],
      { env: te.vars },
    );
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /assumed-role\/deep\//);
    assert.equal(moto.countRequests('AssumeRole'), 2);
    const second = await runKeyless(
      ['exec', 'deep', '--', 'aws', 'sts', 'get-caller-identity', '--query', 'Arn', '--output', 'text'],
      { env: te.vars },
    );
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /assumed-role\/deep\//);
    assert.equal(moto.countRequests('AssumeRole'), 2, 'no STS call for the cached session');
    // cached sessions are encrypted at rest
    const dir = join(te.keylessHome, 'sessions');
    for (const f of await readdir(dir)) {
      const bytes = await readFile(join(dir, f), 'latin1');
      assert.ok(
        !bytes.includes('ASIA') && !bytes.includes('assumed-role'),
        `${f} holds no plaintext credentials`,
      );
    }
  });

  test('MFA: without a terminal and without --mfa-token it fails with what to do; with it, once per session', async (t) => {
    const { moto, te } = await setup(
      t,
      `[profile mfa]\nrole_arn = ROLE_APP\nsource_profile = dev\nmfa_serial = arn:aws:iam::123456789012:mfa/alice\n`,
    );
    const no = await runKeyless(['exec', 'mfa', '--', 'true'], { env: te.vars });
    assert.equal(no.code, 2);
    assert.match(no.stderr, /needs an MFA code.*--mfa-token/);
    const yes = await runKeyless(
      ['exec', 'mfa', '--mfa-token', '123456', '--', 'aws', 'sts', 'get-caller-identity'],
      { env: te.vars },
    );
    assert.equal(yes.code, 0, yes.stderr);
    const again = await runKeyless(['exec', 'mfa', '--', 'aws', 'sts', 'get-caller-identity'], {
      env: te.vars,
    });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(moto.countRequests('AssumeRole'), 1, 'MFA asked once: the session is reused');
    assert.doesNotMatch(yes.stderr, /--mfa-token is not used/);
    // on a profile without mfa_serial the code is not silently dropped: the user is told
    const unused = await runKeyless(['exec', 'app', '--mfa-token', '123456', '--', 'true'], { env: te.vars });
    assert.equal(unused.code, 0, unused.stderr);
    assert.match(unused.stderr, /--mfa-token is not used: profile app has no mfa_serial/);
  });

  test("exec passes the command's exit status and signal death through", async (t) => {
    const { te } = await setup(t);
    const seven = await runKeyless(['exec', 'app', '--', 'sh', '-c', 'exit 7'], { env: te.vars });
    assert.equal(seven.code, 7);
    const killed = await runKeyless(['exec', 'app', '--', 'sh', '-c', 'kill -TERM $$'], { env: te.vars });
    assert.equal(killed.code, 143);
    const missing = await runKeyless(['exec', 'app', '--', 'no-such-command-x'], { env: te.vars });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /command not found: no-such-command-x/);
  });

  test('exec forwards SIGTERM to the command', async (t) => {
    const { te } = await setup(t);
    const { spawn } = await import('node:child_process');
    const child = spawn(
      process.execPath,
      [
        KEYLESS_BIN,
        'exec',
        'app',
        '--',
        'sh',
        '-c',
        'trap "exit 42" TERM; echo ready; while true; do sleep 0.1; done',
      ],
      { env: te.vars },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    for (let i = 0; i < 300 && !out.includes('ready'); i++) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    assert.equal(code, 42);
  });

  test('boto3 works through credential_process = keyless export --format credential-process', async (t) => {
    const cmd = `${process.execPath} ${KEYLESS_BIN} export app --format credential-process`;
    const { te } = await setup(t, `[profile viaproc]\ncredential_process = ${cmd}\nregion = us-east-1\n`);
    const r = await runProcess(
      'python3',
      [
        '-c',
        "import boto3;print(boto3.Session(profile_name='viaproc').client('sts').get_caller_identity()['Arn'])",
      ],
      {
        env: te.vars,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /assumed-role\/app\//);
  });

  test('export prints env lines and JSON; a missing profile is a clear error', async (t) => {
    const { te } = await setup(t);
    const envOut = await runKeyless(['export', 'app', '--format', 'env'], { env: te.vars });
    assert.equal(envOut.code, 0, envOut.stderr);
    assert.match(envOut.stdout, /^export AWS_ACCESS_KEY_ID='ASIA/m);
    assert.match(envOut.stdout, /^export AWS_SESSION_TOKEN='/m);
    const json = await runKeyless(['export', 'app', '--format', 'json'], { env: te.vars });
    const parsed = JSON.parse(json.stdout) as { AccessKeyId: string; Expiration: string };
    assert.match(parsed.AccessKeyId, /^ASIA/);
    assert.ok(Date.parse(parsed.Expiration) > Date.now());
    const missing = await runKeyless(['export', 'nope'], { env: te.vars });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /profile nope has no credentials.*keyless add nope/);
  });

  test('exec of a vault_path profile works through a stand-in Vault and revokes its lease at the end', async (t) => {
    const moto = await startMoto(t, { roles: ['vault-role'] });
    const vault = await startVaultStandin(t, moto);
    vault.roles.set('deploy', {
      type: 'assumed_role',
      roleArns: [moto.identity.roles['vault-role'] as string],
    });
    const token = addToken(vault, { paths: ['*'] });
    const te = await makeTestEnv(t, {
      endpoint: moto.url,
      awsConfig: '[profile vaultprofile]\nvault_path = aws/sts/deploy\nvault_ttl = 15m\nregion = us-east-1\n',
      extra: { VAULT_ADDR: vault.url, VAULT_TOKEN: token },
    });
    const r = await runKeyless(
      [
        'exec',
        'vaultprofile',
        '--',
        'aws',
        'sts',
        'get-caller-identity',
        '--query',
        'Arn',
        '--output',
        'text',
      ],
      { env: te.vars },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /assumed-role\/vault-role\//);
    assert.equal(vault.revoked.length, 1, 'the lease is revoked at the end of exec');
    assert.ok(!r.stderr.includes(token));
  });
});
