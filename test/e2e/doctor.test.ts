// keyless doctor on real files, a real Docker engine and the credential server's emulated hop limit.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  requireDocker,
  lockDockerBridge,
  blackholeBridgeAddress,
  ensureBusyboxImage,
  docker,
  recreateKeylessNetwork,
} from '../helpers/docker.js';
import { makeTestEnv } from '../helpers/env.js';
import { runKeyless, KEYLESS_BIN } from '../helpers/cli.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../helpers/keys.js';
import { freePort, waitForPort } from '../helpers/net.js';
import { startMoto } from '../helpers/moto.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clockVerdict } from '../../src/doctor/checks/clock.js';

describe('keyless doctor', () => {
  test('host checks: plaintext keys warn, loose vault modes fail (exit 1), --json has the documented shape', async (t) => {
    const te = await makeTestEnv(t, {
      awsCredentials: `[old]\naws_access_key_id = ${fakeAccessKeyId()}\naws_secret_access_key = ${fakeSecretAccessKey()}\n`,
    });
    await mkdir(join(te.keylessHome, 'vault'), { recursive: true });
    await chmod(join(te.keylessHome, 'vault'), 0o755);
    const r = await runKeyless(['doctor', '--json'], { env: te.vars });
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as {
      version: number;
      checks: { id: string; status: string; found: string; fix?: string }[];
      summary: Record<string, number>;
    };
    assert.equal(report.version, 1);
    const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
    assert.equal(byId['plaintext-keys']?.status, 'warn');
    assert.match(byId['plaintext-keys']?.fix ?? '', /keyless add old/);
    assert.equal(byId['vault-permissions']?.status, 'fail');
    assert.match(byId['vault-permissions']?.fix ?? '', /chmod 700/);
    assert.ok(!r.stdout.includes(te.vars.KEYLESS_PASSPHRASE as string));
    assert.ok((report.summary.fail ?? 0) >= 1);
  });

  for (const hop of [1, 2]) {
    test(
      `inside a container on the keyless network, against the server with hop limit ${hop}`,
      { timeout: 300_000 },
      async (t) => {
        if (!(await requireDocker(t))) return;
        await lockDockerBridge(t);
        await blackholeBridgeAddress(t);
        await recreateKeylessNetwork(t);
        const te = await makeTestEnv(t);
        const port = 9000 + hop;
        const server = spawn(
          process.execPath,
          [
            KEYLESS_BIN,
            'serve',
            '--profile',
            'none',
            '--listen',
            `169.254.170.2:${port}`,
            '--imds',
            '--hop-limit',
            String(hop),
          ],
          { env: te.vars, stdio: 'ignore' },
        );
        t.after(() => void server.kill('SIGTERM'));
        await waitForPort('169.254.170.2', port);
        const bb = await ensureBusyboxImage();
        const name = `keyless-doctor-${hop}-${Date.now()}`;
        await docker([
          'run',
          '-d',
          '--name',
          name,
          '--pull',
          'never',
          '--network',
          'keyless',
          '-e',
          `AWS_EC2_METADATA_SERVICE_ENDPOINT=http://169.254.170.2:${port}/`,
          bb,
          'sleep',
          '300',
        ]);
        t.after(async () => void (await docker(['rm', '-f', name]).catch(() => undefined)));
        const r = await runKeyless(['doctor', '--json', '--container', name], {
          env: te.vars,
          timeoutMs: 60_000,
        });
        const check = (
          JSON.parse(r.stdout) as { checks: { id: string; status: string; found: string; fix?: string }[] }
        ).checks.find((c) => c.id === 'container-imds');
        if (hop === 1) {
          assert.equal(check?.status, 'fail', r.stdout);
          assert.match(check?.found ?? '', /hop-limit symptom/);
          assert.match(check?.fix ?? '', /--hop-limit 2/);
          assert.equal(r.code, 1);
        } else {
          assert.equal(check?.status, 'ok', r.stdout);
        }
      },
    );
  }
});

describe('keyless doctor --clock', () => {
  const clockOf = async (
    vars: Record<string, string>,
  ): Promise<{ status: string; found: string; fix?: string }> => {
    const r = await runKeyless(['doctor', '--json', '--clock'], { env: vars });
    const report = JSON.parse(r.stdout) as {
      checks: { id: string; status: string; found: string; fix?: string }[];
    };
    const c = report.checks.find((x) => x.id === 'clock');
    assert.ok(c, r.stdout);
    return c;
  };

  test('against moto (AWS_ENDPOINT_URL): this host is within seconds', async (t) => {
    const moto = await startMoto(t);
    const te = await makeTestEnv(t, { endpoint: moto.url });
    const c = await clockOf(te.vars);
    assert.equal(c.status, 'ok', c.found);
    assert.match(c.found, /within \d+ s of 127\.0\.0\.1/);
  });

  test('against a stand-in STS endpoint (a local server that only sends a Date header 10 minutes behind): fail with the fix; unreachable: skip', async (t) => {
    const server = createServer((_req, res) => {
      res.setHeader('Date', new Date(Date.now() - 10 * 60_000).toUTCString());
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    const te = await makeTestEnv(t, { endpoint: `http://127.0.0.1:${port}` });
    const c = await clockOf(te.vars);
    assert.equal(c.status, 'fail');
    assert.match(c.found, /6\d\d s ahead of 127\.0\.0\.1/);
    assert.match(c.fix ?? '', /set-ntp/);
    const closed = await freePort();
    const gone = await clockOf({ ...te.vars, AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${closed}` });
    assert.equal(gone.status, 'skip');
    assert.match(gone.found, /could not reach/);
  });
});

test('clockVerdict: ok within a minute, warn past it, fail past 5 minutes (SigV4), either direction', () => {
  assert.equal(clockVerdict(20_000, 'sts').status, 'ok');
  assert.equal(clockVerdict(-90_000, 'sts').status, 'warn');
  assert.match(clockVerdict(-90_000, 'sts').found, /90 s ahead of sts/);
  assert.equal(clockVerdict(301_000, 'sts').status, 'fail');
  assert.match(clockVerdict(301_000, 'sts').found, /301 s behind sts/);
});
