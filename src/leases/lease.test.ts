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

  const tick = () => new Promise((r) => setTimeout(r, 20));

  test('refreshes ahead, in the background, so that no answer has fewer than 30 minutes left', async () => {
    const clock = fixedClock(0);
    const s = counting(clock);
    const lease = new Lease({ source: s.source, clock });
    await lease.get();
    clock.advance(24 * 60_000);
    assert.equal((await lease.get()).accessKeyId, 'ASIA1', '36 minutes left: no refresh yet');
    assert.equal(s.calls(), 1);
    clock.advance(2 * 60_000);
    const meanwhile = await lease.get();
    assert.equal(meanwhile.accessKeyId, 'ASIA1', 'served at once while the refresh runs');
    assert.ok((meanwhile.expiration?.getTime() ?? 0) - clock.now() >= 30 * 60_000);
    assert.equal(s.calls(), 2, 'the refresh started');
    await tick();
    const c = await lease.get();
    assert.equal(c.accessKeyId, 'ASIA2');
    assert.equal(lease.cachedFresh()?.accessKeyId, 'ASIA2');
  });

  test('short sessions: never served with less than half their life left', async () => {
    const clock = fixedClock(0);
    const s = counting(clock, 40_000);
    const lease = new Lease({ source: s.source, clock });
    await lease.get();
    clock.advance(15_000);
    assert.equal((await lease.get()).accessKeyId, 'ASIA1');
    assert.equal(s.calls(), 1);
    clock.advance(2_000);
    assert.equal((await lease.get()).accessKeyId, 'ASIA1', '23 s left: served, refresh started');
    await tick();
    const c = await lease.get();
    assert.equal(c.accessKeyId, 'ASIA2');
    assert.ok((c.expiration?.getTime() ?? 0) - clock.now() >= 20_000);
  });

  test('a session handed back by a source cache keeps its issue time (issue 21.10)', async () => {
    const clock = fixedClock(400_000);
    // issued at 0 for 900 s, handed to the lease at 400 s (500 s left)
    const cached: Credentials = {
      accessKeyId: 'ASIAC',
      secretAccessKey: 's',
      sessionToken: 't',
      issuedAt: new Date(0),
      expiration: new Date(900_000),
    };
    const lease = new Lease({ source: async () => cached, clock });
    await lease.get();
    assert.equal(lease.cachedFresh(), cached, '500 s left of 900: fresh');
    clock.advance(60_000);
    // 440 s left: below half of the 900-s lifetime; the old lease counted the life from 400 s (500 s)
    assert.equal(lease.cachedFresh(), undefined);
  });

  test('a hung source never blocks a request while the held credentials are valid; then a bounded error (issue 21.1)', async () => {
    const clock = fixedClock(0);
    let hang = false;
    let calls = 0;
    const source = async (): Promise<Credentials> => {
      calls++;
      if (hang) await new Promise(() => undefined);
      return {
        accessKeyId: `ASIA${calls}`,
        secretAccessKey: 's',
        sessionToken: 't',
        expiration: new Date(clock.now() + HOUR),
      };
    };
    const lease = new Lease({ source, clock, waitMs: 100 });
    await lease.get();
    hang = true;
    clock.advance(40 * 60_000);
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) assert.equal((await lease.get()).accessKeyId, 'ASIA1');
    assert.ok(Date.now() - t0 < 50, 'answered without waiting on the hung source');
    assert.equal(calls, 2, 'one refresh in flight');
    clock.advance(21 * 60_000); // expired
    const t1 = Date.now();
    await assert.rejects(lease.get(), /did not answer within/);
    assert.ok(Date.now() - t1 < 1_000);
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
  test('refreshNow asks the source at once, even in backoff, and state() shows expiry and refresh point', async () => {
    const clock = fixedClock(0);
    const s = counting(clock);
    const lease = new Lease({ source: s.source, clock });
    await lease.get();
    s.setFail(true);
    await lease.refreshNow();
    assert.equal(s.calls(), 2);
    assert.match(lease.state().lastError ?? '', /STS unreachable/);
    assert.ok((lease.state().retryAt ?? 0) > 0, 'in backoff');
    s.setFail(false);
    await lease.refreshNow();
    assert.equal(s.calls(), 3, 'the backoff does not hold back refreshNow');
    const st = lease.state();
    assert.equal(st.lastError, undefined);
    assert.equal(st.expiresAt, HOUR);
    // refresh ahead starts at expiry - min(30 min, half the lifetime) - min(5 min, a tenth)
    assert.equal(st.refreshAt, HOUR - 30 * 60_000 - 5 * 60_000);
    assert.equal(st.refreshing, false);
  });
  test('check() asks a failed source again at once when nothing valid is held (the user fixed the profile); get() keeps the backoff', async () => {
    const clock = fixedClock(0);
    const s = counting(clock);
    const lease = new Lease({ source: s.source, clock, retryBaseMs: 60_000 });
    s.setFail(true);
    await assert.rejects(lease.get(), /STS unreachable/);
    await assert.rejects(lease.get(), /STS unreachable/);
    assert.equal(s.calls(), 1, 'get() inside the backoff asks nobody');
    s.setFail(false);
    await assert.rejects(lease.get(), /STS unreachable/, 'still in backoff for get()');
    assert.equal(s.calls(), 1);
    assert.equal((await lease.check()).accessKeyId, 'ASIA2');
    assert.equal(s.calls(), 2, 'check() asked the source at once');
    assert.equal((await lease.check()).accessKeyId, 'ASIA2');
    assert.equal(s.calls(), 2, 'a valid session is not asked for again');
  });
});
