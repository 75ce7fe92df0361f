// Scanning bytes: keyless's detector over a generated corpus vs ripgrep searching the same files for an
// equivalent AWS key-id regex, measured in one run; printed as MB/s and a ratio. Usage: npm run bench scan
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { detectCredentials } from '../src/scan/detectors.js';

const FILES = Number(process.env.BENCH_FILES ?? 40);
const FILE_MB = Number(process.env.BENCH_FILE_MB ?? 4);
const dir = mkdtempSync(join(tmpdir(), 'keyless-scan-bench-'));
const words = [
  'const',
  'function',
  'return',
  'import',
  'export',
  'value',
  'config',
  'server',
  'aws',
  'region',
  'bucket',
  'token',
];
const paths: string[] = [];
for (let i = 0; i < FILES; i++) {
  const parts: string[] = [];
  let size = 0;
  while (size < FILE_MB * 1024 * 1024) {
    const line =
      Array.from({ length: 12 }, (_, j) => words[(i * 7 + j * 13 + size) % words.length]).join(' ') +
      ` ${randomBytes(12).toString('hex')}\n`;
    parts.push(line);
    size += line.length;
  }
  if (i % 10 === 0)
    parts.splice(
      100,
      0,
      `aws_access_key_id = AKIA${randomBytes(10).toString('hex').toUpperCase().slice(0, 16)}\n`,
    );
  const p = join(dir, `f${i}.txt`);
  writeFileSync(p, parts.join(''));
  paths.push(p);
}
const totalMB = FILES * FILE_MB;
const best = (fn: () => void): number => {
  let b = Infinity;
  for (let r = 0; r < 3; r++) {
    const t = process.hrtime.bigint();
    fn();
    b = Math.min(b, Number(process.hrtime.bigint() - t) / 1e9);
  }
  return b;
};
let found = 0;
const k = best(() => {
  found = 0;
  for (const p of paths) found += detectCredentials(readFileSync(p, 'latin1'), { base: { path: p } }).length;
});
let rgFound = 0;
const r = best(() => {
  const out = execFileSync('rg', ['-c', '--no-filename', '-j1', '(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}', dir], {
    encoding: 'utf8',
  });
  rgFound = out
    .trim()
    .split('\n')
    .filter(Boolean)
    .reduce((a, b) => a + Number(b), 0);
});
rmSync(dir, { recursive: true, force: true });
console.log(
  `scan-throughput: ${totalMB} MB in ${FILES} files; keyless ${(totalMB / k).toFixed(0)} MB/s (${found} findings), ripgrep -j1 ${(totalMB / r).toFixed(0)} MB/s (${rgFound} matches); ratio ${(r / k).toFixed(2)} (keyless / ripgrep throughput)`,
);
