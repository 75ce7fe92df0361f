// `keyless swarm secret` on a real one-node swarm with a loopback registry: credentials minted from
// moto (signature checks on) are stored as a Swarm secret, rotated three times with start-first
// updates, and taken away again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  requireDocker,
  lockDockerBridge,
  ensureHostbaseImage,
  hostPythonPrefix,
  docker,
} from '../helpers/docker.js';
import {
  createTestService,
  ensureSwarm,
  startLocalRegistry,
  waitForValidatedTasks,
} from '../helpers/swarm.js';
import { startMoto } from '../helpers/moto.js';
import { assumeRoleSource } from '../helpers/sources.js';
import { dockerClientFromEnv } from '../../src/docker/engine/index.js';
import { listSecrets, listTasks, inspectService } from '../../src/docker/engine/swarm.js';
import { loadEnv } from '../../src/config/env.js';
import { addSecret, rotateSecrets, removeSecrets } from '../../src/docker/swarm/secret-mode.js';

test(
  'swarm secret mode: three rotations keep a two-replica service running, each new task validates at moto, remove leaves nothing',
  { timeout: 600_000 },
  async (t) => {
    if (!(await requireDocker(t))) return;
    await lockDockerBridge(t);
    await ensureSwarm(t);
    const registry = await startLocalRegistry(t);
    const image = await registry.push(await ensureHostbaseImage());
    const moto = await startMoto(t, { roles: ['swarm-app'] });
    const roleArn = moto.identity.roles['swarm-app'] as string;
    const py = await hostPythonPrefix();
    const name = `ks-secret-${randomBytes(3).toString('hex')}`;
    await createTestService(t, {
      name,
      image,
      network: 'host',
      motoUrl: moto.url,
      py,
      task: '{{.Task.Name}}',
      script: `${py}/bin/python3 -m awscli sts get-caller-identity --query Arn --output text 2>&1 | sed "s/^/$TASK /"; exec sleep 3600`,
    });
    const client = dockerClientFromEnv(loadEnv(process.env));
    const deps = { client, mint: () => assumeRoleSource(moto, roleArn, 3600)(), cleanupTimeoutMs: 120_000 };
    const serviceId = (await inspectService(client, name)).ID;

    // Poll running tasks throughout.
    let polls = 0;
    let minRunning = Infinity;
    let polling = true;
    const running = async (): Promise<number> =>
      (await listTasks(client, serviceId)).filter(
        (x) => x.Status.State === 'running' && x.DesiredState === 'running',
      ).length;
    for (let i = 0; i < 120 && (await running()) < 2; i++) await new Promise((r) => setTimeout(r, 500));
    const poller = (async () => {
      while (polling) {
        const n = await running();
        polls++;
        minRunning = Math.min(minRunning, n);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    // After each install, the tasks now meant to run must print the role's identity, validated by moto.
    const validated = new Set<string>();
    const checkNewTasks = async (secret: string): Promise<void> => {
      for (const id of await waitForValidatedTasks(client, {
        service: name,
        serviceId,
        secret,
        role: 'swarm-app',
      }))
        validated.add(id);
    };
    const added = await addSecret(deps, name, { roleArn, durationSeconds: 3600, region: 'us-east-1' });
    assert.equal(added.version, 1);
    await checkNewTasks(added.secret);
    for (let i = 0; i < 3; i++) {
      const [r] = await rotateSecrets(deps, [name], { force: true });
      assert.equal(r?.rotated, true);
      assert.equal(r?.version, i + 2);
      await checkNewTasks(r?.secret ?? '');
    }
    polling = false;
    await poller;
    assert.equal(validated.size, 8, '2 new tasks for each of 4 secret versions');
    assert.ok(polls > 10, `polled ${polls} times`);
    assert.ok(minRunning >= 1, `at least one task running at every poll (min ${minRunning})`);

    const mine = (await listSecrets(client)).filter((s) => s.Spec.Labels?.['keyless.service'] === name);
    assert.equal(mine.length, 1, 'one keyless secret left after three rotations');

    const { stdout: inspect } = await docker(['service', 'inspect', name]);
    assert.ok(!inspect.includes(moto.identity.secretAccessKey));
    assert.match(inspect, /keyless-aws-credentials/);

    const removed = await removeSecrets(deps, name);
    assert.ok(removed.length >= 1);
    const left = (await listSecrets(client)).filter((s) => s.Spec.Labels?.['keyless.service'] === name);
    assert.equal(left.length, 0, 'no keyless secret left after remove');
    const spec = (await inspectService(client, name)).Spec;
    assert.ok(!Object.keys(spec.Labels ?? {}).some((k) => k.startsWith('keyless.')), 'no keyless label left');
    assert.ok(
      !(spec.TaskTemplate.ContainerSpec.Env ?? []).some((e) => e.startsWith('AWS_SHARED_CREDENTIALS_FILE=')),
    );
    assert.equal(spec.UpdateConfig?.Order, 'stop-first', 'update order restored');
  },
);
