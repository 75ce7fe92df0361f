import { test } from 'node:test';
import assert from 'node:assert/strict';
import { swarmNodeWarning } from './agent.js';

test('the agent warns when its engine is in no swarm (it would wait for tasks that never come)', () => {
  assert.match(
    swarmNodeWarning('inactive', 'unix:///var/run/docker.sock') ?? '',
    /not in a swarm \(state: inactive\).*docker swarm join/,
  );
  assert.equal(swarmNodeWarning('active', 'x'), undefined);
  // an engine that does not say is not guessed about
  assert.equal(swarmNodeWarning(undefined, 'x'), undefined);
});
