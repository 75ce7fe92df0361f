// keyless run with a real Docker engine: containers on the keyless network running awscli v1, awscli
// v2, boto3 and the JS SDK v3 call moto (signature checks on) as the right role; docker inspect holds
// no secret; another container presenting the id is refused; a stopped container's id is refused.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import {
  requireDocker,
  lockDockerBridge,
  blackholeBridgeAddress,
  ensureHostbaseImage,
  ensureBusyboxImage,
  hostMounts,
  hostPythonPrefix,
  docker,
  recreateKeylessNetwork,
} from '../helpers/docker.js';
import type { Moto } from '../helpers/moto.js';
import { motoWithStoredProfile } from '../helpers/profiles.js';
import type { TestEnv } from '../helpers/env.js';
import { runKeyless } from '../helpers/cli.js';
import { awscliV1Arn, CLIENT_NAMES, containerClientCommands } from '../helpers/aws-clients.js';
import { suiteScope } from '../helpers/suite-scope.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));

describe('keyless run (real Docker engine, moto with signature checks)', { timeout: 600_000 }, () => {
  const ctx: { moto?: Moto; te?: TestEnv; mounts: string[]; py: string; image: string; skip: boolean } = {
    mounts: [],
    py: '',
    image: '',
    skip: false,
  };
  const t0 = suiteScope(() => (ctx.skip = true));

  before(async () => {
    if (!(await requireDocker(t0))) return;
    await lockDockerBridge(t0);
    await blackholeBridgeAddress(t0);
    // an admin may create the network beforehand (here --internal, so nothing leaves the machine)
    await recreateKeylessNetwork(t0);
    ({ moto: ctx.moto, te: ctx.te } = await motoWithStoredProfile(t0, {
      moto: { host: '169.254.170.2', roles: ['runner', 'other'] },
      awsConfig:
        '[profile app]\nrole_arn = ROLE:runner\nsource_profile = dev\n[profile other]\nrole_arn = ROLE:other\nsource_profile = dev\n',
    }));
    t0.after(async () => void (await runKeyless(['serve', '--stop'], { env: ctx.te?.vars ?? {} })));
    ctx.image = await ensureHostbaseImage();
    ctx.mounts = await hostMounts();
    ctx.py = await hostPythonPrefix();
  });
  after(async () => {
    await t0.runCleanups();
  });

  const containerEnv = (): string[] => [
    '-e',
    'AWS_EC2_METADATA_DISABLED=true',
    '-e',
    `AWS_ENDPOINT_URL=${ctx.moto?.url}`,
  ];
  for (const name of CLIENT_NAMES) {
    const cmd = (): string[] => new Map(containerClientCommands(ctx.py, ctx.moto?.url ?? '')).get(name) ?? [];
    test(`${name} in a container gets the profile's role`, async (t) => {
      if (ctx.skip) return t.skip('no Docker (KEYLESS_TEST_SKIP_DOCKER=1)');
      const r = await runKeyless(
        [
          'run',
          '--profile',
          'app',
          '--',
          '--rm',
          '--pull',
          'never',
          ...ctx.mounts,
          '-v',
          `${REPO}:/app:ro`,
          '-w',
          '/app',
          ...containerEnv(),
          ctx.image,
          ...cmd(),
        ],
        {
          env: ctx.te?.vars ?? {},
          timeoutMs: 120_000,
        },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout.trim(), /^arn:aws:sts::123456789012:assumed-role\/runner\//);
      // root next to the rootful engine: auto keeps the host mode (issue 20)
      const st = await runKeyless(['serve', '--status'], { env: ctx.te?.vars ?? {} });
      assert.match(st.stdout, /mode host, listening on 169\.254\.170\.2:80/);
    });
  }

  test('--imds: each container gets its own role over IMDS too; a container keyless did not start gets none', async (t) => {
    if (ctx.skip) return t.skip('no Docker');
    const te = ctx.te as TestEnv;
    // a server started without --imds cannot serve it: start one that does
    await runKeyless(['serve', '--stop'], { env: te.vars });
    const viaImds = ['/usr/bin/env', '-u', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', ...awscliV1Arn(ctx.py)];
    for (const [profile, role] of [
      ['app', 'runner'],
      ['other', 'other'],
    ] as const) {
      const r = await runKeyless(
        [
          'run',
          '--imds',
          '--profile',
          profile,
          '--',
          '--rm',
          '--pull',
          'never',
          ...ctx.mounts,
          '-e',
          `AWS_ENDPOINT_URL=${ctx.moto?.url}`,
          ctx.image,
          ...viaImds,
        ],
        { env: te.vars, timeoutMs: 120_000 },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout.trim(), new RegExp(`^arn:aws:sts::123456789012:assumed-role/${role}/`), profile);
    }
    // a container on the network that keyless did not start: a token, but no role
    const probe = `import urllib.request as u
t = u.urlopen(u.Request('http://169.254.170.2/latest/api/token', method='PUT', headers={'X-aws-ec2-metadata-token-ttl-seconds': '60'})).read().decode()
try:
    u.urlopen(u.Request('http://169.254.170.2/latest/meta-data/iam/security-credentials/', headers={'X-aws-ec2-metadata-token': t}))
    print('served')
except Exception as e:
    print(getattr(e, 'code', e))`;
    const { stdout } = await docker([
      'run',
      '--rm',
      '--pull',
      'never',
      '--network',
      'keyless',
      ...ctx.mounts,
      ctx.image,
      `${ctx.py}/bin/python3`,
      '-c',
      probe,
    ]);
    assert.equal(stdout.trim(), '404');
  });

  test('a per-container profile; docker inspect holds no secret; the id is refused elsewhere and after stop', async (t) => {
    if (ctx.skip) return t.skip('no Docker');
    const moto = ctx.moto as Moto;
    const te = ctx.te as TestEnv;
    const name = `keyless-run-${Date.now()}`;
    const r = await runKeyless(
      [
        'run',
        '--profile',
        'other',
        '--',
        '-d',
        '--name',
        name,
        '--pull',
        'never',
        ...ctx.mounts,
        ...containerEnv(),
        ctx.image,
        '/bin/sleep',
        '300',
      ],
      {
        env: te.vars,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    t.after(async () => void (await docker(['rm', '-f', name]).catch(() => undefined)));
    const { stdout: inspect } = await docker(['inspect', name]);
    const uri = /AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=([^"]+)/.exec(inspect)?.[1] ?? '';
    assert.match(uri, /^\/v1\/creds\/[A-Za-z0-9_-]{43}$/);
    for (const secret of [moto.identity.secretAccessKey, moto.identity.accessKeyId])
      assert.ok(!inspect.includes(secret));
    assert.doesNotMatch(inspect, /AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|aws_session_token/);
    const { stdout: arn } = await docker(['exec', name, ...awscliV1Arn(ctx.py)]);
    assert.match(arn, /assumed-role\/other\//);
    const inspectAfter = (await docker(['inspect', name])).stdout;
    assert.ok(!inspectAfter.includes('ASIA'), 'no session key in inspect after use');
    // another container presenting the first one's id
    const bb = await ensureBusyboxImage();
    const probe = await docker([
      'run',
      '--rm',
      '--pull',
      'never',
      '--network',
      'keyless',
      bb,
      'sh',
      '-c',
      `wget -q -O- http://169.254.170.2${uri} 2>&1; echo rc=$?`,
    ]);
    assert.match(probe.stdout, /403|Forbidden/);
    assert.doesNotMatch(probe.stdout, /SecretAccessKey/);
    // a stopped container's id
    await docker(['stop', '-t', '1', name]);
    await new Promise((res) => setTimeout(res, 500));
    const res = await fetch(`http://169.254.170.2${uri}`);
    assert.equal(res.status, 404);
  });

  test("a profile the server cannot use is the command's error before any container starts", async (t) => {
    if (ctx.skip) return t.skip('no Docker');
    const te = ctx.te as TestEnv;
    const name = `keyless-nope-${Date.now()}`;
    const r = await runKeyless(
      ['run', '--profile', 'nope', '--', '--rm', '--name', name, '--pull', 'never', ctx.image, '/bin/true'],
      { env: te.vars, timeoutMs: 60_000 },
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /nope/);
    assert.doesNotMatch(r.stderr, /internal error/);
    const { stdout } = await docker(['ps', '-a', '--filter', `name=${name}`, '--format', '{{.Names}}']);
    assert.equal(stdout.trim(), '', 'no container was created');
  });

  test('a container restarted by its restart policy gets credentials again (the id is not revoked for good when it dies)', async (t) => {
    if (ctx.skip) return t.skip('no Docker');
    const te = ctx.te as TestEnv;
    const name = `keyless-restart-${Date.now()}`;
    // asks for credentials, dies the first time, is restarted by Docker, asks again, then stays
    const script = `${awscliV1Arn(ctx.py).join(' ')} 2>&1; if [ ! -e /once ]; then : > /once; exit 3; fi; exec /bin/sleep 300`;
    const r = await runKeyless(
      [
        'run',
        '--profile',
        'other',
        '--',
        '-d',
        '--name',
        name,
        '--restart',
        'on-failure:2',
        '--pull',
        'never',
        ...ctx.mounts,
        ...containerEnv(),
        ctx.image,
        '/bin/sh',
        '-c',
        script,
      ],
      { env: te.vars },
    );
    assert.equal(r.code, 0, r.stderr);
    t.after(async () => void (await docker(['rm', '-f', name]).catch(() => undefined)));
    let logs = '';
    for (let i = 0; i < 120; i++) {
      logs = (await docker(['logs', name])).stdout + (await docker(['logs', name])).stderr;
      if ((logs.match(/assumed-role\/other\//g) ?? []).length >= 2 || /error|denied|Unable/i.test(logs))
        break;
      await new Promise((res) => setTimeout(res, 500));
    }
    const { stdout: restarts } = await docker(['inspect', '-f', '{{.RestartCount}}', name]);
    assert.equal(restarts.trim(), '1', 'restarted once');
    assert.equal((logs.match(/assumed-role\/other\//g) ?? []).length, 2, `both runs got the role:\n${logs}`);
  });
});
