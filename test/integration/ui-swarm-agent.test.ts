// keyless ui's page server with a Swarm agent's status socket and no credential server (a swarm node):
// real unix sockets and HTTP, no browser. The event stream says there is no server, then carries the
// agent's tasks, and passes on a change within the poll interval. A request whose path is no URL gets
// 400 and the page server lives on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { startAgentStatusSocket, readAgentStatus } from '../../src/docker/swarm/agent-status.js';
import { statusClient } from '../../src/server/status-client.js';
import type { SwarmAgentStatus } from '../../src/server/status-types.js';
import { startUiServer } from '../../src/ui/server.js';

test('the page follows a Swarm agent when no credential server runs', async (t) => {
  const dir = await tempDir(t);
  const agent: SwarmAgentStatus = {
    pid: 1234,
    listen: '169.254.170.2:80',
    startedAt: new Date().toISOString(),
    tasks: [],
  };
  const socket = await startAgentStatusSocket(join(dir, 'swarm', 'agent.sock'), () => agent);
  t.after(() => socket.close());
  const ui = await startUiServer({
    status: statusClient(join(dir, 'server', 'control.sock')),
    agentStatus: () => readAgentStatus(join(dir, 'swarm', 'agent.sock')),
  });
  t.after(() => ui.close());
  // a path that is no URL gets 400, and the page server lives on
  const odd = await new Promise<number>((resolve, reject) => {
    const u = new URL(ui.origin);
    const req = request({ host: u.hostname, port: u.port, path: '//[', method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(odd, 400);
  const login = await fetch(ui.loginUrl, { redirect: 'manual' });
  assert.equal(login.status, 303);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const abort = new AbortController();
  t.after(() => abort.abort());
  const res = await fetch(`${ui.origin}/api/events`, { headers: { Cookie: cookie }, signal: abort.signal });
  assert.equal(res.status, 200);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let text = '';
  const until = async (re: RegExp): Promise<void> => {
    const deadline = Date.now() + 8000;
    while (!re.test(text)) {
      if (Date.now() > deadline) assert.fail(`no ${re} in ${text}`);
      const { value } = await reader.read();
      text += new TextDecoder().decode(value);
    }
  };
  await until(/event: noserver\n/);
  await until(/event: swarm\ndata: \{"pid":1234,.*"tasks":\[\]\}\n\n/);
  assert.equal(ui.pages(), 0, 'no credential server stream is held');
  agent.tasks.push({
    task: 'task1',
    service: 'web',
    address: '10.0.1.7',
    role: 'arn:aws:iam::123456789012:role/web',
    firstRequestAt: new Date().toISOString(),
    lastRequestAt: new Date().toISOString(),
    requests: 1,
    refused: 0,
  });
  const changed = Date.now();
  await until(/"task":"task1","service":"web"/);
  assert.ok(Date.now() - changed < 3000, 'within the 2-second poll');
});
