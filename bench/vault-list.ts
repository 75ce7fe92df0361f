// `keyless list` with 20 profiles in the file vault, against two references measured in the same
// run: `keyless --version` (process start, no vault) and `keyless list` with 1 profile. scrypt runs
// once per process whatever the number of items, so list(20) / list(1) should stay close to 1.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileStore } from '../src/store/file-store.js';

const BIN = fileURLToPath(new URL('../bin/keyless.js', import.meta.url));
const RUNS = 5;
const PASS = 'bench passphrase';

async function vaultWith(n: number): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'keyless-bench-'));
  const store = new FileStore({
    vaultDir: join(home, 'vault'),
    sessionsDir: join(home, 'sessions'),
    lockFile: join(home, 'locks', 'vault.lock'),
    passphrase: async () => PASS,
  });
  for (let i = 0; i < n; i++) {
    const id = `AKIA${String(i).padStart(16, '0')}`;
    await store.putRecord({
      profile: `profile-${i}`,
      key: { accessKeyId: id, secretAccessKey: 'x'.repeat(40) },
      addedAt: new Date().toISOString(),
    });
  }
  return home;
}

function median(args: string[], home: string): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [BIN, ...args], {
      env: { ...process.env, KEYLESS_HOME: home, KEYLESS_PASSPHRASE: PASS },
      encoding: 'utf8',
    });
    times.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`keyless ${args.join(' ')} failed: ${r.stderr}`);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)] as number;
}

const one = await vaultWith(1);
const twenty = await vaultWith(20);
try {
  const version = median(['--version'], one);
  const list1 = median(['list'], one);
  const list20 = median(['list'], twenty);
  console.log(`keyless --version            ${version.toFixed(0)} ms (reference)`);
  console.log(`keyless list, 1 profile      ${list1.toFixed(0)} ms`);
  console.log(`keyless list, 20 profiles    ${list20.toFixed(0)} ms`);
  console.log(`ratio list(20) / list(1)     ${(list20 / list1).toFixed(2)}`);
  console.log(`ratio list(20) / --version   ${(list20 / version).toFixed(2)}`);
} finally {
  rmSync(one, { recursive: true, force: true });
  rmSync(twenty, { recursive: true, force: true });
}
