// The reliability soak (issue 21), against a real `keyless serve` process and moto with signature
// checks, loopback only, every loop bounded in count and time. Prints its figures; exits 1 on a miss.
//   SOAK_SECONDS (default 30): load per endpoint. npm run soak runs the full version; the test
//   test/integration/soak-short.test.ts runs it with 3 s.
// Checks: maximum load (wrk) on the ECS full URI and on the IMDS credentials path: RSS under 150 MB
// (from the first answer on), no errors, one STS call per role, every request counted in the audit
// log, its files within the rotation limit; then 10,000 malformed requests: no crash, RSS back under
// 150 MB, a valid request after.
import { spawn, execFile } from 'node:child_process';
import { readFile, readdir, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { motoWithStoredProfile } from '../helpers/profiles.js';
import { KEYLESS_BIN } from '../helpers/cli.js';
import { freePort, waitForPort } from '../helpers/net.js';
import { AUDIT_DEFAULTS } from '../../src/leases/audit-log.js';

const exec = promisify(execFile);
const SECONDS = Number(process.env.SOAK_SECONDS ?? 30);
const RSS_LIMIT_MB = 150;
const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
const failures: string[] = [];
const check = (ok: boolean, what: string): void => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

async function rssMb(pid: number): Promise<number> {
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024;
}

async function wrk(
  url: string,
  headers: string[],
): Promise<{ requests: number; errors: number; rps: number }> {
  const { stdout } = await exec(
    'wrk',
    ['-t2', '-c64', `-d${SECONDS}s`, ...headers.flatMap((h) => ['-H', h]), url],
    { maxBuffer: 1 << 20, timeout: (SECONDS + 60) * 1000 },
  );
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const errors = non2xx + (sock ? sock.slice(1).reduce((n, x) => n + Number(x), 0) : 0);
  return { requests, errors, rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0) };
}

