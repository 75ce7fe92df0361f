// Three Docker setups for end-to-end tests, each a user running keyless against an engine, plus the
// addresses a test server on this host needs so that both keyless (on the host) and the engine's
// containers reach it:
//
//   dockerGroupSetup(t)  user kltest-dg (group docker, no sudo) and the main rootful engine at
//                        /var/run/docker.sock. Servers listen on the main engine's default bridge
//                        gateway (docker0, 172.17.0.1 here): it exists whenever dockerd runs, before
//                        any `keyless` network. Containers on a non-internal network (the default
//                        bridge) reach it; a container attached only to an --internal network has no
//                        route to it.
//   rootlessSetup(t)     user kltest-rl running Debian's rootless Docker (dockerd-rootless.sh, with
//                        rootlesskit + slirp4netns), DOCKER_HOST=unix://$XDG_RUNTIME_DIR/docker.sock.
//                        Servers listen on 127.0.0.1; containers reach it at slirp's 10.0.2.2
//                        (DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS=--disable-host-loopback=false).
//                        /dev/net/tun is made 0666 only while the engine starts, then restored.
//   netnsEngineSetup(t)  a second root dockerd in its own network namespace (veth 10.213.0.1/30 on the
//                        host, 10.213.0.2/30 inside, no default route) and its own mount namespace
//                        (tmpfs over /tmp /root /home /run): the shape of Docker Desktop's VM, sharing
//                        neither files nor network with the host. Its docker0 is 10.214.0.1/24, user
//                        networks come from 10.215.0.0/16, its data root is /var/lib/kltest-netns/data
//                        and its socket /var/lib/kltest-netns/docker.sock. keyless runs as root on
//                        the host; servers listen on 10.213.0.1, which containers on a non-internal
//                        network reach (NATed: the host sees them all as 10.213.0.2). The host gets
//                        blackhole routes for 10.214.0.0/24 and 10.215.0.0/16, so nothing on the host
//                        can send to the engine's container addresses (they would leave the machine).
//                        Ports a container publishes (-p) open inside that namespace only.
//
// Every setup has local/hostbase:latest and local/busybox:latest in its engine, and `hostMounts`,
// the -v arguments lending the host's /usr /lib /lib64 /bin /etc and the preinstalled Python prefix
// read-only, the same list for all three (the prefix is under /root here: the rootless and netns
// engines get it bind-mounted at the same path inside their own mount namespace, nothing else of
// /root). keyless is a copy of the current build under /opt/kltest/<hash>/ (dist, package.json and a
// hard-linked node_modules) that every test user can read; `keylessBin` is its dist/bin/keyless.js.
//
// run() gives non-root users PATH=USER_PATH (root's PATH points into /root) unless env has one. The
// engines keep their data roots between runs (images stay; containers and networks are removed at
// stop); logs are in /var/lib/kltest/logs.
//
// The rootless and netns setups hold a machine-wide lock (under tmpdir()/keyless-test-locks) for
// their whole life: a second test file asking for the same setup waits (startupMs includes that
// wait); docker-group holds none (the main engine is shared anyway). Stop is registered with
// t.after (and may also be called earlier). Leftovers of a killed test run (engine processes,
// namespace, veth, routes) are cleaned up by the next start. A setup that cannot start throws with
// the tail of its engine log, unless KEYLESS_TEST_SKIP_DOCKER=1: then the test is skipped (when `t`
// has skip) and the setup function returns undefined.
//
// Use makeSetupTestEnv(setup, t) for HOME / KEYLESS_HOME / AWS config files owned by the setup's
// user, and motoForSetup(setup, t) for moto listening where both sides reach it.
import { spawn, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import {
  chmod,
  chown,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestContext } from 'node:test';
import { acquireLock, type Release } from '../../src/util/file-lock.js';
import type { RunResult } from './cli.js';
import {
  BUSYBOX_IMAGE,
  HOSTBASE_IMAGE,
  ensureBusyboxImage,
  ensureHostbaseImage,
  hostMounts,
  hostPythonPrefix,
  requireDocker,
} from './docker.js';
import type { TestEnv, TestEnvOptions } from './env.js';
import { startMoto, type Moto, type StartMotoOptions } from './moto.js';

const exec = promisify(execFile);

export type SetupKind = 'docker-group' | 'rootless' | 'netns';

export interface SetupRunOptions {
  /** the whole environment of the command (PATH is added when missing) */
  env: Record<string, string>;
  input?: string | Buffer;
  /** default: the setup's home */
  cwd?: string;
  /** default 120 s; the command is killed (SIGKILL) after it */
  timeoutMs?: number;
}

export interface EngineSetup {
  kind: SetupKind;
  /** HOME of the user keyless runs as (owned by that user, 0700); makeSetupTestEnv makes folders under it */
  home: string;
  /** the user keyless runs as (kltest-dg, kltest-rl, root) */
  user: string;
  uid: number;
  gid: number;
  /** variables to add for keyless and the docker CLI: DOCKER_HOST (and XDG_RUNTIME_DIR) when not the default */
  env: Record<string, string>;
  /** runs a command as the setup's user (with its supplementary groups) with exactly options.env (plus PATH) */
  run(cmd: string, args: string[], options: SetupRunOptions): Promise<RunResult>;
  /** the docker CLI against this engine, as the setup's user (env: HOME=home plus `env`) */
  docker(args: string[], options?: { timeoutMs?: number; input?: string | Buffer }): Promise<RunResult>;
  /** absolute path of dist/bin/keyless.js in a copy of the build made when the setup was created */
  keylessBin: string;
  /** where a test server on this host listens so that keyless (as the user) and the containers reach it */
  hostListenAddress: string;
  /** how this engine's containers (on a non-internal network) address that server */
  containerReachAddress: string;
  /** netns only: this machine's address on the link to the engine, for --host-address */
  hostAddressForEngine?: string;
  /** images present in this engine */
  images: { hostbase: string; busybox: string };
  /** -v args lending the host's /usr /lib /lib64 /bin /etc and the Python prefix read-only */
  hostMounts: string[];
  /** the engine's log file (rootless and netns), for diagnostics */
  engineLog?: string;
  /** how long the setup took to come up (lock wait, users, copy of the build, engine, images) */
  startupMs: number;
  /** stops the engine it started (none for docker-group); idempotent, also registered with t.after */
  stop(): Promise<void>;
}

export type SetupContext = Pick<TestContext, 'after'> & Partial<Pick<TestContext, 'skip'>>;

/** A PATH for the test users (root's PATH here points into /root, which they cannot read). */
export const USER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const STATE_DIR = '/var/lib/kltest';
const LOG_DIR = join(STATE_DIR, 'logs');
const COPY_ROOT = '/opt/kltest';
const DG_USER = 'kltest-dg';
const RL_USER = 'kltest-rl';
const ROOTLESS_CONTRIB = '/usr/share/docker.io/contrib';
const NETNS = 'kltest-netns';
const NETNS_DIR = '/var/lib/kltest-netns';
const VETH_HOST = 'kltest-h';
const VETH_NS = 'kltest-n';
const NETNS_HOST_ADDR = '10.213.0.1';
const NETNS_ENGINE_ADDR = '10.213.0.2';
const NETNS_LINK_PREFIX = 30;
const NETNS_BIP = '10.214.0.1/24';
const NETNS_POOL = '10.215.0.0/16';
/** container subnets of the netns engine: blackholed on the host */
const NETNS_BLACKHOLES = ['10.214.0.0/24', NETNS_POOL];
const ENGINE_START_TIMEOUT_MS = 60_000;
const ENGINE_STOP_TIMEOUT_MS = 30_000;

/** The project root, from dist/test/helpers/ (compiled) */
const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

// ---------------------------------------------------------------------------------------------
// The three setups

/** A user in group docker (no sudo) and the main rootful engine. */
export function dockerGroupSetup(t: SetupContext): Promise<EngineSetup | undefined> {
  return guarded(t, 'docker-group', async () => {
    const started = Date.now();
    if (!(await requireDocker({ skip: (m?: string) => t.skip?.(m) }))) throw new Error('no Docker engine');
    const user = await ensureUser(DG_USER, { groups: ['docker'] });
    const keylessBin = await ensureKeylessCopy();
    const gateway = await mainBridgeGateway();
    await ensureHostbaseImage();
    await ensureBusyboxImage();
    const run = userRunner(user);
    const env: Record<string, string> = {};
    const setup: EngineSetup = {
      kind: 'docker-group',
      home: user.home,
      user: user.name,
      uid: user.uid,
      gid: user.gid,
      env,
      run,
      docker: dockerAs(run, user.home, env),
      keylessBin,
      hostListenAddress: gateway,
      containerReachAddress: gateway,
      images: { hostbase: HOSTBASE_IMAGE, busybox: BUSYBOX_IMAGE },
      hostMounts: await hostMounts(),
      startupMs: 0,
      stop: async () => undefined,
    };
    setup.startupMs = Date.now() - started;
    return setup;
  });
}

/** Debian's rootless Docker run by user kltest-rl; keyless runs as that user. */
export function rootlessSetup(t: SetupContext): Promise<EngineSetup | undefined> {
  return guarded(t, 'rootless', async () => {
    const started = Date.now();
    for (const bin of ['rootlesskit', 'slirp4netns', 'newuidmap', 'setpriv', 'unshare'])
      await requireTool(bin);
    await stat(join(ROOTLESS_CONTRIB, 'dockerd-rootless.sh')).catch(() => {
      throw new Error(`${ROOTLESS_CONTRIB}/dockerd-rootless.sh is missing (package docker.io)`);
    });
    const { cleanups, stop } = await engineLifetime(t, 'rootless');
    try {
      const user = await ensureUser(RL_USER, { subids: true });
      const keylessBin = await ensureKeylessCopy();
      const runtimeDir = `/run/user/${user.uid}`;
      const pidFile = join(STATE_DIR, 'rootless.pid');
      const logPath = join(LOG_DIR, 'rootless-dockerd.log');
      const socket = join(runtimeDir, 'docker.sock');
      await killRecorded(pidFile, socket, (cmd) => cmd.includes('rootlesskit'));
      await rm(runtimeDir, { recursive: true, force: true });
      await mkdir(runtimeDir, { recursive: true, mode: 0o700 });
      await chown(runtimeDir, user.uid, user.gid);
      await chmod(runtimeDir, 0o700);
      const py = await hostPythonPrefix();
      // The prefix is under /root (0700) here: inside the engine's own mount namespace, a 0755 tmpfs
      // over /root with only the prefix bind-mounted (read-only) at its own path.
      const lendPy = py.startsWith('/root/') ? py : '';
      const stage = join(STATE_DIR, 'stage-rootless');
      await mkdir(stage, { recursive: true });
      const script = [
        'set -e',
        'if [ -n "$1" ]; then',
        '  mount --bind "$1" "$2"; mount -o remount,bind,ro "$2"',
        '  mount -t tmpfs -o mode=0755 kltest-root /root; mkdir -p "$1"; mount --move "$2" "$1"',
        'fi',
        'exec setpriv --reuid="$3" --regid="$4" --init-groups -- dockerd-rootless.sh',
      ].join('\n');
      const tun = await lendTun();
      cleanups.push(tun.restore);
      const child = startLogged(
        'unshare',
        [
          '-m',
          '--propagation',
          'private',
          'sh',
          '-c',
          script,
          'sh',
          lendPy,
          stage,
          String(user.uid),
          String(user.gid),
        ],
        {
          PATH: `${ROOTLESS_CONTRIB}:${USER_PATH}`,
          HOME: user.home,
          USER: user.name,
          LOGNAME: user.name,
          XDG_RUNTIME_DIR: runtimeDir,
          DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS: '--disable-host-loopback=false',
        },
        logPath,
      );
      await writeFile(pidFile, `${child.pid}\n`);
      cleanups.push(async () => {
        await killPid(child.pid, ENGINE_STOP_TIMEOUT_MS);
        await rm(pidFile, { force: true });
        await rm(runtimeDir, { recursive: true, force: true });
      });
      try {
        await waitForEngine(socket, child, logPath, 'rootless dockerd');
      } finally {
        await tun.restore(); // slirp4netns has its tap device: later containers do not need the tun node
      }
      const env = { DOCKER_HOST: `unix://${socket}`, XDG_RUNTIME_DIR: runtimeDir };
      const run = userRunner(user);
      const docker = dockerAs(run, user.home, env);
      cleanups.push(() => removeAllContainers(docker));
      const images = await ensureImagesIn(docker);
      return {
        kind: 'rootless',
        home: user.home,
        user: user.name,
        uid: user.uid,
        gid: user.gid,
        env,
        run,
        docker,
        keylessBin,
        hostListenAddress: '127.0.0.1',
        containerReachAddress: '10.0.2.2',
        images,
        hostMounts: await hostMounts(),
        engineLog: logPath,
        startupMs: Date.now() - started,
        stop,
      };
    } catch (err) {
      await stop();
      throw err;
    }
  });
}

/**
 * The lifetime of a setup's engine: its machine-wide lock, then cleanups run in reverse order by an
 * idempotent stop (also registered with t.after).
 */
async function engineLifetime(
  t: SetupContext,
  name: string,
): Promise<{ cleanups: (() => Promise<void>)[]; stop: () => Promise<void> }> {
  const release = await lifetimeLock(name);
  const cleanups: (() => Promise<void>)[] = [async () => release()];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  t.after(stop);
  return { cleanups, stop };
}

/** A second root dockerd in its own network and mount namespaces; keyless runs as root on the host. */
export function netnsEngineSetup(t: SetupContext): Promise<EngineSetup | undefined> {
  return guarded(t, 'netns', async () => {
    const started = Date.now();
    for (const bin of ['ip', 'nsenter', 'unshare', 'dockerd', 'iptables']) await requireTool(bin);
    const { cleanups, stop } = await engineLifetime(t, 'netns');
    try {
      const keylessBin = await ensureKeylessCopy();
      const pidFile = join(NETNS_DIR, 'docker.pid');
      const socket = join(NETNS_DIR, 'docker.sock');
      const logPath = join(LOG_DIR, 'netns-dockerd.log');
      // leftovers of a killed run
      await killRecorded(pidFile, socket, (cmd) => cmd.includes(NETNS_DIR));
      await teardownNetns();
      await checkAddressesFree();
      await mkdir(join(NETNS_DIR, 'data'), { recursive: true, mode: 0o711 });
      await rm(join(NETNS_DIR, 'exec'), { recursive: true, force: true });
      await mkdir(join(NETNS_DIR, 'exec'), { recursive: true, mode: 0o700 });
      await rm(socket, { force: true });
      await writeFile(join(NETNS_DIR, 'daemon.json'), '{}\n');
      cleanups.push(teardownNetns);
      await ip(['netns', 'add', NETNS]);
      await ip(['link', 'add', VETH_HOST, 'type', 'veth', 'peer', 'name', VETH_NS]);
      await ip(['link', 'set', VETH_NS, 'netns', NETNS]);
      await ip(['addr', 'add', `${NETNS_HOST_ADDR}/${NETNS_LINK_PREFIX}`, 'dev', VETH_HOST]);
      await ip(['link', 'set', VETH_HOST, 'up']);
      await ip(['-n', NETNS, 'addr', 'add', `${NETNS_ENGINE_ADDR}/${NETNS_LINK_PREFIX}`, 'dev', VETH_NS]);
      await ip(['-n', NETNS, 'link', 'set', VETH_NS, 'up']);
      await ip(['-n', NETNS, 'link', 'set', 'lo', 'up']);
      for (const net of NETNS_BLACKHOLES) await ip(['route', 'replace', 'blackhole', net]);

      const py = await hostPythonPrefix();
      const hidden = ['/tmp', '/root', '/home', '/run'];
      const lendPy = hidden.some((d) => py.startsWith(`${d}/`)) ? py : '';
      const stage = join(STATE_DIR, 'stage-netns');
      await mkdir(stage, { recursive: true });
      const script = [
        'set -e',
        'B="$1"; PY="$2"; STAGE="$3"',
        'if [ -n "$PY" ]; then mount --bind "$PY" "$STAGE"; mount -o remount,bind,ro "$STAGE"; fi',
        `for d in ${hidden.join(' ')}; do mount -t tmpfs -o mode=0755 kltest-netns "$d"; done`,
        'chmod 1777 /tmp; chmod 0700 /root',
        'if [ -n "$PY" ]; then mkdir -p "$PY"; mount --move "$STAGE" "$PY"; fi',
        'exec dockerd --config-file "$B/daemon.json" --data-root "$B/data" --exec-root "$B/exec" \\',
        '  --pidfile "$B/docker.pid" -H "unix://$B/docker.sock" --shutdown-timeout 3 \\',
        `  --bip ${NETNS_BIP} --default-address-pool base=${NETNS_POOL},size=24`,
      ].join('\n');
      const child = startLogged(
        'nsenter',
        [
          `--net=/run/netns/${NETNS}`,
          'unshare',
          '-m',
          '--propagation',
          'private',
          'sh',
          '-c',
          script,
          'sh',
        ].concat([NETNS_DIR, lendPy, stage]),
        { PATH: USER_PATH, HOME: '/root' },
        logPath,
      );
      cleanups.push(async () => {
        await killPid(child.pid, ENGINE_STOP_TIMEOUT_MS);
        await rm(socket, { force: true });
      });
      await waitForEngine(socket, child, logPath, 'netns dockerd');
      const home = await mkdtemp(join(tmpdir(), 'kltest-netns-home-'));
      await chmod(home, 0o700);
      cleanups.push(() => rm(home, { recursive: true, force: true }));
      const env = { DOCKER_HOST: `unix://${socket}` };
      const root: TestUser = { name: 'root', uid: 0, gid: 0, home };
      const run = userRunner(root);
      const docker = dockerAs(run, home, env);
      cleanups.push(() => removeAllContainers(docker));
      const images = await ensureImagesIn(docker);
      return {
        kind: 'netns',
        home,
        user: 'root',
        uid: 0,
        gid: 0,
        env,
        run,
        docker,
        keylessBin,
        hostListenAddress: NETNS_HOST_ADDR,
        containerReachAddress: NETNS_HOST_ADDR,
        hostAddressForEngine: NETNS_HOST_ADDR,
        images,
        hostMounts: await hostMounts(),
        engineLog: logPath,
        startupMs: Date.now() - started,
        stop,
      };
    } catch (err) {
      await stop();
      throw err;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Test environments and moto for a setup

/**
 * What makeTestEnv does (HOME, KEYLESS_HOME, AWS config and credentials files, passphrase), in a
 * fresh folder under setup.home owned by the setup's user (0700; files 0600), removed after the test.
 * `vars` is a whole environment: PATH, HOME, USER, the safe AWS variables, setup.env, options.extra;
 * nothing is inherited from this process.
 */
export async function makeSetupTestEnv(
  setup: EngineSetup,
  t: Pick<TestContext, 'after'> | undefined,
  options: TestEnvOptions = {},
): Promise<TestEnv> {
  const home = await mkdtemp(join(setup.home, 'env-'));
  t?.after(() => rm(home, { recursive: true, force: true }));
  await chmod(home, 0o700);
  const keylessHome = join(home, '.keyless');
  const awsConfigFile = join(home, 'aws-config');
  const awsCredentialsFile = join(home, 'aws-credentials');
  await writeFile(awsConfigFile, options.awsConfig ?? '', { mode: 0o600 });
  await writeFile(awsCredentialsFile, options.awsCredentials ?? '', { mode: 0o600 });
  for (const p of [home, awsConfigFile, awsCredentialsFile]) await chown(p, setup.uid, setup.gid);
  const vars: Record<string, string> = {
    PATH: setup.uid === 0 ? (process.env.PATH ?? USER_PATH) : USER_PATH,
    HOME: home,
    USER: setup.user,
    LOGNAME: setup.user,
    LANG: 'C.UTF-8',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    KEYLESS_HOME: keylessHome,
    AWS_CONFIG_FILE: awsConfigFile,
    AWS_SHARED_CREDENTIALS_FILE: awsCredentialsFile,
    KEYLESS_PASSPHRASE: options.passphrase ?? 'test passphrase correct horse',
    ...setup.env,
  };
  if (options.endpoint !== undefined) vars.AWS_ENDPOINT_URL = options.endpoint;
  Object.assign(vars, options.extra ?? {});
  return { vars, home, keylessHome, awsConfigFile, awsCredentialsFile };
}

/**
 * moto (startMoto) listening on setup.hostListenAddress (its counting proxy too): `moto.url` is for
 * keyless and other host processes, `containerUrl` for the engine's containers (same port).
 */
export async function motoForSetup(
  setup: EngineSetup,
  t: Pick<TestContext, 'after'> | undefined,
  options: Omit<StartMotoOptions, 'host'> = {},
): Promise<{ moto: Moto; containerUrl: string }> {
  const moto = await startMoto(t, { ...options, host: setup.hostListenAddress });
  return { moto, containerUrl: `http://${setup.containerReachAddress}:${moto.port}` };
}

// ---------------------------------------------------------------------------------------------
// Users and running as them

interface TestUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

async function ensureUser(name: string, opts: { groups?: string[]; subids?: boolean }): Promise<TestUser> {
  await requireTool('useradd');
  const release = await shortLock('users');
  try {
    let entry = await passwdEntry(name);
    if (entry === undefined) {
      const groups = opts.groups?.length ? ['-G', opts.groups.join(',')] : [];
      await run0('useradd', ['-m', '-s', '/bin/bash', ...groups, name]);
      entry = await passwdEntry(name);
      if (entry === undefined) throw new Error(`useradd ${name} made no passwd entry`);
    } else {
      for (const g of opts.groups ?? []) await run0('usermod', ['-aG', g, name]);
    }
    if (opts.subids) await ensureSubIds(name);
    await mkdir(entry.home, { recursive: true });
    await chown(entry.home, entry.uid, entry.gid);
    await chmod(entry.home, 0o700);
    return entry;
  } finally {
    await release();
  }
}

async function passwdEntry(name: string): Promise<TestUser | undefined> {
  try {
    const { stdout } = await exec('getent', ['passwd', name]);
    const f = stdout.trim().split(':');
    return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? `/home/${name}` };
  } catch {
    return undefined;
  }
}

/** subuid/subgid ranges for rootless Docker (useradd adds them; a user made otherwise may lack them) */
async function ensureSubIds(name: string): Promise<void> {
  for (const [file, flag] of [
    ['/etc/subuid', '--add-subuids'],
    ['/etc/subgid', '--add-subgids'],
  ] as const) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (text.split('\n').some((l) => l.startsWith(`${name}:`))) continue;
    let end = 100_000;
    for (const l of text.split('\n')) {
      const [, start, count] = l.split(':');
      if (start && count) end = Math.max(end, Number(start) + Number(count));
    }
    await run0('usermod', [flag, `${end}-${end + 65_535}`, name]);
  }
}

/**
 * Runs commands as `user` with exactly the given environment (PATH added). Non-root users go through
 * setpriv --init-groups, which keeps their supplementary groups (spawn's uid/gid would drop them).
 */
function userRunner(user: TestUser): EngineSetup['run'] {
  return (cmd, args, options) => {
    const env = { PATH: user.uid === 0 ? (process.env.PATH ?? USER_PATH) : USER_PATH, ...options.env };
    const argv =
      user.uid === 0
        ? [cmd, ...args]
        : ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', cmd, ...args];
    return spawnCollect(argv, {
      ...options,
      env,
      cwd: options.cwd ?? (existsSync(user.home) ? user.home : '/'),
    });
  };
}

function dockerAs(run: EngineSetup['run'], home: string, env: Record<string, string>): EngineSetup['docker'] {
  return (args, options = {}) =>
    run('docker', args, { env: { HOME: home, ...env }, input: options.input, timeoutMs: options.timeoutMs });
}

function spawnCollect(argv: string[], options: SetupRunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd ?? '', args, {
      env: options.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // a command that exits without reading its input
    child.stdin.end(options.input ?? '');
  });
}

// ---------------------------------------------------------------------------------------------
// The copy of the build

/**
 * A copy of the current build (dist/src, dist/bin, dist/native, package.json; node_modules
 * hard-linked) under /opt/kltest/<hash of the build's files>/, readable by every user. Reused while
 * the build is unchanged; copies unused for 6 hours are removed.
 */
export async function ensureKeylessCopy(): Promise<string> {
  const parts = ['dist/src', 'dist/bin', 'dist/native'];
  const lines: string[] = [];
  for (const p of parts) await listFiles(join(PROJECT_ROOT, p), p, lines);
  for (const p of ['package.json', 'node_modules/.package-lock.json']) {
    const s = await stat(join(PROJECT_ROOT, p)).catch(() => undefined);
    lines.push(`${p} ${s?.size ?? -1} ${s?.mtimeMs ?? -1}`);
  }
  if (!lines.some((l) => l.startsWith('dist/bin/keyless.js '))) {
    throw new Error(`${PROJECT_ROOT}dist/bin/keyless.js is missing: run npm run build`);
  }
  const hash = createHash('sha256').update(lines.sort().join('\n')).digest('hex').slice(0, 16);
  const target = join(COPY_ROOT, hash);
  const bin = join(target, 'dist', 'bin', 'keyless.js');
  const marker = join(target, '.complete');
  const release = await shortLock('build-copy');
  try {
    await mkdir(COPY_ROOT, { recursive: true });
    await chmod(COPY_ROOT, 0o755);
    if (await stat(marker).catch(() => undefined)) {
      const now = new Date();
      await utimes(marker, now, now);
      return bin;
    }
    const tmp = join(COPY_ROOT, `.tmp-${hash}-${process.pid}`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(join(tmp, 'dist'), { recursive: true });
    const existing: string[] = [];
    for (const p of parts) if (await stat(join(PROJECT_ROOT, p)).catch(() => undefined)) existing.push(p);
    await run0('cp', ['-a', ...existing.map((p) => join(PROJECT_ROOT, p)), join(tmp, 'dist')]);
    await run0('cp', ['-a', join(PROJECT_ROOT, 'package.json'), tmp]);
    // readable by all: the copy only (chmod on the hard links would change the checkout's node_modules)
    await run0('chmod', ['-R', 'a+rX', tmp]);
    await run0('cp', ['-al', join(PROJECT_ROOT, 'node_modules'), join(tmp, 'node_modules')]);
    await rm(target, { recursive: true, force: true });
    await rename(tmp, target);
    await writeFile(marker, `${new Date().toISOString()}\n`);
    await removeOldCopies(hash);
    return bin;
  } finally {
    await release();
  }
}

async function listFiles(dir: string, rel: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await listFiles(p, `${rel}/${e.name}`, out);
    else {
      const s = await stat(p);
      out.push(`${rel}/${e.name} ${s.size} ${s.mtimeMs}`);
    }
  }
}

async function removeOldCopies(keep: string): Promise<void> {
  const cutoff = Date.now() - 6 * 3600_000;
  for (const name of await readdir(COPY_ROOT)) {
    if (name === keep) continue;
    const dir = join(COPY_ROOT, name);
    const s = await stat(join(dir, '.complete')).catch(() => stat(dir).catch(() => undefined));
    if (s && s.mtimeMs < cutoff) await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Engines

/** Starts a long-running process with its output in a log file, not holding the test process open. */
function startLogged(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  logPath: string,
): { pid: number; exited: () => string | undefined } {
  mkdirSync(dirname(logPath), { recursive: true, mode: 0o700 });
  const fd = openSync(logPath, 'w', 0o600);
  try {
    const child = spawn(cmd, args, { env, cwd: '/', stdio: ['ignore', fd, fd] });
    let exit: string | undefined;
    child.on('exit', (code, signal) => (exit = signal ? `signal ${signal}` : `exit code ${code}`));
    child.on('error', (err) => (exit = String(err)));
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
    return { pid: child.pid, exited: () => exit };
  } finally {
    closeSync(fd);
  }
}

async function waitForEngine(
  socket: string,
  child: { exited: () => string | undefined },
  logPath: string,
  what: string,
): Promise<void> {
  const deadline = Date.now() + ENGINE_START_TIMEOUT_MS;
  for (;;) {
    if (await ping(socket)) return;
    const exit = child.exited();
    const late = Date.now() > deadline;
    if (exit !== undefined || late) {
      const why =
        exit !== undefined ? `exited (${exit})` : `did not answer in ${ENGINE_START_TIMEOUT_MS / 1000} s`;
      throw new Error(
        `${what} ${why}; socket ${socket}; last lines of ${logPath}:\n${await logTail(logPath)}`,
      );
    }
    await sleep(100);
  }
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function logTail(path: string, lines = 30): Promise<string> {
  const text = await readFile(path, 'utf8').catch((err: Error) => `(no log: ${err.message})`);
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** local/hostbase and local/busybox in an engine other than the main one (docker import as its user). */
async function ensureImagesIn(docker: EngineSetup['docker']): Promise<EngineSetup['images']> {
  const wanted: [string, (root: string) => Promise<void>][] = [
    [HOSTBASE_IMAGE, async () => undefined],
    [
      BUSYBOX_IMAGE,
      async (root) => {
        for (const d of ['bin', 'tmp', 'root', 'etc']) await mkdir(join(root, d), { recursive: true });
        await run0('cp', ['/bin/busybox', join(root, 'bin', 'busybox')]);
        const applets =
          'sh cat wc ls env grep echo sleep ip wget rm mkdir printf test true false id hostname';
        for (const a of applets.split(' ')) await run0('ln', ['-s', 'busybox', join(root, 'bin', a)]);
      },
    ],
  ];
  for (const [ref, fill] of wanted) {
    if ((await docker(['image', 'inspect', '--format', '{{.Id}}', ref])).code === 0) continue;
    const root = await mkdtemp(join(tmpdir(), 'kltest-image-'));
    try {
      await fill(root);
      const { stdout } = await execFile0Buffer('tar', ['-C', root, '-c', '.']);
      const r = await docker(['import', '-', ref], { input: stdout, timeoutMs: 120_000 });
      if (r.code !== 0) throw new Error(`docker import ${ref} failed: ${r.stderr}`);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }
  return { hostbase: HOSTBASE_IMAGE, busybox: BUSYBOX_IMAGE };
}

/** The engine is the tests' own: its containers go when the setup stops (images stay). */
async function removeAllContainers(docker: EngineSetup['docker']): Promise<void> {
  const list = await docker(['ps', '-aq'], { timeoutMs: 20_000 });
  const ids = list.stdout.split('\n').filter(Boolean);
  if (ids.length > 0) await docker(['rm', '-f', ...ids], { timeoutMs: 60_000 });
  await docker(['network', 'prune', '-f'], { timeoutMs: 20_000 });
}

/**
 * The main engine's default bridge gateway (docker0's address, 172.17.0.1 here), checked to be an
 * address of this machine. `ip` rather than os.networkInterfaces(): the latter leaves out a bridge
 * with no container attached (no carrier), though its address is there to listen on.
 */
async function mainBridgeGateway(): Promise<string> {
  const inspect = async (format: string): Promise<string> =>
    (
      await exec('docker', ['network', 'inspect', 'bridge', '--format', format], { timeout: 20_000 })
    ).stdout.trim();
  const bridge = (await inspect('{{index .Options "com.docker.network.bridge.name"}}')) || 'docker0';
  const configured = (await inspect('{{range .IPAM.Config}}{{.Gateway}} {{end}}'))
    .split(/\s+/)
    .filter(Boolean);
  const { stdout } = await exec('ip', ['-o', '-4', 'addr', 'show']);
  const local = stdout
    .split('\n')
    .map((l) => /^\d+:\s+(\S+)\s+inet\s+([\d.]+)\//.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[1] ?? '', address: m[2] ?? '' }));
  const gw = configured[0] ?? local.find((a) => a.name === bridge)?.address ?? '';
  if (gw === '' || !local.some((a) => a.address === gw)) {
    throw new Error(
      `the main engine's bridge gateway (${gw || 'none'}, ${bridge}) is not an address of this machine`,
    );
  }
  return gw;
}

/** /dev/net/tun 0666 while rootlesskit starts; the original mode is kept in a file until restored. */
async function lendTun(): Promise<{ restore: () => Promise<void> }> {
  const tun = '/dev/net/tun';
  const saved = join(STATE_DIR, 'tun-mode');
  await mkdir(STATE_DIR, { recursive: true });
  // a saved mode is the original one (a killed run left the node 0666)
  const text = await readFile(saved, 'utf8').catch(() => undefined);
  const original = text !== undefined ? Number.parseInt(text, 8) : (await stat(tun)).mode & 0o7777;
  if (text === undefined) await writeFile(saved, `${original.toString(8)}\n`);
  await chmod(tun, 0o666);
  let done = false;
  return {
    restore: async () => {
      if (done) return;
      done = true;
      await chmod(tun, original);
      await rm(saved, { force: true });
    },
  };
}

async function teardownNetns(): Promise<void> {
  await exec('ip', ['netns', 'del', NETNS]).catch(() => undefined);
  await exec('ip', ['link', 'del', VETH_HOST]).catch(() => undefined);
  for (const net of NETNS_BLACKHOLES)
    await exec('ip', ['route', 'del', 'blackhole', net]).catch(() => undefined);
  // the kernel removes the namespace (and the veth pair with it) asynchronously
  for (let i = 0; i < 50; i++) {
    const { stdout } = await exec('ip', ['-o', 'link', 'show']);
    if (!stdout.includes(`${VETH_HOST}@`) && !stdout.includes(` ${VETH_HOST}:`)) return;
    await sleep(100);
  }
}

async function checkAddressesFree(): Promise<void> {
  const { stdout: addrs } = await exec('ip', ['-o', '-4', 'addr']);
  const { stdout: routes } = await exec('ip', ['-4', 'route']);
  for (const prefix of ['10.213.0.', '10.214.0.', '10.215.']) {
    if (addrs.includes(` ${prefix}`) || routes.split('\n').some((l) => l.includes(prefix))) {
      throw new Error(
        `netns setup: ${prefix}* is already used on this machine:\n${addrs}\n${routes}` +
          '\n(it needs 10.213.0.0/30, 10.214.0.0/24 and 10.215.0.0/16 free)',
      );
    }
  }
}

/**
 * Stops an engine a killed earlier run left: its containers first (dockerd would otherwise wait 10 s
 * for each one that ignores SIGTERM), then the process recorded in the pid file, when its command
 * line matches.
 */
async function killRecorded(
  pidFile: string,
  socket: string,
  matches: (cmdline: string) => boolean,
): Promise<void> {
  const pid = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10);
  if (!Number.isInteger(pid) || pid <= 1) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (cmdline !== '' && matches(cmdline.replaceAll('\0', ' '))) {
    if (await ping(socket)) {
      const asRoot = userRunner({ name: 'root', uid: 0, gid: 0, home: '/' });
      await removeAllContainers(dockerAs(asRoot, '/root', { DOCKER_HOST: `unix://${socket}` })).catch(
        () => undefined,
      );
    }
    await killPid(pid, ENGINE_STOP_TIMEOUT_MS);
  }
  await rm(pidFile, { force: true });
}

/** SIGTERM, then SIGKILL after graceMs; waits (bounded) until the process is gone. */
async function killPid(pid: number, graceMs: number): Promise<void> {
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
    } catch {
      return false;
    }
    // a zombie still answers kill 0: it has exited
    return !/^State:\s+Z/m.test(readProcStatus(pid));
  };
  if (!alive()) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await sleep(100);
  if (alive()) {
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 50 && alive(); i++) await sleep(100);
  }
}

function readProcStatus(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

async function guarded(
  t: SetupContext,
  kind: SetupKind,
  fn: () => Promise<EngineSetup>,
): Promise<EngineSetup | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (process.env.KEYLESS_TEST_SKIP_DOCKER === '1') {
      t.skip?.(`${kind} setup unavailable and KEYLESS_TEST_SKIP_DOCKER=1: ${(err as Error).message}`);
      return undefined;
    }
    throw err;
  }
}

function lockPath(name: string): string {
  return join(tmpdir(), 'keyless-test-locks', `engine-setup-${name}.lock`);
}

/** Held for the setup's whole life. */
function lifetimeLock(name: string): Promise<Release> {
  return acquireLock(lockPath(name), { timeoutMs: 30 * 60_000, staleMs: 3 * 3600_000 });
}

function shortLock(name: string): Promise<Release> {
  return acquireLock(lockPath(name), { timeoutMs: 5 * 60_000, staleMs: 10 * 60_000 });
}

async function requireTool(name: string): Promise<void> {
  try {
    await exec('sh', ['-c', `command -v ${name}`], { env: { PATH: USER_PATH } });
  } catch {
    throw new Error(`${name} is not installed (bash scripts/setup.sh installs what the engine setups need)`);
  }
}

async function run0(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await exec(cmd, args, { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

function ip(args: string[]): Promise<string> {
  return run0('ip', args);
}

function execFile0Buffer(cmd: string, args: string[]): Promise<{ stdout: Buffer }> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024, timeout: 120_000 },
      (err, stdout) => (err ? reject(err) : resolve({ stdout })),
    );
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
