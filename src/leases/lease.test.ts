import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Lease } from './lease.js';
import { fixedClock } from '../util/clock.js';
import type { Credentials } from '../sources/types.js';

const HOUR = 3600_000;

function counting(clock: { now(): number }, lifetimeMs = HOUR) {
  let calls = 0;
  let fail = false;
  const source = async (): Promise<Credentials> => {
    calls++;
    await new Promise((r) => setTimeout(r, 5));
    if (fail) throw new Error('STS unreachable');
    return {
      accessKeyId: `ASIA${calls}`,
      secretAccessKey: 's',
      sessionToken: 't',
      expiration: new Date(clock.now() + lifetimeMs),
    };
  };
  return { source, calls: () => calls, setFail: (f: boolean) => (fail = f) };
}

describe('Lease', () => {
  test('makes one call for 100 concurrent requests on a cold entry', async () => {
    const clock = fixedClock(0);
    const s = counting(clock);
    const lease = new Lease({ source: s.source, clock });
    const all = await Promise.all(Array.from({ length: 100 }, () => lease.get()));
    assert.equal(s.calls(), 1);
    assert.ok(all.every((c) => c === all[0]));
  });

  test('refreshes before fewer than 30 minutes are left', async () => {
    const clock = fixedClock(0);
    const s = counting(clock);
    const lease = new Lease({ source: s.source, clock });
    await lease.get();
    clock.advance(29 * 60_000);
    assert.equal((await lease.get()).accessKeyId, 'ASIA1', 'still 31 minutes left');
    clock.advance(2 * 60_000);
    const c = await lease.get();
    assert.equal(c.accessKeyId, 'ASIA2');
    assert.ok((c.expiration?.getTime() ?? 0) - clock.now() >= 30 * 60_000);
  });

  test('short sessions refresh at half their life', async () => {
    const clock = fixedClock(0);
    const s = counting(clock, 40_000);
    const lease = new Lease({ source: s.source, clock });
    await lease.get();
    clock.advance(19_000);
    assert.equal((await lease.get()).accessKeyId, 'ASIA1');
    clock.advance(2_000);
    assert.equal((await lease.get()).accessKeyId, 'ASIA2');
  });

  test('serves the cached credentials while STS is unreachable until they expire, then fails naming the cause', async () => {
    const clock = fixedClock(0);
    const s = counting(clock);
    const lease = new Lease({ source: s.source, clock, retryBaseMs: 1000 });
    await lease.get();
    s.setFail(true);
    clock.advance(45 * 60_000);
    assert.equal((await lease.get()).accessKeyId, 'ASIA1');
    const callsAfterFailure = s.calls();
    assert.equal((await lease.get()).accessKeyId, 'ASIA1');
    assert.equal(s.calls(), callsAfterFailure, 'no retry inside the backoff window');
    clock.advance(16 * 60_000);
    await assert.rejects(lease.get(), /no valid credentials .*STS unreachable/);
    s.setFail(false);
    clock.advance(10 * 60_000);
    assert.match((await lease.get()).accessKeyId, /^ASIA/);
  });
});
