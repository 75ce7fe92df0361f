// keyless serve --daemon waits for the background server: one that cannot listen reports its own
// error to the command that started it (exit 2) and does not linger; one that listens is stopped by
// serve --stop. Real processes, loopback only.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';
import {
  chmod,
  appendFile,
  chown,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestEnv, type TestEnv } from '../helpers/env.js';
import { KEYLESS_BIN, runKeyless } from '../helpers/cli.js';
import { motoWithStoredProfile } from '../helpers/profiles.js';
import { controlClient } from '../../src/server/control-socket.js';
import { freePort } from '../helpers/net.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** keyless serve --daemon on a free loopback port, which must start; killed after the test. */
async function startedDaemon(
  t: TestContext,
  te: TestEnv,
  extra: string[] = [],
): Promise<{ pid: number; port: number; stdout: string; stderr: string }> {
  const port = await freePort();
  const r = await runKeyless(['serve', '--daemon', ...extra, '--listen', `127.0.0.1:${port}`], {
    env: te.vars,
    timeoutMs: 60_000,
  });
  assert.equal(r.code, 0, r.stderr);
  const pid = Number((await readFile(join(te.keylessHome, 'server', 'server.pid'), 'utf8')).trim());
  t.after(() => {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  return { pid, port, stdout: r.stdout, stderr: r.stderr };
}

test('a daemon that cannot listen exits, and serve --daemon reports its error (exit 2)', async (t) => {
  const te = await makeTestEnv(t);
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  t.after(() => taken.close());
  const port = (taken.address() as { port: number }).port;
  const before = Date.now();
  const r = await runKeyless(['serve', '--daemon', '--profile', 'dev', '--listen', `127.0.0.1:${port}`], {
    env: te.vars,
    timeoutMs: 60_000,
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /did not start: 127\.0\.0\.1:\d+ is already in use/);
  assert.ok(Date.now() - before < 30_000);
  // no pid file, and no keyless serve process left for this KEYLESS_HOME
  await assert.rejects(readFile(join(te.keylessHome, 'server', 'server.pid'), 'utf8'));
  const { execFileSync } = await import('node:child_process');
  const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  assert.ok(!ps.split('\n').some((l) => l.includes('serve') && l.includes(`127.0.0.1:${port}`)), ps);
});

test('a daemon that listens is running when serve --daemon returns, and serve --stop ends it', async (t) => {
  const te = await makeTestEnv(t);
  const { pid, port, stderr } = await startedDaemon(t, te, ['--profile', 'dev']);
  assert.ok(alive(pid));
  // the profile does not exist: said at once, and the server keeps running (keys may be added later)
  assert.match(
    stderr,
    /the server runs, but gives no credentials yet: .*profile dev has no credentials.*keyless add dev/,
  );
  const st = await runKeyless(['serve', '--status'], { env: te.vars });
  assert.equal(st.code, 0, st.stderr);
  assert.match(st.stdout, new RegExp(`pid ${pid}, mode host, listening on 127\\.0\\.0\\.1:${port}`));
  const stop = await runKeyless(['serve', '--stop'], { env: te.vars });
  assert.equal(stop.code, 0, stop.stderr);
  assert.ok(!alive(pid), 'stopped');
});

test('one server per KEYLESS_HOME: a second exits 2 naming the first, which keeps its control socket (issue 21.6)', async (t) => {
  const te = await makeTestEnv(t);
  const { pid } = await startedDaemon(t, te);
  const second = await runKeyless(['serve', '--listen', `127.0.0.1:${await freePort()}`], {
    env: te.vars,
    timeoutMs: 60_000,
  });
  assert.equal(second.code, 2);
  assert.match(second.stderr, new RegExp(`already runs for .* \\(pid ${pid}`));
  const st = await runKeyless(['serve', '--status'], { env: te.vars });
  assert.equal(st.code, 0, st.stderr);
  assert.match(st.stdout, new RegExp(`^pid ${pid},`));
  // a stale socket (the server was SIGKILLed) is replaced by the next server
  process.kill(pid, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 200));
  const { pid: pid3 } = await startedDaemon(t, te);
  assert.notEqual(pid3, pid);
  assert.match(
    (await runKeyless(['serve', '--status'], { env: te.vars })).stdout,
    new RegExp(`^pid ${pid3},`),
  );
});

test('serve --daemon hands the token lines to the command that started it, never to server.log (issue 21.5)', async (t) => {
  const te = await makeTestEnv(t);
  const { port, stdout } = await startedDaemon(t, te);
  const token = /^AWS_CONTAINER_AUTHORIZATION_TOKEN=(\S+)$/m.exec(stdout)?.[1] ?? '';
  assert.ok(token.length >= 40, stdout);
  const res = await fetch(`http://127.0.0.1:${port}/v1/credentials`, { headers: { Authorization: 'wrong' } });
  assert.equal(res.status, 401);
  const log = await readFile(join(te.keylessHome, 'server', 'server.log'), 'utf8');
  assert.ok(!log.includes(token), 'the token is not in server.log');
  assert.equal((await stat(join(te.keylessHome, 'server', 'server.log'))).mode & 0o777, 0o600);
});

test('KEYLESS_HOME: symlinked folders and logs, other owners and loose modes are refused, naming the fix (issue 21.5)', async (t) => {
  // a symlinked server/ folder: not followed, its target not re-moded
  {
    const te = await makeTestEnv(t);
    const target = await mkdtemp(join(tmpdir(), 'keyless-elsewhere-'));
    t.after(() => rm(target, { recursive: true, force: true }));
    await chmod(target, 0o755);
    await mkdir(te.keylessHome, { mode: 0o700 });
    await symlink(target, join(te.keylessHome, 'server'));
    const r = await runKeyless(['serve', '--daemon', '--listen', `127.0.0.1:${await freePort()}`], {
      env: te.vars,
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /server is a symbolic link/);
    assert.equal((await stat(target)).mode & 0o777, 0o755);
    assert.deepEqual(await readdir(target), []);
  }
  // a symlinked server.log: not written through
  {
    const te = await makeTestEnv(t);
    await mkdir(join(te.keylessHome, 'server'), { recursive: true, mode: 0o700 });
    const target = join(te.home, 'log-target');
    await writeFile(target, '');
    await chmod(target, 0o644);
    await symlink(target, join(te.keylessHome, 'server', 'server.log'));
    const r = await runKeyless(['serve', '--daemon', '--listen', `127.0.0.1:${await freePort()}`], {
      env: te.vars,
    });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(await readFile(target, 'utf8'), '');
  }
  // a world-writable home, and one owned by another user
  {
    const te = await makeTestEnv(t);
    await mkdir(te.keylessHome, { mode: 0o700 });
    await chmod(te.keylessHome, 0o777);
    const r = await runKeyless(['serve', '--daemon', '--listen', `127.0.0.1:${await freePort()}`], {
      env: te.vars,
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /writable by everyone .*chmod 700/);
    await chmod(te.keylessHome, 0o700);
    if (process.getuid?.() === 0) {
      await chown(te.keylessHome, 65534, 65534);
      const r2 = await runKeyless(['list'], { env: te.vars });
      assert.equal(r2.code, 2);
      assert.match(r2.stderr, /belongs to uid 65534, not to you/);
    }
  }
});

test('a daemon whose KEYLESS_HOME or control socket is removed stops (nothing could reach or stop it any more)', async (t) => {
  const waitDead = async (pid: number): Promise<number> => {
    const started = Date.now();
    while (alive(pid) && Date.now() - started < 15_000) await new Promise((r) => setTimeout(r, 200));
    return Date.now() - started;
  };
  const te = await makeTestEnv(t);
  const { pid } = await startedDaemon(t, te);
  await rm(te.keylessHome, { recursive: true, force: true });
  const took = await waitDead(pid);
  assert.ok(!alive(pid), 'the orphaned daemon stopped');
  t.diagnostic(`stopped ${took} ms after its KEYLESS_HOME was removed`);

  const te2 = await makeTestEnv(t);
  const { pid: pid2 } = await startedDaemon(t, te2);
  await rm(join(te2.keylessHome, 'server', 'control.sock'), { force: true });
  await waitDead(pid2);
  assert.ok(!alive(pid2), 'the daemon whose control socket was removed stopped');
});

test('foreground serve says at once that its profile gives nothing; once the profile is fixed, the next check gets the role (moto)', async (t) => {
  const { moto, te } = await motoWithStoredProfile(t);
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [KEYLESS_BIN, 'serve', '--profile', 'app', '--listen', `127.0.0.1:${port}`],
    {
      env: te.vars,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no warning within 20 s:\n${stderr}`)), 20_000);
    child.stderr.on('data', (d: string) => {
      stderr += d;
      if (/gives no credentials yet/.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  assert.match(stderr, /the server runs, but gives no credentials yet: .*profile app/);
  assert.equal(child.exitCode, null, 'the server keeps running');
  // the user fixes the profile; keyless run's check (the control socket) gets the role at once, not
  // after the failed profile's retry backoff
  await appendFile(
    te.awsConfigFile,
    `\n[profile app]\nrole_arn = ${moto.identity.roles['keyless-test-role'] ?? ''}\nsource_profile = dev\n`,
  );
  const got = await controlClient(join(te.keylessHome, 'server', 'control.sock')).checkLease(
    { profile: 'app' },
    15_000,
  );
  assert.ok(got.expiration && Date.parse(got.expiration) > Date.now(), JSON.stringify(got));
});

test('serve --stop never reports a server stopped that is still there: one that does not end within 30 s (here: SIGSTOPped) is killed', async (t) => {
  const te = await makeTestEnv(t);
  const { pid } = await startedDaemon(t, te);
  process.kill(pid, 'SIGSTOP');
  t.after(() => {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  const stop = await runKeyless(['serve', '--stop'], { env: te.vars, timeoutMs: 90_000 });
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(stop.stderr, new RegExp(`the server \\(pid ${pid}\\) did not stop within 30 s; killing it`));
  assert.equal(alive(pid), false, 'killed');
  await assert.rejects(readFile(join(te.keylessHome, 'server', 'server.pid'), 'utf8'));
});
