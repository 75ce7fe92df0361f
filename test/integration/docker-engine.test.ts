import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dockerClientFromEnv } from '../../src/docker/engine/index.js';
import { loadEnv } from '../../src/config/env.js';
import { requireDocker } from '../helpers/docker.js';

const exec = promisify(execFile);

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

test('docker contexts made by the real docker CLI are followed as the CLI follows them (DOCKER_HOST unset)', async (t) => {
  if (!(await requireDocker(t))) return;
  const dir = await mkdtemp(join(tmpdir(), 'keyless-ctx-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // a second path to the same engine, so the test can tell which socket was used
  const sock = join(dir, 'engine.sock');
  await symlink('/var/run/docker.sock', sock);
  const cli = (args: string[]) =>
    exec('docker', ['--config', dir, ...args], { env: { ...process.env, DOCKER_HOST: '' } });
  await cli(['context', 'create', 'kctx', '--docker', `host=unix://${sock}`]);
  await cli(['context', 'create', 'gone', '--docker', 'host=unix:///nonexistent/docker.sock']);
  await cli(['context', 'use', 'kctx']);
  const vars = { HOME: '/root', DOCKER_CONFIG: dir };
  const client = dockerClientFromEnv(loadEnv(vars));
  assert.equal(client.endpoint.description, `docker context kctx: unix://${sock}`);
  assert.match(await client.ping(), /^1\.\d+$/);
  // DOCKER_CONTEXT wins over currentContext; DOCKER_HOST wins over both
  const gone = dockerClientFromEnv(loadEnv({ ...vars, DOCKER_CONTEXT: 'gone' }));
  await assert.rejects(gone.ping(), /docker context gone: unix:\/\/\/nonexistent\/docker\.sock/);
  const host = dockerClientFromEnv(loadEnv({ ...vars, DOCKER_HOST: 'unix:///var/run/docker.sock' }));
  assert.equal(host.endpoint.description, 'unix:///var/run/docker.sock');
  // "default" is the default socket; an unknown name is a clear error naming what to run
  assert.equal(
    dockerClientFromEnv(loadEnv({ ...vars, DOCKER_CONTEXT: 'default' })).endpoint.description,
    'unix:///var/run/docker.sock',
  );
  assert.throws(
    () => dockerClientFromEnv(loadEnv({ ...vars, DOCKER_CONTEXT: 'nosuch' })),
    /docker context "nosuch" \(from DOCKER_CONTEXT\) is not there .*docker context ls/,
  );
});
