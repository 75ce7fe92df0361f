// keyless build against the real engine: BuildKit reads the `aws` secret (an STS session from moto),
// docker save of the image does not hold it, a Dockerfile that copies it into a layer is caught, and a
// docker CLI without BuildKit gets one message saying what to do.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadEnv } from '../../src/config/env.js';
import { KeylessError } from '../../src/errors.js';
import { runBuildWith } from '../../src/cli/commands/docker/build.js';
import type { Credentials, CredentialSource } from '../../src/sources/types.js';
import { requireDocker, ensureBusyboxImage, docker, DEBIAN_DOCKER } from '../helpers/docker.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { assumeRoleSource } from '../helpers/sources.js';
import { makeTestEnv, type TestEnv } from '../helpers/env.js';
import { tempDir } from '../helpers/tmp.js';

describe('keyless build (real engine, BuildKit)', { timeout: 300_000 }, () => {
  const ctx: { moto?: Moto; te?: TestEnv; dir: string; skip: boolean; minted: Credentials[] } = {
    dir: '',
    skip: false,
    minted: [],
  };
  const cleanups: (() => Promise<void>)[] = [];
  const t0 = {
    after: (fn: () => unknown) => void cleanups.push(async () => void (await fn())),
    skip: () => (ctx.skip = true),
  };
  // remembers what it minted so the test can look for it
  const source = (): CredentialSource => {
    const inner = assumeRoleSource(ctx.moto as Moto, (ctx.moto as Moto).identity.roles.builder as string);
    return async () => {
      const c = await inner();
      ctx.minted.push(c);
      return c;
    };
  };
  const envWith = (cli: string) => loadEnv({ ...(ctx.te as TestEnv).vars, KEYLESS_DOCKER: cli });

  before(async () => {
    if (!(await requireDocker(t0))) return;
    ctx.moto = await startMoto(t0, { roles: ['builder'] });
    ctx.te = await makeTestEnv(t0, { endpoint: ctx.moto.url });
    await ensureBusyboxImage();
    ctx.dir = await tempDir(t0, 'keyless-build-');
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  test('a BuildKit build reads the secret and docker save of the image does not contain it', async (t) => {
    if (ctx.skip) return t.skip('no Docker');
    const tag = `local/keyless-build-ok:${Date.now()}`;
    t.after(async () => void (await docker(['rmi', '-f', tag]).catch(() => undefined)));
    await writeFile(
      join(ctx.dir, 'Dockerfile'),
      // a nonce defeats the BuildKit cache (the secret is not part of the cache key)
      `FROM local/busybox:latest\nRUN --mount=type=secret,id=aws,target=/root/.aws/credentials grep -c aws_access_key_id /root/.aws/credentials > /count # ${Date.now()}\n`,
    );
    const code = await runBuildWith(['--pull=false', '-t', tag, ctx.dir], envWith(DEBIAN_DOCKER), source());
    assert.equal(code, 0);
    const { stdout } = await docker(['run', '--rm', tag, 'cat', '/count']);
    assert.equal(stdout.trim(), '1');
    const saved = spawnSync(DEBIAN_DOCKER, ['save', tag], { maxBuffer: 512 * 1024 * 1024 });
    assert.equal(saved.status, 0);
    const minted = ctx.minted.at(-1) as Credentials;
    assert.equal(saved.stdout.includes(Buffer.from(minted.secretAccessKey)), false);
    assert.equal(saved.stdout.includes(Buffer.from(minted.sessionToken ?? 'x'.repeat(64))), false);
  });

  test('a Dockerfile that copies the secret into a layer fails the build with exit 1', async (t) => {
    if (ctx.skip) return t.skip('no Docker');
    const tag = `local/keyless-build-leak:${Date.now()}`;
    t.after(async () => void (await docker(['rmi', '-f', tag]).catch(() => undefined)));
    await writeFile(
      join(ctx.dir, 'Dockerfile.leak'),
      // a nonce defeats the BuildKit cache (the secret is not part of the cache key)
      `FROM local/busybox:latest\nRUN --mount=type=secret,id=aws,target=/root/.aws/credentials cp /root/.aws/credentials /leak # ${Date.now()}\n`,
    );
    await assert.rejects(
      runBuildWith(
        ['--pull=false', '-f', join(ctx.dir, 'Dockerfile.leak'), '-t', tag, ctx.dir],
        envWith(DEBIAN_DOCKER),
        source(),
      ),
      (e: unknown) => e instanceof KeylessError && e.code === 'BUILD_SECRET_IN_IMAGE' && e.exitCode === 1,
    );
  });

  test('a docker CLI of 23+ without buildx gets one message saying how to fix it', async (t) => {
    if (ctx.skip) return t.skip('no Docker');
    await assert.rejects(
      runBuildWith(['-t', 'local/never', ctx.dir], envWith('/usr/local/bin/docker'), source()),
      (e: unknown) =>
        e instanceof KeylessError &&
        e.code === 'BUILD_NO_BUILDKIT' &&
        /Install the buildx plugin/.test(e.message),
    );
  });
});
