// Issue 20 on the rootful engine as root, with --endpoint container forced (KEYLESS_ENDPOINT): the
// endpoint container relays over the unix socket. The other setups (a docker-group user, rootless
// Docker, an engine in its own namespaces) run the same suite in endpoint-setups.test.ts.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Scenario,
  clientCommands,
  type ScenarioEnv,
  type ScenarioSetup,
} from '../helpers/endpoint-scenario.js';
import type { Moto } from '../helpers/moto.js';

interface Made {
  setup: ScenarioSetup;
  env: ScenarioEnv;
  moto: Moto;
}
import {
  requireDocker,
  lockDockerBridge,
  ensureHostbaseImage,
  hostMounts,
  hostPythonPrefix,
  docker,
} from '../helpers/docker.js';
import { motoWithStoredProfile } from '../helpers/profiles.js';
import { runProcess } from '../helpers/cli.js';
import { endpointSuite } from '../helpers/endpoint-suite.js';
import { KEYLESS_BIN } from '../helpers/cli.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));

async function makeRoot(t: { after: (fn: () => unknown) => void }): Promise<Made | undefined> {
  {
    if (!(await requireDocker({ skip: () => undefined }))) return undefined;
    await lockDockerBridge(t);
    // moto on docker0's address: the host and the engine's containers both reach it
    const { moto, te } = await motoWithStoredProfile(t, {
      moto: { host: '172.17.0.1', roles: ['runner', 'other'] },
      awsConfig:
        '[profile app]\nrole_arn = ROLE:runner\nsource_profile = dev\n[profile other]\nrole_arn = ROLE:other\nsource_profile = dev\n',
    });
    return {
      moto,
      setup: {
        name: 'root',
        uid: 0,
        gid: 0,
        env: { KEYLESS_ENDPOINT: 'container' },
        run: (cmd, args, o) =>
          runProcess(cmd, args, {
            env: o.env,
            ...(o.input ? { input: o.input } : {}),
            timeoutMs: o.timeoutMs ?? 120_000,
          }),
        docker: async (args, o) => {
          const r = await docker(args, { timeoutMs: o?.timeoutMs ?? 120_000 }).then(
            (x) => ({ code: 0, signal: null, ...x }),
            (err: { code?: number; stdout?: string; stderr?: string }) => ({
              code: typeof err.code === 'number' ? err.code : 1,
              signal: null,
              stdout: err.stdout ?? '',
              stderr: err.stderr ?? String(err),
            }),
          );
          return r;
        },
        keylessBin: KEYLESS_BIN,
        projectDir: REPO,
        hostMounts: await hostMounts(),
        py: await hostPythonPrefix(),
        image: await ensureHostbaseImage(),
        internalNetwork: true,
        channel: 'unix',
      },
      env: {
        vars: te.vars,
        keylessHome: te.keylessHome,
        home: te.home,
        containerMotoUrl: moto.url,
        secrets: [moto.identity.secretAccessKey, moto.identity.accessKeyId],
      },
    };
  }
}

endpointSuite(
  'endpoint container, root on the rootful engine (--endpoint container, unix channel)',
  makeRoot,
);

/**
 * Root on the rootful engine with --endpoint container: a fresh keyless network, and one boto3 client
 * already served through the endpoint (profile app). Undefined without Docker (opted out).
 */
async function servedScenario(
  t: TestContext,
): Promise<{ made: Made; sc: Scenario; boto3: string[]; cleanups: (() => Promise<void>)[] } | undefined> {
  const cleanups: (() => Promise<void>)[] = [];
  t.after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });
  const made = await makeRoot({ after: (fn) => void cleanups.push(async () => void (await fn())) });
  if (!made) return undefined;
  const sc = new Scenario(made.setup, made.env);
  await sc.prepareNetwork();
  cleanups.push(() => sc.cleanup());
  const boto3 = clientCommands(sc.s, sc.e.containerMotoUrl)[2]?.[1] as string[];
  const first = await sc.runClient('app', boto3);
  assert.equal(first.code, 0, first.stderr);
  return { made, sc, boto3, cleanups };
}

