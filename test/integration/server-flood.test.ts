// Issue 21.12: a flood of idle connections from one address (2,100, past the per-address cap) does not
// starve another address: its valid requests are answered within 1 s throughout. Loopback only
// (127.0.0.2 is a second source address on lo).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { LeaseTable } from '../../src/leases/lease-table.js';
import { startServer } from '../../src/server/index.js';
import type { Credentials } from '../../src/sources/types.js';

const creds: Credentials = {
  accessKeyId: 'ASIA' + 'C'.repeat(16),
  secretAccessKey: 's'.repeat(40),
  sessionToken: 't',
  expiration: new Date(Date.now() + 3600_000),
};

function get(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/credentials',
        headers: { Authorization: 'tok' },
        localAddress: '127.0.0.2',
        agent: false,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.setTimeout(5_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

test(
  '2,100 idle connections from one address; another address is served within 1 s throughout',
  { timeout: 120_000 },
  async (t) => {
    const server = await startServer([{ host: '127.0.0.1', port: 0 }], {
      table: new LeaseTable(() => async () => creds),
      fullUri: { token: 'tok', key: { profile: 'p' } },
    });
    t.after(() => server.close());
    const port = (server.addresses[0] as { port: number }).port;
    const flood: Socket[] = [];
    t.after(() => flood.forEach((s) => s.destroy()));
    let closedByServer = 0;
    for (let i = 0; i < 2_100; i++) {
      const s = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.1' });
      s.on('error', () => undefined);
      s.on('close', () => closedByServer++);
      flood.push(s);
      if (i % 300 === 0) assert.equal(await get(port), 200);
    }
    const worst = { ms: 0 };
    const end = Date.now() + 5_000;
    while (Date.now() < end) {
      const t0 = Date.now();
      assert.equal(await get(port), 200);
      worst.ms = Math.max(worst.ms, Date.now() - t0);
      await new Promise((r) => setTimeout(r, 100));
    }
    t.diagnostic(`worst answer ${worst.ms} ms; ${closedByServer} flood connections closed by the cap`);
    assert.ok(worst.ms < 1_000);
    assert.ok(closedByServer >= 2_100 - 1_024, `the cap closed ${closedByServer}`);
  },
);
