// keyless ui and keyless status with real parts: moto (signature checks on), a real Docker engine,
// keyless run, and Debian's chromium driven headless. A container appears on the page within 2 s of its
// first credential request, with its name, role and expiry; "Revoke" makes its next request get a 4xx
// and the page show it revoked; requests without the session cookie, with a forged Host, or actions
// without the CSRF token are refused; nothing secret reaches the page; the browser asks nothing of any
// other origin. A screenshot is kept under the run folder.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import {
  requireDocker,
  lockDockerBridge,
  blackholeBridgeAddress,
  ensureHostbaseImage,
  hostMounts,
  hostPythonPrefix,
  docker,
  recreateKeylessNetwork,
} from '../helpers/docker.js';
import type { Moto } from '../helpers/moto.js';
import { motoWithStoredProfile } from '../helpers/profiles.js';
import type { TestEnv } from '../helpers/env.js';
import { KEYLESS_BIN, runKeyless } from '../helpers/cli.js';
import { launchChromium, requireChromium } from '../helpers/browser.js';
import { artifactDir, REPO_ROOT } from '../helpers/artifacts.js';
import { validateStatus } from '../helpers/report-schemas.js';
import type { StatusSnapshot } from '../../src/server/status-types.js';
import { suiteScope } from '../helpers/suite-scope.js';

/** Python in the container: one credential request; prints the status and the answer's keys. */
const CREDENTIAL_REQUEST = [
  'import json, os, time, urllib.request, urllib.error',
  "url = 'http://169.254.170.2' + os.environ['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI']",
  'at = int(time.time() * 1000)',
  'try:',
  '    r = urllib.request.urlopen(url, timeout=15)',
  '    body = json.load(r)',
  "    print(json.dumps({'at': at, 'status': r.status, 'id': body['AccessKeyId'], 'secret': body['SecretAccessKey'], 'token': body['Token']}))",
  'except urllib.error.HTTPError as e:',
  "    print(json.dumps({'at': at, 'status': e.code}))",
].join('\n');

interface Answer {
  /** when the container sent the request (ms since the epoch; the container shares the host's clock) */
  at: number;
  status: number;
  id?: string;
  secret?: string;
  token?: string;
}

interface UiProcess {
  child: ChildProcess;
  loginUrl: string;
  origin: string;
  exited: Promise<number | null>;
}

async function startUi(env: Record<string, string>): Promise<UiProcess> {
  const child = spawn(process.execPath, [KEYLESS_BIN, 'ui', '--no-open'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const loginUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const line = /^(http:\/\/127\.0\.0\.1:\d+\/login\?token=[A-Za-z0-9_-]{43})\n/m.exec(out);
      if (line) resolve(line[1] as string);
    });
    void exited.then((code) => reject(new Error(`keyless ui exited (${code}): ${stderr}`)));
    setTimeout(() => reject(new Error(`keyless ui printed no address: ${out} ${stderr}`)), 30_000);
  });
  return { child, loginUrl, origin: new URL(loginUrl).origin, exited };
}

