// The credential server's ECS and IMDSv2 rules, over real sockets, with credentials from moto.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startMoto } from '../helpers/moto.js';
import { assumeRoleSource } from '../helpers/sources.js';
import { LeaseTable } from '../../src/leases/lease-table.js';
import { startServer } from '../../src/server/index.js';
import { fixedClock } from '../../src/util/clock.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function http(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  timeoutMs = 5000,
): Promise<Reply | 'timeout'> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.setTimeout(timeoutMs, () => {
      req.destroy();
      resolve('timeout');
    });
    req.on('error', (e) => (String(e).includes('socket hang up') ? resolve('timeout') : reject(e)));
    req.end();
  });
}

async function reply(p: Promise<Reply | 'timeout'>): Promise<Reply> {
  const r = await p;
  assert.notEqual(r, 'timeout');
  return r as Reply;
}

async function setup(
  t: TestContext,
  opts: {
    allowV1?: boolean;
    hopLimit?: number;
    container?: boolean;
    clock?: ReturnType<typeof fixedClock>;
  } = {},
) {
  const moto = await startMoto(t, { roles: ['web'] });
  const roleArn = moto.identity.roles.web as string;
  const table = new LeaseTable((key) => assumeRoleSource(moto, key.roleArn ?? roleArn));
  const server = await startServer([{ host: '127.0.0.1', port: 0 }], {
    table,
    fullUri: { token: 'secret-token-value', key: { roleArn } },
    imds: {
      key: { roleArn },
      roleName: 'web',
      region: 'eu-west-1',
      allowV1: opts.allowV1 ?? false,
      hopLimit: opts.hopLimit ?? 1,
    },
    isContainerAddress: () => opts.container ?? false,
    ...(opts.clock ? { clock: opts.clock } : {}),
    failureLimit: 5,
  });
  t.after(() => server.close());
  return { port: (server.addresses[0] as { port: number }).port, table, roleArn, moto };
}

async function token(port: number, ttl = '60'): Promise<string> {
  const r = await reply(
    http(port, 'PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': ttl }),
  );
  assert.equal(r.status, 200);
  return r.body;
}

describe('IMDSv2 endpoint', () => {
  test('a token PUT echoes the TTL header; TTLs outside 1..21600 or missing get 400', async (t) => {
    const { port } = await setup(t);
    const ok = await reply(
      http(port, 'PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': '21600' }),
    );
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['x-aws-ec2-metadata-token-ttl-seconds'], '21600');
    for (const bad of ['0', '21601', 'abc', '-1']) {
      assert.equal(
        (await reply(http(port, 'PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': bad })))
          .status,
        400,
        bad,
      );
    }
    assert.equal((await reply(http(port, 'PUT', '/latest/api/token'))).status, 400);
    assert.equal((await reply(http(port, 'GET', '/latest/api/token'))).status, 405);
  });

  test('metadata GETs need a valid, unexpired token (401 otherwise); IMDSv1 is refused by default', async (t) => {
    const clock = fixedClock(Date.now());
    const { port } = await setup(t, { clock });
    const tk = await token(port, '60');
    const path = '/latest/meta-data/iam/security-credentials/';
    assert.equal((await reply(http(port, 'GET', path))).status, 401, 'no token: IMDSv1 off');
    assert.equal(
      (await reply(http(port, 'GET', path, { 'X-aws-ec2-metadata-token': `${tk}x` }))).status,
      401,
      'forged',
    );
    const listing = await reply(http(port, 'GET', path, { 'X-aws-ec2-metadata-token': tk }));
    assert.equal(listing.status, 200);
    assert.equal(listing.body, 'web', 'the bare role name, no trailing newline');
    clock.advance(61_000);
    assert.equal(
      (await reply(http(port, 'GET', path, { 'X-aws-ec2-metadata-token': tk }))).status,
      401,
      'expired',
    );
  });

  test('IMDSv1 can be allowed by a flag', async (t) => {
    const { port } = await setup(t, { allowV1: true });
    assert.equal((await reply(http(port, 'GET', '/latest/meta-data/placement/region'))).body, 'eu-west-1');
  });

  test('requests with X-Forwarded-For get 403, as from real IMDS', async (t) => {
    const { port } = await setup(t);
    assert.equal(
      (
        await reply(
          http(port, 'PUT', '/latest/api/token', {
            'X-aws-ec2-metadata-token-ttl-seconds': '60',
            'X-Forwarded-For': '1.2.3.4',
          }),
        )
      ).status,
      403,
    );
    const tk = await token(port);
    assert.equal(
      (
        await reply(
          http(port, 'GET', '/latest/meta-data/iam/info', {
            'X-aws-ec2-metadata-token': tk,
            'X-Forwarded-For': '1.2.3.4',
          }),
        )
      ).status,
      403,
    );
  });

  test('serves the role document, iam/info, region, zone and identity document', async (t) => {
    const { port } = await setup(t);
    const h = { 'X-aws-ec2-metadata-token': await token(port) };
    const doc = JSON.parse(
      (await reply(http(port, 'GET', '/latest/meta-data/iam/security-credentials/web', h))).body,
    ) as Record<string, string>;
    assert.deepEqual(Object.keys(doc).sort(), [
      'AccessKeyId',
      'Code',
      'Expiration',
      'LastUpdated',
      'SecretAccessKey',
      'Token',
      'Type',
    ]);
    assert.equal(doc.Code, 'Success');
    assert.match(doc.AccessKeyId as string, /^ASIA/);
    assert.match(doc.Expiration as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(
      JSON.parse((await reply(http(port, 'GET', '/latest/meta-data/iam/info', h))).body).Code,
      'Success',
    );
    assert.equal(
      (await reply(http(port, 'GET', '/latest/meta-data/placement/availability-zone', h))).body,
      'eu-west-1a',
    );
    assert.equal(
      JSON.parse((await reply(http(port, 'GET', '/latest/dynamic/instance-identity/document', h))).body)
        .region,
      'eu-west-1',
    );
    assert.equal(
      (await reply(http(port, 'GET', '/latest/meta-data/iam/security-credentials/other', h))).status,
      404,
    );
  });

  test('hop limit 1: a token PUT from a container network gets no answer (it times out); hop limit 2 answers', async (t) => {
    const one = await setup(t, { hopLimit: 1, container: true });
    assert.equal(
      await http(
        one.port,
        'PUT',
        '/latest/api/token',
        { 'X-aws-ec2-metadata-token-ttl-seconds': '60' },
        1500,
      ),
      'timeout',
    );
    const two = await setup(t, { hopLimit: 2, container: true });
    assert.equal(
      (
        await reply(
          http(two.port, 'PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': '60' }),
        )
      ).status,
      200,
    );
  });
});

