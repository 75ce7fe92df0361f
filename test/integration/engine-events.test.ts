// Following Docker events across a lost stream, against the real engine. A dockerd restart would
// disturb every other test on this machine, so the loss is made by a byte-forwarding unix-socket proxy
// in front of the real engine's socket that the test cuts (closing every connection and refusing new
// ones for a while) and restores: the engine, its events and its containers are real.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { requireDocker, ensureBusyboxImage, docker } from '../helpers/docker.js';
import { tempDir } from '../helpers/tmp.js';
import { DockerClient, DEFAULT_DOCKER_SOCKET } from '../../src/docker/engine/client.js';
import { followEngineEvents } from '../../src/docker/engine/events.js';
import { containerAddressResolver, watchContainerExits } from '../../src/docker/container-clients.js';
import { LeaseTable } from '../../src/leases/lease-table.js';
import { CLIENT_LABEL } from '../../src/docker/run-plan.js';

interface CuttableProxy {
  client: DockerClient;
  cut(): void;
  restore(): void;
  /** accept connections but never answer (a hung engine) until restore() */
  hang(): void;
}

async function engineProxy(t: TestContext): Promise<CuttableProxy> {
  const dir = await tempDir(t, 'keyless-engine-proxy-');
  const path = join(dir, 'docker.sock');
  let open = true;
  let hanging = false;
  const live = new Set<Socket>();
  const server = createServer((down) => {
    if (hanging) {
      live.add(down);
      down.on('error', () => undefined);
      return; // held open, never answered
    }
    if (!open) return down.destroy();
    const up = createConnection(DEFAULT_DOCKER_SOCKET);
    live.add(down).add(up);
    const drop = (): void => {
      down.destroy();
      up.destroy();
      live.delete(down);
      live.delete(up);
    };
    down.on('error', drop).on('close', drop);
    up.on('error', drop).on('close', drop);
    down.pipe(up).pipe(down);
  });
  await new Promise<void>((r) => server.listen(path, r));
  t.after(() => {
    for (const s of live) s.destroy();
    server.close();
  });
  return {
    client: new DockerClient({ description: `unix://${path}`, socketPath: path }),
    cut: () => {
      open = false;
      for (const s of live) s.destroy();
    },
    restore: () => {
      open = true;
      hanging = false;
    },
    hang: () => {
      hanging = true;
      for (const s of live) s.destroy();
    },
  };
}

async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function labelledContainer(t: TestContext, labels: string[]): Promise<string> {
  const image = await ensureBusyboxImage();
  const name = `ks-events-${randomBytes(3).toString('hex')}`;
  const args = ['run', '-d', '--pull', 'never', '--network', 'none', '--name', name];
  for (const l of labels) args.push('--label', l);
  const { stdout } = await docker([...args, image, 'sleep', '600']);
  t.after(async () => void (await docker(['rm', '-f', name]).catch(() => undefined)));
  return stdout.trim();
}

/** Follows the deaths of containers with a fresh test label through the proxy (quick retries). */
async function followDeaths(t: TestContext, proxy: CuttableProxy, extra: { answerTimeoutMs?: number } = {}) {
  const tag = `keyless.test-events=${randomBytes(4).toString('hex')}`;
  const connects: boolean[] = [];
  const died: string[] = [];
  const lines: string[] = [];
  const follower = await followEngineEvents(proxy.client, {
    filters: { type: ['container'], event: ['die'], label: [tag] },
    onEvent: (ev) => died.push(ev.Actor?.ID ?? ''),
    onConnect: (again) => void connects.push(again),
    log: (l) => lines.push(l),
    minDelayMs: 100,
    maxDelayMs: 400,
    ...extra,
  });
  t.after(() => follower.stop());
  return { tag, connects, died, lines, follower };
}

