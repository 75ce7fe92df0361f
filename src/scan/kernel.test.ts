import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { jsKernel, loadNativeKernel, scanKernel } from './kernel.js';
import { fakeAccessKeyId } from '../../test/helpers/keys.js';

// a key id whose random tail holds no "A", "Q", "F" or "B", so it cannot hold a second prefix or a
// base64 anchor by chance
const id = (prefix: string) => (): string =>
  `${prefix}${fakeAccessKeyId(prefix)
    .slice(4)
    .replace(/[AQFB]/g, 'C')}`;
/** A needle and the offsets within it where the kernel must report a candidate. */
type Needle = () => [string, number[]];
const at0 = (s: string): [string, number[]] => [s, [0]];
const NEEDLES: Needle[] = [
  () => at0(id('AKIA')()),
  () => at0(id('ASIA')()),
  () => at0(id('ABIA')()),
  () => at0(id('ACCA')()),
  () => ['aws_secret_access_key', [0, 4]],
  () => at0('SecretAccessKey'),
  () => ['AWS_SECRET_KEY', [0, 4]],
  () => ['aws_session_token', [4]],
  () => at0('SecurityToken'),
  () => at0('SESSIONTOKEN'),
  () => at0('secret-key'),
  () => at0('Secret access key'),
  () => ['aws.secretkey', [0, 4]],
  () => at0('AWS_TOKEN'),
  () => at0('awsSecret'),
  () => at0('AWS_ACCESS_KEY_SECRET'),
  () => at0('aws-access-secret'),
  () => at0('awsKeySecret'),
  () => at0('session.token'),
  // encoded: an escaped "A", base64 of a key-id prefix at each alignment
  () => at0('\\u0041'),
  () => at0('&#65;'),
  () => at0('&#x41;'),
  () => at0('%41'),
  () => at0('QUtJ'),
  () => at0('FTSU'),
  () => at0('BQ0N'),
];
// near misses the search must not report
const DECOYS = [
  'AKIB',
  'AKI',
  'secret',
  'secretive',
  'session',
  'sessions_token',
  'security_',
  'token',
  'akia',
  'aws',
  'aws_key',
  'aws_access_key_id',
  'aws_access_token',
  'awsaccess__secret',
  'aws__secret',
  'secret__key',
  '\\u0042',
  '&#66;',
  '&#x42;',
  '%42',
  'QUtK',
  'FLSV',
  'BS0m',
];

/** Random text with needles and decoys at random places; returns it and where the needles' candidates are. */
function corpus(bytes: number): { buf: Buffer; at: number[] } {
  const parts: string[] = [];
  const at: number[] = [];
  let size = 0;
  while (size < bytes) {
    const r = randomInt(10);
    let piece: string;
    if (r === 0) {
      const [text, offsets] = (NEEDLES[randomInt(NEEDLES.length)] as Needle)();
      piece = text;
      for (const o of offsets) at.push(size + o);
    } else if (r === 1) piece = DECOYS[randomInt(DECOYS.length)] as string;
    // random filler without "A", "Q", "F" or "B", so it cannot hold a key-id prefix or a base64
    // anchor by chance
    else
      piece = randomBytes(randomInt(1, 200))
        .toString(r % 2 ? 'base64' : 'hex')
        .replace(/[AQFB]/g, 'C');
    // a newline between pieces: a space would join two decoys into a name ("session token")
    parts.push(piece, '\n');
    size += piece.length + 1;
  }
  return { buf: Buffer.from(parts.join(''), 'latin1'), at };
}

function all(k: typeof jsKernel, buf: Buffer, start = 0, end = buf.length): number[] {
  const out = new Uint32Array(100_000);
  const n = k.candidates(buf, start, end, out);
  return [...out.subarray(0, n)];
}

