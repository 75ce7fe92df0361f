// Cached credential requests/s and p99 latency of keyless's ECS endpoint vs a bare node:http server
// returning the same bytes, measured in one run with wrk (Debian package), printed as ratios.
// Usage: npm run bench server
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileAuditLog } from '../src/leases/audit-log.js';
import { LeaseTable } from '../src/leases/lease-table.js';
import { startServer } from '../src/server/index.js';
import { benchCredentials, best, wrk, type WrkResult } from './lib/wrk.js';

const creds = benchCredentials;

const table = new LeaseTable(() => async () => creds);
const token = 'bench-token-bench-token-bench-token';
// as the real server: with its audit log (folded, one write per second)
const auditDir = await mkdtemp(join(tmpdir(), 'keyless-bench-audit-'));
const keyless = await startServer([{ host: '127.0.0.1', port: 0 }], {
  table,
  fullUri: { token, key: { roleArn: creds.roleArn as string } },
  audit: fileAuditLog(join(auditDir, 'audit.log')),
});
const kPort = (keyless.addresses[0] as { port: number }).port;
const body = await (
  await fetch(`http://127.0.0.1:${kPort}/v1/credentials`, { headers: { Authorization: token } })
).text();
const bare = createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
});
await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
const bPort = (bare.address() as { port: number }).port;

const results = {
  keyless: [] as WrkResult[],
  bare: [] as WrkResult[],
};
for (let round = 0; round < 3; round++) {
  results.bare.push(await wrk(`http://127.0.0.1:${bPort}/v1/credentials`, [`Authorization: ${token}`]));
  results.keyless.push(await wrk(`http://127.0.0.1:${kPort}/v1/credentials`, [`Authorization: ${token}`]));
}
const k = best(results.keyless);
const b = best(results.bare);
console.log(
  `server-credentials: keyless ${k.rps.toFixed(0)} req/s p99 ${k.p99ms.toFixed(2)} ms; bare node:http ${b.rps.toFixed(0)} req/s p99 ${b.p99ms.toFixed(2)} ms`,
);
console.log(
  `server-credentials: throughput ratio ${(k.rps / b.rps).toFixed(2)} (target >= 0.9), p99 ratio ${(k.p99ms / b.p99ms).toFixed(2)} (keyless / bare)`,
);
await keyless.close();
bare.close();
await rm(auditDir, { recursive: true, force: true });