async function sampleWhile<T>(pid: number, work: Promise<T>): Promise<{ result: T; peakMb: number }> {
  let peakMb = 0;
  let done = false;
  const sampler = (async () => {
    while (!done) {
      peakMb = Math.max(peakMb, await rssMb(pid).catch(() => 0));
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const result = await work;
  done = true;
  await sampler;
  return { result, peakMb };
}

async function auditCount(dir: string): Promise<{ count: number; files: string[]; biggest: number }> {
  const files = (await readdir(dir)).filter((f) => f.startsWith('audit.log'));
  let count = 0;
  let biggest = 0;
  for (const f of files) {
    biggest = Math.max(biggest, (await stat(join(dir, f))).size);
    for (const line of (await readFile(join(dir, f), 'utf8')).split('\n')) {
      if (!line) continue;
      const e = JSON.parse(line) as { outcome?: string; count?: number };
      if (e.outcome === 'ok') count += e.count ?? 1;
    }
  }
  return { count, files, biggest };
}

async function main(): Promise<void> {
  const { moto, te } = await motoWithStoredProfile(t, {
    moto: { roles: ['soak'] },
    awsConfig: '[profile app]\nrole_arn = ROLE:soak\nsource_profile = dev\n',
  });
  const port = await freePort();
  const server = spawn(
    process.execPath,
    [KEYLESS_BIN, 'serve', '--profile', 'app', '--listen', `127.0.0.1:${port}`, '--imds'],
    { env: te.vars, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  server.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  server.stderr.resume();
  t.after(() => server.kill('SIGKILL'));
  await waitForPort('127.0.0.1', port, 60_000);
  for (let i = 0; i < 100 && !out.includes('AUTHORIZATION_TOKEN='); i++)
    await new Promise((r) => setTimeout(r, 50));
  const token = /AWS_CONTAINER_AUTHORIZATION_TOKEN=(\S+)/.exec(out)?.[1] ?? '';
  const pid = server.pid as number;
  moto.resetCounts();
  const first = await fetch(`http://127.0.0.1:${port}/v1/credentials`, { headers: { Authorization: token } });
  check(first.status === 200, `first answer 200 (got ${first.status})`);
  const baseMb = await rssMb(pid);

  const ecs = await sampleWhile(
    pid,
    wrk(`http://127.0.0.1:${port}/v1/credentials`, [`Authorization: ${token}`]),
  );
  console.log(
    `ECS full URI: ${ecs.result.requests} requests in ${SECONDS} s (${ecs.result.rps.toFixed(0)}/s), ${ecs.result.errors} errors, RSS ${baseMb.toFixed(0)} -> peak ${ecs.peakMb.toFixed(0)} MB`,
  );
  check(ecs.result.errors === 0, 'ECS: 0 errors');
  check(ecs.peakMb < RSS_LIMIT_MB, `ECS: peak RSS ${ecs.peakMb.toFixed(0)} MB < ${RSS_LIMIT_MB}`);

  const tokenRes = await fetch(`http://127.0.0.1:${port}/latest/api/token`, {
    method: 'PUT',
    headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '21600' },
  });
  const imdsToken = await tokenRes.text();
  const roleName = await (
    await fetch(`http://127.0.0.1:${port}/latest/meta-data/iam/security-credentials/`, {
      headers: { 'X-aws-ec2-metadata-token': imdsToken },
    })
  ).text();
  const imds = await sampleWhile(
    pid,
    wrk(`http://127.0.0.1:${port}/latest/meta-data/iam/security-credentials/${roleName}`, [
      `X-aws-ec2-metadata-token: ${imdsToken}`,
    ]),
  );
  console.log(
    `IMDS: ${imds.result.requests} requests (${imds.result.rps.toFixed(0)}/s), ${imds.result.errors} errors, peak RSS ${imds.peakMb.toFixed(0)} MB`,
  );
  check(imds.result.errors === 0, 'IMDS: 0 errors');
  check(imds.peakMb < RSS_LIMIT_MB, `IMDS: peak RSS ${imds.peakMb.toFixed(0)} MB < ${RSS_LIMIT_MB}`);
  const sts = moto.countRequests('AssumeRole');
  check(sts === 1, `one STS call for the role (AssumeRole ${sts})`);

  // 10,000 malformed requests, 50 connections at a time
  const garbage = [
    'GET /v1/credentials HTTP/1.1\r\nHost: x\r\nAuthorization: ' + 'A'.repeat(20_000) + '\r\n\r\n',
    'PUT /latest/api/token HTTP/1.1\r\nX-aws-ec2-metadata-token-ttl-seconds: -5\r\n\r\n',
    '\x00\x01\x02\x03 not http at all\r\n\r\n',
    'GET /v1/creds/../../etc/passwd HTTP/1.1\r\n\r\n',
    'POST /v1/credentials HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello',
  ];
  let sent = 0;
  const one = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.setTimeout(5_000, () => s.destroy());
      s.on('error', () => resolve());
      s.on('close', () => resolve());
      s.on('data', () => undefined);
      s.end(garbage[i % garbage.length] as string);
      sent++;
    });
  for (let i = 0; i < 10_000; i += 50) await Promise.all(Array.from({ length: 50 }, (_, k) => one(i + k)));
  await new Promise((r) => setTimeout(r, 1_000));
  const alive = server.exitCode === null && server.signalCode === null;
  check(alive, `alive after ${sent} malformed requests`);
  const afterMb = await rssMb(pid).catch(() => Infinity);
  check(
    afterMb < RSS_LIMIT_MB,
    `RSS after the malformed requests ${afterMb.toFixed(0)} MB < ${RSS_LIMIT_MB}`,
  );
  const valid = await fetch(`http://127.0.0.1:${port}/v1/credentials`, { headers: { Authorization: token } });
  check(valid.status === 200, `a valid request after them: ${valid.status}`);

  // the audit log accounts for every request: SIGTERM flushes it
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  const audit = await auditCount(te.keylessHome);
  const want = 1 + ecs.result.requests + imds.result.requests + 1;
  console.log(
    `audit log: ${audit.count} ok requests counted in ${audit.files.length} file(s), biggest ${(audit.biggest / 1e6).toFixed(2)} MB (wrk reported ${want - 2} + 2 single requests)`,
  );
  // wrk counts requests whose answer arrived; the server may have answered a few more as wrk stopped
  check(
    audit.count >= want && audit.count <= want + 200,
    `every request counted in the audit log (${audit.count} for ${want})`,
  );
  check(
    audit.files.length <= AUDIT_DEFAULTS.keep + 1,
    `audit files within the rotation limit (${audit.files.length})`,
  );
  check(audit.biggest <= AUDIT_DEFAULTS.maxBytes, 'each audit file within its size limit');
}

try {
  await main();
} finally {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
}
console.log(failures.length ? `soak: ${failures.length} check(s) failed` : 'soak: all checks passed');
process.exitCode = failures.length ? 1 : 0;
