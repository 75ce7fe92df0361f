// The status snapshot from a real lease table with a stand-in source (no STS), and the schema it must
// match (docs/schemas/status.v1.schema.json), for a snapshot that uses every optional field.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaseTable } from '../leases/lease-table.js';
import type { Credentials } from '../sources/types.js';
import { fixedClock } from '../util/clock.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../../test/helpers/keys.js';
import { validateStatus } from '../../test/helpers/report-schemas.js';
import { ClientActivity } from './client-activity.js';
import { buildStatusSnapshot, redactKeyIds, type ServerFacts } from './status-snapshot.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const ROLE = 'arn:aws:iam::123456789012:role/app';
const server: ServerFacts = {
  pid: 4242,
  mode: 'container',
  listen: ['127.0.0.1:9911'],
  startedAt: T0 - 90_000,
  imds: true,
  network: 'keyless',
  endpoint: { container: 'keyless-endpoint', channel: 'unix', connected: true },
};

function setup(fail = false) {
  const clock = fixedClock(T0);
  const id = fakeAccessKeyId('ASIA');
  const secret = fakeSecretAccessKey();
  const table = new LeaseTable(
    () => async (): Promise<Credentials> => {
      if (fail) throw new Error(`The security token ${id} is invalid`);
      return {
        accessKeyId: id,
        secretAccessKey: secret,
        sessionToken: 'token-token-token',
        expiration: new Date(clock.now() + 3600_000),
        roleArn: ROLE,
      };
    },
    { clock },
  );
  const activity = new ClientActivity();
  const snapshot = () =>
    buildStatusSnapshot({
      now: clock.now(),
      server,
      table,
      activity: (tag) => activity.get(tag),
      defaultKey: { profile: 'dev' },
    });
  return { clock, table, activity, snapshot, id, secret };
}

