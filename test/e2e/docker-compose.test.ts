// keyless compose with a real Docker engine and docker-compose 1.29: two services on two different
// profiles get two different roles from moto (signature checks on); the generated override leaves no
// secret in docker inspect.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  requireDocker,
  lockDockerBridge,
  blackholeBridgeAddress,
  ensureHostbaseImage,
  hostPythonPrefix,
  recreateKeylessNetwork,
} from '../helpers/docker.js';
import type { Moto } from '../helpers/moto.js';
import { motoWithStoredProfile } from '../helpers/profiles.js';
import type { TestEnv } from '../helpers/env.js';
import { runKeyless, runProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { suiteScope } from '../helpers/suite-scope.js';

describe('keyless compose (real Docker engine, docker-compose 1.29, moto)', { timeout: 600_000 }, () => {
  const ctx: { moto?: Moto; te?: TestEnv; dir: string; skip: boolean; image: string; py: string } = {
    dir: '',
    skip: false,
    image: '',
    py: '',
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
    const image = await ensureHostbaseImage();
    const py = await hostPythonPrefix();
    ctx.image = image;
    ctx.py = py;
    ctx.dir = await tempDir(t0, 'keyless-compose-e2e-');
    const volumes = ['/usr', '/lib', '/lib64', '/bin', '/etc', py].map((p) => `${p}:${p}:ro`);
    const service = (profile: string) => ({
      image,
      volumes,
      // the service's own network is internal too, so nothing leaves the machine
      networks: ['inner'],
      environment: { AWS_EC2_METADATA_DISABLED: 'true', AWS_ENDPOINT_URL: ctx.moto?.url ?? '' },
      'x-keyless': { profile },
      command: [
        `${py}/bin/python3`,
        '-c',
        "import boto3;print(boto3.client('sts').get_caller_identity()['Arn'])",
      ],
    });
    await writeFile(
      join(ctx.dir, 'docker-compose.yml'),
      stringify({
        version: '3.8',
        services: { app: service('app'), other: service('other') },
        networks: { inner: { internal: true } },
      }),
    );
    t0.after(async () => {
      await runProcess('docker-compose', ['-p', 'kle2e', 'down', '--remove-orphans'], {
        env: { ...(ctx.te?.vars ?? {}) },
        cwd: ctx.dir,
      }).catch(() => undefined);
    });
  });
  after(async () => {
    await t0.runCleanups();
  });

  test('two services on two profiles get two different roles through docker-compose 1.29', async (t) => {
    if (ctx.skip) return t.skip('no Docker');
    const te = ctx.te as TestEnv;
    const arns: string[] = [];
    for (const svc of ['app', 'other']) {
      const r = await runKeyless(['compose', '--', '-p', 'kle2e', 'run', '--rm', '-T', svc], {
        env: te.vars,
        cwd: ctx.dir,
        timeoutMs: 180_000,
      });
      assert.equal(r.code, 0, r.stderr);
      arns.push(r.stdout.trim().split('\n').pop() ?? '');
    }
    assert.match(arns[0] ?? '', /^arn:aws:sts::123456789012:assumed-role\/runner\//);
    assert.match(arns[1] ?? '', /^arn:aws:sts::123456789012:assumed-role\/other\//);
  });

  test('replicas of one service (up --scale 3) share its id and each gets the role', async (t) => {
    if (ctx.skip) return t.skip('no Docker');
    const te = ctx.te as TestEnv;
    const volumes = ['/usr', '/lib', '/lib64', '/bin', '/etc', ctx.py].map((p) => `${p}:${p}:ro`);
    const file = join(ctx.dir, 'scale.yml');
    await writeFile(
      file,
      stringify({
        version: '3.8',
        services: {
          web: {
            image: ctx.image,
            volumes,
            networks: ['inner'],
            environment: { AWS_EC2_METADATA_DISABLED: 'true', AWS_ENDPOINT_URL: ctx.moto?.url ?? '' },
            'x-keyless': { profile: 'app' },
            command: [
              '/bin/sh',
              '-c',
              `${ctx.py}/bin/python3 -c "import boto3;print('ARN', boto3.client('sts').get_caller_identity()['Arn'])" 2>&1; exec /bin/sleep 300`,
            ],
          },
        },
        networks: { inner: { internal: true } },
      }),
    );
    const compose = (args: string[]): ReturnType<typeof runKeyless> =>
      runKeyless(['compose', '-f', file, '--', '-p', 'kle2escale', ...args], {
        env: te.vars,
        cwd: ctx.dir,
        timeoutMs: 180_000,
      });
    t.after(async () => void (await compose(['down', '-t', '1'])));
    const up = await compose(['up', '-d', '--scale', 'web=3']);
    assert.equal(up.code, 0, up.stderr);
    let logs = '';
    for (let i = 0; i < 120; i++) {
      logs = (await compose(['logs', '--no-color'])).stdout;
      if ((logs.match(/^\S+\s+\|\s+ARN /gm) ?? []).length + (logs.match(/Error|denied/g) ?? []).length >= 3)
        break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const arns = logs.match(/ARN arn:aws:sts::123456789012:assumed-role\/runner\/\S+/g) ?? [];
    assert.equal(arns.length, 3, `every replica got the role:\n${logs}`);
  });

  test('a service that also sets a key is refused with the file and line, and nothing runs', async (t) => {
    if (ctx.skip) return t.skip('no Docker');
    const file = join(ctx.dir, 'bad.yml');
    await writeFile(
      file,
      'version: "3.8"\nservices:\n  app:\n    image: local/busybox\n    x-keyless: {profile: app}\n    environment:\n      AWS_ACCESS_KEY_ID: x\n',
    );
    const r = await runKeyless(['compose', '-f', file, '--', 'up'], {
      env: (ctx.te as TestEnv).vars,
      cwd: ctx.dir,
    });
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      new RegExp(`${file.replace(/[.]/g, '\\.')}:7: service "app" sets AWS_ACCESS_KEY_ID`),
    );
  });
});
