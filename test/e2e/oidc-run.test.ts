// keyless run --oidc github with a real Docker engine: awscli v1 and boto3 in a container get the role
// the runner's token is exchanged for, through the usual endpoint. GitHub's token service is a
// stand-in (test/helpers/github-oidc-standin.ts; it cannot run here); STS is moto with
// AssumeRoleWithWebIdentity made STS-like (unsigned, token verified against the stand-in's JWKS: see
// test/helpers/moto_sts_web_identity.py); every client call is signature-checked by moto. No token
// issued by the stand-in, nor the runner's request token, appears in any output, log file under
// KEYLESS_HOME, or `docker inspect`.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { join } from 'node:path';
import {
  requireDocker,
  lockDockerBridge,
  blackholeBridgeAddress,
  ensureHostbaseImage,
  hostMounts,
  hostPythonPrefix,
  docker,
  recreateKeylessNetwork,
  ensureBusyboxImage,
  DEBIAN_DOCKER,
} from '../helpers/docker.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { makeTestEnv, type TestEnv } from '../helpers/env.js';
import { runKeyless, runProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { containerClientCommands } from '../helpers/aws-clients.js';
import {
  GITHUB_ISSUER,
  jwtClaims,
  startGithubOidcStandin,
  type GithubOidcStandin,
} from '../helpers/github-oidc-standin.js';
import { suiteScope } from '../helpers/suite-scope.js';

/** Every regular file under dir, as text (logs, audit log, pid files; sockets skipped). */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const p = join(e.parentPath ?? (e as unknown as { path: string }).path, e.name);
    if ((await stat(p)).isFile()) out.push(await readFile(p, 'utf8'));
  }
  return out;
}

