// The refresh path of a credential source (what the credential server and `keyless export` pay while
// a session is cached), against moto. Reported as ratios measured in one run:
//  - memory:  the same source called again (answer kept in memory)
//  - store:   a new source per call (opens the file store: scrypt, reads and decrypts the cached session)
//  - sts:     a new source per call with an empty session cache (the AssumeRole round trip)
// Usage: npm run bench sources
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnv } from '../src/config/env.js';
import { createCredentialSource } from '../src/sources/index.js';
import { openStore } from '../src/store/index.js';
import { startMoto } from '../test/helpers/moto.js';

const moto = await startMoto(undefined, { roles: ['app'] });
const home = mkdtempSync(join(tmpdir(), 'keyless-bench-'));
const configFile = join(home, 'config');
writeFileSync(configFile, `[profile app]\nrole_arn = ${moto.identity.roles.app}\nsource_profile = dev\n`);
const vars = {
  HOME: home,
  KEYLESS_HOME: join(home, 'keyless'),
  KEYLESS_PASSPHRASE: 'bench passphrase',
  AWS_CONFIG_FILE: configFile,
  AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
  AWS_ENDPOINT_URL: moto.url,
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
};
const env = loadEnv(vars);
await (
  await openStore(env)
).putKey('dev', { accessKeyId: moto.identity.accessKeyId, secretAccessKey: moto.identity.secretAccessKey });

async function perCall(n: number, fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  return Number(process.hrtime.bigint() - start) / 1e6 / n;
}

const kept = await createCredentialSource({ profile: 'app' }, { env });
await kept();
const memory = await perCall(2000, () => kept());
const store = await perCall(10, async () => (await createCredentialSource({ profile: 'app' }, { env }))());
const sts = await perCall(10, async () =>
  (await createCredentialSource({ profile: 'app' }, { env, minValidityMs: Number.MAX_SAFE_INTEGER }))(),
);
console.log(
  `sources-refresh: per call memory ${memory.toFixed(4)} ms, store ${store.toFixed(2)} ms, sts ${sts.toFixed(2)} ms`,
);
console.log(
  `sources-refresh: store/memory ${(store / memory).toFixed(0)}x, sts/store ${(sts / store).toFixed(2)}x (AssumeRole calls: ${moto.countRequests('AssumeRole')})`,
);
await moto.stop();
rmSync(home, { recursive: true, force: true });
