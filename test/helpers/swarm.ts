// A one-node swarm and a loopback registry for Swarm tests (services must use a registry image, never
// a bare local name, which dockerd would try to resolve at the default registry).
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { acquireLock } from '../../src/util/file-lock.js';
import { docker } from './docker.js';
import { freePort, waitForPort } from './net.js';

/**
 * Makes this engine a one-node swarm for the test; leaves it afterwards if the test made it. Swarm
 * tests hold a machine-wide lock for their whole run: test files run in parallel, and one leaving the
 * swarm under another fails the other's `docker service create` ("network host not found").
 */
export async function ensureSwarm(t: Pick<TestContext, 'after'>): Promise<void> {
  const release = await acquireLock(join(tmpdir(), 'keyless-test-locks', 'swarm.lock'), {
    timeoutMs: 30 * 60_000,
    staleMs: 60 * 60_000,
  });
  try {
    const { stdout } = await docker(['info', '--format', '{{.Swarm.LocalNodeState}}']);
    if (stdout.trim() === 'active') {
      t.after(release);
      return;
    }
    await docker(['swarm', 'init', '--advertise-addr', '127.0.0.1']);
  } catch (err) {
    await release();
    throw err;
  }
  t.after(async () => {
    await docker(['swarm', 'leave', '--force']).catch(() => undefined);
    await docker(['network', 'rm', 'docker_gwbridge']).catch(() => undefined);
    await release();
  });
}

export interface LocalRegistry {
  /** host:port, e.g. 127.0.0.1:41234 */
  address: string;
  /** tags and pushes a local image; returns the registry reference */
  push(localRef: string): Promise<string>;
}

export async function startLocalRegistry(t: Pick<TestContext, 'after'>): Promise<LocalRegistry> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'keyless-registry-'));
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  const child = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  t.after(async () => {
    child.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });
  await waitForPort('127.0.0.1', port);
  const address = `127.0.0.1:${port}`;
  return {
    address,
    async push(localRef: string) {
      const ref = `${address}/${localRef.replace(/^[^/]*\.[^/]*\//, '')}`;
      await docker(['tag', localRef, ref]);
      await docker(['push', ref], { timeoutMs: 300_000 });
      return ref;
    },
  };
}
