import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaseTable } from './lease-table.js';
import { fakeAccessKeyId } from '../../test/helpers/keys.js';

const table = () =>
  new LeaseTable(() => async () => ({
    accessKeyId: fakeAccessKeyId('ASIA'),
    secretAccessKey: 's',
    expiration: new Date(Date.now() + 3600_000),
  }));

describe(LeaseTable.name, () => {
  test('revokes a client by its 12-digit tag and remembers it as revoked, with the reason', () => {
    const t = table();
    const { id, record } = t.register({ profile: 'a' }, { containerId: 'c1' });
    assert.equal(t.revokeTag(record.idHash.slice(0, 12)), true);
    assert.equal(t.client(id), undefined);
    assert.equal(t.isRevoked(record.idHash), true);
    assert.equal(t.revokedClients()[0]?.reason, 'revoked');
    assert.equal(t.revokeTag(record.idHash.slice(0, 12)), false, 'only live clients');
  });

  test('refuses a tag that is too short, not hex, or matches no client', () => {
    const t = table();
    t.register({ profile: 'a' });
    for (const tag of ['', 'abc', 'zzzzzzzzzzzz', '000000000000']) assert.equal(t.revokeTag(tag), false, tag);
    assert.equal(t.size(), 1);
  });

  test('tells listeners of registrations, bindings, revocations and refreshes', async () => {
    const t = table();
    let changes = 0;
    t.onChange(() => changes++);
    const { id } = t.register({ profile: 'a' });
    t.bind(id, '10.0.0.2');
    await t.lease({ profile: 'a' }).get();
    t.revoke(id);
    // register, bind, new lease, its refresh, revoke
    assert.equal(changes, 5);
  });
});

function live<T>(x: T | undefined): T {
  assert.ok(x, 'registered');
  return x;
}

test('a client dropped when its container stopped comes back when it runs again; a revoked one never does', () => {
  const table = new LeaseTable(() => async () => {
    throw new Error('unused');
  });
  const dropped = live(table.registerHash('a'.repeat(64), { profile: 'p' }, { boundAddress: '10.0.0.2' }));
  const revoked = live(table.registerHash('b'.repeat(64), { profile: 'p' }, { boundAddress: '10.0.0.3' }));
  assert.equal(table.dropHash(dropped.idHash, 'container die'), true);
  assert.equal(table.revokeHash(revoked.idHash), true);
  assert.equal(table.isRevoked(dropped.idHash), false, 'a resolver may bring it back');
  assert.equal(table.isRevoked(revoked.idHash), true, 'refused for good');
  assert.deepEqual(
    table.revokedClients().map((r) => [r.reason, r.sticky]),
    [
      ['container die', false],
      ['revoked', true],
    ],
  );
  live(table.registerHash(dropped.idHash, { profile: 'p' }, { boundAddress: '10.0.0.4' }));
  assert.deepEqual(
    table.revokedClients().map((r) => r.idHash),
    [revoked.idHash],
    'live again: no longer listed as revoked',
  );
});

test('allowAddress: one more address for a client (replicas), kept once', () => {
  const table = new LeaseTable(() => async () => {
    throw new Error('unused');
  });
  const c = live(table.registerHash('c'.repeat(64), { profile: 'p' }, { boundAddress: '10.0.0.2' }));
  table.allowAddress(c.idHash, '10.0.0.5');
  table.allowAddress(c.idHash, '10.0.0.5');
  table.allowAddress(c.idHash, '10.0.0.2');
  assert.deepEqual(table.clientRecords()[0]?.alsoAt, ['10.0.0.5']);
});

test('a client revoked for good is never registered again, not even by a lookup that started before', () => {
  const table = new LeaseTable(() => async () => {
    throw new Error('unused');
  });
  const c = live(table.registerHash('d'.repeat(64), { profile: 'p' }, { boundAddress: '10.0.0.2' }));
  assert.equal(table.revokeHash(c.idHash), true);
  assert.equal(table.registerHash(c.idHash, { profile: 'p' }, { boundAddress: '10.0.0.2' }), undefined);
  assert.equal(table.clientRecords().length, 0);
});

test('container stops never push a revocation out of memory; a stopped container can still be revoked', () => {
  const table = new LeaseTable(() => async () => {
    throw new Error('unused');
  });
  const kept = live(table.registerHash('e'.repeat(64), { profile: 'p' }));
  table.revokeHash(kept.idHash);
  for (let i = 0; i < 1500; i++) {
    const h = i.toString(16).padStart(64, '0');
    live(table.registerHash(h, { profile: 'p' }));
    table.dropHash(h, 'container die');
  }
  assert.equal(table.isRevoked(kept.idHash), true, 'still revoked after 1,500 container stops');
  const stopped = live(table.registerHash('f'.repeat(64), { profile: 'p' }));
  table.dropHash(stopped.idHash, 'container die');
  assert.equal(table.revokeTag(stopped.idHash.slice(0, 12)), true, 'revoked while its container is stopped');
  assert.equal(
    table.registerHash(stopped.idHash, { profile: 'p' }),
    undefined,
    'and not served when it restarts',
  );
});
