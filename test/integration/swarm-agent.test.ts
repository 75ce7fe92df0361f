// `keyless swarm agent` on a real one-node swarm: a two-replica service on an overlay network, attached
// with a role, gets it through the agent (awscli v1 and boto3 call moto with signature checks on);
// with 40-second sessions the same task containers keep working across refreshes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  requireDocker,
  lockDockerBridge,
  ensureHostbaseImage,
  ensureBusyboxImage,
  hostPythonPrefix,
  docker,
  blackholeBridgeAddress,
} from '../helpers/docker.js';
import { createTestService, ensureSwarm, startLocalRegistry } from '../helpers/swarm.js';
import { startMoto } from '../helpers/moto.js';
import { assumeRoleSource } from '../helpers/sources.js';
import { dockerClientFromEnv } from '../../src/docker/engine/index.js';
import { listTasks, inspectService } from '../../src/docker/engine/swarm.js';
import { loadEnv } from '../../src/config/env.js';
import { ensureLinkLocalAddress } from '../../src/docker/swarm/link-local-address.js';
import { startSwarmAgent } from '../../src/docker/swarm/agent.js';
import { attachService, detachService } from '../../src/docker/swarm/attach.js';
import { startAgentStatusSocket } from '../../src/docker/swarm/agent-status.js';
import { keylessPaths } from '../../src/config/paths.js';
import type { StatusReport } from '../../src/server/status-types.js';
import { makeTestEnv } from '../helpers/env.js';
import { runKeyless } from '../helpers/cli.js';
import { validateStatus } from '../helpers/report-schemas.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test(
  'swarm agent: attached tasks on an overlay get the role, keep working across refreshes, others are refused, detach cleans up',
  { timeout: 600_000 },
  async (t) => {
    if (!(await requireDocker(t))) return;
    await lockDockerBridge(t);
    await blackholeBridgeAddress(t);
    await ensureSwarm(t);
    const removeAddress = await ensureLinkLocalAddress('169.254.170.2');
    t.after(removeAddress);
    const registry = await startLocalRegistry(t);
    const image = await registry.push(await ensureHostbaseImage());
    const moto = await startMoto(t, { host: '169.254.170.2', roles: ['agent-app'] });
    const roleArn = moto.identity.roles['agent-app'] as string;
    const client = dockerClientFromEnv(loadEnv(process.env));
    const agentLog: string[] = [];
    const agent = await startSwarmAgent({
      client,
      sessionDurationSeconds: 40,
      refreshBeforeSeconds: 20,
      sourceFor: (key, duration) => assumeRoleSource(moto, key.roleArn ?? '', duration),
      log: (l) => agentLog.push(l),
    });
    t.after(() => agent.close());
    // its status socket, as `keyless swarm agent` starts it, for keyless status
    const te = await makeTestEnv(t);
    const statusSocket = await startAgentStatusSocket(keylessPaths(te.keylessHome).swarmAgentSocket, () => ({
      pid: process.pid,
      listen: agent.address,
      startedAt: new Date().toISOString(),
      tasks: agent.tasks(),
    }));
    t.after(() => statusSocket.close());

    const net = `ks-overlay-${randomBytes(3).toString('hex')}`;
    await docker(['network', 'create', '-d', 'overlay', net]);
    t.after(async () => {
      await sleep(2000);
      await docker(['network', 'rm', net]).catch(() => undefined);
    });
    const py = await hostPythonPrefix();
    const name = `ks-agent-${randomBytes(3).toString('hex')}`;
    const loop =
      'while true; do ' +
      `${py}/bin/python3 -m awscli sts get-caller-identity --query Arn --output text 2>&1 | sed "s/^/$TASK cli /"; ` +
      `${py}/bin/python3 -c "import boto3;print(boto3.client('sts').get_caller_identity()['Arn'])" 2>&1 | tail -1 | sed "s/^/$TASK boto3 /"; ` +
      'sleep 3; done';
    await createTestService(t, {
      name,
      image,
      network: net,
      motoUrl: moto.url,
      py,
      task: '{{.Task.ID}}',
      script: loop,
    });

    await attachService(client, name, { roleArn, region: 'us-east-1' });
    const serviceId = (await inspectService(client, name)).ID;
    // wait for the two attached tasks
    let taskIds: string[] = [];
    for (let i = 0; i < 120; i++) {
      const tasks = (await listTasks(client, serviceId)).filter(
        (x) =>
          x.Status.State === 'running' &&
          (x.Spec.ContainerSpec.Env ?? []).some((e) =>
            e.startsWith('AWS_CONTAINER_CREDENTIALS_RELATIVE_URI='),
          ),
      );
      taskIds = tasks.map((x) => x.ID);
      if (taskIds.length === 2) break;
      await sleep(500);
    }
    assert.equal(taskIds.length, 2, 'two attached tasks running');
    const containersBefore = (await listTasks(client, serviceId))
      .filter((x) => taskIds.includes(x.ID))
      .map((x) => x.Status.ContainerStatus?.ContainerID);

    // Over 75 s, 40-second sessions are refreshed 20 s before expiry: at least three sessions per task.
    await sleep(75_000);
    const served = agent.served();
    for (const id of taskIds) {
      const keys = served.get(id) ?? [];
      assert.ok(
        keys.length >= 3,
        `task ${id} was served ${keys.length} sessions: ${keys.join(', ')}\n${agentLog.slice(-20).join('\n')}`,
      );
    }
    const containersAfter = (await listTasks(client, serviceId))
      .filter((x) => taskIds.includes(x.ID))
      .map((x) => x.Status.ContainerStatus?.ContainerID);
    assert.deepEqual(containersAfter, containersBefore, 'the same task containers throughout');
    const { stdout: logs } = await docker(['service', 'logs', '--raw', name]);
    for (const id of taskIds) {
      for (const client of ['cli', 'boto3']) {
        const lines = logs.split('\n').filter((l) => l.startsWith(`${id} ${client} `));
        assert.ok(lines.length >= 5, `${client} in ${id} ran ${lines.length} times`);
        const recent = lines.slice(-3);
        for (const l of recent)
          assert.match(
            l,
            /assumed-role\/agent-app\//,
            `${client} in ${id} still works after refreshes: ${l}`,
          );
      }
    }

    // Nothing secret in the service or its containers.
    const { stdout: svcInspect } = await docker(['service', 'inspect', name]);
    const { stdout: ctrInspect } = await docker(['inspect', ...(containersAfter as string[])]);
    for (const text of [svcInspect, ctrInspect]) {
      assert.ok(!text.includes(moto.identity.secretAccessKey));
      assert.ok(!text.includes(moto.identity.accessKeyId));
      assert.ok(!/aws_session_token|AWS_SESSION_TOKEN|AWS_SECRET_ACCESS_KEY/.test(text));
    }

    // keyless status shows both tasks with their role and request counts, and no secret
    const st = await runKeyless(['status', '--json'], { env: te.vars });
    assert.equal(st.code, 0, st.stderr);
    const report = JSON.parse(st.stdout) as StatusReport;
    const valid = validateStatus(report);
    assert.ok(valid.valid, valid.errors.join('\n'));
    assert.equal(report.server, undefined, 'no credential server runs for this KEYLESS_HOME');
    for (const id of taskIds) {
      const task = report.swarm?.tasks.find((x) => x.task === id);
      assert.equal(task?.service, name);
      assert.equal(task?.role, roleArn);
      assert.ok((task?.requests ?? 0) >= 10, `task ${id}: ${task?.requests} requests`);
      assert.match(task?.accessKeyId ?? '', /^ASIA…\w{4}$/);
    }
    assert.ok(!st.stdout.includes(moto.identity.secretAccessKey));
    const text = await runKeyless(['status'], { env: te.vars });
    assert.match(text.stdout, new RegExp(`${(taskIds[0] ?? '').slice(0, 12)} +${name} `));

    // A container that is not a task of the service, presenting its URI, is refused.
    const uri = (await inspectService(client, name)).Spec.TaskTemplate.ContainerSpec.Env?.find((e) =>
      e.startsWith('AWS_CONTAINER_CREDENTIALS_RELATIVE_URI='),
    )?.split('=')[1];
    assert.ok(uri);
    const bb = await ensureBusyboxImage();
    const probe = await docker([
      'run',
      '--rm',
      '--pull',
      'never',
      bb,
      'sh',
      '-c',
      `wget -q -O- http://169.254.170.2${uri} 2>&1; echo rc=$?`,
    ]);
    assert.match(probe.stdout, /403|Forbidden/);
    assert.doesNotMatch(probe.stdout, /SecretAccessKey/);

    assert.equal(await detachService(client, name), true);
    const spec = (await inspectService(client, name)).Spec;
    assert.ok(!Object.keys(spec.Labels ?? {}).some((k) => k.startsWith('keyless.')), 'no keyless label left');
    assert.ok(
      !(spec.TaskTemplate.ContainerSpec.Env ?? []).some((e) =>
        e.startsWith('AWS_CONTAINER_CREDENTIALS_RELATIVE_URI='),
      ),
      'no URI left',
    );
  },
);
