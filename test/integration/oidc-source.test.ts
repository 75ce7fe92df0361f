// The web identity source against moto_server and a stand-in of GitHub Actions' token service
// (test/helpers/github-oidc-standin.ts: GitHub's service cannot run here). moto 5.2 ignores the
// WebIdentityToken of AssumeRoleWithWebIdentity altogether (no signature, issuer, audience or expiry
// check) and wants a SigV4 signature on it once its free requests are spent, which real STS never
// does; test/helpers/moto_sts_web_identity.py changes exactly that one action to behave like STS
// (unsigned; RS256 signature against the stand-in's JWKS, iss, aud, exp checked). Every other call,
// the clients' GetCallerIdentity included, keeps moto's signature checks. The role's trust policy
// conditions are not evaluated by moto (see src/iac/oidc-trust.test.ts for those).
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { createSign, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { STSClient, AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { startMoto, type Moto } from '../helpers/moto.js';
import { makeTestEnv, type TestEnv } from '../helpers/env.js';
import { runKeyless, runProcess } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import {
  GITHUB_ISSUER,
  githubSubject,
  jwtClaims,
  startGithubOidcStandin,
  type GithubOidcStandin,
} from '../helpers/github-oidc-standin.js';
import { loadEnv } from '../../src/config/env.js';
import { createCredentialSource } from '../../src/sources/index.js';
import { fixedClock } from '../../src/util/clock.js';

interface Setup {
  moto: Moto;
  gh: GithubOidcStandin;
  te: TestEnv;
  roleArn: string;
}

async function setup(t: TestContext, awsConfig = ''): Promise<Setup> {
  const gh = await startGithubOidcStandin(t);
  const moto = await startMoto(t, {
    roles: ['ci'],
    webIdentity: { jwksFile: gh.jwksFile, issuer: GITHUB_ISSUER, audience: 'sts.amazonaws.com' },
  });
  const roleArn = moto.identity.roles.ci as string;
  // no KEYLESS_PASSPHRASE: a CI job with web identity has no keyless vault at all
  const te = await makeTestEnv(t, {
    endpoint: moto.url,
    awsConfig: awsConfig.replaceAll('ROLE_CI', roleArn),
  });
  delete te.vars.KEYLESS_PASSPHRASE;
  Object.assign(te.vars, gh.vars());
  return { moto, gh, te, roleArn };
}

/** Nothing a user or a log sees may hold a token the stand-in issued, or the runner's request token. */
function assertNoTokens(s: Setup, ...texts: string[]): void {
  for (const text of texts) {
    assert.ok(!text.includes(s.gh.requestToken), 'the request token never appears');
    for (const tok of s.gh.issued) {
      assert.ok(!text.includes(tok), 'an ID token never appears');
      assert.ok(!text.includes(tok.split('.')[2] as string), 'not even its signature part');
    }
  }
}

/** awscli v1 asks moto who these credentials are (a signature-checked call). */
async function callerArn(
  s: Setup,
  creds: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string },
): Promise<string> {
  const r = await runProcess('aws', ['sts', 'get-caller-identity', '--query', 'Arn', '--output', 'text'], {
    env: {
      ...s.te.vars,
      AWS_ACCESS_KEY_ID: creds.AccessKeyId,
      AWS_SECRET_ACCESS_KEY: creds.SecretAccessKey,
      AWS_SESSION_TOKEN: creds.SessionToken,
    },
  });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

describe('web identity source (moto with STS-like AssumeRoleWithWebIdentity, GitHub token service stand-in)', () => {
  test('export --oidc github: one token request with the bearer token and audience, exchanged unsigned; awscli v1 signs with the session', async (t) => {
    const s = await setup(t);
    const r = await runKeyless(['export', '--oidc', 'github', '--role-arn', s.roleArn, '--format', 'json'], {
      env: s.te.vars,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(s.gh.requests, [{ audience: 'sts.amazonaws.com', authorized: true }]);
    const exchange = s.moto.requests().filter((q) => q.action === 'AssumeRoleWithWebIdentity');
    assert.equal(exchange.length, 1);
    assert.equal(exchange[0]?.signer, '-', 'AssumeRoleWithWebIdentity goes unsigned, as to STS');
    const sent = new URLSearchParams(exchange[0]?.body).get('WebIdentityToken');
    assert.equal(sent, s.gh.issued[0], 'the token STS got is the one the runner issued');
    assert.match(new URLSearchParams(exchange[0]?.body).get('RoleSessionName') ?? '', /^keyless-github-\d+$/);
    const creds = JSON.parse(r.stdout) as {
      AccessKeyId: string;
      SecretAccessKey: string;
      SessionToken: string;
    };
    assert.match(creds.AccessKeyId, /^ASIA/);
    assert.equal(
      await callerArn(s, creds),
      `arn:aws:sts::123456789012:assumed-role/ci/${new URLSearchParams(exchange[0]?.body).get('RoleSessionName')}`,
    );
    assertNoTokens(s, r.stderr, s.moto.log());
  });

  test('exec --oidc github -- CMD: every operand after -- is the command; awscli v1 runs as the role', async (t) => {
    const s = await setup(t);
    const r = await runKeyless(
      [
        'exec',
        '--oidc',
        'github',
        '--role-arn',
        s.roleArn,
        '--',
        'aws',
        'sts',
        'get-caller-identity',
        '--query',
        'Arn',
        '--output',
        'text',
      ],
      { env: s.te.vars },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.trim(), /^arn:aws:sts::123456789012:assumed-role\/ci\/keyless-github-\d+$/);
    assertNoTokens(s, r.stdout, r.stderr);
    const env = await runKeyless(
      [
        'exec',
        '--oidc',
        'github',
        '--role-arn',
        s.roleArn,
        '--',
        process.execPath,
        '-e',
        'process.stdout.write(JSON.stringify(process.env))',
      ],
      { env: s.te.vars },
    );
    assert.equal(env.code, 0, env.stderr);
    const childEnv = JSON.parse(env.stdout) as Record<string, string>;
    assert.match(childEnv.AWS_SESSION_TOKEN ?? '', /./);
    assert.equal(
      childEnv.ACTIONS_ID_TOKEN_REQUEST_TOKEN,
      undefined,
      'the command gets the session, not what mints it',
    );
    assert.equal(childEnv.ACTIONS_ID_TOKEN_REQUEST_URL, undefined);
  });

  test('--oidc-audience is what the runner is asked for; STS (moto as STS) refuses a token for another audience, and says why', async (t) => {
    const s = await setup(t);
    const r = await runKeyless(
      [
        'export',
        '--oidc',
        'github',
        '--oidc-audience',
        'https://example.test/other',
        '--role-arn',
        s.roleArn,
      ],
      { env: s.te.vars },
    );
    assert.equal(r.code, 2);
    assert.deepEqual(s.gh.requests, [{ audience: 'https://example.test/other', authorized: true }]);
    assert.equal(jwtClaims(s.gh.issued[0] as string).aud, 'https://example.test/other');
    assert.match(
      r.stderr,
      /token from the GitHub Actions runner .*AssumeRoleWithWebIdentity .*InvalidIdentityToken(Exception)?: Incorrect token audience.*aud claim \(--oidc-audience\)/,
    );
    assert.equal(r.stdout, '');
    assertNoTokens(s, r.stderr);
  });

  test('a wrong ACTIONS_ID_TOKEN_REQUEST_TOKEN: the runner says 401 and keyless names the variable to check, not its value', async (t) => {
    const s = await setup(t);
    const wrong = `${s.gh.requestToken.slice(0, -4)}AAAA`;
    const r = await runKeyless(['export', '--oidc', 'github', '--role-arn', s.roleArn], {
      env: { ...s.te.vars, ACTIONS_ID_TOKEN_REQUEST_TOKEN: wrong },
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /refused the request \(HTTP 401\)\. Check ACTIONS_ID_TOKEN_REQUEST_TOKEN/);
    assert.ok(!r.stderr.includes(wrong));
    assert.deepEqual(s.gh.requests, [{ audience: 'sts.amazonaws.com', authorized: false }]);
    assert.equal(s.moto.countRequests('AssumeRoleWithWebIdentity'), 0);
    const unset = await runKeyless(['export', '--oidc', 'github', '--role-arn', s.roleArn], {
      env: { ...s.te.vars, ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '' },
    });
    assert.equal(unset.code, 2);
    assert.match(
      unset.stderr,
      /ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN.*permissions: id-token: write/,
    );
  });

  test('refresh after the session expires takes a new token: the first one has expired by then and STS (moto as STS) refuses it', async (t) => {
    const s = await setup(t);
    s.gh.ttlSeconds = 2;
    const clock = fixedClock(Date.now());
    const source = await createCredentialSource(
      { oidc: { kind: 'github', audience: 'sts.amazonaws.com' }, roleArn: s.roleArn },
      { env: loadEnv(s.te.vars), clock },
    );
    const first = await source();
    assert.equal(s.gh.issued.length, 1);
    assert.equal(await source(), first, 'a valid session is reused: no new token');
    assert.equal(s.gh.requests.length, 1);
    await new Promise((r) => setTimeout(r, 2500));
    // the first token is now past its exp: presenting it again would fail
    const sts = new STSClient({ region: 'us-east-1', endpoint: s.moto.url, maxAttempts: 1 });
    t.after(() => sts.destroy());
    await assert.rejects(
      sts.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: s.roleArn,
          RoleSessionName: 'replay',
          WebIdentityToken: s.gh.issued[0],
        }),
      ),
      /Token expired/,
    );
    // and a token signed by any other key is refused too (the launcher checks the signature)
    const [head, body] = (s.gh.issued[1] ?? s.gh.issued[0] ?? '').split('.');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = `${head}.${body}.${createSign('RSA-SHA256').update(`${head}.${body}`).sign(privateKey).toString('base64url')}`;
    await assert.rejects(
      sts.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: s.roleArn,
          RoleSessionName: 'forged',
          WebIdentityToken: forged,
        }),
      ),
      /signature is invalid/,
    );
    clock.set((first.expiration as Date).getTime() + 1000);
    const second = await source();
    assert.equal(s.gh.requests.length, 2, 'the stand-in was asked again');
    assert.notEqual(s.gh.issued[1], s.gh.issued[0]);
    assert.notEqual(second.accessKeyId, first.accessKeyId);
    const who = new STSClient({
      region: 'us-east-1',
      endpoint: s.moto.url,
      credentials: second,
      maxAttempts: 1,
    });
    t.after(() => who.destroy());
    assert.match((await who.send(new GetCallerIdentityCommand({}))).Arn ?? '', /assumed-role\/ci\//);
  });

  test('profile keys web_identity_token_file + role_arn (+ role_session_name), and the AWS_* variables with no profile', async (t) => {
    const s = await setup(t);
    const now = Math.floor(Date.now() / 1000);
    const token = s.gh.sign({
      iss: GITHUB_ISSUER,
      aud: 'sts.amazonaws.com',
      sub: githubSubject(s.gh.job),
      iat: now,
      exp: now + 600,
    });
    s.gh.issued.push(token); // so assertNoTokens looks for it too
    const file = join(s.te.home, 'token');
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    await writeFile(
      s.te.awsConfigFile,
      `[profile ci]\nrole_arn = ${s.roleArn}\nweb_identity_token_file = ${file}\nrole_session_name = from-profile\nregion = us-east-1\n`,
    );
    const viaProfile = await runKeyless(
      ['exec', 'ci', '--', 'aws', 'sts', 'get-caller-identity', '--query', 'Arn', '--output', 'text'],
      { env: s.te.vars },
    );
    assert.equal(viaProfile.code, 0, viaProfile.stderr);
    assert.equal(viaProfile.stdout.trim(), 'arn:aws:sts::123456789012:assumed-role/ci/from-profile');
    const viaEnv = await runKeyless(['export', '--format', 'json'], {
      env: {
        ...s.te.vars,
        AWS_WEB_IDENTITY_TOKEN_FILE: file,
        AWS_ROLE_ARN: s.roleArn,
        AWS_ROLE_SESSION_NAME: 'from-env',
      },
    });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.equal(
      await callerArn(s, JSON.parse(viaEnv.stdout) as Parameters<typeof callerArn>[1]),
      'arn:aws:sts::123456789012:assumed-role/ci/from-env',
    );
    const viaGitlab = await runKeyless(
      ['export', '--oidc', 'gitlab', '--role-arn', s.roleArn, '--format', 'json'],
      {
        env: { ...s.te.vars, AWS_OIDC_TOKEN: token, CI_JOB_ID: '42' },
      },
    );
    assert.equal(viaGitlab.code, 0, viaGitlab.stderr);
    assert.equal(
      await callerArn(s, JSON.parse(viaGitlab.stdout) as Parameters<typeof callerArn>[1]),
      'arn:aws:sts::123456789012:assumed-role/ci/keyless-gitlab-42',
    );
    assert.equal(s.gh.requests.length, 0, 'none of these asked the GitHub runner');
    assertNoTokens(s, viaProfile.stderr, viaEnv.stderr, viaGitlab.stderr, s.moto.log());
  });

  test('serve --oidc github --daemon: awscli v1 through the full URI and token gets the role; the daemon log holds no token', async (t) => {
    const s = await setup(t);
    const port = await freePort();
    const r = await runKeyless(
      ['serve', '--daemon', '--oidc', 'github', '--role-arn', s.roleArn, '--listen', `127.0.0.1:${port}`],
      { env: s.te.vars, timeoutMs: 60_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    // the temporary KEYLESS_HOME is gone by the time after-hooks run: stop the daemon by its pid
    const pid = Number((await readFile(join(s.te.keylessHome, 'server', 'server.pid'), 'utf8')).trim());
    t.after(() => {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already stopped
      }
    });
    const lines = Object.fromEntries(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    ) as Record<string, string>;
    const aws = await runProcess(
      'aws',
      ['sts', 'get-caller-identity', '--query', 'Arn', '--output', 'text'],
      {
        env: {
          ...s.te.vars,
          AWS_CONTAINER_CREDENTIALS_FULL_URI: lines.AWS_CONTAINER_CREDENTIALS_FULL_URI ?? '',
          AWS_CONTAINER_AUTHORIZATION_TOKEN: lines.AWS_CONTAINER_AUTHORIZATION_TOKEN ?? '',
        },
      },
    );
    assert.equal(aws.code, 0, aws.stderr);
    assert.match(aws.stdout.trim(), /^arn:aws:sts::123456789012:assumed-role\/ci\/keyless-github-\d+$/);
    assert.ok(s.gh.requests.length >= 1);
    const log = await readFile(join(s.te.keylessHome, 'server', 'server.log'), 'utf8');
    assertNoTokens(s, r.stdout, r.stderr, aws.stderr, log);
    const stop = await runKeyless(['serve', '--stop'], { env: s.te.vars });
    assert.equal(stop.code, 0, stop.stderr);
  });
});
