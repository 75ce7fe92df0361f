// Scan throughput on a generated `docker save` tarball (default 1 GiB: 8 plain-tar layers of many
// small text files, one large text file and binaries each, a few planted key pairs) next to ripgrep
// searching the same bytes for the same key-id pattern, in one run, as a ratio. keyless runs in a
// child process so its peak resident memory is measured too. Usage: npm run bench scan
// (BENCH_MB=256 for a quicker run; BENCH_BASELINE=OTHER/dist also scans with an earlier build, in
// turn with this one, and gives the ratio).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../test/helpers/keys.js';

const TOTAL_MB = Number(process.env.BENCH_MB ?? 1024);
const LAYERS = 8;
const LAYER_BYTES = (TOTAL_MB * 1024 * 1024) / LAYERS;
const KEY_ID_RE = '(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}';

/** A ustar header for a regular file. */
function tarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

function tarEntry(name: string, data: Buffer): Buffer[] {
  const pad = (512 - (data.length % 512)) % 512;
  return [tarHeader(name, data.length), data, Buffer.alloc(pad)];
}

// Source-like text: words, identifiers, hex ids, base64 blobs; a few files mention sessions/secrets
// (they go through the detectors, as real code does).
const WORDS = [
  'const',
  'function',
  'return',
  'import',
  'export',
  'value',
  'config',
  'server',
  'region',
  'bucket',
];
function textFile(bytes: number, sessionWords: boolean): string {
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const w = Array.from({ length: 8 }, () => WORDS[randomInt(WORDS.length)]).join(' ');
    const extra = randomInt(10) === 0 ? randomBytes(48).toString('base64') : randomBytes(8).toString('hex');
    const line = `${w} ${extra}${sessionWords && randomInt(50) === 0 ? ' sessionStore.secret' : ''}\n`;
    lines.push(line);
    size += line.length;
  }
  return lines.join('');
}

const dir = mkdtempSync(join(tmpdir(), 'keyless-scan-bench-'));
// BENCH_TAR=FILE keeps the generated tarball there (for profiling: node --cpu-prof ...)
const tarPath = process.env.BENCH_TAR ?? join(dir, 'image.tar');
const planted: string[] = [];
const pool = Array.from({ length: 64 }, (_, i) =>
  Buffer.from(textFile(2048 + randomInt(14 * 1024), i % 8 === 0)),
);
const binary = Buffer.concat([
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]),
  randomBytes(8 * 1024 * 1024),
]);
const big = textFile(32 * 1024 * 1024, true);

