// Per-registry settings (keyless ecr configure HOST --account/--region/--profile/--role-arn), the
// helper failing fast with no credentials (and never probing the metadata service off EC2), and
// `keyless ecr cache list` — against moto (signature checks on) through its counting proxy, which
// records the key id that signed each request.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { motoWithStoredProfile } from '../helpers/profiles.js';
import { makeTestEnv } from '../helpers/env.js';
import { runProcess, runKeyless, HELPER_BIN } from '../helpers/cli.js';

const helper = (verb: string, input: string, env: Record<string, string>) =>
  runProcess(process.execPath, [HELPER_BIN, verb], { env, input });

/** A stand-in metadata service on loopback that counts every connection made to it. */
async function metadataListener(t: {
  after(fn: () => unknown): void;
}): Promise<{ url: string; hits(): number }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  server.on('connection', () => hits++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, hits: () => hits };
}

describe('ECR registry settings and a helper that fails fast', () => {
  test('no credentials anywhere: get answers the error in under 1 s and never asks the metadata service (KEYLESS_EC2=1 would)', async (t) => {
    const te = await makeTestEnv(t);
    const imds = await metadataListener(t);
    const env: Record<string, string> = {
      ...te.vars,
      // nothing to use: no profile, no keys, no shared files, no container endpoint
      AWS_CONFIG_FILE: join(te.home, 'missing-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(te.home, 'missing-credentials'),
      // the metadata service allowed, and pointed at the stand-in: only the EC2 detection keeps it off
      AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url,
    };
    delete env.AWS_EC2_METADATA_DISABLED;
    const started = Date.now();
    const r = await helper('get', '123456789012.dkr.ecr.us-east-1.amazonaws.com', env);
    const elapsed = Date.now() - started;
    assert.equal(r.code, 1);
    assert.match(r.stdout, /no AWS credentials.*KEYLESS_ECR_PROFILE.*keyless ecr configure/);
    assert.equal(r.stderr, '');
    assert.ok(elapsed < 1000, `answered in ${elapsed} ms`);
    t.diagnostic(`no-credentials answer in ${elapsed} ms (process start included)`);
    assert.equal(imds.hits(), 0, 'no request to the metadata address');
    // shared files with named profiles only (no default): as fast, and says what to set
    await writeFile(join(te.home, 'named-only'), '[profile prod]\nregion = eu-west-1\n');
    const namedStarted = Date.now();
    const named = await helper('get', '123456789012.dkr.ecr.us-east-1.amazonaws.com', {
      ...env,
      AWS_CONFIG_FILE: join(te.home, 'named-only'),
    });
    assert.ok(Date.now() - namedStarted < 1000, `answered in ${Date.now() - namedStarted} ms`);
    assert.equal(named.code, 1);
    assert.match(named.stdout, /default profile of the shared AWS files.*KEYLESS_ECR_PROFILE/);
    assert.equal(imds.hits(), 0, 'still no request to the metadata address');
    // the control: where keyless believes it is on EC2, the same call does go to the stand-in
    const onEc2 = await helper('get', '123456789012.dkr.ecr.us-east-1.amazonaws.com', {
      ...env,
      KEYLESS_EC2: '1',
    });
    assert.equal(onEc2.code, 1);
    assert.ok(imds.hits() > 0, 'the stand-in would have seen a probe');
  });

  test('a registry mapped to a profile or a role gets that identity\'s token (any host:port); an unmapped host stays "not found"; cache list shows no token', async (t) => {
    const { moto, te } = await motoWithStoredProfile(t, {
      moto: { roles: ['puller', 'other-puller'] },
      awsConfig: '[profile app]\nrole_arn = ROLE:puller\nsource_profile = dev\n',
    });
    const env = te.vars;
    const mirror = '127.0.0.1:5999';
    const cache = 'pull-through.registry.internal';
    const set1 = await runKeyless(
      ['ecr', 'configure', mirror, '--account', '123456789012', '--region', 'us-east-1', '--profile', 'app'],
      { env },
    );
    assert.equal(set1.code, 0, set1.stderr);
    assert.match(set1.stdout, /127\.0\.0\.1:5999: account 123456789012, region us-east-1, profile app/);
    const otherRole = moto.identity.roles['other-puller'] as string;
    const set2 = await runKeyless(
      [
        'ecr',
        'configure',
        cache,
        '--account',
        '123456789012',
        '--region',
        'us-east-1',
        '--profile',
        'dev',
        '--role-arn',
        otherRole,
      ],
      { env },
    );
    assert.equal(set2.code, 0, set2.stderr);
    const settingsFile = join(te.keylessHome, 'ecr', 'registries.json');
    assert.equal((await stat(settingsFile)).mode & 0o777, 0o600);
    const dockerConfig = JSON.parse(await readFile(join(te.home, '.docker', 'config.json'), 'utf8')) as {
      credHelpers: Record<string, string>;
    };
    assert.deepEqual(dockerConfig.credHelpers, { [mirror]: 'keyless', [cache]: 'keyless' });

    moto.resetCounts();
    const before = moto.requests().length;
    const got = await helper('get', mirror, env);
    assert.equal(got.code, 0, got.stdout);
    assert.equal(JSON.parse(got.stdout).Username, 'AWS');
    const got2 = await helper('get', `https://${cache}/v2/`, env);
    assert.equal(got2.code, 0, got2.stdout);
    const calls = moto.requests().slice(before);
    const tokenCalls = calls.filter((c) => c.action === 'GetAuthorizationToken');
    assert.equal(tokenCalls.length, 2);
    // each token was asked for with a role session (ASIA…), never the stored long-term key
    for (const c of tokenCalls) {
      assert.match(c.signer, /^ASIA/);
      assert.notEqual(c.signer, moto.identity.accessKeyId);
    }
    assert.notEqual(tokenCalls[0]?.signer, tokenCalls[1]?.signer, 'two identities, two sessions');
    const assumed = calls.filter((c) => c.action === 'AssumeRole').map((c) => c.body);
    assert.ok(assumed.some((b) => b.includes(encodeURIComponent(moto.identity.roles.puller as string))));
    assert.ok(assumed.some((b) => b.includes(encodeURIComponent(otherRole))));

    // keyless ecr login resolves a mapped host the same way
    const login = await runKeyless(['ecr', 'login', mirror, '--print-password'], { env });
    assert.equal(login.code, 0, login.stderr);
    assert.ok(login.stdout.trim().length > 0);
    const loginOther = await runKeyless(['ecr', 'login', '127.0.0.1:6000', '--print-password'], { env });
    assert.equal(loginOther.code, 2);
    assert.match(loginOther.stderr, /nor one set with keyless ecr configure/);

    const unmapped = await helper('get', '127.0.0.1:6000', env);
    assert.deepEqual([unmapped.code, unmapped.stdout], [1, 'credentials not found in native keychain\n']);
    const refused = await runKeyless(['ecr', 'configure', 'registry.example.invalid:5000'], { env });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--account ACCOUNT --region REGION/);

    const list = await runKeyless(['ecr', 'cache', 'list', '--json'], { env });
    assert.equal(list.code, 0, list.stderr);
    const rows = (
      JSON.parse(list.stdout) as { tokens: { registry: string; identity: string; expiresAt: string }[] }
    ).tokens;
    assert.deepEqual(rows.map((r) => r.registry).sort(), [mirror, cache].sort());
    assert.ok(rows.every((r) => !Number.isNaN(Date.parse(r.expiresAt))));
    assert.ok(rows.some((r) => r.identity.includes(otherRole)));
    const text = await runKeyless(['ecr', 'cache', 'list'], { env });
    assert.match(text.stdout, /127\.0\.0\.1:5999 {2}profile:app/);
    assert.ok(!`${list.stdout}${text.stdout}`.includes('auth-token'), 'no token in the listing');

    const removed = await runKeyless(['ecr', 'configure', mirror, '--remove'], { env });
    assert.equal(removed.code, 0, removed.stderr);
    const after = await helper('get', mirror, env);
    assert.deepEqual([after.code, after.stdout], [1, 'credentials not found in native keychain\n']);
  });
});
