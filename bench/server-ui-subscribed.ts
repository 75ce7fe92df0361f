// Credential requests/s of keyless's ECS endpoint with a `keyless ui` page open and subscribed to the
// live status, and with only a subscriber inside the server (its own share of the work), against no
// page, in one run (rounds alternate). The server is the real one: lease table,
// folded audit log feeding the status service, control socket; the page is `keyless ui` (a child
// process) opened in Debian's chromium (puppeteer-core), or followed by a bare event-stream reader when
// chromium is missing. Usage: npm run bench ui
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keylessPaths } from '../src/config/paths.js';
import { fileAuditLog } from '../src/leases/audit-log.js';
import { LeaseTable } from '../src/leases/lease-table.js';
import { startControlSocket } from '../src/server/control-socket.js';
import { startServer } from '../src/server/index.js';
import { createStatusService } from '../src/server/status-service.js';
import { benchCredentials, best, wrk, type WrkResult } from './lib/wrk.js';

const KEYLESS_BIN = fileURLToPath(new URL('../bin/keyless.js', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';

const home = await mkdtemp(join(tmpdir(), 'keyless-bench-ui-'));
const paths = keylessPaths(home);
const table = new LeaseTable(() => async () => benchCredentials);
const token = 'bench-token-bench-token-bench-token';
const key = { roleArn: benchCredentials.roleArn as string };
const startedAt = Date.now();
let listen: string[] = [];
const status = createStatusService({
  table,
  defaultKey: key,
  facts: () => ({ pid: process.pid, mode: 'host', listen, startedAt, imds: false }),
  stop: () => undefined,
});
const server = await startServer([{ host: '127.0.0.1', port: 0 }], {
  table,
  fullUri: { token, key },
  audit: fileAuditLog(paths.auditLog, { onBatch: (r) => status.onAuditBatch(r) }),
});
listen = server.addresses.map((a) => `${a.host}:${a.port}`);
const control = await startControlSocket(paths.controlSocket, table, () => ({ pid: process.pid, listen }), {
  status,
});
const url = `http://${listen[0]}/v1/credentials`;
await fetch(url, { headers: { Authorization: token } });

// keyless ui against this server
const ui = spawn(process.execPath, [KEYLESS_BIN, 'ui', '--no-open'], {
  env: { ...process.env, KEYLESS_HOME: home },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const loginUrl = await new Promise<string>((resolve, reject) => {
  let out = '';
  ui.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    const m = /^(http:\S+)\n/m.exec(out);
    if (m) resolve(m[1] as string);
  });
  ui.on('exit', (code) => reject(new Error(`keyless ui exited (${code})`)));
});
const origin = new URL(loginUrl).origin;

interface Page {
  kind: string;
  open(): Promise<void>;
  close(): Promise<void>;
  dispose(): Promise<void>;
}

async function chromiumPage(): Promise<Page> {
  const { launch } = await import('puppeteer-core');
  const browser = await launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: join(home, 'chromium'),
    args: [
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-extensions',
      '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
    ],
  });
  const page = await browser.newPage();
  await page.goto(loginUrl);
  await page.goto('about:blank');
  return {
    kind: 'chromium page',
    open: async () => {
      await page.goto(`${origin}/`);
      await page.waitForSelector('#conn.live');
    },
    close: async () => void (await page.goto('about:blank')),
    dispose: () => browser.close(),
  };
}

async function streamReader(): Promise<Page> {
  const login = await fetch(loginUrl, { redirect: 'manual' });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  let abort: AbortController | undefined;
  return {
    kind: 'event-stream reader (no chromium)',
    open: async () => {
      abort = new AbortController();
      const res = await fetch(`${origin}/api/events`, { headers: { Cookie: cookie }, signal: abort.signal });
      void res.body?.pipeTo(new WritableStream()).catch(() => undefined);
    },
    close: async () => abort?.abort(),
    dispose: async () => undefined,
  };
}

const hasChromium = await import('node:fs/promises').then((fs) =>
  fs.access(CHROMIUM).then(
    () => true,
    () => false,
  ),
);
const page = hasChromium ? await chromiumPage() : await streamReader();
const until = async (want: number): Promise<void> => {
  for (let i = 0; i < 100 && status.subscribers !== want; i++) await new Promise((r) => setTimeout(r, 50));
  if (status.subscribers !== want)
    throw new Error(`expected ${want} subscriber(s), have ${status.subscribers}`);
};

const results = { none: [] as WrkResult[], server: [] as WrkResult[], page: [] as WrkResult[] };
let events = 0;
const count = (): void => void events++;
// five alternating rounds, best of each: this machine's other load moves single runs by +-15%
for (let round = 0; round < 5; round++) {
  await page.close();
  await until(0);
  results.none.push(await wrk(url, [`Authorization: ${token}`]));
  // the server's own share: a subscriber in this process (snapshots built and sent, nothing else runs)
  const off = status.subscribe(count);
  results.server.push(await wrk(url, [`Authorization: ${token}`]));
  off();
  // the whole thing: keyless ui relaying to a page in chromium that renders each change
  await page.open();
  await until(1);
  const offPage = status.subscribe(count);
  results.page.push(await wrk(url, [`Authorization: ${token}`]));
  offPage();
}
const n = best(results.none);
const sv = best(results.server);
const p = best(results.page);
const line = (r: WrkResult): string => `${r.rps.toFixed(0)} req/s p99 ${r.p99ms.toFixed(2)} ms`;
console.log(
  `server-ui-subscribed: no page ${line(n)}; a subscriber in the server ${line(sv)}; ${page.kind} subscribed ${line(p)} (${events} status events while subscribed)`,
);
console.log(
  `server-ui-subscribed: throughput ratio with a subscriber ${(sv.rps / n.rps).toFixed(2)} (the server's own work; target >= 0.95), with the ${page.kind} ${(p.rps / n.rps).toFixed(2)} (keyless ui and the browser share these 2 cores with wrk)`,
);
await page.close();
await page.dispose();
ui.kill('SIGTERM');
await server.close();
control.close();
await rm(home, { recursive: true, force: true });
