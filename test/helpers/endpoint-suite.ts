// Registers the endpoint-container scenario as node:test tests for one engine setup.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, chown, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Scenario, clientCommands, type ScenarioEnv, type ScenarioSetup } from './endpoint-scenario.js';
import type { Moto } from './moto.js';

export interface SuiteContext {
  scenario: Scenario;
  moto: Moto;
  /** a folder the setup's user may write (compose files) */
  workDir: string;
}

export function endpointSuite(
  title: string,
  make: (t: {
    after: (fn: () => unknown) => void;
  }) => Promise<{ setup: ScenarioSetup; env: ScenarioEnv; moto: Moto } | undefined>,
): void {
  describe(title, { timeout: 1_200_000 }, () => {
    let ctx: SuiteContext | undefined;
    const cleanups: (() => Promise<void>)[] = [];
    const t0 = { after: (fn: () => unknown) => void cleanups.push(async () => void (await fn())) };
    before(async () => {
      const made = await make(t0);
      if (!made) return;
      const scenario = new Scenario(made.setup, made.env);
      await scenario.prepareNetwork();
      cleanups.push(() => scenario.cleanup());
      const workDir = await mkdtemp(join(made.env.home, 'work-'));
      await chown(workDir, made.setup.uid, made.setup.gid);
      ctx = { scenario, moto: made.moto, workDir };
    });
    after(async () => {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
    });
    const need = (t: { skip: (m: string) => void }): SuiteContext | undefined => {
      if (!ctx) t.skip('setup not available (KEYLESS_TEST_SKIP_DOCKER=1)');
      return ctx;
    };

    test('each client in a container gets the profile role through the endpoint container', async (t) => {
      const c = need(t);
      if (!c) return;
      for (const [name, cmd] of clientCommands(c.scenario.s, c.scenario.e.containerMotoUrl)) {
        const r = await c.scenario.runClient('app', cmd);
        assert.equal(r.code, 0, `${name}: ${r.stderr}`);
        assert.match(r.stdout.trim(), /^arn:aws:sts::123456789012:assumed-role\/runner\//, name);
      }
      const st = await c.scenario.status();
      assert.match(st, /mode container/);
      assert.match(st, new RegExp(`channel ${c.scenario.s.channel}:`));
      assert.match(st, /: connected/);
      // doctor tells the mode and why, and that the endpoint is connected
      const d = await c.scenario.keyless(['doctor', '--json'], 120_000);
      const checks = (JSON.parse(d.stdout) as { checks: { id: string; status: string; found: string }[] })
        .checks;
      const byId = Object.fromEntries(checks.map((x) => [x.id, x]));
      assert.match(byId['endpoint-mode']?.found ?? '', /container mode/);
      assert.equal(byId['credential-server']?.status, 'ok', byId['credential-server']?.found);
      assert.match(
        byId['credential-server']?.found ?? '',
        /container mode: endpoint \w+ over (unix|tcp):.*connected/,
      );
    });

    test('compose gives two services two roles', async (t) => {
      const c = need(t);
      if (!c) return;
      const project = `kl${process.pid}x${Date.now()}`;
      t.after(() => c.scenario.composeDown(c.workDir, project));
      const r = await c.scenario.compose(c.workDir, project);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /assumed-role\/runner\//);
      assert.match(r.stdout, /assumed-role\/other\//);
    });

    test('a stolen URI is refused; the channel needs its secret; inspect shows no secret', async (t) => {
      const c = need(t);
      if (!c) return;
      const sc = c.scenario;
      const a = `kl-a-${process.pid}-${Date.now()}`;
      const b = `kl-b-${process.pid}-${Date.now()}`;
      await sc.startSleeper(a, 'other');
      await sc.startSleeper(b, 'app');
      t.after(async () => void (await sc.s.docker(['rm', '-f', a, b])));
      const uriA =
        /AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=([^"]+)/.exec(
          (await sc.s.docker(['inspect', a])).stdout,
        )?.[1] ?? '';
      assert.match(uriA, /^\/v1\/creds\/[A-Za-z0-9_-]{43}$/);
      assert.equal(await sc.probeFrom(a, uriA), '200');
      const stolen = await sc.probeFrom(b, uriA);
      assert.match(stolen, /^4\d\d$/, `another container presenting the URI got ${stolen}`);
      const arn = await sc.sleeperArn(a);
      assert.equal(arn.code, 0, arn.stderr);
      assert.match(arn.stdout, /assumed-role\/other\//);
      assert.match(await sc.channelRequest('none'), /^HTTP\/1.1 401/);
      assert.match(await sc.channelRequest('wrong'), /^HTTP\/1.1 401/);
      // the same request with the secret reaches the server (which knows no such client)
      assert.match(await sc.channelRequest('right'), /^HTTP\/1.1 404/);
      await sc.assertInspectClean([a, b, 'keyless-endpoint']);
    });

    test('a killed endpoint container comes back within 10 s; a SIGKILLed server is restarted and reconnected', async (t) => {
      const c = need(t);
      if (!c) return;
      const sc = c.scenario;
      const name = `kl-k-${process.pid}-${Date.now()}`;
      await sc.startSleeper(name, 'app');
      t.after(async () => void (await sc.s.docker(['rm', '-f', name])));
      assert.equal((await sc.sleeperArn(name)).code, 0);
      const k = await sc.s.docker(['kill', 'keyless-endpoint']);
      assert.equal(k.code, 0, k.stderr);
      const t0 = Date.now();
      let ok = false;
      while (Date.now() - t0 < 10_000 && !ok) {
        ok = (await sc.probeFrom(name, '/v1/creds/not-a-client')) === '404';
        if (!ok) await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(ok, 'the endpoint answered again within 10 s of being killed');
      const back = Date.now() - t0;
      const arn = await sc.sleeperArn(name);
      assert.equal(arn.code, 0, arn.stderr);
      assert.match(arn.stdout, /assumed-role\/runner\//);
      t.diagnostic(`endpoint back ${back} ms after docker kill`);

      // SIGKILL the server: the next keyless run starts it again; the same endpoint container reconnects
      const before = await sc.endpointId();
      const pid = await sc.serverPid();
      assert.ok(pid > 1);
      process.kill(pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 300));
      const r = await sc.runClient('app', clientCommands(sc.s, sc.e.containerMotoUrl)[2]?.[1] as string[]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /assumed-role\/runner\//);
      const log = await readFile(join(sc.e.keylessHome, 'server', 'server.log'), 'utf8').catch(() => '');
      assert.equal(
        await sc.endpointId(),
        before,
        `the same endpoint container served before and after\n${log}`,
      );
      const after2 = await sc.sleeperArn(name);
      assert.equal(after2.code, 0, after2.stderr);
      assert.match(after2.stdout, /assumed-role\/runner\//);
    });

    test('serve --stop removes the endpoint container', async (t) => {
      const c = need(t);
      if (!c) return;
      const r = await c.scenario.keyless(['serve', '--stop'], 60_000);
      assert.equal(r.code, 0, r.stderr);
      const i = await c.scenario.s.docker(['inspect', 'keyless-endpoint']);
      assert.notEqual(i.code, 0, 'the endpoint container is gone');
    });
  });
}
