// Real Docker engine for tests. A test that needs Docker fails loudly when the engine is not there,
// unless the user opted out with KEYLESS_TEST_SKIP_DOCKER=1 (then it is reported as skipped, not passed).
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, symlink, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestContext } from 'node:test';
import { acquireLock } from '../../src/util/file-lock.js';

const exec = promisify(execFile);

export const BUSYBOX_IMAGE = 'local/busybox:latest';
export const HOSTBASE_IMAGE = 'local/hostbase:latest';
/** Debian's docker CLI (20.10), the one that can do BuildKit builds here */
export const DEBIAN_DOCKER = '/usr/bin/docker';

export async function dockerAvailable(): Promise<boolean> {
  try {
    await exec('docker', ['version', '--format', '{{.Server.Version}}'], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Call at the top of a Docker test. Returns false (and marks the test skipped) only when the user
 * opted out; otherwise throws when no engine answers.
 */
export async function requireDocker(t: Pick<TestContext, 'skip'>): Promise<boolean> {
  if (await dockerAvailable()) return true;
  if (process.env.KEYLESS_TEST_SKIP_DOCKER === '1') {
    t.skip('no Docker engine and KEYLESS_TEST_SKIP_DOCKER=1');
    return false;
  }
  throw new Error(
    'this test needs a Docker engine and none answers. Run `npm test` (it starts dockerd), start dockerd yourself, ' +
      'or set KEYLESS_TEST_SKIP_DOCKER=1 to skip Docker tests explicitly.',
  );
}

export async function docker(
  args: string[],
  options: { cli?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  const child = exec(options.cli ?? 'docker', args, {
    env: options.env ?? process.env,
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (options.input !== undefined) {
    child.child.stdin?.end(options.input);
  }
  return child;
}

/**
 * Machine-wide lock for tests that use shared engine state: the 169.254.170.2 bridge address and
 * port 80 on it, swarm mode, the `keyless` network. Held until the test ends.
 */
export async function lockDockerBridge(t: Pick<TestContext, 'after'>): Promise<void> {
  const release = await acquireLock(join(tmpdir(), 'keyless-test-locks', 'docker-bridge.lock'), {
    timeoutMs: 30 * 60_000,
    staleMs: 60 * 60_000,
  });
  t.after(release);
}

/**
 * A fresh `keyless` network as an admin would create it beforehand, --internal (so nothing leaves the
 * machine), on 169.254.170.0/24 with the credential server's address as gateway; removed afterwards.
 */
export async function recreateKeylessNetwork(t: Pick<TestContext, 'after'>): Promise<void> {
  await docker(['network', 'rm', 'keyless']).catch(() => undefined);
  await docker([
    'network',
    'create',
    '--internal',
    '--driver',
    'bridge',
    '--subnet',
    '169.254.170.0/24',
    '--gateway',
    '169.254.170.2',
    'keyless',
  ]);
  t.after(async () => void (await docker(['network', 'rm', 'keyless']).catch(() => undefined)));
}

async function imageExists(ref: string): Promise<boolean> {
  try {
    await exec('docker', ['image', 'inspect', ref], { timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/** local/busybox:latest from the host's busybox-static, with a few applet links. No registry. */
export async function ensureBusyboxImage(): Promise<string> {
  if (await imageExists(BUSYBOX_IMAGE)) return BUSYBOX_IMAGE;
  const root = await mkdtemp(join(tmpdir(), 'keyless-busybox-'));
  try {
    for (const d of ['bin', 'tmp', 'root', 'etc']) await mkdir(join(root, d), { recursive: true });
    await copyFile('/bin/busybox', join(root, 'bin', 'busybox'));
    for (const c of [
      'sh',
      'cat',
      'wc',
      'ls',
      'env',
      'grep',
      'echo',
      'sleep',
      'ip',
      'wget',
      'rm',
      'mkdir',
      'printf',
      'test',
      'true',
      'false',
      'id',
      'hostname',
    ]) {
      await symlink('busybox', join(root, 'bin', c));
    }
    await exec('sh', ['-c', `tar -C '${root}' -c . | docker import - ${BUSYBOX_IMAGE}`], {
      timeout: 120_000,
    });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  return BUSYBOX_IMAGE;
}

/** An empty image; run it with hostMounts() so the host's awscli, boto3 and node run inside. */
export async function ensureHostbaseImage(): Promise<string> {
  if (await imageExists(HOSTBASE_IMAGE)) return HOSTBASE_IMAGE;
  const root = await mkdtemp(join(tmpdir(), 'keyless-hostbase-'));
  try {
    await exec('sh', ['-c', `tar -C '${root}' -c . | docker import - ${HOSTBASE_IMAGE}`], {
      timeout: 120_000,
    });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  return HOSTBASE_IMAGE;
}

/** The preinstalled Python (boto3, awscli v1), as sys.base_prefix. */
export async function hostPythonPrefix(): Promise<string> {
  const { stdout } = await exec('python3', ['-c', 'import sys;print(sys.base_prefix)']);
  return stdout.trim();
}

/** `-v` arguments that lend the host's programs read-only to a hostbase container. */
export async function hostMounts(): Promise<string[]> {
  const py = await hostPythonPrefix();
  const out: string[] = [];
  for (const p of ['/usr', '/lib', '/lib64', '/bin', '/etc', py]) out.push('-v', `${p}:${p}:ro`);
  return out;
}

/** A route that drops packets to 169.254.170.2 until the address exists on this machine. */
export async function blackholeBridgeAddress(t: Pick<TestContext, 'after'>): Promise<void> {
  try {
    await exec('ip', ['route', 'add', 'blackhole', '169.254.170.2/32']);
    t.after(async () => {
      await exec('ip', ['route', 'del', 'blackhole', '169.254.170.2/32']).catch(() => undefined);
    });
  } catch (err) {
    if (!String((err as { stderr?: string }).stderr ?? err).includes('File exists')) throw err;
  }
}