describe('ECS endpoint', () => {
  test('the full URI needs the exact Authorization header and answers ECS JSON', async (t) => {
    const { port, roleArn } = await setup(t);
    assert.equal((await reply(http(port, 'GET', '/v1/credentials'))).status, 401);
    const bad = await reply(http(port, 'GET', '/v1/credentials', { Authorization: 'secret-token-valuE' }));
    assert.equal(bad.status, 401);
    assert.deepEqual(Object.keys(JSON.parse(bad.body)), ['Code', 'Message']);
    const ok = await reply(http(port, 'GET', '/v1/credentials', { Authorization: 'secret-token-value' }));
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['content-type'], 'application/json');
    const body = JSON.parse(ok.body) as Record<string, string>;
    assert.deepEqual(Object.keys(body), ['AccessKeyId', 'SecretAccessKey', 'Token', 'Expiration', 'RoleArn']);
    assert.equal(body.RoleArn, roleArn);
    assert.match(body.Expiration as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(
      (await reply(http(port, 'POST', '/v1/credentials', { Authorization: 'secret-token-value' }))).status,
      405,
    );
    assert.equal((await reply(http(port, 'GET', '/nope'))).status, 404);
  });

  test('relative URIs: unknown ids 404, a bound client is refused from another address, revoked ids 404', async (t) => {
    const { port, table, roleArn } = await setup(t);
    const a = table.register({ roleArn }, { boundAddress: '127.0.0.1' });
    const b = table.register({ roleArn }, { boundAddress: '169.254.170.9' });
    assert.equal((await reply(http(port, 'GET', `/v1/creds/${a.id}`))).status, 200);
    const wrong = await reply(http(port, 'GET', `/v1/creds/${b.id}`));
    assert.equal(wrong.status, 403);
    assert.ok(!wrong.body.includes(b.id), 'never echoes an id');
    assert.equal((await reply(http(port, 'GET', '/v1/creds/not-an-id'))).status, 404);
    table.revoke(a.id);
    assert.equal((await reply(http(port, 'GET', `/v1/creds/${a.id}`))).status, 404);
  });

  test('failed authorizations are rate-limited per address; a valid credential is never refused (issue 21.4)', async (t) => {
    const { port, table, roleArn } = await setup(t);
    for (let i = 0; i < 5; i++) await http(port, 'GET', '/v1/credentials', { Authorization: 'wrong' });
    // further failures from that address: 429
    assert.equal((await reply(http(port, 'GET', '/v1/credentials', { Authorization: 'wrong' }))).status, 429);
    assert.equal((await reply(http(port, 'GET', '/v1/creds/not-an-id'))).status, 429);
    // the valid token and a valid relative URI from the same address are still served
    assert.equal(
      (await reply(http(port, 'GET', '/v1/credentials', { Authorization: 'secret-token-value' }))).status,
      200,
    );
    const a = table.register({ roleArn }, { boundAddress: '127.0.0.1' });
    assert.equal((await reply(http(port, 'GET', `/v1/creds/${a.id}`))).status, 200);
  });

  test('1,000 concurrent credential requests across 10 roles at a cold server make 10 STS calls at moto', async (t) => {
    const roles = Array.from({ length: 10 }, (_, i) => `r${i}`);
    const moto = await startMoto(t, { roles });
    const table = new LeaseTable((key) => assumeRoleSource(moto, key.roleArn ?? ''));
    const server = await startServer([{ host: '127.0.0.1', port: 0 }], { table });
    t.after(() => server.close());
    const port = (server.addresses[0] as { port: number }).port;
    const ids = roles.map((r) => table.register({ roleArn: moto.identity.roles[r] as string }).id);
    moto.resetCounts();
    const replies = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        reply(http(port, 'GET', `/v1/creds/${ids[i % 10]}`, {}, 60_000)),
      ),
    );
    assert.ok(replies.every((r) => r.status === 200));
    assert.equal(moto.countRequests('AssumeRole'), 10);
  });
});
