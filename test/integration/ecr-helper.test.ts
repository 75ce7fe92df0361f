// docker-credential-keyless as a real process: the credential-helper protocol exactly, tokens from
// moto's ECR (signature checks on), the token cache, and `keyless ecr configure`.
// Emulator difference: moto's GetAuthorizationToken returns expiresAt 2015-01-01 (in the past at
// receipt, not what ECR does): the helper then caches the token briefly (30 minutes, usable for 15).
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Moto } from '../helpers/moto.js';
import { motoWithStoredProfile } from '../helpers/profiles.js';
import { makeTestEnv, type TestEnv } from '../helpers/env.js';
import { runProcess, runKeyless, HELPER_BIN } from '../helpers/cli.js';
import { cacheKey } from '../../src/ecr/token-cache.js';

const HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const helper = (verb: string, input: string, env: Record<string, string>) =>
  runProcess(process.execPath, [HELPER_BIN, verb], { env, input });

async function setup(t: TestContext): Promise<{ moto: Moto; te: TestEnv; env: Record<string, string> }> {
  // a role profile: moto's GetSessionToken keys do not validate, AssumeRole keys do
  const { moto, te } = await motoWithStoredProfile(t, {
    moto: { roles: ['puller'] },
    awsConfig: '[profile app]\nrole_arn = ROLE:puller\nsource_profile = dev\n',
  });
  return { moto, te, env: { ...te.vars, AWS_PROFILE: 'app' } };
}

