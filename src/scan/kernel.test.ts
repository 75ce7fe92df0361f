import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { jsKernel, loadNativeKernel, scanKernel } from './kernel.js';
import { fakeAccessKeyId } from '../../test/helpers/keys.js';

// a key id whose random tail holds no "A", so it cannot hold a second prefix by chance
const id = (prefix: string) => (): string =>
  `${prefix}${fakeAccessKeyId(prefix).slice(4).replaceAll('A', 'B')}`;
const NEEDLES = [
  id('AKIA'),
  id('ASIA'),
  id('ABIA'),
  id('ACCA'),
  () => 'aws_secret_access_key',
  () => 'SecretAccessKey',
  () => 'AWS_SECRET_KEY',
  () => 'aws_session_token',
  () => 'SecurityToken',
  () => 'SESSIONTOKEN',
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
];

/** Random text with needles and decoys at random places; returns it and where the needles start. */
function corpus(bytes: number): { buf: Buffer; at: number[] } {
  const parts: string[] = [];
  const at: number[] = [];
  let size = 0;
  while (size < bytes) {
    const r = randomInt(10);
    let piece: string;
    if (r === 0) {
      piece = (NEEDLES[randomInt(NEEDLES.length)] as () => string)();
      at.push(size + Math.max(0, piece.search(/secret|session|security/i)));
    } else if (r === 1) piece = DECOYS[randomInt(DECOYS.length)] as string;
    // random filler without an "A", so it cannot hold a key-id prefix by chance
    else
      piece = randomBytes(randomInt(1, 200))
        .toString(r % 2 ? 'base64' : 'hex')
        .replaceAll('A', 'B');
    parts.push(piece, ' ');
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
