// The control socket: register, bind and revoke clients over a 0600 unix socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startMoto } from '../helpers/moto.js';
import { assumeRoleSource } from '../helpers/sources.js';
import { tempDir } from '../helpers/tmp.js';
import { LeaseTable } from '../../src/leases/lease-table.js';
import { startServer } from '../../src/server/index.js';
import { startControlSocket, controlClient } from '../../src/server/control-socket.js';

test('clients registered over the control socket get credentials at their relative URI until revoked', async (t) => {
  const moto = await startMoto(t, { roles: ['ctl'] });
  const table = new LeaseTable((key) => assumeRoleSource(moto, key.roleArn ?? ''));
  const server = await startServer([{ host: '127.0.0.1', port: 0 }], { table });
  t.after(() => server.close());
  const dir = await tempDir(t);
  const sock = join(dir, 'server', 'control.sock');
  const ctl = await startControlSocket(sock, table, () => ({ pid: process.pid, listen: ['127.0.0.1'] }));
  t.after(() => ctl.close());
  assert.equal((await stat(sock)).mode & 0o777, 0o600);
  assert.equal((await stat(join(dir, 'server'))).mode & 0o777, 0o700);
  const client = controlClient(sock);
  const reg = await client.register({ roleArn: moto.identity.roles.ctl as string });
  assert.match(reg.relativeUri, /^\/v1\/creds\/[A-Za-z0-9_-]{43}$/);
  const port = (server.addresses[0] as { port: number }).port;
  const ok = await fetch(`http://127.0.0.1:${port}${reg.relativeUri}`);
  assert.equal(ok.status, 200);
  assert.match(((await ok.json()) as { AccessKeyId: string }).AccessKeyId, /^ASIA/);
  await client.bind(reg.id, '10.9.9.9');
  assert.equal((await fetch(`http://127.0.0.1:${port}${reg.relativeUri}`)).status, 403, 'bound elsewhere');
  await client.revoke(reg.id);
  assert.equal((await fetch(`http://127.0.0.1:${port}${reg.relativeUri}`)).status, 404);
  assert.equal((await client.status()).clients, 0);
  await assert.rejects(controlClient(join(dir, 'nope.sock')).status(), /keyless serve --daemon/);
});
