// keyless status against a real `keyless serve --daemon` (moto with signature checks, loopback only, no
// Docker): a client registered over the control socket and a full-URI caller show up with their role,
// expiry and request counts; --watch follows changes as JSON lines; revoke and refresh over the control
// socket work; the JSON matches docs/schemas/status.v1.schema.json; and it all ends when the server stops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { motoWithStoredProfile } from '../helpers/profiles.js';
import { KEYLESS_BIN, runKeyless } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { validateStatus } from '../helpers/report-schemas.js';
import { controlClient } from '../../src/server/control-socket.js';
import { statusClient } from '../../src/server/status-client.js';
import type { StatusSnapshot } from '../../src/server/status-types.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('keyless status shows clients, leases and activity; --watch follows; revoke, refresh and stop work', async (t) => {
  const { moto, te } = await motoWithStoredProfile(t, {
    moto: { roles: ['svc'] },
    awsConfig: '[profile app]\nrole_arn = ROLE:svc\nsource_profile = dev\n',
  });
  const none = await runKeyless(['status'], { env: te.vars });
  assert.equal(none.code, 1, 'not running: the negative answer');
  assert.match(none.stderr, /no keyless credential server answers .* keyless serve --daemon/);

  const port = await freePort();
  const started = await runKeyless(
    ['serve', '--daemon', '--profile', 'app', '--listen', `127.0.0.1:${port}`],
    {
      env: te.vars,
      timeoutMs: 60_000,
    },
  );
  assert.equal(started.code, 0, started.stderr);
  t.after(async () => void (await runKeyless(['serve', '--stop'], { env: te.vars })));
  const token = /^AWS_CONTAINER_AUTHORIZATION_TOKEN=(.+)$/m.exec(started.stdout)?.[1] ?? '';
  const socket = join(te.keylessHome, 'server', 'control.sock');

  // --watch --json: one snapshot per line, as changes happen
  const watch = spawn(process.execPath, [KEYLESS_BIN, 'status', '--watch', '--json'], {
    env: te.vars,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const watched: StatusSnapshot[] = [];
  let buffer = '';
  watch.stdout.setEncoding('utf8').on('data', (d: string) => {
    buffer += d;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      watched.push(JSON.parse(buffer.slice(0, nl)) as StatusSnapshot);
      buffer = buffer.slice(nl + 1);
    }
  });
  const watchExit = new Promise<number | null>((r) => watch.on('exit', r));
  t.after(() => void watch.kill());
  const seen = async (what: string, ok: (s: StatusSnapshot) => boolean): Promise<StatusSnapshot> => {
    for (let i = 0; i < 100; i++) {
      const s = watched.find(ok);
      if (s) return s;
      await wait(50);
    }
    assert.fail(`--watch never showed ${what}; last: ${JSON.stringify(watched.at(-1))}`);
  };
  await seen('the first snapshot', (s) => s.clients.length === 0);

  const reg = await controlClient(socket).register({ profile: 'app', label: 'worker' });
  const base = `http://127.0.0.1:${port}`;
  const creds = await fetch(`${base}${reg.relativeUri}`);
  assert.equal(creds.status, 200);
  const body = (await creds.json()) as { AccessKeyId: string; SecretAccessKey: string; Token: string };
  assert.equal((await fetch(`${base}/v1/credentials`, { headers: { Authorization: token } })).status, 200);

  const role = moto.identity.roles.svc as string;
  const live = await seen(
    'the client with its request',
    (s) =>
      s.clients.some((c) => c.label === 'worker' && c.requests === 1) &&
      s.clients.some((c) => c.kind === 'full-uri'),
  );
  const worker = live.clients.find((c) => c.label === 'worker');
  assert.equal(worker?.role, role);
  assert.equal(worker?.state, 'unbound');
  assert.ok(Date.parse(worker?.expiresAt ?? '') > Date.now() + 30 * 60_000);
  assert.equal(live.clients.find((c) => c.kind === 'full-uri')?.requests, 1);

  const snap = JSON.parse(
    (await runKeyless(['status', '--json'], { env: te.vars })).stdout,
  ) as StatusSnapshot;
  const v = validateStatus(snap);
  assert.ok(v.valid, v.errors.join('\n'));
  assert.equal(snap.server.listen[0], `127.0.0.1:${port}`);
  const lease = snap.leases.find((l) => l.profile === 'app');
  assert.equal(lease?.role, role);
  assert.equal(lease?.accessKeyId, `${body.AccessKeyId.slice(0, 4)}…${body.AccessKeyId.slice(-4)}`);
  const all =
    JSON.stringify(snap) + JSON.stringify(watched) + (await runKeyless(['status'], { env: te.vars })).stdout;
  for (const secret of [
    body.SecretAccessKey,
    body.Token,
    body.AccessKeyId,
    token,
    reg.id,
    moto.identity.secretAccessKey,
  ])
    assert.ok(!all.includes(secret), 'a secret in status');

  const text = (await runKeyless(['status'], { env: te.vars })).stdout;
  assert.match(
    text,
    new RegExp(`${worker?.tag}\\s+worker\\s+127\\.0\\.0\\.1\\s+${role.replace(/[/]/g, '\\/')}\\s+unbound`),
  );

  // refresh now: one more STS call, whatever the lease's age
  const status = statusClient(socket);
  const refreshed = await status.refreshLease(lease?.id ?? '');
  assert.equal(refreshed.refreshed, true);
  const after = await status.snapshot();
  assert.equal(after.leases.find((l) => l.id === lease?.id)?.refreshes, (lease?.refreshes ?? 0) + 1);
  await assert.rejects(status.refreshLease('000000000000'), /no such lease/);

  // revoke: the next request is refused, and status says so
  await status.revokeClient(worker?.tag ?? '');
  assert.equal((await fetch(`${base}${reg.relativeUri}`)).status, 404);
  await seen('the revoked client with its refusal', (s) =>
    s.clients.some((c) => c.tag === worker?.tag && c.state === 'revoked' && c.refused === 1),
  );
  await assert.rejects(status.revokeClient(worker?.tag ?? ''), /no such live client/);

  // stop: the server ends, and so does --watch
  await status.stopServer();
  assert.equal(await Promise.race([watchExit, wait(15_000).then(() => 'still running')]), 0);
  const gone = await runKeyless(['status', '--json'], { env: te.vars });
  assert.equal(gone.code, 1, 'stopped: not running is the negative answer');
});

test('status and ui have --help', async (t) => {
  const te = {
    vars: { ...process.env, KEYLESS_HOME: join('/nonexistent', String(Date.now())) } as Record<
      string,
      string
    >,
  };
  t.diagnostic('help needs no server');
  for (const [cmd, flag] of [
    ['status', '--watch'],
    ['ui', '--no-open'],
  ] as const) {
    const r = await runKeyless([cmd, '--help'], { env: te.vars });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(flag));
  }
});
