// docker-credential-keyless `get` answered from its cache vs `node -e 0`, whole processes, same
// environment (NODE_EXTRA_CA_CERTS included), in one run; printed as a ratio. Usage: npm run bench ecr
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheKey } from '../src/ecr/token-cache.js';

const HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const home = mkdtempSync(join(tmpdir(), 'keyless-bench-'));
mkdirSync(join(home, 'ecr'), { recursive: true, mode: 0o700 });
const now = Date.now();
const key = cacheKey({ kind: 'private', host: HOST, region: 'us-east-1', identity: 'profile:bench' });
writeFileSync(
  join(home, 'ecr', 'tokens.json'),
  JSON.stringify({
    version: 1,
    tokens: { [key]: { username: 'AWS', secret: 'x', requestedAt: now, expiresAt: now + 12 * 3600_000 } },
  }),
  { mode: 0o600 },
);
const helper = fileURLToPath(new URL('../bin/docker-credential-keyless.js', import.meta.url));
const env = { ...process.env, KEYLESS_HOME: home, AWS_PROFILE: 'bench' };
const RUNS = Number(process.env.BENCH_RUNS ?? 20);

function time(args: string[], input?: string): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, input: input ?? '', encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stdout}${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
function timeCmd(cmd: string, args: string[]): number {
  const t = process.hrtime.bigint();
  spawnSync(cmd, args, { env, input: '' });
  return Number(process.hrtime.bigint() - t) / 1e6;
}
const helperTimes: number[] = [];
const nodeTimes: number[] = [];
const goTimes: number[] = [];
const hasGo = spawnSync('docker-credential-ecr-login', ['version']).status === 0;
for (let i = 0; i < RUNS; i++) {
  nodeTimes.push(time(['-e', '0']));
  helperTimes.push(time([helper, 'get'], HOST));
  // the Go helper's start-up floor (`version`: no AWS call; its cached get needs real AWS credentials)
  if (hasGo) goTimes.push(timeCmd('docker-credential-ecr-login', ['version']));
}
const h = median(helperTimes);
const n = median(nodeTimes);
console.log(
  `ecr-helper-startup: get from cache ${h.toFixed(1)} ms, node -e 0 ${n.toFixed(1)} ms (medians of ${RUNS}); ratio to node -e 0 ${(h / n).toFixed(2)} (target <= 1.5); NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS ? 'set' : 'unset'}`,
);
if (goTimes.length > 0) {
  const g = median(goTimes);
  console.log(
    `ecr-helper-startup: docker-credential-ecr-login version ${g.toFixed(1)} ms; ratio keyless cached get / Go helper start ${(h / g).toFixed(2)}`,
  );
}