const fd = openSync(tarPath, 'w');
const layerNames: string[] = [];
const diffIds: string[] = [];
for (let l = 0; l < LAYERS; l++) {
  const parts: Buffer[] = [];
  let size = 0;
  const add = (name: string, data: Buffer): void => {
    for (const p of tarEntry(name, data)) {
      parts.push(p);
      size += p.length;
    }
  };
  // planted: a credentials file, and a key pair in the middle of the large file
  const id = fakeAccessKeyId();
  planted.push(id);
  add(
    `root/layer${l}/.aws/credentials`,
    Buffer.from(`[default]\naws_access_key_id = ${id}\naws_secret_access_key = ${fakeSecretAccessKey()}\n`),
  );
  const id2 = fakeAccessKeyId();
  planted.push(id2);
  const half = big.length >> 1;
  add(
    `srv/data${l}.log`,
    Buffer.from(`${big.slice(0, half)}key=${id2} secret=${fakeSecretAccessKey()}\n${big.slice(half)}`),
  );
  add(`usr/bin/tool${l}`, binary);
  for (let i = 0; size < LAYER_BYTES; i++) add(`app/l${l}/src/m${i}.js`, pool[i % pool.length] as Buffer);
  parts.push(Buffer.alloc(1024));
  const layer = Buffer.concat(parts);
  const hex = createHash('sha256').update(layer).digest('hex');
  diffIds.push(`sha256:${hex}`);
  layerNames.push(`blobs/sha256/${hex}`);
  for (const p of tarEntry(`blobs/sha256/${hex}`, layer)) writeSync(fd, p);
}
const config = Buffer.from(
  JSON.stringify({
    config: { Env: ['PATH=/bin'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: [],
  }),
);
const configName = `blobs/sha256/${createHash('sha256').update(config).digest('hex')}`;
for (const p of tarEntry(configName, config)) writeSync(fd, p);
const manifest = Buffer.from(
  JSON.stringify([{ Config: configName, RepoTags: ['bench:latest'], Layers: layerNames }]),
);
for (const p of tarEntry('manifest.json', manifest)) writeSync(fd, p);
writeSync(fd, Buffer.alloc(1024));
closeSync(fd);
const mb = statSync(tarPath).size / (1024 * 1024);

const targetsModule = fileURLToPath(new URL('../src/scan/targets.js', import.meta.url));
/** The same scan by another build (BENCH_BASELINE=DIR, a dist/ folder of an earlier commit), in the same run. */
const baselineModule = process.env.BENCH_BASELINE
  ? join(process.env.BENCH_BASELINE, 'src/scan/targets.js')
  : undefined;
const scanScript = (module: string): string => `
import { readFileSync } from 'node:fs';
import { scanFile } from ${JSON.stringify(module)};
const t = process.hrtime.bigint();
// what keyless scan FILE.tar runs
const findings = await scanFile(${JSON.stringify(tarPath)}, 'archive');
const seconds = Number(process.hrtime.bigint() - t) / 1e9;
// the kernel's high-water mark of this process's resident memory (file pages it mapped included;
// exec starts it afresh, unlike ru_maxrss, which would count the parent's pages from before exec)
const hwm = /VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
const ids = findings.filter((f) => f.rule === 'SCAN_AWS_ACCESS_KEY_ID').map((f) => f.keyId);
console.log(JSON.stringify({ seconds, ids, findings: findings.length, maxRssKb: Number(hwm?.[1] ?? 0) }));
`;

interface KeylessRun {
  seconds: number;
  ids: string[];
  findings: number;
  maxRssKb: number;
}
const runKeyless = (module = targetsModule): KeylessRun => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', scanScript(module)], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`keyless scan failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as KeylessRun;
};
const runRg = (): { seconds: number; matches: number } => {
  const t = process.hrtime.bigint();
  const out = execFileSync('rg', ['-a', '-c', '-j1', KEY_ID_RE, tarPath], { encoding: 'utf8' });
  return { seconds: Number(process.hrtime.bigint() - t) / 1e9, matches: Number(out.trim()) };
};

// the whole command as a user runs it (Node start, module loading, the report), for the same bytes
const keylessBin = fileURLToPath(new URL('../bin/keyless.js', import.meta.url));
const runCli = (): number => {
  const t = process.hrtime.bigint();
  const c = spawnSync(
    process.execPath,
    [keylessBin, 'scan', tarPath, '--format', 'json', '--fail-on', 'never'],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (c.status !== 0) throw new Error(`keyless scan exited ${c.status}: ${c.stderr}`);
  return seconds;
};

runRg(); // warm the page cache for both
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const ks: KeylessRun[] = [];
const rs: { seconds: number; matches: number }[] = [];
const cs: number[] = [];
const bs: KeylessRun[] = [];
for (let i = 0; i < rounds; i++) {
  if (baselineModule) bs.push(runKeyless(baselineModule));
  ks.push(runKeyless());
  rs.push(runRg());
  cs.push(runCli());
}
rmSync(dir, { recursive: true, force: true });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
const best = (xs: number[]): number => Math.min(...xs);
const k = ks.reduce((a, b) => (b.seconds < a.seconds ? b : a));
const r = rs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
const kSec = ks.map((x) => x.seconds);
const rSec = rs.map((x) => x.seconds);
const redacted = planted.map((id) => `${id.slice(0, 4)}…${id.slice(-4)}`);
const found = Math.min(...ks.map((run) => redacted.filter((id) => run.ids.includes(id)).length));
console.log(
  `scan-throughput: ${mb.toFixed(0)} MB docker-save tar (${LAYERS} layers), ${rounds} rounds each; ` +
    `keyless ${(mb / best(kSec)).toFixed(0)} MB/s best, ${(mb / median(kSec)).toFixed(0)} median ` +
    `(${found}/${planted.length} planted keys found in every round, ${k.findings} findings, peak RSS ${(Math.max(...ks.map((x) => x.maxRssKb)) / 1024).toFixed(0)} MB); ` +
    `ripgrep -a -j1 ${(mb / best(rSec)).toFixed(0)} MB/s best, ${(mb / median(rSec)).toFixed(0)} median (${r.matches} matching lines); ` +
    `ratio keyless/ripgrep throughput: ${(best(rSec) / best(kSec)).toFixed(2)} best, ${(median(rSec) / median(kSec)).toFixed(2)} median; ` +
    `whole command \`keyless scan FILE --format json\` (Node start included) ${(mb / median(cs)).toFixed(0)} MB/s median, ratio ${(median(rSec) / median(cs)).toFixed(2)}`,
);
if (baselineModule) {
  const bSec = bs.map((x) => x.seconds);
  console.log(
    `scan-throughput vs baseline ${process.env.BENCH_BASELINE}: ${(mb / best(bSec)).toFixed(0)} MB/s best, ${(mb / median(bSec)).toFixed(0)} median (peak RSS ${(Math.max(...bs.map((x) => x.maxRssKb)) / 1024).toFixed(0)} MB, ${bs[0]?.findings} findings); ` +
      `ratio this build/baseline throughput: ${(best(bSec) / best(kSec)).toFixed(2)} best, ${(median(bSec) / median(kSec)).toFixed(2)} median`,
  );
}
if (found !== planted.length) {
  console.error(`scan-throughput: MISSED ${planted.length - found} planted key(s)`);
  process.exitCode = 1;
}
