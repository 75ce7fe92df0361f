// Directory scan next to ripgrep, in one run: a generated source tree (default 20,000 files, ~160 MB:
// small sources, some large logs, some binaries, 12 planted key pairs), scanned by the whole
// `keyless scan DIR --format json` command and by `rg -a -j1 --no-ignore --hidden -c` for the key-id
// pattern (ripgrep on one thread walks and searches the same files). Usage: npm run bench directory
// (BENCH_FILES=5000 for a quicker run).
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../test/helpers/keys.js';

const FILES = Number(process.env.BENCH_FILES ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const KEY_ID_RE = '(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}';
const WORDS = [
  'const',
  'function',
  'return',
  'import',
  'export',
  'value',
  'config',
  'server',
  'token',
  'secret',
];
const text = (bytes: number): string => {
  const lines: string[] = [];
  for (let n = 0; n < bytes;) {
    const l = `${Array.from({ length: 8 }, () => WORDS[randomInt(WORDS.length)]).join(' ')} ${randomBytes(8).toString('hex')}\n`;
    lines.push(l);
    n += l.length;
  }
  return lines.join('');
};

const root = mkdtempSync(join(tmpdir(), 'keyless-dir-bench-'));
const pool = Array.from({ length: 64 }, () => text(1024 + randomInt(12 * 1024)));
const binary = Buffer.concat([
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]),
  randomBytes(2 * 1024 * 1024),
]);
const planted: string[] = [];
let bytes = 0;
for (let i = 0; i < FILES; i++) {
  const dir = join(root, `pkg${i % 200}`, `mod${i % 7}`);
  mkdirSync(dir, { recursive: true });
  let body: string | Buffer = pool[i % pool.length] as string;
  if (i % 2000 === 0) body = binary;
  else if (i % 1000 === 0) body = text(4 * 1024 * 1024);
  if (i % Math.floor(FILES / 12) === 0 && planted.length < 12) {
    const id = fakeAccessKeyId();
    planted.push(id);
    body = `${typeof body === 'string' ? body : ''}aws_access_key_id = ${id}\naws_secret_access_key = ${fakeSecretAccessKey()}\n`;
  }
  writeFileSync(join(dir, `f${i}.${typeof body === 'string' ? 'js' : 'bin'}`), body);
  bytes += typeof body === 'string' ? Buffer.byteLength(body) : body.length;
}
const mb = bytes / (1024 * 1024);
const keylessBin = fileURLToPath(new URL('../bin/keyless.js', import.meta.url));

const timeIt = (cmd: string, args: string[]): { seconds: number; stdout: string } => {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0 && !(cmd === 'rg' && r.status === 1))
    throw new Error(`${cmd} exited ${r.status}: ${r.stderr}`);
  return { seconds, stdout: r.stdout };
};
const rgArgs = ['-a', '-j1', '--no-ignore', '--hidden', '-c', KEY_ID_RE, root];
execFileSync('rg', rgArgs); // warm the page cache
const ks: number[] = [];
const rs: number[] = [];
let found = 0;
for (let i = 0; i < ROUNDS; i++) {
  const k = timeIt(process.execPath, [keylessBin, 'scan', root, '--format', 'json', '--fail-on', 'never']);
  ks.push(k.seconds);
  const ids = (JSON.parse(k.stdout) as { findings: { rule: string; keyId?: string }[] }).findings
    .filter((f) => f.rule === 'SCAN_AWS_ACCESS_KEY_ID')
    .map((f) => f.keyId);
  found = planted.filter((id) => ids.includes(`${id.slice(0, 4)}…${id.slice(-4)}`)).length;
  rs.push(timeIt('rg', rgArgs).seconds);
}
rmSync(root, { recursive: true, force: true });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
console.log(
  `scan-directory: ${FILES} files, ${mb.toFixed(0)} MB, ${ROUNDS} rounds each; whole \`keyless scan DIR --format json\` ` +
    `${median(ks).toFixed(2)} s median (${(mb / median(ks)).toFixed(0)} MB/s, ${found}/${planted.length} planted keys), ` +
    `rg -a -j1 ${median(rs).toFixed(2)} s; ratio keyless/ripgrep throughput ${(median(rs) / median(ks)).toFixed(2)}`,
);
if (found !== planted.length) process.exitCode = 1;