describe('endpoint container: settings change and TCP on the rootful engine', { timeout: 600_000 }, () => {
  test('a server restarted with other channel settings recreates the endpoint (TCP to docker0), which serves', async (t) => {
    const started = await servedScenario(t);
    if (!started) return t.skip('no Docker (KEYLESS_TEST_SKIP_DOCKER=1)');
    const { sc, boto3 } = started;
    const unixId = await sc.endpointId();
    assert.match(await sc.status(), /channel unix:/);
    // the server dies; the next run asks for TCP at docker0's address (one of this machine's)
    const pid = await sc.serverPid();
    process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    const r = await sc.runClient('other', boto3, ['--channel', 'tcp', '--host-address', '172.17.0.1']);
    const log = await readFile(join(sc.e.keylessHome, 'server', 'server.log'), 'utf8').catch(() => '');
    assert.equal(r.code, 0, `${r.stderr}\nserver log:\n${log}`);
    assert.match(r.stdout, /assumed-role\/other\//);
    const st = await sc.status();
    assert.match(st, /channel tcp:172\.17\.0\.1:\d+;/);
    assert.match(st, /host side listens on 172\.17\.0\.1:\d+/);
    assert.notEqual(await sc.endpointId(), unixId, 'recreated for the new channel');
    const label = await sc.s.docker([
      'inspect',
      '--format',
      '{{index .Config.Labels "keyless.endpoint.channel"}}',
      'keyless-endpoint',
    ]);
    assert.match(label.stdout, /^tcp:172\.17\.0\.1:/);
    assert.match(await sc.channelRequest('none'), /^HTTP\/1.1 401/);
    assert.match(await sc.channelRequest('right'), /^HTTP\/1.1 404/);
    await sc.assertInspectClean(['keyless-endpoint']);
  });

  test('a second keyless server (another KEYLESS_HOME, as another user or CI runner) does not take a live endpoint; it does once the first is gone', async (t) => {
    const started = await servedScenario(t);
    if (!started) return t.skip('no Docker (KEYLESS_TEST_SKIP_DOCKER=1)');
    const { made, sc: a, boto3, cleanups } = started;
    // B: its own KEYLESS_HOME with the same stored keys (the vault folder copied)
    const homeB = await mkdtemp(join(tmpdir(), 'keyless-second-home-'));
    cleanups.push(() => rm(homeB, { recursive: true, force: true }));
    const keylessB = join(homeB, '.keyless');
    await mkdir(keylessB, { mode: 0o700 });
    await cp(join(made.env.keylessHome, 'vault'), join(keylessB, 'vault'), { recursive: true });
    const b = new Scenario(made.setup, {
      ...made.env,
      vars: { ...made.env.vars, KEYLESS_HOME: keylessB },
      keylessHome: keylessB,
    });
    cleanups.push(() => b.keyless(['serve', '--stop'], 60_000).then(() => undefined));
    const endpointA = await a.endpointId();
    const refused = await b.runClient('other', boto3);
    assert.notEqual(refused.code, 0, 'B is refused while A serves');
    assert.match(refused.stderr, /serves another keyless server, which is running: .*KEYLESS_HOME /);
    assert.ok(refused.stderr.includes(made.env.keylessHome), refused.stderr);
    assert.match(refused.stderr, /keyless serve --stop/);
    assert.equal(await a.endpointId(), endpointA, 'A keeps its endpoint container');
    const doctor = await b.keyless(['doctor'], 120_000);
    assert.match(
      doctor.stdout + doctor.stderr,
      /serves another keyless server: .*KEYLESS_HOME /,
      'keyless doctor names the owner',
    );
    // B's server (started by its refused run) stops without removing A's endpoint container
    const stopB = await b.keyless(['serve', '--stop'], 60_000);
    assert.equal(stopB.code, 0, stopB.stderr);
    assert.equal(await a.endpointId(), endpointA, "B's serve --stop leaves A's endpoint container alone");
    const again = await a.runClient('app', boto3);
    assert.equal(again.code, 0, `A's containers still get credentials: ${again.stderr}`);
    assert.match(again.stdout, /assumed-role\/runner\//);

    // A's server dies: its endpoint's channel goes down, and B takes the endpoint over
    const pid = await a.serverPid();
    process.kill(pid, 'SIGKILL');
    // the relay pings every 2 s: by then its log says the channel is down
    await new Promise((r) => setTimeout(r, 4_000));
    const taken = await b.runClient('other', boto3);
    assert.equal(taken.code, 0, taken.stderr);
    assert.match(taken.stdout, /assumed-role\/other\//);
    assert.notEqual(await b.endpointId(), endpointA, 'B made its own endpoint container');
  });

  test('serve --stop while the endpoint is being brought back: the server exits and leaves no endpoint container behind', async (t) => {
    const started = await servedScenario(t);
    if (!started) return t.skip('no Docker (KEYLESS_TEST_SKIP_DOCKER=1)');
    const { sc } = started;
    const pid = await sc.serverPid();
    // the server brings a removed endpoint back a second after the engine says so; stop it meanwhile
    await sc.s.docker(['rm', '-f', 'keyless-endpoint']);
    await new Promise((r) => setTimeout(r, 1_300));
    const stop = await sc.keyless(['serve', '--stop'], 60_000);
    assert.equal(stop.code, 0, stop.stderr);
    const gone = (): boolean => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    };
    for (let i = 0; i < 100 && !gone(); i++) await new Promise((r) => setTimeout(r, 200));
    assert.ok(gone(), 'the server process ended');
    await new Promise((r) => setTimeout(r, 2_000));
    const left = await sc.s.docker(['ps', '-aq', '--filter', 'name=^keyless-endpoint$']);
    assert.equal(left.stdout.trim(), '', 'no endpoint container made after the stop');
  });
});
