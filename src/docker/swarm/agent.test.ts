import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSwarmAgent } from './agent.js';
import { DockerClient } from '../engine/client.js';

test('--listen HOST:0: the agent reports the port it got, not 0', async (t) => {
  // no request reaches the engine here: the client is never used
  const agent = await startSwarmAgent({
    client: new DockerClient({ description: 'unused', socketPath: '/nonexistent/docker.sock' }),
    listen: { host: '127.0.0.1', port: 0 },
    sessionDurationSeconds: 900,
    refreshBeforeSeconds: 300,
    sourceFor: () => async () => {
      throw new Error('unused');
    },
    log: () => undefined,
  });
  t.after(() => agent.close());
  const port = Number(agent.address.split(':').pop());
  assert.ok(Number.isInteger(port) && port > 0, agent.address);
});