describe(
  'keyless run --oidc github (real Docker engine, moto as STS, GitHub token service stand-in)',
  { timeout: 600_000 },
  () => {
    const ctx: {
      moto?: Moto;
      gh?: GithubOidcStandin;
      te?: TestEnv;
      roleArn: string;
      mounts: string[];
      py: string;
      image: string;
      skip: boolean;
      outputs: string[];
    } = { roleArn: '', mounts: [], py: '', image: '', skip: false, outputs: [] };
    const t0 = suiteScope(() => (ctx.skip = true));

    before(async () => {
      if (!(await requireDocker(t0))) return;
      await lockDockerBridge(t0);
      await blackholeBridgeAddress(t0);
      await recreateKeylessNetwork(t0);
      ctx.gh = await startGithubOidcStandin(t0);
      ctx.moto = await startMoto(t0, {
        host: '169.254.170.2',
        roles: ['ci', 'other'],
        // sessions of 10 s (the launcher's time compression), so a refresh after expiry happens in a test
        webIdentity: {
          jwksFile: ctx.gh.jwksFile,
          issuer: GITHUB_ISSUER,
          audience: 'sts.amazonaws.com',
          sessionSeconds: 10,
        },
      });
      ctx.roleArn = ctx.moto.identity.roles.ci as string;
      ctx.te = await makeTestEnv(t0, { endpoint: ctx.moto.url });
      delete ctx.te.vars.KEYLESS_PASSPHRASE; // a CI job: no keyless vault at all
      Object.assign(ctx.te.vars, ctx.gh.vars());
      ctx.gh.ttlSeconds = 5; // tokens are used at once; short-lived ones show a refresh cannot reuse them
      t0.after(async () => void (await runKeyless(['serve', '--stop'], { env: ctx.te?.vars ?? {} })));
      ctx.image = await ensureHostbaseImage();
      ctx.mounts = await hostMounts();
      ctx.py = await hostPythonPrefix();
    });
    after(async () => {
      await t0.runCleanups();
    });

    const runArgs = (extra: string[]): string[] => [
      'run',
      '--oidc',
      'github',
      '--role-arn',
      ctx.roleArn,
      '--',
      '--pull',
      'never',
      ...ctx.mounts,
      '-e',
      'AWS_EC2_METADATA_DISABLED=true',
      '-e',
      `AWS_ENDPOINT_URL=${ctx.moto?.url}`,
      ...extra,
    ];

    for (const name of ['awscli v1', 'boto3'] as const) {
      test(`${name} in the container runs as the role the runner's token was exchanged for`, async (t) => {
        if (ctx.skip) return t.skip('no Docker');
        const gh = ctx.gh as GithubOidcStandin;
        const before = gh.requests.length;
        const cmd = new Map(containerClientCommands(ctx.py, ctx.moto?.url ?? '')).get(name) ?? [];
        const r = await runKeyless(runArgs(['--rm', ctx.image, ...cmd]), {
          env: ctx.te?.vars ?? {},
          timeoutMs: 120_000,
        });
        ctx.outputs.push(r.stdout, r.stderr);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout.trim(), /^arn:aws:sts::123456789012:assumed-role\/ci\/keyless-github-\d+$/);
        assert.ok(gh.requests.length > before, 'the runner was asked for a token');
        assert.ok(gh.requests.every((q) => q.authorized && q.audience === 'sts.amazonaws.com'));
      });
    }

    test('after the first session expires, the server takes a new token from the runner (every earlier token had expired by then, so none could have been reused)', async (t) => {
      if (ctx.skip) return t.skip('no Docker');
      const gh = ctx.gh as GithubOidcStandin;
      const moto = ctx.moto as Moto;
      const exchangesBefore = moto.requests().filter((q) => q.action === 'AssumeRoleWithWebIdentity').length;
      const script = [
        'import boto3, time',
        "s = boto3.Session(); c = s.client('sts')",
        "a = c.get_caller_identity()['Arn']; k1 = s.get_credentials().get_frozen_credentials().access_key",
        'print(int(time.time() * 1000)); time.sleep(13)',
        "b = c.get_caller_identity()['Arn']; k2 = s.get_credentials().get_frozen_credentials().access_key",
        "print(a); print(b); print('new key' if k1 != k2 else 'same key')",
      ].join('\n');
      const r = await runKeyless(runArgs(['--rm', ctx.image, `${ctx.py}/bin/python3`, '-c', script]), {
        env: ctx.te?.vars ?? {},
        timeoutMs: 120_000,
      });
      ctx.outputs.push(r.stdout, r.stderr);
      assert.equal(r.code, 0, r.stderr);
      const [firstDone, a, b, changed] = r.stdout.trim().split('\n');
      assert.match(a ?? '', /assumed-role\/ci\//);
      assert.match(b ?? '', /assumed-role\/ci\//, 'the refreshed session signs (moto checks it)');
      assert.equal(changed, 'new key', 'boto3 got a new session from the endpoint');
      // the runner was asked again after the first session (10 s) was used and had expired
      const refresh = gh.issuedAt.findIndex((at) => at > Number(firstDone));
      assert.ok(refresh > 0, 'a token was requested after the first call');
      const refreshedAt = gh.issuedAt[refresh] as number;
      for (const old of gh.issued.slice(0, refresh))
        assert.ok((jwtClaims(old).exp as number) * 1000 < refreshedAt, 'no earlier token was still valid');
      const sent = moto
        .requests()
        .filter((q) => q.action === 'AssumeRoleWithWebIdentity')
        .slice(exchangesBefore)
        .map((q) => new URLSearchParams(q.body).get('WebIdentityToken'));
      assert.ok(sent.includes(gh.issued[refresh] as string), 'STS got the new token');
      assert.equal(new Set(sent).size, sent.length, 'every exchange presented a token of its own');
    });

    test('docker inspect, the outputs and every file under KEYLESS_HOME hold no token', async (t) => {
      if (ctx.skip) return t.skip('no Docker');
      const gh = ctx.gh as GithubOidcStandin;
      const te = ctx.te as TestEnv;
      const name = `keyless-oidc-${Date.now()}`;
      const r = await runKeyless(runArgs(['-d', '--name', name, ctx.image, '/bin/sleep', '120']), {
        env: te.vars,
      });
      ctx.outputs.push(r.stdout, r.stderr);
      assert.equal(r.code, 0, r.stderr);
      t.after(async () => void (await docker(['rm', '-f', name]).catch(() => undefined)));
      const { stdout: inspect } = await docker(['inspect', name]);
      assert.match(
        inspect,
        /"keyless\.oidc": "github:sts\.amazonaws\.com"/,
        'the label names the place, not a token',
      );
      assert.doesNotMatch(inspect, /ACTIONS_ID_TOKEN_REQUEST|AWS_WEB_IDENTITY_TOKEN|AWS_SESSION_TOKEN/);
      const { stdout: arn } = await docker([
        'exec',
        name,
        `${ctx.py}/bin/python3`,
        '-c',
        "import boto3;print(boto3.client('sts').get_caller_identity()['Arn'])",
      ]);
      assert.match(arn.trim(), /assumed-role\/ci\//);
      assert.ok(gh.issued.length >= 3, `tokens issued: ${gh.issued.length}`);
      const texts = [
        inspect,
        ...ctx.outputs,
        ...(await filesUnder(te.keylessHome)),
        (ctx.moto as Moto).log(),
      ];
      for (const text of texts) {
        assert.ok(!text.includes(gh.requestToken), 'the request token never appears');
        for (const tok of gh.issued)
          assert.ok(!text.includes(tok.split('.')[2] as string), 'no ID token appears');
      }
    });

    test('a wrong ACTIONS_ID_TOKEN_REQUEST_TOKEN: keyless run says which variable to check and starts no container', async (t) => {
      if (ctx.skip) return t.skip('no Docker');
      const te = ctx.te as TestEnv;
      const name = `keyless-oidc-wrong-${Date.now()}`;
      const wrong = 'not-the-runner-request-token';
      const r = await runKeyless(runArgs(['--rm', '--name', name, ctx.image, '/bin/true']), {
        env: { ...te.vars, ACTIONS_ID_TOKEN_REQUEST_TOKEN: wrong },
      });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /HTTP 401\)\. Check ACTIONS_ID_TOKEN_REQUEST_TOKEN/);
      assert.ok(!r.stderr.includes(wrong));
      const { stdout } = await docker(['ps', '-a', '--filter', `name=${name}`, '--format', '{{.Names}}']);
      assert.equal(stdout.trim(), '');
    });

    test('keyless compose --oidc github (docker-compose 1.29): a service naming no role gets --role-arn, one naming its role gets that, both from the token', async (t) => {
      if (ctx.skip) return t.skip('no Docker');
      const te = ctx.te as TestEnv;
      const dir = await tempDir(t, 'keyless-oidc-compose-');
      const volumes = ['/usr', '/lib', '/lib64', '/bin', '/etc', ctx.py].map((p) => `${p}:${p}:ro`);
      const service = (xk: unknown) => ({
        image: ctx.image,
        volumes,
        networks: ['inner'],
        environment: { AWS_EC2_METADATA_DISABLED: 'true', AWS_ENDPOINT_URL: ctx.moto?.url ?? '' },
        'x-keyless': xk,
        command: [
          `${ctx.py}/bin/python3`,
          '-c',
          "import boto3;print(boto3.client('sts').get_caller_identity()['Arn'])",
        ],
      });
      await writeFile(
        join(dir, 'docker-compose.yml'),
        stringify({
          version: '3.8',
          services: { plain: service(true), named: service({ 'role-arn': ctx.moto?.identity.roles.other }) },
          networks: { inner: { internal: true } },
        }),
      );
      t.after(async () => {
        await runProcess('docker-compose', ['-p', 'kloidc', 'down', '--remove-orphans'], {
          env: te.vars,
          cwd: dir,
        }).catch(() => undefined);
      });
      const arns: string[] = [];
      for (const svc of ['plain', 'named']) {
        const r = await runKeyless(
          [
            'compose',
            '--oidc',
            'github',
            '--role-arn',
            ctx.roleArn,
            '--',
            '-p',
            'kloidc',
            'run',
            '--rm',
            '-T',
            svc,
          ],
          { env: te.vars, cwd: dir, timeoutMs: 180_000 },
        );
        ctx.outputs.push(r.stdout, r.stderr);
        assert.equal(r.code, 0, r.stderr);
        arns.push(r.stdout.trim().split('\n').pop() ?? '');
      }
      assert.match(arns[0] ?? '', /^arn:aws:sts::123456789012:assumed-role\/ci\/keyless-github-\d+$/);
      assert.match(arns[1] ?? '', /^arn:aws:sts::123456789012:assumed-role\/other\/keyless-github-\d+$/);
      const gh = ctx.gh as GithubOidcStandin;
      for (const text of ctx.outputs)
        for (const tok of gh.issued) assert.ok(!text.includes(tok.split('.')[2] as string));
    });

    test('keyless build --oidc github: the BuildKit secret is a role session from the token, and the token is nowhere in the output', async (t) => {
      if (ctx.skip) return t.skip('no Docker');
      const gh = ctx.gh as GithubOidcStandin;
      const te = ctx.te as TestEnv;
      await ensureBusyboxImage();
      const dir = await tempDir(t, 'keyless-oidc-build-');
      const tag = `local/keyless-oidc-build:${Date.now()}`;
      t.after(async () => void (await docker(['rmi', '-f', tag]).catch(() => undefined)));
      await writeFile(
        join(dir, 'Dockerfile'),
        // the nonce defeats the BuildKit cache (the secret is not part of the cache key)
        `FROM local/busybox:latest\nRUN --mount=type=secret,id=aws,target=/root/.aws/credentials grep -c aws_session_token /root/.aws/credentials > /count # ${Date.now()}\n`,
      );
      const before = gh.requests.length;
      const r = await runKeyless(
        ['build', '--oidc', 'github', '--role-arn', ctx.roleArn, '--', '--pull=false', '-t', tag, dir],
        { env: { ...te.vars, KEYLESS_DOCKER: DEBIAN_DOCKER }, timeoutMs: 180_000 },
      );
      ctx.outputs.push(r.stdout, r.stderr);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(gh.requests.length, before + 1, 'one token for the build');
      const { stdout } = await docker(['run', '--rm', '--pull', 'never', tag, 'cat', '/count']);
      assert.equal(stdout.trim(), '1');
      for (const text of [r.stdout, r.stderr])
        for (const tok of gh.issued) assert.ok(!text.includes(tok.split('.')[2] as string));
    });
  },
);
