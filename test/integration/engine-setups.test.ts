// Smoke test of the three Docker setups the end-to-end tests use (test/helpers/setups.ts): the user
// is who it should be, a container of the engine reaches a server on this host at the setup's
// addresses, the copied keyless runs as that user, moto is reachable from both sides.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestContext } from 'node:test';
import {
  dockerGroupSetup,
  makeSetupTestEnv,
  motoForSetup,
  netnsEngineSetup,
  rootlessSetup,
  type EngineSetup,
} from '../helpers/setups.js';
import type { RunResult } from '../helpers/cli.js';

const exec = promisify(execFile);

const PROJECT_VERSION = (
  JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code ?? r.signal}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** A tiny HTTP server on the setup's listen address, answering a token. */
async function tokenServer(
  t: Pick<TestContext, 'after'>,
  host: string,
): Promise<{ port: number; token: string }> {
  const token = `kltest-${Math.random().toString(36).slice(2)}`;
  const server = createServer((_req, res) => res.end(token));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const addr = server.address();
  return { port: typeof addr === 'object' && addr !== null ? addr.port : 0, token };
}

/** Python that prints the body of GET url (or "HTTP <status>" for an error status). */
function pyGet(url: string): string {
  return [
    'import urllib.request, urllib.error',
    'try:',
    `    print(urllib.request.urlopen(${JSON.stringify(url)}, timeout=10).read().decode())`,
    'except urllib.error.HTTPError as e:',
    '    print("HTTP", e.code)',
  ].join('\n');
}

/** GET url from a container of the setup's engine, with the host's python3 through the host mounts. */
function fetchFromContainer(setup: EngineSetup, url: string): Promise<RunResult> {
  return setup.docker(
    [
      'run',
      '--rm',
      '--pull',
      'never',
      ...setup.hostMounts,
      setup.images.hostbase,
      '/usr/bin/python3',
      '-c',
      pyGet(url),
    ],
    { timeoutMs: 60_000 },
  );
}

/** What every setup must do. */
async function commonChecks(t: TestContext, setup: EngineSetup): Promise<void> {
  t.diagnostic(`${setup.kind}: up in ${setup.startupMs} ms`);
  // a container reaches a server on this host
  const { port, token } = await tokenServer(t, setup.hostListenAddress);
  let time = Date.now();
  const fetched = ok(
    await fetchFromContainer(setup, `http://${setup.containerReachAddress}:${port}/`),
    'container probe',
  );
  t.diagnostic(`${setup.kind}: container probe ${Date.now() - time} ms`);
  assert.equal(fetched.trim(), token);

  // keyless (the copy of the build) runs as the user, with an environment under the user's home
  const env = await makeSetupTestEnv(setup, t);
  assert.ok(env.home.startsWith(`${setup.home}/`));
  assert.equal(
    ok(
      await setup.run('node', [setup.keylessBin, '--version'], { env: env.vars }),
      'keyless --version',
    ).trim(),
    PROJECT_VERSION,
  );
  const writes = await setup.run(
    'sh',
    [
      '-c',
      'mkdir -p "$KEYLESS_HOME" && echo x >>"$AWS_CONFIG_FILE" && echo y >>"$AWS_SHARED_CREDENTIALS_FILE" && id -u',
    ],
    { env: env.vars },
  );
  assert.equal(ok(writes, 'writing the test env').trim(), String(setup.uid));

  // moto: reachable by a host process as the user (moto.url) and by a container (containerUrl)
  time = Date.now();
  const { moto, containerUrl } = await motoForSetup(setup, t);
  t.diagnostic(`${setup.kind}: moto up in ${Date.now() - time} ms`);
  const fromHost = await setup.run('python3', ['-c', pyGet(`${moto.url}/`)], { env: env.vars });
  assert.ok(ok(fromHost, `moto from the host as ${setup.user}`).trim().length > 0);
  const fromContainer = ok(await fetchFromContainer(setup, `${containerUrl}/`), 'moto from a container');
  assert.ok(fromContainer.trim().length > 0);
}