describe('docker-credential-keyless', () => {
  test('speaks the helper protocol: version, list, store/erase no-ops, not-found text, errors on stdout, silent stderr', async (t) => {
    const te = await makeTestEnv(t);
    const v = await helper('version', '', te.vars);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^docker-credential-keyless \(keyless\) /);
    const list = await helper('list', 'unused', te.vars);
    assert.deepEqual([list.code, list.stdout.trim()], [0, '{}']);
    for (const verb of ['store', 'erase']) {
      const r = await helper(
        verb,
        verb === 'store' ? JSON.stringify({ ServerURL: HOST, Username: 'AWS', Secret: 'x' }) : HOST,
        te.vars,
      );
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', ''], verb);
    }
    const other = await helper('get', 'https://index.docker.io/v1/', te.vars);
    assert.deepEqual(
      [other.code, other.stdout, other.stderr],
      [1, 'credentials not found in native keychain\n', ''],
    );
    const empty = await helper('get', '  \n', te.vars);
    assert.deepEqual([empty.code, empty.stdout.trim()], [1, 'no credentials server URL']);
    const usage = await runProcess(process.execPath, [HELPER_BIN], { env: te.vars });
    assert.equal(usage.code, 1);
    assert.match(usage.stdout, /Usage/);
  });

  test('get for an ECR host returns user AWS and the ECR token, then serves it from the cache (moto: a past expiry is cached 30 min only)', async (t) => {
    const { moto, env, te } = await setup(t);
    const before = Date.now();
    for (const form of [HOST, `${HOST}:443`, `https://${HOST}:443/v2/`]) {
      const r = await helper('get', form, env);
      assert.equal(r.code, 0, r.stdout);
      assert.equal(r.stderr, '');
      assert.deepEqual(JSON.parse(r.stdout), {
        ServerURL: form,
        Username: 'AWS',
        Secret: '123456789012-auth-token',
      });
    }
    assert.equal(
      moto.countRequests('GetAuthorizationToken'),
      1,
      'the second and third get are served from the cache',
    );
    const cached = JSON.parse(await readFile(join(te.keylessHome, 'ecr', 'tokens.json'), 'utf8')) as {
      tokens: Record<string, { expiresAt: number }>;
    };
    const [entry] = Object.values(cached.tokens);
    const window = (entry?.expiresAt ?? 0) - before;
    assert.ok(window > 29 * 60_000 && window <= 31 * 60_000, `cached for ${window} ms, not 12 h`);
  });

  test('concurrent gets for six registries keep all six tokens (cache lock); keyless ecr cache clear forgets them', async (t) => {
    const { moto, te, env } = await setup(t);
    const hosts = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-south-1', 'sa-east-1'].map(
      (region) => `123456789012.dkr.ecr.${region}.amazonaws.com`,
    );
    const got = await Promise.all(hosts.map((h) => helper('get', h, env)));
    for (const r of got) assert.equal(r.code, 0, r.stdout);
    assert.equal(moto.countRequests('GetAuthorizationToken'), 6);
    const cached = JSON.parse(await readFile(join(te.keylessHome, 'ecr', 'tokens.json'), 'utf8')) as {
      tokens: Record<string, unknown>;
    };
    assert.equal(Object.keys(cached.tokens).length, 6, "no writer dropped another one's token");
    const clear = await runKeyless(['ecr', 'cache', 'clear'], { env });
    assert.equal(clear.code, 0, clear.stderr);
    assert.match(clear.stdout, /6 cached token\(s\) removed/);
    await assert.rejects(stat(join(te.keylessHome, 'ecr', 'tokens.json')));
    const again = await helper('get', hosts[0] as string, env);
    assert.equal(again.code, 0);
    assert.equal(moto.countRequests('GetAuthorizationToken'), 7, 'the next get asks ECR again');
  });

  test('a cached token is served without any AWS call; a corrupt cache is rebuilt and logged; the cache is 0600', async (t) => {
    const { moto, te, env } = await setup(t);
    const dir = join(te.keylessHome, 'ecr');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const key = cacheKey({ kind: 'private', host: HOST, region: 'us-east-1', identity: 'profile:app' });
    const now = Date.now();
    await writeFile(
      join(dir, 'tokens.json'),
      JSON.stringify({
        version: 1,
        tokens: {
          [key]: {
            username: 'AWS',
            secret: 'cached-secret',
            requestedAt: now,
            expiresAt: now + 12 * 3600_000,
          },
        },
      }),
      { mode: 0o600 },
    );
    const hit = await helper('get', HOST, env);
    assert.equal(JSON.parse(hit.stdout).Secret, 'cached-secret');
    assert.equal(moto.countRequests('GetAuthorizationToken'), 0);
    // another identity misses
    const same = await helper('get', HOST, { ...env, KEYLESS_ECR_PROFILE: 'app' });
    assert.equal(JSON.parse(same.stdout).Secret, 'cached-secret', 'same identity (profile app) hits');
    await writeFile(join(dir, 'tokens.json'), '{not json');
    const rebuilt = await helper('get', HOST, env);
    assert.equal(rebuilt.code, 0);
    assert.equal(JSON.parse(rebuilt.stdout).Secret, '123456789012-auth-token');
    assert.match(await readFile(join(dir, 'helper.log'), 'utf8'), /corrupt.*rebuilding/);
    assert.ok(
      !(await readFile(join(dir, 'helper.log'), 'utf8')).includes('auth-token'),
      'no token in the log',
    );
    assert.equal((await stat(join(dir, 'helper.log'))).mode & 0o777, 0o600);
  });

  test('keyless ecr configure adds and removes credHelpers, keeps other keys, backs up, honours DOCKER_CONFIG', async (t) => {
    const te = await makeTestEnv(t);
    const dockerDir = join(te.home, 'dockercfg');
    await mkdir(dockerDir);
    await writeFile(
      join(dockerDir, 'config.json'),
      JSON.stringify({ auths: { 'ghcr.io': {} }, credHelpers: { 'gcr.io': 'gcloud' }, currentContext: 'x' }),
    );
    const env = { ...te.vars, DOCKER_CONFIG: dockerDir };
    const add = await runKeyless(['ecr', 'configure', HOST, 'public.ecr.aws'], { env });
    assert.equal(add.code, 0, add.stderr);
    const cfg = JSON.parse(await readFile(join(dockerDir, 'config.json'), 'utf8'));
    assert.deepEqual(cfg.credHelpers, { 'gcr.io': 'gcloud', [HOST]: 'keyless', 'public.ecr.aws': 'keyless' });
    assert.deepEqual(cfg.auths, { 'ghcr.io': {} });
    assert.equal(cfg.currentContext, 'x');
    assert.ok((await readFile(join(dockerDir, 'config.json.keyless-backup'), 'utf8')).includes('gcloud'));
    const rm = await runKeyless(['ecr', 'configure', '--remove', HOST, 'public.ecr.aws'], { env });
    assert.equal(rm.code, 0);
    assert.deepEqual(JSON.parse(await readFile(join(dockerDir, 'config.json'), 'utf8')).credHelpers, {
      'gcr.io': 'gcloud',
    });
    const bad = await runKeyless(['ecr', 'configure', 'docker.io'], { env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not an ECR registry host/);
  });

  test('the docker CLI itself invokes the helper for an ECR image after keyless ecr configure (no engine behind DOCKER_HOST)', async (t) => {
    const { moto, te, env } = await setup(t);
    const dockerDir = join(te.home, 'docker');
    await mkdir(dockerDir);
    const conf = await runKeyless(['ecr', 'configure', HOST], { env: { ...env, DOCKER_CONFIG: dockerDir } });
    assert.equal(conf.code, 0, conf.stderr);
    const binDir = join(te.home, 'bin');
    await mkdir(binDir);
    await writeFile(
      join(binDir, 'docker-credential-keyless'),
      `#!/bin/sh\nexec ${process.execPath} ${HELPER_BIN} "$@"\n`,
      { mode: 0o755 },
    );
    const r = await runProcess('docker', ['pull', `${HOST}/app:latest`], {
      env: {
        ...env,
        DOCKER_CONFIG: dockerDir,
        PATH: `${binDir}:${env.PATH ?? ''}`,
        DOCKER_HOST: `unix://${join(te.home, 'nothing.sock')}`,
      },
      timeoutMs: 60_000,
    });
    assert.notEqual(r.code, 0, 'no engine answers');
    assert.equal(
      moto.countRequests('GetAuthorizationToken'),
      1,
      'the CLI ran docker-credential-keyless get, which asked ECR (moto)',
    );
    assert.match(
      await readFile(join(te.keylessHome, 'ecr', 'helper.log'), 'utf8'),
      /dkr\.ecr\.us-east-1\.amazonaws\.com: new token/,
    );
  });
});

