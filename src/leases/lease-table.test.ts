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
