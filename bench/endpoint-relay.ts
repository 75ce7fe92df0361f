// Credential requests through the endpoint container (container mode: wrk → 169.254.170.2:80 in the
// container → relay → unix channel → the server's handler) against the same handler reached directly
// (host mode), measured with wrk in the same run; and the endpoint's start time against a bare
// container of the same image running `node -e 0`, plus the image's size.
// Needs root and a rootful engine on this machine (wrk on the host reaches the container's address).
// Usage: npm run bench endpoint
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnv } from '../src/config/env.js';
import { dockerClientFromEnv } from '../src/docker/engine/index.js';
import { EndpointManager } from '../src/docker/endpoint/manager.js';
import { removeEndpoint } from '../src/docker/endpoint/container.js';
import { ensureEndpointImage, type EngineInfo } from '../src/docker/endpoint/image.js';
import { LeaseTable } from '../src/leases/lease-table.js';
import { createHandler } from '../src/server/handler.js';
import { startServer } from '../src/server/index.js';
import { benchCredentials, best, wrk, type WrkResult } from './lib/wrk.js';

const NETWORK = 'keyless';

const creds = benchCredentials;

const env = loadEnv();
const docker = dockerClientFromEnv(env);
await docker.ping();
const info = await docker.json<EngineInfo>('GET', '/info');
const net = await docker
  .json<{ IPAM?: { Config?: { Gateway?: string }[] } }>('GET', `/networks/${NETWORK}`)
  .catch(() => undefined);
if (net?.IPAM?.Config?.some((c) => c.Gateway === '169.254.170.2')) {
  console.error(`endpoint bench: the "${NETWORK}" network is in host mode (gateway .2); remove it first.`);
  process.exit(2);
}
const createdNetwork = net === undefined;

const table = new LeaseTable(() => async () => creds);
const token = 'bench-token-bench-token-bench-token';
const options = { table, fullUri: { token, key: { roleArn: creds.roleArn as string } } };
const direct = await startServer([{ host: '127.0.0.1', port: 0 }], options);
const dPort = (direct.addresses[0] as { port: number }).port;

const home = await mkdtemp(join(tmpdir(), 'keyless-bench-endpoint-'));
await removeEndpoint(docker);
const t0 = performance.now();
const image = await ensureEndpointImage(docker, info);
const imageMs = performance.now() - t0;
const size = (await docker.json<{ Size: number }>('GET', `/images/${image.ref}/json`)).Size;

// baseline: a bare container of the same image running node -e 0, created, started and waited for
const b0 = performance.now();
const bare = await docker.json<{ Id: string }>('POST', '/containers/create', {
  body: {
    Image: image.ref,
    Entrypoint: ['/usr/local/bin/node', '-e', '0'],
    HostConfig: { AutoRemove: false },
  },
});
await docker.json('POST', `/containers/${bare.Id}/start`);
await docker.json('POST', `/containers/${bare.Id}/wait`, { timeoutMs: 60_000 });
const bareMs = performance.now() - b0;
await docker.json('DELETE', `/containers/${bare.Id}`, { query: { force: 1 } });

const manager = new EndpointManager({
  docker,
  network: { name: NETWORK, subnet: '169.254.170.0/24', gateway: '169.254.170.1' },
  channel: 'unix',
  hostAddress: '127.0.0.1',
  serverDir: join(home, 'server'),
  endpointDir: join(home, 'endpoint'),
  handler: createHandler({ ...options, isContainerAddress: () => true }),
  log: () => undefined,
});
const s0 = performance.now();
const st = await manager.ensure();
const startMs = performance.now() - s0;
if (!st.connected) throw new Error('the endpoint did not connect');

const results = {
  direct: [] as WrkResult[],
  relay: [] as WrkResult[],
};
for (let round = 0; round < 3; round++) {
  results.direct.push(await wrk(`http://127.0.0.1:${dPort}/v1/credentials`, [`Authorization: ${token}`]));
  results.relay.push(await wrk(`http://169.254.170.2/v1/credentials`, [`Authorization: ${token}`]));
}
const d = best(results.direct);
const r = best(results.relay);
console.log(
  `endpoint-relay: through the endpoint container ${r.rps.toFixed(0)} req/s p99 ${r.p99ms.toFixed(2)} ms; host mode ${d.rps.toFixed(0)} req/s p99 ${d.p99ms.toFixed(2)} ms`,
);
console.log(
  `endpoint-relay: throughput ratio ${(r.rps / d.rps).toFixed(2)} (container / host), added p99 ${(r.p99ms - d.p99ms).toFixed(2)} ms`,
);
console.log(
  `endpoint-relay: endpoint start (create, copy settings, start, first ping) ${startMs.toFixed(0)} ms = ${(startMs / bareMs).toFixed(2)}x a bare \`node -e 0\` container of the same image (${bareMs.toFixed(0)} ms); image ${image.ref} ${(size / 1e6).toFixed(1)} MB (${imageMs > 1000 ? `built in ${(imageMs / 1000).toFixed(1)} s` : 'already built'})`,
);
await manager.close({ remove: true });
await direct.close();
if (createdNetwork) await docker.json('DELETE', `/networks/${NETWORK}`).catch(() => undefined);
await rm(home, { recursive: true, force: true });
