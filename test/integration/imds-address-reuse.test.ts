// IMDS knows a container by its address, and a stopped container's address can be handed to the next
// one. With a real engine and real containers on a test network: container A (role a) is known to the
// server at address X; A is removed while the server has not yet seen its stop (no event watcher
// runs here: the moment between the engine's die event and the server processing it, held open);
// container B (role b) starts at the same address X. B's IMDSv2 requests must get role b: its token
// names the container it was issued to, asked of the engine, so the table's stale entry for A is not
// used. (STS is not involved: the role name IMDS lists is enough to tell which client answered.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  requireDocker,
  ensureHostbaseImage,
  hostMounts,
  hostPythonPrefix,
  docker,
} from '../helpers/docker.js';
import { DockerClient, DEFAULT_DOCKER_SOCKET } from '../../src/docker/engine/client.js';
import { containerAddressResolver, containerClientResolver } from '../../src/docker/container-clients.js';
import { LeaseTable } from '../../src/leases/lease-table.js';
import { CLIENT_LABEL, ROLE_ARN_LABEL } from '../../src/docker/run-plan.js';
import { startServer } from '../../src/server/index.js';

const ROLE_A = 'arn:aws:iam::000000000000:role/role-a';
const ROLE_B = 'arn:aws:iam::000000000000:role/role-b';

test(
  "IMDS: a container that takes over a stopped one's address gets its own role, never the old one's",
  { timeout: 180_000 },
  async (t) => {
    if (!(await requireDocker(t))) return;
    const client = new DockerClient({ description: 'unix', socketPath: DEFAULT_DOCKER_SOCKET });
    const net = `ks-reuse-${randomBytes(3).toString('hex')}`;
    const octet = 100 + ((randomBytes(1)[0] as number) % 100);
    const subnet = `10.231.${octet}.0/24`;
    const gateway = `10.231.${octet}.1`;
    const shared = `10.231.${octet}.77`;
    await docker(['network', 'create', '--internal', '--subnet', subnet, '--gateway', gateway, net]);
    // after hooks run in the order they were added: the containers on the network go first, or the
    // network cannot be removed (it was left behind at every run)
    t.after(async () => {
      const on = (
        await docker(['ps', '-aq', '--filter', `network=${net}`]).catch(() => ({ stdout: '' }))
      ).stdout
        .split('\n')
        .filter(Boolean);
      if (on.length) await docker(['rm', '-f', ...on]).catch(() => undefined);
      await docker(['network', 'rm', net]).catch(() => undefined);
    });
    const table = new LeaseTable(() => async () => {
      throw new Error('no STS in this test');
    });
    const server = await startServer([{ host: gateway, port: 0 }], {
      table,
      imds: {
        key: { roleArn: ROLE_A },
        roleName: 'host-role',
        region: 'us-east-1',
        allowV1: false,
        hopLimit: 2,
      },
      isContainerAddress: (a) => a.startsWith(`10.231.${octet}.`),
      resolveImdsClient: containerAddressResolver(
        client,
        table,
        net,
        containerClientResolver(client, table, net),
      ),
    });
    t.after(() => server.close());
    const port = (server.addresses[0] as { port: number }).port;
    const image = await ensureHostbaseImage();
    const py = await hostPythonPrefix();
    const mounts = await hostMounts();
    const probe = `import urllib.request as u
b='http://${gateway}:${port}'
t=u.urlopen(u.Request(b+'/latest/api/token',method='PUT',headers={'X-aws-ec2-metadata-token-ttl-seconds':'60'}),timeout=5).read().decode()
print(u.urlopen(u.Request(b+'/latest/meta-data/iam/security-credentials/',headers={'X-aws-ec2-metadata-token':t}),timeout=5).read().decode())`;
    const start = async (name: string, role: string): Promise<void> => {
      const hash = randomBytes(32).toString('hex');
      await docker([
        'run',
        '-d',
        '--pull',
        'never',
        '--name',
        name,
        '--network',
        net,
        '--ip',
        shared,
        '--label',
        `${CLIENT_LABEL}=${hash}`,
        '--label',
        `${ROLE_ARN_LABEL}=${role}`,
        ...mounts,
        image,
        '/bin/sleep',
        '300',
      ]);
      t.after(async () => void (await docker(['rm', '-f', name]).catch(() => undefined)));
    };
    const ask = async (name: string): Promise<string> =>
      (await docker(['exec', name, `${py}/bin/python3`, '-c', probe])).stdout.trim();

    const a = `ks-reuse-a-${randomBytes(3).toString('hex')}`;
    await start(a, ROLE_A);
    assert.equal(await ask(a), 'role-a');
    assert.ok(
      table.clientRecords().some((r) => r.boundAddress === shared),
      'A is known by its address',
    );
    await docker(['rm', '-f', a]); // the server does not hear of it (no watcher): its entry for A stays

    const b = `ks-reuse-b-${randomBytes(3).toString('hex')}`;
    await start(b, ROLE_B);
    assert.equal(await ask(b), 'role-b', "B at A's old address gets its own role");
    assert.deepEqual(
      table.clientRecords().map((r) => r.key.roleArn),
      [ROLE_B],
      "A's stale entry was dropped when the engine named B",
    );
  },
);