test('events: a lost stream is followed again, onConnect says so, and events after it arrive', async (t) => {
  if (!(await requireDocker(t))) return;
  const proxy = await engineProxy(t);
  const { tag, connects, died, lines, follower } = await followDeaths(t, proxy);
  assert.deepEqual(connects, [false]);
  assert.equal(follower.connected(), true);

  proxy.cut();
  await until('the loss to be noticed', () => !follower.connected());
  await new Promise((r) => setTimeout(r, 1_000)); // several refused attempts meanwhile
  proxy.restore();
  await until('the stream to be followed again', () => follower.connected() && connects.length === 2);
  assert.deepEqual(connects, [false, true]);
  assert.ok(
    lines.some((l) => /following them again/.test(l)),
    lines.join('\n'),
  );
  assert.ok(lines.length <= 3, `the outage is logged briefly, not per attempt: ${lines.join(' | ')}`);

  const id = await labelledContainer(t, [tag]);
  await docker(['kill', id]);
  await until('the die event after the reconnection', () => died.includes(id));
});

test('exits: a container that dies while events are lost is revoked when they come back; IMDS asks the engine meanwhile', async (t) => {
  if (!(await requireDocker(t))) return;
  const proxy = await engineProxy(t);
  const table = new LeaseTable(() => async () => {
    throw new Error('no credentials in this test');
  });
  const { id: idA, record: a } = table.register({ roleArn: 'arn:aws:iam::000000000000:role/a' });
  const { id: idB, record: b } = table.register({ roleArn: 'arn:aws:iam::000000000000:role/b' });
  const cA = await labelledContainer(t, [`${CLIENT_LABEL}=${a.idHash}`]);
  const cB = await labelledContainer(t, [`${CLIENT_LABEL}=${b.idHash}`]);
  table.bind(idA, '10.99.0.5', cA.slice(0, 12));
  table.bind(idB, 'none', cB.slice(0, 12));
  const log: string[] = [];
  const watch = await watchContainerExits(proxy.client, table, (l) => log.push(l));
  t.after(() => watch.stop());

  proxy.cut();
  await until('the loss to be noticed', () => !watch.connected());
  await docker(['kill', cA]);
  proxy.restore();
  const live = (hash: string): boolean => table.clientRecords().some((r) => r.idHash === hash);
  await until('A dropped after the reconnection', () => !live(a.idHash));
  assert.equal(live(b.idHash), true, 'B still runs: kept');
  assert.equal(table.isRevoked(a.idHash), false, 'dropped, not revoked for good: it may run again');
  assert.ok(
    log.some((l) => l.includes(cA.slice(0, 12)) && /not followed/.test(l)),
    log.join('\n'),
  );

  // IMDS knows a container by its address. While events are followed, a client bound to the address
  // answers from the table; while they are not, the engine is asked, and a client whose address no
  // running keyless container holds any more is dropped, not served.
  table.bind(idB, '10.99.0.6', cB.slice(0, 12));
  let followed = true;
  const asked: string[] = [];
  const resolve = containerAddressResolver(
    proxy.client,
    table,
    `ks-none-${randomBytes(3).toString('hex')}`,
    async (hash) => {
      asked.push(hash);
      return undefined;
    },
    () => followed,
  );
  assert.equal((await resolve('10.99.0.6'))?.idHash, b.idHash, 'from the table while events are followed');
  followed = false;
  assert.equal(await resolve('10.99.0.6'), undefined, 'not trusted while events are lost');
  assert.equal(live(b.idHash), false, 'and dropped: no running keyless container has that address');
  assert.deepEqual(asked, []);
});

test('events: an engine that accepts but never answers (stand-in: a proxy that holds the connection) is given up on and followed again once it answers', async (t) => {
  if (!(await requireDocker(t))) return;
  const proxy = await engineProxy(t);
  const { tag, connects, died, follower } = await followDeaths(t, proxy, { answerTimeoutMs: 1_000 });
  proxy.hang();
  await until('the loss to be noticed', () => !follower.connected());
  // the reconnection is accepted and held: without the answer timeout it would wait for ever
  await new Promise((r) => setTimeout(r, 2_500));
  assert.equal(follower.connected(), false);
  proxy.restore();
  await until('the stream to be followed again', () => follower.connected() && connects.length === 2, 10_000);
  const id = await labelledContainer(t, [tag]);
  await docker(['kill', id]);
  await until('the die event after the reconnection', () => died.includes(id));
});
