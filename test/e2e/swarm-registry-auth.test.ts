// Registry auth that never goes stale, on a real engine: a one-node swarm pulls from a loopback
// docker-registry behind a stand-in of ECR's front door (test/helpers/ecr-registry-standin.ts) that
// accepts only tokens moto's ECR issued in the last TTL seconds (a test knob for ECR's 12 hours).
// - `keyless swarm registry-auth --once` restarts no task (task ids unchanged, service version moves);
// - without it, a task scheduled after the token's life cannot pull (the stand-in refuses the stale
//   token: moby/moby#36126 reproduced);
// - with the refresher running (`keyless swarm registry-auth`), a task scheduled long after the first
//   token expired pulls and starts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { docker, ensureBusyboxImage } from '../helpers/docker.js';
import { ensureSwarm, startLocalRegistry } from '../helpers/swarm.js';
import { motoWithStoredProfile } from '../helpers/profiles.js';
import { startEcrIssuer, startAuthProxy } from '../helpers/ecr-registry-standin.js';
import { HELPER_BIN, KEYLESS_BIN, runKeyless } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';

const TTL = 15;

let explain: () => Promise<string> = async () => '';
const debug: string[] = [];

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${await explain()}`);
    await sleep(500);
  }
}

describe('swarm registry auth that never goes stale', () => {
  test('refreshing restarts no task; a task scheduled after the token expired pulls only with the refresher', async (t) => {
    await ensureSwarm(t);
    const { moto, te } = await motoWithStoredProfile(t, {
      moto: { roles: ['puller'] },
      awsConfig: '[profile app]\nrole_arn = ROLE:puller\nsource_profile = dev\n',
    });
    const issuer = await startEcrIssuer(t, moto.url, TTL);
    const backend = await startLocalRegistry(t);
    const proxy = await startAuthProxy(t, backend.address, issuer, TTL);
    // an image of its own (a unique label: its own manifest digest), so forgetting it locally below
    // forgets no other test's image; the engine finds an image by digest under any repository
    const tag = `local/regauth:${Date.now().toString(36)}`;
    const { stdout: cid } = await docker(['create', await ensureBusyboxImage(), 'true']);
    await docker(['commit', '--change', `LABEL keyless.test=${tag}`, cid.trim(), tag]);
    await docker(['rm', cid.trim()]);
    t.after(async () => {
      await docker(['image', 'rm', '-f', tag]).catch(() => undefined);
    });
    const imageId = (await docker(['image', 'inspect', '--format', '{{.Id}}', tag])).stdout.trim();
    const pushed = await backend.push(tag);
    const image = pushed.replace(backend.address, proxy.address);

    // keyless serves the loopback registry as ECR account 123456789012 with profile app's role
    const dockerDir = join(te.home, 'docker');
    const binDir = join(te.home, 'bin');
    await mkdir(dockerDir);
    await mkdir(binDir);
    await writeFile(
      join(binDir, 'docker-credential-keyless'),
      `#!/bin/sh\nexec ${process.execPath} ${HELPER_BIN} "$@"\n`,
      {
        mode: 0o755,
      },
    );
    const env = {
      ...te.vars,
      AWS_ENDPOINT_URL: issuer.url,
      DOCKER_CONFIG: dockerDir,
      PATH: `${binDir}:${te.vars.PATH ?? ''}`,
    };
    const conf = await runKeyless(
      [
        'ecr',
        'configure',
        proxy.address,
        '--account',
        '123456789012',
        '--region',
        'us-east-1',
        '--profile',
        'app',
      ],
      { env },
    );
    assert.equal(conf.code, 0, conf.stderr);

    const name = `keyless-regauth-${Date.now().toString(36)}`;
    await docker(
      [
        'service',
        'create',
        '--detach',
        '--with-registry-auth',
        // the spec keeps the tag: every task pulls it (a digest would let the engine use its local copy)
        '--no-resolve-image',
        '--name',
        name,
        '--replicas',
        '1',
        '--stop-grace-period',
        '1s',
        '--update-delay',
        '0s',
        '--update-monitor',
        '1s',
        '--restart-delay',
        '2s',
        image,
        'sleep',
        '3600',
      ],
      { env, timeoutMs: 120_000 },
    );
    t.after(async () => {
      await docker(['service', 'rm', name]).catch(() => undefined);
    });
    const running = async (): Promise<string[] | undefined> => {
      const { stdout } = await docker([
        'service',
        'ps',
        name,
        '--filter',
        'desired-state=running',
        '--format',
        '{{.ID}} {{.CurrentState}}',
      ]);
      const lines = stdout.trim().split('\n').filter(Boolean);
      return lines.length > 0 && lines.every((l) => / Running /.test(`${l} `))
        ? lines.map((l) => l.split(' ')[0] as string).sort()
        : undefined;
    };
    const version = async (): Promise<number> =>
      Number((await docker(['service', 'inspect', name, '--format', '{{.Version.Index}}'])).stdout.trim());
    explain = async () =>
      `${(await docker(['service', 'ps', name, '--no-trunc', '--format', '{{.ID}} {{.DesiredState}} {{.CurrentState}} {{.Error}}'])).stdout}${(await docker(['service', 'inspect', name, '--format', '{{json .UpdateStatus}} force={{.Spec.TaskTemplate.ForceUpdate}} {{.Spec.TaskTemplate.ContainerSpec.Image}}'])).stdout}${debug.join('\n')}\nfront door:\n${proxy.trace().slice(-30).join('\n')}`;
    const first = await waitFor('the first task to run', running, 90_000);
    assert.ok(issuer.issued.length >= 1, 'the CLI got a token through docker-credential-keyless');
    assert.ok(proxy.accepted().length > 0, 'the first pull went through the front door with it');

    // 1. refreshing restarts no task
    const v0 = await version();
    for (let i = 0; i < 2; i++) {
      const r = await runKeyless(['swarm', 'registry-auth', '--once', name], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        new RegExp(
          `${name}: registry auth for ${proxy.address.replace(/\./g, '\\.')} refreshed, valid until`,
        ),
      );
    }
    assert.ok((await version()) >= v0 + 2, 'the service spec was updated twice (the pull options)');
    await sleep(3000);
    assert.deepEqual(await running(), first, 'the same task ids run: nothing was restarted');

    // the agent does the same with --registry-auth (here on a loopback port: no 169.254.170.2 needed)
    const v1 = await version();
    const agent = spawn(
      process.execPath,
      [KEYLESS_BIN, 'swarm', 'agent', '--listen', `127.0.0.1:${await freePort()}`, '--registry-auth'],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let agentLog = '';
    agent.stdout.on('data', (d: Buffer) => (agentLog += d.toString()));
    agent.stderr.on('data', (d: Buffer) => (agentLog += d.toString()));
    const agentExit = new Promise((r) => agent.once('exit', r));
    t.after(() => {
      agent.kill('SIGTERM');
    });
    await waitFor(
      'the agent to refresh the registry auth',
      async () => (agentLog.includes(`${name}: fresh registry auth for ${proxy.address}`) ? true : undefined),
      30_000,
    );
    agent.kill('SIGTERM');
    await agentExit;
    assert.ok((await version()) > v1, 'the agent updated the pull options');
    assert.deepEqual(await running(), first, 'and restarted nothing either');

    // the task's image is forgotten locally, so a rescheduled task has to pull it again
    const forget = async (): Promise<void> => {
      const { stdout } = await docker([
        'image',
        'inspect',
        '--format',
        '{{json .RepoTags}} {{json .RepoDigests}}',
        imageId,
      ]);
      const refs = stdout
        .trim()
        .split(' ')
        .flatMap((j) => (JSON.parse(j) as string[] | null) ?? []);
      for (const ref of refs) if (ref !== tag) await docker(['image', 'rm', '-f', ref]);
    };

    // 2. without keyless: after the token's life, a rescheduled task cannot pull (stale auth refused)
    const lastIssued = Math.max(...issuer.issued.map((i) => i.issuedAt));
    await sleep(Math.max(0, lastIssued + (TTL + 1) * 1000 - Date.now()));
    await forget();
    const staleBefore = proxy.staleRefusals();
    const forced = await docker(['service', 'update', '--detach', '--force', '--no-resolve-image', name], {
      env: { ...env, DOCKER_CONFIG: join(te.home, 'empty') },
    });
    debug.push(`force: ${forced.stdout} ${forced.stderr}`);
    await waitFor(
      'the stale token to be refused',
      async () => (proxy.staleRefusals() > staleBefore ? true : undefined),
      60_000,
    );
    assert.equal(await running(), undefined, 'no task runs: the pull failed');

    // 3. with the refresher: the stored auth is replaced and the rescheduled task pulls and starts
    const refresher = spawn(process.execPath, [KEYLESS_BIN, 'swarm', 'registry-auth', name], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let refresherLog = '';
    debug.push('refresher:');
    const logged = (d: Buffer): void => {
      refresherLog += d.toString();
      debug.push(d.toString().trimEnd());
    };
    refresher.stdout.on('data', logged);
    refresher.stderr.on('data', logged);
    t.after(() => {
      refresher.kill('SIGTERM');
    });
    const startedAt = Date.now();
    const second = await waitFor('a task to run again', running, 90_000);
    assert.notDeepEqual(second, first);
    assert.ok(
      proxy.accepted().some((a) => a.issuedAt >= startedAt && a.path.includes('/manifests/')),
      'the new task pulled with a token issued after the refresher started',
    );
    // and again after another full token life: the refresher kept the auth fresh on its own
    await sleep((TTL + 2) * 1000);
    await forget();
    const staleMid = proxy.staleRefusals();
    const forcedAt = Date.now();
    await docker(['service', 'update', '--detach', '--force', '--no-resolve-image', name], {
      env: { ...env, DOCKER_CONFIG: join(te.home, 'empty') },
    });
    const third = await waitFor(
      'a task after the second force',
      async () => {
        const r = await running();
        return r && r.join() !== second.join() ? r : undefined;
      },
      90_000,
    );
    assert.ok(third.length === 1);
    assert.equal(proxy.staleRefusals(), staleMid, 'no stale token was offered once the refresher ran');
    assert.ok(
      proxy.accepted().some((a) => a.path.includes('/manifests/') && a.issuedAt > forcedAt - TTL * 1000),
    );
    assert.match(refresherLog, /next refresh in \d+ s/);
    assert.ok(!refresherLog.includes(issuer.issued[0]?.password ?? 'x'), 'no token in the output');
    t.diagnostic(`tokens issued: ${issuer.issued.length}; stale refusals: ${proxy.staleRefusals()}`);
  });
});
