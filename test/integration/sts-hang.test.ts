// Issue 21.1 end to end: keyless's own STS calls (src/sources/sts.ts, with the AWS client timeouts)
// through a proxy in front of moto (signature checks on) that can switch to accepting connections and
// never answering. From before a refresh until after expiry: requests keep getting the held
// credentials at once; after expiry the error comes within the bound; when STS answers again, the
// next request succeeds. The lease runs on a fixed clock (the session is a real one-hour session);
// STS, the SDK and the HTTP server are real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { loadEnv } from '../../src/config/env.js';
import { LeaseTable } from '../../src/leases/lease-table.js';
import { startServer } from '../../src/server/index.js';
import { stsCalls } from '../../src/sources/sts.js';
import { fixedClock } from '../../src/util/clock.js';
import { startMoto } from '../helpers/moto.js';
import { baseSafeEnv } from '../helpers/env.js';

test('a hung STS never freezes the server', { timeout: 180_000 }, async (t) => {
  const moto = await startMoto(t, { roles: ['hang'] });
  let hang = false;
  const held: Socket[] = [];
  const proxy = createServer((client) => {
    if (hang) {
      held.push(client); // accepted, never answered
      client.on('error', () => undefined);
      return;
    }
    const up = connect({ host: moto.host, port: moto.port });
    client.pipe(up).pipe(client);
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.after(() => {
    held.forEach((s) => s.destroy());
    proxy.close();
  });
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  const env = loadEnv({ ...baseSafeEnv(), AWS_ENDPOINT_URL: proxyUrl });
  const sts = stsCalls(env, 'us-east-1');
  const longTerm = { accessKeyId: moto.identity.accessKeyId, secretAccessKey: moto.identity.secretAccessKey };
  const clock = fixedClock(Date.now());
  const roleArn = moto.identity.roles.hang as string;
  let calls = 0;
  const table = new LeaseTable(
    () => async () => {
      calls++;
      const c = await sts.assumeRole(longTerm, { roleArn, roleSessionName: 'hang', durationSeconds: 3600 });
      // a session issued "now" on the test's clock
      return { ...c, issuedAt: new Date(clock.now()), expiration: new Date(clock.now() + 3600_000) };
    },
    { clock, waitMs: 3_000 },
  );
  const server = await startServer([{ host: '127.0.0.1', port: 0 }], {
    table,
    fullUri: { token: 'tok', key: { roleArn } },
    clock,
  });
  t.after(() => server.close());
  const port = (server.addresses[0] as { port: number }).port;
  const ask = async (): Promise<{ status: number; ms: number; key?: string; body: string }> => {
    const t0 = Date.now();
    const r = await fetch(`http://127.0.0.1:${port}/v1/credentials`, { headers: { Authorization: 'tok' } });
    const body = await r.text();
    return {
      status: r.status,
      ms: Date.now() - t0,
      body,
      ...(r.status === 200 ? { key: (JSON.parse(body) as { AccessKeyId: string }).AccessKeyId } : {}),
    };
  };

  const first = await ask();
  assert.equal(first.status, 200);
  hang = true;
  // past the refresh point, before expiry: the held credentials, at once, however long STS hangs
  clock.advance(35 * 60_000);
  for (let i = 0; i < 5; i++) {
    const r = await ask();
    assert.equal(r.status, 200);
    assert.equal(r.key, first.key);
    assert.ok(r.ms < 500, `answered in ${r.ms} ms while STS hangs`);
    clock.advance(5 * 60_000);
  }
  // expired: the 5xx within the bound (waitMs 3 s here; 20 s by default)
  clock.advance(10 * 60_000);
  const expired = await ask();
  assert.equal(expired.status, 500);
  assert.ok(expired.ms < 3_500, `error after ${expired.ms} ms`);
  assert.match(expired.body, /CredentialsUnavailable/);
  // STS answers again: the hung call times out (10 s, 3 attempts), the next request succeeds
  // (the held connections stay open: only the client's request timeout can end that call)
  hang = false;
  const recoverFrom = Date.now();
  const deadline = Date.now() + 90_000;
  let ok = await ask();
  while (ok.status !== 200 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1_000));
    clock.advance(60_000); // past any backoff
    ok = await ask();
  }
  assert.equal(ok.status, 200, ok.body);
  assert.notEqual(ok.key, first.key);
  t.diagnostic(`STS calls made: ${calls}; recovered ${Date.now() - recoverFrom} ms after STS answered again`);
});