describe('scan kernel', () => {
  const native = loadNativeKernel();

  test('the native kernel is built and used (scripts/build-native.sh); KEYLESS_SCAN_KERNEL=js is the fallback', () => {
    assert.ok(
      native,
      'dist/native/keyless_scan_kernel.node did not load: run npm run build (needs cc and node_api.h)',
    );
    if (process.env.KEYLESS_SCAN_KERNEL !== 'js') assert.match(scanKernel().name, /^native-/);
  });

  test('JavaScript kernel: every planted name and key-id prefix, no decoy', () => {
    for (let round = 0; round < 20; round++) {
      const { buf, at } = corpus(20_000);
      assert.deepEqual(all(jsKernel, buf), at);
    }
  });

  test('native and JavaScript kernels agree on random corpora, at every sub-range edge', (t) => {
    if (!native) return t.skip('native kernel not built (the test above fails)');
    for (let round = 0; round < 50; round++) {
      const { buf, at } = corpus(randomInt(1, 40_000));
      assert.deepEqual(all(native, buf), at);
      const s = randomInt(buf.length);
      const e = s + randomInt(buf.length - s + 1);
      assert.deepEqual(all(native, buf, s, e), all(jsKernel, buf, s, e), `range ${s}..${e}`);
      assert.equal(native.countByte(buf, s, e, 0x20), jsKernel.countByte(buf, s, e, 0x20));
    }
    // every alignment of a needle against the 32-byte steps, and needles cut by the range end
    const id = fakeAccessKeyId();
    for (let pad = 0; pad < 70; pad++) {
      const buf = Buffer.from(`${'x'.repeat(pad)}${id} aws_session_token ${'y'.repeat(pad)}`);
      assert.deepEqual(all(native, buf), all(jsKernel, buf));
      for (let cut = 0; cut <= buf.length; cut += 7)
        assert.deepEqual(all(native, buf, 0, cut), all(jsKernel, buf, 0, cut));
    }
  });

  test('every vector path (AVX2, SSSE3, scalar: KEYLESS_SCAN_SIMD) reports what the JavaScript search does', (t) => {
    if (!native) return t.skip('native kernel not built (the first test fails)');
    const { buf } = corpus(200_000);
    const expected = all(jsKernel, buf);
    const module = fileURLToPath(new URL('../../native/keyless_scan_kernel.node', import.meta.url));
    const script = `const k = require(${JSON.stringify(module)}); const b = require('node:fs').readFileSync(0);
      const out = new Uint32Array(1e6); const n = k.candidates(b, 0, b.length, out);
      console.log(JSON.stringify({ simd: k.simd, at: [...out.subarray(0, n)] }));`;
    for (const level of ['avx2', 'ssse3', 'scalar']) {
      const r = spawnSync(process.execPath, ['-e', script], {
        input: buf,
        env: { ...process.env, KEYLESS_SCAN_SIMD: level },
        maxBuffer: 64 * 1024 * 1024,
      });
      assert.equal(r.status, 0, r.stderr.toString());
      const got = JSON.parse(r.stdout.toString()) as { simd: string; at: number[] };
      // a CPU without a level steps down to the next one
      assert.ok(
        level === 'scalar' ? got.simd === 'scalar' : got.simd !== 'avx2' || level === 'avx2',
        got.simd,
      );
      assert.deepEqual(got.at, expected, `${level} (${got.simd})`);
    }
  });

  test('reports the full count when the output array is too small', () => {
    const buf = Buffer.from(`${fakeAccessKeyId()} `.repeat(50));
    for (const k of [jsKernel, native].filter((x) => x !== undefined)) {
      const out = new Uint32Array(10);
      assert.equal(k.candidates(buf, 0, buf.length, out), 50, k.name);
      assert.equal(out[9], 9 * 21, k.name);
    }
  });

  test('refuses a range outside the buffer with a clear error', (t) => {
    if (!native) return t.skip('native kernel not built');
    assert.throws(() => native.candidates(Buffer.alloc(4), 0, 5, new Uint32Array(1)), /start\/end/);
    assert.throws(() => native.countByte(Buffer.alloc(4), 3, 2, 10), /start\/end/);
  });
});