describe('side by side with Debian docker-credential-ecr-login (inputs that need no AWS call)', () => {
  const cases: { verb: string; input: string; same: boolean; why?: string }[] = [
    { verb: 'get', input: 'https://index.docker.io/v1/', same: true },
    { verb: 'get', input: '', same: true },
    { verb: 'list', input: '', same: true },
    {
      verb: 'store',
      input: JSON.stringify({ ServerURL: HOST, Username: 'AWS', Secret: 'x' }),
      same: false,
      why: 'keyless: a no-op that succeeds so docker login works (ecr-login answers "not implemented", its issue #316)',
    },
    { verb: 'erase', input: HOST, same: false, why: 'same as store' },
  ];
  for (const c of cases) {
    test(`${c.verb} ${c.input.slice(0, 30) || '(empty)'}: ${c.same ? 'same answer' : `differs: ${c.why}`}`, async (t) => {
      const te = await makeTestEnv(t);
      const env = { ...te.vars, AWS_ECR_DISABLE_CACHE: '1' };
      const ours = await helper(c.verb, c.input, env);
      const theirs = await runProcess('docker-credential-ecr-login', [c.verb], { env, input: c.input });
      if (c.same) assert.deepEqual([ours.code, ours.stdout.trim()], [theirs.code, theirs.stdout.trim()]);
      else {
        assert.deepEqual([ours.code, ours.stdout], [0, '']);
        assert.deepEqual([theirs.code, theirs.stdout.trim()], [1, 'not implemented']);
      }
    });
  }
});