test('docker-group setup: a docker-group user without sudo, the main engine, reachable host address', async (t) => {
  const setup = await dockerGroupSetup(t);
  if (!setup) return;
  assert.notEqual(setup.uid, 0);
  const env = { HOME: setup.home };
  assert.equal(ok(await setup.run('id', ['-u'], { env }), 'id -u').trim(), String(setup.uid));
  assert.match(ok(await setup.run('id', ['-nG'], { env }), 'id -nG'), /(^|\s)docker(\s|$)/);
  const sudo = await setup.run('sh', ['-c', 'sudo -n true'], { env });
  assert.notEqual(sudo.code, 0, 'the docker-group user must not be able to use sudo');
  assert.equal(setup.env.DOCKER_HOST, undefined);
  await commonChecks(t, setup);
});

test('rootless setup: a user runs rootless Docker; containers reach the host loopback at 10.0.2.2', async (t) => {
  const setup = await rootlessSetup(t);
  if (!setup) return;
  assert.notEqual(setup.uid, 0);
  assert.equal(
    ok(await setup.run('id', ['-u'], { env: { HOME: setup.home } }), 'id -u').trim(),
    String(setup.uid),
  );
  const security = ok(await setup.docker(['info', '--format', '{{json .SecurityOptions}}']), 'docker info');
  assert.match(security, /name=rootless/);
  assert.match(setup.env.DOCKER_HOST ?? '', /^unix:\/\/\/run\/user\/\d+\/docker\.sock$/);
  assert.equal(setup.hostListenAddress, '127.0.0.1');
  assert.equal(setup.containerReachAddress, '10.0.2.2');
  await commonChecks(t, setup);
  const time = Date.now();
  await setup.stop();
  t.diagnostic(`rootless: stopped in ${Date.now() - time} ms`);
  assert.notEqual((await setup.docker(['info'], { timeoutMs: 20_000 })).code, 0, 'the engine stopped');
});

test('netns setup: an engine that shares neither files nor network with the host', async (t) => {
  const setup = await netnsEngineSetup(t);
  if (!setup) return;
  assert.equal(setup.uid, 0);
  assert.equal(setup.hostAddressForEngine, '10.213.0.1');
  assert.match(setup.env.DOCKER_HOST ?? '', /^unix:\/\/\/var\/lib\/kltest-netns\/docker\.sock$/);
  // the engine does not see the host's files: a fresh host folder is empty (or missing) in a container
  const dir = await mkdtemp(join(tmpdir(), 'kltest-hostfiles-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'host-only'), 'x');
  const ls = await setup.docker([
    'run',
    '--rm',
    '--pull',
    'never',
    '-v',
    `${dir}:/probe`,
    ...setup.hostMounts,
    setup.images.hostbase,
    '/bin/ls',
    '-A',
    '/probe',
  ]);
  assert.ok(ls.code !== 0 || ls.stdout.trim() === '', `the host's folder is visible: ${ls.stdout}`);
  // the engine's network namespace has the link to the host and no default route
  const routes = ok(
    await setup.docker([
      'run',
      '--rm',
      '--pull',
      'never',
      '--network',
      'host',
      ...setup.hostMounts,
      setup.images.hostbase,
      '/bin/ip',
      '-4',
      'route',
    ]),
    'ip route in the engine namespace',
  );
  assert.doesNotMatch(routes, /^default/m);
  assert.match(routes, /10\.213\.0\.0\/30/);
  // its bridge is its own
  const bridge = ok(
    await setup.docker([
      'network',
      'inspect',
      'bridge',
      '--format',
      '{{range .IPAM.Config}}{{.Subnet}}{{end}}',
    ]),
    'bridge',
  );
  assert.equal(bridge.trim(), '10.214.0.0/24');
  await commonChecks(t, setup);
  const time = Date.now();
  await setup.stop();
  t.diagnostic(`netns: stopped in ${Date.now() - time} ms`);
  assert.notEqual((await setup.docker(['info'], { timeoutMs: 20_000 })).code, 0, 'the engine stopped');
  // the link to the host and the blackhole routes went with it
  const { stdout: links } = await exec('ip', ['-o', 'link', 'show']);
  assert.doesNotMatch(links, /kltest-h/);
  const { stdout: hostRoutes } = await exec('ip', ['-4', 'route']);
  assert.doesNotMatch(hostRoutes, /10\.21[345]\./);
});