describe(buildStatusSnapshot.name, () => {
  test('shows each lease and client with role, expiry, activity and state, and never a secret', async () => {
    const s = setup();
    const { record } = s.table.register(
      { profile: 'app' },
      {
        boundAddress: '169.254.170.5',
        containerId: 'abcdef012345',
        containerName: 'web',
        image: 'local/app:1',
      },
    );
    const gone = s.table.register({ profile: 'app' }, { containerId: '0123456789ab', label: 'worker' });
    await s.table.lease({ profile: 'app' }).get();
    await s.table.lease({ profile: 'dev' }).get();
    const tag = record.idHash.slice(0, 12);
    s.activity.apply([
      {
        time: new Date(T0 - 5000).toISOString(),
        until: new Date(T0 - 1000).toISOString(),
        client: tag,
        source: '169.254.170.5',
        outcome: 'ok',
        count: 7,
      },
      { time: new Date(T0 - 500).toISOString(), client: 'full-uri', source: '127.0.0.1', outcome: 'ok' },
    ]);
    assert.equal(s.table.revokeHash(gone.record.idHash, 'container die'), true);
    const snap = s.snapshot();

    const v = validateStatus(snap);
    assert.ok(v.valid, v.errors.join('\n'));
    assert.equal(snap.server.uptimeSeconds, 90);
    const lease = snap.leases.find((l) => l.profile === 'app');
    assert.equal(lease?.role, ROLE, 'the session role, from the profile');
    assert.equal(lease?.accessKeyId, `${s.id.slice(0, 4)}…${s.id.slice(-4)}`);
    assert.equal(lease?.expiresAt, new Date(T0 + 3600_000).toISOString());
    assert.equal(lease?.clients, 1);
    assert.ok(Date.parse(lease?.nextRefreshAt ?? '') < T0 + 3600_000);
    const web = snap.clients.find((c) => c.tag === tag);
    assert.deepEqual(
      { ...web, registeredAt: undefined },
      {
        tag,
        kind: 'container',
        state: 'bound',
        container: { id: 'abcdef012345', name: 'web', image: 'local/app:1' },
        address: '169.254.170.5',
        role: ROLE,
        profile: 'app',
        roleArn: ROLE,
        leaseId: lease?.id,
        expiresAt: new Date(T0 + 3600_000).toISOString(),
        registeredAt: undefined,
        firstRequestAt: new Date(T0 - 5000).toISOString(),
        lastRequestAt: new Date(T0 - 1000).toISOString(),
        requests: 7,
        refused: 0,
      },
    );
    const revoked = snap.clients.find((c) => c.tag === gone.record.idHash.slice(0, 12));
    assert.equal(revoked?.state, 'revoked');
    assert.equal(revoked?.revokedReason, 'container die');
    assert.equal(revoked?.expiresAt, undefined);
    assert.equal(snap.clients.find((c) => c.tag === 'full-uri')?.requests, 1);
    const text = JSON.stringify(snap);
    for (const secret of [s.secret, s.id, 'token-token-token']) assert.ok(!text.includes(secret));
  });

  test('redacts key ids in the last STS error and shows the retry time', async () => {
    const s = setup(true);
    await s.table
      .lease({ profile: 'dev' })
      .get()
      .catch(() => undefined);
    const snap = s.snapshot();
    const lease = snap.leases[0];
    assert.match(lease?.lastError ?? '', /The security token ASIA…\w{4} is invalid/);
    assert.ok(!JSON.stringify(snap).includes(s.id));
    assert.ok(lease?.retryAt);
    const v = validateStatus(snap);
    assert.ok(v.valid, v.errors.join('\n'));
  });

  test('the schema is not permissive: an unknown field or a full key id is refused', async () => {
    const s = setup();
    await s.table.lease({ profile: 'dev' }).get();
    const snap = s.snapshot();
    assert.equal(validateStatus({ ...snap, extra: 1 }).valid, false);
    const leaked = { ...snap, leases: [{ ...snap.leases[0], accessKeyId: s.id }] };
    assert.equal(validateStatus(leaked).valid, false);
  });

  test('redactKeyIds shortens every access key id in a text', () => {
    const a = fakeAccessKeyId('AKIA');
    assert.equal(redactKeyIds(`key ${a} refused`), `key ${a.slice(0, 4)}…${a.slice(-4)} refused`);
  });
});

describe('status report with a Swarm agent', () => {
  const agent = {
    pid: 99,
    listen: '169.254.170.2:80',
    startedAt: '2026-01-01T00:00:00.000Z',
    tasks: [
      {
        task: 'k3x9c0task000000000000000',
        service: 'web',
        address: '10.0.1.7',
        role: 'arn:aws:iam::123456789012:role/web',
        accessKeyId: 'ASIA…WXYZ',
        expiresAt: '2026-01-01T01:00:00.000Z',
        firstRequestAt: '2026-01-01T00:00:05.000Z',
        lastRequestAt: '2026-01-01T00:00:09.000Z',
        requests: 3,
        refused: 1,
      },
    ],
  };

  test('the schema takes the agent alone, or beside the server, but not a half server', async () => {
    const s = setup();
    const alone = { version: 1, generatedAt: '2026-01-01T00:01:00.000Z', swarm: agent };
    assert.ok(validateStatus(alone).valid, validateStatus(alone).errors.join('\n'));
    const both = { ...s.snapshot(), swarm: agent };
    assert.ok(validateStatus(both).valid, validateStatus(both).errors.join('\n'));
    assert.equal(validateStatus({ version: 1, generatedAt: '2026-01-01T00:01:00.000Z' }).valid, false);
    assert.equal(validateStatus({ ...alone, leases: [] }).valid, false);
    const leaked = {
      ...alone,
      swarm: { ...agent, tasks: [{ ...agent.tasks[0], accessKeyId: fakeAccessKeyId('ASIA') }] },
    };
    assert.equal(validateStatus(leaked).valid, false);
  });
});
