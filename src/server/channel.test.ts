// The channel and the relay together on loopback (no Docker): the host handler sees the caller's
// address as the relay saw it; a request without the secret, or with a wrong one, is refused; when the
// host side is down the relay answers 502 JSON and recovers by itself when it is back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startChannel, type RunningChannel } from './channel.js';
import { preamble, startRelay } from '../endpoint/relay.js';
import { connect } from 'node:net';

function raw(socketPath: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ path: socketPath });
    let out = '';
    s.setEncoding('utf8').on('data', (d: string) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    s.write(text);
  });
}

function get(
  target: { socketPath: string } | { host: string; port: number },
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ ...target, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('relay → unix channel → handler: caller address, secret checks, 502 while down, recovery', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'keyless-channel-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const socketPath = join(dir, 'ch', 'channel.sock');
  const secret = 'S'.repeat(43);
  const seen: string[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse, address: string) => {
    seen.push(`${address} ${req.headers.authorization ?? '-'}`);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ address, url: req.url }));
  };
  let channel: RunningChannel = await startChannel({ socketPath }, secret, handler);
  assert.equal((await stat(socketPath)).mode & 0o777, 0o600);
  const logs: string[] = [];
  const relay = startRelay(
    { channel: { socketPath }, secret, listen: { host: '127.0.0.1', port: 0 }, pingIntervalMs: 100 },
    (l) => logs.push(l),
  );
  t.after(() => relay.close());
  await new Promise((r) => relay.server.once('listening', r));
  const port = (relay.server.address() as AddressInfo).port;
  const via = { host: '127.0.0.1', port };

  const ok = await get(via, '/v1/creds/abc', { authorization: 'tok' });
  assert.equal(ok.status, 200);
  assert.deepEqual(JSON.parse(ok.body), { address: '127.0.0.1', url: '/v1/creds/abc' });
  assert.deepEqual(seen, ['127.0.0.1 tok']);

  // straight to the channel: plain HTTP (no preamble), a wrong secret, the right one with no caller
  assert.equal((await get({ socketPath }, '/v1/creds/abc', { 'x-keyless-source': '10.0.0.9' })).status, 401);
  assert.match(await raw(socketPath, preamble('S'.repeat(42) + 'T', 'e1', '10.0.0.9')), /^HTTP\/1.1 401/);
  assert.match(await raw(socketPath, preamble(secret, 'e1', 'not-an-address')), /^HTTP\/1.1 401/);
  // the right preamble, then HTTP on the same connection
  const through = await raw(
    socketPath,
    `${preamble(secret, 'e1', '10.0.0.9')}GET /v1/creds/q HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  );
  assert.match(through, /^HTTP\/1.1 200[\s\S]*"address":"10.0.0.9"/);
  assert.equal(channel.refused(), 3);
  assert.equal(seen.length, 2, 'nothing refused reached the handler');
  // the relay's pings mark it as seen
  await new Promise((r) => setTimeout(r, 250));
  assert.ok(channel.seen.size >= 1);

  // host side down: 502 JSON from the relay, never a hang
  await channel.close();
  const down = await get(via, '/v1/creds/abc');
  assert.equal(down.status, 502);
  assert.equal((JSON.parse(down.body) as { Code: string }).Code, 'CredentialsUnavailable');
  // back (as a restarted server): the same relay reaches it again
  channel = await startChannel({ socketPath }, secret, handler);
  t.after(() => channel.close());
  const again = await get(via, '/v1/creds/abc');
  assert.equal(again.status, 200);
  assert.ok(logs.some((l) => /channel down/.test(l)) && logs.some((l) => /channel to the host up/.test(l)));
});

test('TCP channel listens only where told and refuses without the secret', async (t) => {
  const channel = await startChannel({ tcp: { host: '127.0.0.1', port: 0 } }, 'x'.repeat(43), (_q, res) =>
    res.end('no'),
  );
  t.after(() => channel.close());
  assert.equal(channel.tcp?.host, '127.0.0.1');
  const r = await get({ host: '127.0.0.1', port: channel.tcp?.port as number }, '/v1/creds/a');
  assert.equal(r.status, 401);
  assert.equal(channel.refused(), 1);
});
