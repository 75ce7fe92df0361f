import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusHub } from './status-hub.js';
import type { StatusEvent, StatusSnapshot } from './status-types.js';

function snapshotOf(clients: number, uptime = 0): StatusSnapshot {
  return {
    version: 1,
    generatedAt: new Date(uptime * 1000).toISOString(),
    server: {
      pid: 1,
      mode: 'host',
      listen: [],
      startedAt: new Date(0).toISOString(),
      uptimeSeconds: uptime,
      imds: false,
    },
    leases: [],
    clients: Array.from({ length: clients }, (_, i) => ({
      tag: String(i).padStart(12, '0'),
      kind: 'registered' as const,
      state: 'bound' as const,
      role: 'r',
      requests: 0,
      refused: 0,
    })),
  };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(StatusHub.name, () => {
  test('a subscriber gets the snapshot at once, then one event per burst of changes', async () => {
    let clients = 0;
    let built = 0;
    const hub = new StatusHub({
      snapshot: () => (built++, snapshotOf(clients)),
      debounceMs: 10,
      intervalMs: 60_000,
    });
    const events: StatusEvent[] = [];
    const off = hub.subscribe((e) => events.push(e));
    assert.equal(events.length, 1);
    clients = 1;
    for (let i = 0; i < 100; i++) hub.changed();
    await wait(40);
    assert.equal(events.length, 2);
    assert.equal(events[1]?.type === 'snapshot' && events[1].snapshot.clients.length, 1);
    assert.equal(built, 2, 'one snapshot built for 100 changes');
    off();
  });

  test('sends nothing when only the uptime moved', async () => {
    let uptime = 0;
    const hub = new StatusHub({ snapshot: () => snapshotOf(0, uptime), debounceMs: 5, intervalMs: 10 });
    const events: StatusEvent[] = [];
    const off = hub.subscribe((e) => events.push(e));
    uptime = 5;
    hub.changed();
    await wait(50);
    assert.equal(events.length, 1);
    off();
  });

  test('with no subscriber builds no snapshot, but keeps recent audit lines for the next one', async () => {
    let built = 0;
    const hub = new StatusHub({
      snapshot: () => (built++, snapshotOf(0)),
      debounceMs: 1,
      intervalMs: 5,
      auditKeep: 2,
    });
    hub.changed();
    hub.audit([
      { time: 'a', outcome: 'ok' },
      { time: 'b', outcome: 'ok' },
      { time: 'c', outcome: 'unknown-client' },
    ]);
    await wait(30);
    assert.equal(built, 0);
    const events: StatusEvent[] = [];
    const off = hub.subscribe((e) => events.push(e));
    assert.deepEqual(events[1], {
      type: 'audit',
      records: [
        { time: 'b', outcome: 'ok' },
        { time: 'c', outcome: 'unknown-client' },
      ],
    });
    off();
    assert.equal(hub.subscriberCount, 0);
  });

  test('stopping tells every subscriber and forgets them', () => {
    const hub = new StatusHub({ snapshot: () => snapshotOf(0) });
    const seen: string[] = [];
    hub.subscribe((e) => seen.push(e.type));
    hub.stopping();
    assert.deepEqual(seen, ['snapshot', 'stopping']);
    assert.equal(hub.subscriberCount, 0);
  });
});
