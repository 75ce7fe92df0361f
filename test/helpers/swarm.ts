// A one-node swarm and a loopback registry for Swarm tests (services must use a registry image, never
// a bare local name, which dockerd would try to resolve at the default registry).
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { DockerClient } from '../../src/docker/engine/index.js';
import { listTasks } from '../../src/docker/engine/swarm.js';
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

export interface TestServiceOptions {
  name: string;
  image: string;
  network: string;
  /** moto's URL: AWS calls in the tasks go there (and never to the instance metadata service) */
  motoUrl: string;
  /** the host's Python prefix, mounted read-only with /usr, /lib, /lib64, /bin and /etc */
  py: string;
  /** the TASK variable's template, e.g. {{.Task.ID}} */
  task: string;
  /** what each task runs with /bin/sh -c */
  script: string;
}

/** A two-replica service of host-mounted test tasks that updates fast; removed after the test. */
export async function createTestService(t: Pick<TestContext, 'after'>, o: TestServiceOptions): Promise<void> {
  const mounts = ['/usr', '/lib', '/lib64', '/bin', '/etc', o.py].flatMap((p) => [
    '--mount',
    `type=bind,src=${p},dst=${p},readonly`,
  ]);
  await docker(
    [
      'service',
      'create',
      '--detach',
      '--name',
      o.name,
      '--replicas',
      '2',
      '--network',
      o.network,
      '--stop-grace-period',
      '1s',
      '--update-delay',
      '0s',
      '--update-monitor',
      '1s',
      '--env',
      'AWS_EC2_METADATA_DISABLED=true',
      '--env',
      `AWS_ENDPOINT_URL=${o.motoUrl}`,
      '--env',
      'AWS_DEFAULT_REGION=us-east-1',
      '--env',
      `TASK=${o.task}`,
      ...mounts,
      o.image,
      '/bin/sh',
      '-c',
      o.script,
    ],
    { timeoutMs: 120_000 },
  );
  t.after(async () => {
    await docker(['service', 'rm', o.name]).catch(() => undefined);
  });
}

/**
 * Waits until `count` running tasks of the service hold the Swarm secret `secret` and each has logged
 * "<TASK ID> <ARN matching role>" (the tasks run with TASK={{.Task.ID}}), then asserts it: those tasks
 * were validated at moto. Returns their ids.
 */
export async function waitForValidatedTasks(
  client: DockerClient,
  o: { service: string; serviceId: string; secret: string; role: string; count?: number },
): Promise<string[]> {
  const count = o.count ?? 2;
  const arn = (id: string): RegExp => new RegExp(`${id} arn:aws:sts::\\d+:assumed-role/${o.role}/`);
  let ids: string[] = [];
  let logs = '';
  for (let i = 0; i < 120; i++) {
    ids = (await listTasks(client, o.serviceId))
      .filter(
        (x) =>
          x.Status.State === 'running' &&
          (x.Spec.ContainerSpec.Secrets ?? []).some((ref) => ref.SecretName === o.secret),
      )
      .map((x) => x.ID);
    if (ids.length === count) {
      logs = (await docker(['service', 'logs', '--raw', o.service])).stdout;
      if (ids.every((id) => arn(id).test(logs))) break;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(ids.length, count, `${count} running tasks hold ${o.secret}`);
  for (const id of ids) assert.match(logs, arn(id), `task ${id} validated at moto`);
  return ids;
}