/** A raw HTTP request (fetch would not let a test forge the Host header). */
function raw(
  origin: string,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const u = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, method, path, headers, setHost: headers.Host === undefined },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        // an event stream never ends by itself: its first snapshot is enough
        const stream = res.headers['content-type']?.startsWith('text/event-stream') === true;
        if (stream) setTimeout(() => res.destroy(), 5_000).unref();
        res.on('data', (d: string) => {
          body += d;
          if (stream && /event: snapshot\ndata: .*\n\n/.test(body)) res.destroy();
        });
        res.on('close', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('keyless ui in a real browser (moto, real Docker engine, chromium)', { timeout: 600_000 }, () => {
  const ctx: {
    moto?: Moto;
    te?: TestEnv;
    ui?: UiProcess;
    browser?: Browser;
    page?: Page;
    cookie?: string;
    csrf?: string;
    name: string;
    tag?: string;
    first?: Answer;
    skip: boolean;
    outside: string[];
  } = { name: `keyless-ui-${Date.now()}`, skip: false, outside: [] };
  const t0 = suiteScope(() => (ctx.skip = true));
  const py = { prefix: '' };
  const exec = async (): Promise<Answer> => {
    const { stdout } = await docker(['exec', ctx.name, `${py.prefix}/bin/python3`, '-c', CREDENTIAL_REQUEST]);
    return JSON.parse(stdout.trim()) as Answer;
  };
  const env = (): Record<string, string> => ctx.te?.vars ?? {};

  before(async () => {
    if (!(await requireDocker(t0)) || !(await requireChromium(t0))) return;
    await lockDockerBridge(t0);
    await blackholeBridgeAddress(t0);
    await recreateKeylessNetwork(t0);
    ({ moto: ctx.moto, te: ctx.te } = await motoWithStoredProfile(t0, {
      moto: { host: '169.254.170.2', roles: ['viewer'] },
      awsConfig: '[profile app]\nrole_arn = ROLE:viewer\nsource_profile = dev\n',
    }));
    t0.after(async () => void (await runKeyless(['serve', '--stop'], { env: env() })));
    const image = await ensureHostbaseImage();
    py.prefix = await hostPythonPrefix();
    const r = await runKeyless(
      [
        'run',
        '--profile',
        'app',
        '--',
        '-d',
        '--name',
        ctx.name,
        '--pull',
        'never',
        ...(await hostMounts()),
        '-e',
        'AWS_EC2_METADATA_DISABLED=true',
        image,
        '/bin/sleep',
        '600',
      ],
      { env: env(), timeoutMs: 120_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    t0.after(async () => void (await docker(['rm', '-f', ctx.name]).catch(() => undefined)));
    ctx.ui = await startUi(env());
    t0.after(async () => void ctx.ui?.child.kill('SIGTERM'));
    ctx.browser = await launchChromium(t0);
    ctx.page = await ctx.browser.newPage();
    // every request the browser makes must go to the page's own origin
    ctx.page.on('request', (req) => {
      if (!req.url().startsWith(`${ctx.ui?.origin}/`)) ctx.outside.push(req.url());
    });
  });
  after(async () => {
    await t0.runCleanups();
  });

  test('the one-time login sets an HttpOnly SameSite=Strict cookie, and the page goes live', async (t) => {
    if (ctx.skip) return t.skip('no Docker or no chromium (opted out)');
    const page = ctx.page as Page;
    const ui = ctx.ui as UiProcess;
    const res = await page.goto(ui.loginUrl, { waitUntil: 'domcontentloaded' });
    assert.equal(new URL(page.url()).pathname, '/', 'redirected to the page');
    const csp = res?.headers()['content-security-policy'] ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    await page.waitForSelector('#conn.live', { timeout: 10_000 });
    const cookies = await page.browserContext().cookies();
    const session = cookies.find((c) => c.name === 'keyless_ui_session');
    assert.ok(session, 'a session cookie');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(await page.evaluate(() => document.cookie), '', 'the script cannot read the cookie');
    ctx.cookie = `${session.name}=${session.value}`;
    ctx.csrf = await page.$eval('meta[name="csrf-token"]', (m) => m.getAttribute('content') ?? '');
    assert.match(ctx.csrf, /^[A-Za-z0-9_-]{43}$/);
    // the login link works once
    const again = await raw(
      ui.origin,
      'GET',
      new URL(ui.loginUrl).pathname + new URL(ui.loginUrl).search,
      {},
    );
    assert.equal(again.status, 403);
  });

  test('a container appears within 2 s of its first credential request, with name, role and expiry', async (t) => {
    if (ctx.skip || !ctx.csrf) return t.skip('needs the login test');
    const page = ctx.page as Page;
    const started = Date.now();
    ctx.first = await exec();
    const answered = Date.now();
    // the container's clock is the host's; its reading is taken just before the request
    assert.ok(ctx.first.at >= started - 50 && ctx.first.at <= answered, 'the request time is plausible');
    assert.equal(ctx.first.status, 200);
    assert.match(ctx.first.id ?? '', /^ASIA/);
    const row = `tr[data-client][data-state="bound"]`;
    await page.waitForFunction(
      (sel: string, name: string) =>
        Array.from(document.querySelectorAll(sel)).some(
          (tr) =>
            tr.querySelector('td.name')?.textContent === name &&
            tr.querySelector('td.expires[data-time]') !== null,
        ),
      { timeout: 5_000, polling: 25 },
      row,
      ctx.name,
    );
    const appeared = Date.now();
    const ms = appeared - ctx.first.at;
    t.diagnostic(
      `on the page ${ms} ms after the first credential request (${appeared - answered} ms after docker exec returned; docker exec and python start-up took ${ctx.first.at - started} ms before it)`,
    );
    assert.ok(ms < 2000, `appeared after ${ms} ms`);
    const cells = await page.$eval(`tr[data-client][data-state="bound"]`, (tr) => ({
      tag: (tr as HTMLElement).dataset.client ?? '',
      name: tr.querySelector('td.name')?.textContent ?? '',
      image: tr.querySelector('td.image')?.textContent ?? '',
      role: tr.querySelector('td.role')?.textContent ?? '',
      expires: tr.querySelector('td.expires')?.getAttribute('data-time') ?? '',
    }));
    ctx.tag = cells.tag;
    assert.equal(cells.name, ctx.name);
    assert.equal(cells.image, 'local/hostbase:latest');
    assert.equal(cells.role, ctx.moto?.identity.roles.viewer);
    assert.ok(Date.parse(cells.expires) > Date.now() + 10 * 60_000, `expiry ${cells.expires}`);
    // the request count arrives with the audit log's next batch (about a second)
    await page.waitForFunction(
      (tag: string) => document.querySelector(`tr[data-client="${tag}"] td.requests`)?.textContent === '1',
      { timeout: 5_000 },
      cells.tag,
    );
  });

  test('keyless status --json matches docs/schemas/status.v1.schema.json and names the container', async (t) => {
    if (ctx.skip || !ctx.tag) return t.skip('needs the container');
    const r = await runKeyless(['status', '--json'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as StatusSnapshot;
    const v = validateStatus(doc);
    assert.ok(v.valid, v.errors.join('\n'));
    const c = doc.clients.find((x) => x.tag === ctx.tag);
    assert.equal(c?.container?.name, ctx.name);
    assert.equal(c?.state, 'bound');
    assert.equal(doc.leases[0]?.accessKeyId, `${ctx.first?.id?.slice(0, 4)}…${ctx.first?.id?.slice(-4)}`);
    const text = await runKeyless(['status'], { env: env() });
    assert.match(text.stdout, new RegExp(`${ctx.tag}\\s+${ctx.name} \\(local/hostbase:latest\\)`));
  });

  test('no secret on the page, in its API or in its event stream', async (t) => {
    if (ctx.skip || !ctx.first?.secret) return t.skip('needs the container');
    const page = ctx.page as Page;
    const ui = ctx.ui as UiProcess;
    const secrets = [
      ctx.first.secret,
      ctx.first.token as string,
      ctx.first.id as string,
      ctx.moto?.identity.secretAccessKey as string,
      ctx.moto?.identity.accessKeyId as string,
    ];
    const api = await raw(ui.origin, 'GET', '/api/status', { Cookie: ctx.cookie ?? '' });
    const events = await raw(ui.origin, 'GET', '/api/events', { Cookie: ctx.cookie ?? '' });
    assert.equal(api.status, 200);
    assert.match(events.body, /event: snapshot/);
    const html = await page.content();
    for (const text of [html, api.body, events.body])
      for (const s of secrets) assert.ok(!text.includes(s), 'a secret or a full key id reached the page');
    const shots = await artifactDir('ui');
    await page.screenshot({ path: join(shots, 'ui-live.png'), fullPage: true });
    // the README's picture is this screenshot, refreshed on request
    if (process.env.KEYLESS_UPDATE_DOCS_IMAGES === '1') {
      await mkdir(join(REPO_ROOT, 'docs', 'images'), { recursive: true });
      await copyFile(join(shots, 'ui-live.png'), join(REPO_ROOT, 'docs', 'images', 'ui.png'));
    }
  });

  test('refused: no session cookie, a forged Host, an action without or with a wrong CSRF token', async (t) => {
    if (ctx.skip || !ctx.tag) return t.skip('needs the container');
    const ui = ctx.ui as UiProcess;
    const cookie = ctx.cookie ?? '';
    const host = new URL(ui.origin).host;
    for (const path of ['/', '/api/status', '/api/events', '/app.js'])
      assert.equal((await raw(ui.origin, 'GET', path, {})).status, 401, `GET ${path} without cookie`);
    assert.equal((await raw(ui.origin, 'GET', '/', { Cookie: 'keyless_ui_session=forged' })).status, 401);
    for (const forged of ['rebound.example:80', `localhost:${new URL(ui.origin).port}`, 'evil.test'])
      assert.equal(
        (await raw(ui.origin, 'GET', '/api/status', { Host: forged, Cookie: cookie })).status,
        403,
        `Host ${forged}`,
      );
    const revoke = `/api/clients/${ctx.tag}/revoke`;
    assert.equal((await raw(ui.origin, 'POST', revoke, {})).status, 401, 'action without cookie');
    assert.equal((await raw(ui.origin, 'POST', revoke, { Cookie: cookie })).status, 403, 'no CSRF');
    assert.equal(
      (await raw(ui.origin, 'POST', revoke, { Cookie: cookie, 'X-CSRF-Token': `${ctx.csrf}x` })).status,
      403,
      'wrong CSRF',
    );
    assert.equal(
      (
        await raw(ui.origin, 'POST', revoke, {
          Cookie: cookie,
          'X-CSRF-Token': ctx.csrf ?? '',
          Origin: 'http://rebound.example',
        })
      ).status,
      403,
      'foreign Origin',
    );
    assert.equal(
      (await raw(ui.origin, 'POST', '/api/server/stop', { Cookie: cookie, Host: host })).status,
      403,
      'stop without CSRF',
    );
    // none of that revoked anything: the container still gets credentials
    assert.equal((await exec()).status, 200);
  });

  test('"Revoke" makes the next request get a 4xx and the page show it revoked', async (t) => {
    if (ctx.skip || !ctx.tag) return t.skip('needs the container');
    const page = ctx.page as Page;
    await page.click(`tr[data-client="${ctx.tag}"] button.revoke`);
    await page.waitForSelector(`tr[data-client="${ctx.tag}"][data-state="revoked"]`, { timeout: 5_000 });
    const after = await exec();
    assert.ok(after.status >= 400 && after.status < 500, `status ${after.status}`);
    assert.equal(after.secret, undefined);
    // the refusal shows up too (from the audit log's next batch)
    await page.waitForFunction(
      (tag: string) =>
        Number(document.querySelector(`tr[data-client="${tag}"] td.refused`)?.textContent) >= 1,
      { timeout: 5_000 },
      ctx.tag,
    );
    await page.screenshot({ path: join(await artifactDir('ui'), 'ui-revoked.png'), fullPage: true });
    const st = JSON.parse((await runKeyless(['status', '--json'], { env: env() })).stdout) as StatusSnapshot;
    assert.equal(st.clients.find((c) => c.tag === ctx.tag)?.state, 'revoked');
  });

  test('"Stop server" stops the credential server; the page says so and keyless ui ends', async (t) => {
    if (ctx.skip || !ctx.tag) return t.skip('needs the container');
    const page = ctx.page as Page;
    await page.click('#stop');
    await page.click('#stop');
    await page.waitForFunction(() => document.querySelector('#conn')?.textContent === 'server stopped', {
      timeout: 10_000,
    });
    const code = await Promise.race([
      ctx.ui?.exited,
      new Promise((r) => setTimeout(() => r('still running'), 10_000)),
    ]);
    assert.equal(code, 0);
    const st = await runKeyless(['status'], { env: env() });
    assert.equal(st.code, 1);
    assert.match(st.stderr, /no keyless credential server answers/);
    assert.deepEqual(ctx.outside, [], 'the browser asked another origin');
  });
});
