import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerClientFromEnv } from '../../src/docker/engine/index.js';
import { loadEnv } from '../../src/config/env.js';
import { requireDocker } from '../helpers/docker.js';

test('the engine client negotiates an API version and lists containers', async (t) => {
  if (!(await requireDocker(t))) return;
  const client = dockerClientFromEnv(loadEnv({ HOME: '/root' }));
  const version = await client.ping();
  assert.match(version, /^1\.\d+$/);
  const list = await client.json<unknown[]>('GET', '/containers/json', { query: { all: true } });
  assert.ok(Array.isArray(list));
});

test('an unreachable engine is reported in one clear line naming the socket', async () => {
  const client = dockerClientFromEnv(
    loadEnv({ HOME: '/root', DOCKER_HOST: 'unix:///nonexistent/docker.sock' }),
  );
  await assert.rejects(client.ping(), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'DOCKER_UNREACHABLE');
    assert.match(err.message, /unix:\/\/\/nonexistent\/docker\.sock/);
    return true;
  });
});
