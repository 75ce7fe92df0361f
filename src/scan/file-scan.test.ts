import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { detectCredentials } from './detectors.js';
import { FileScanner, SMALL_FILE_BYTES } from './file-scan.js';
import { jsKernel, scanKernel } from './kernel.js';
import type { Finding } from './types.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../../test/helpers/keys.js';

const WORDS = ['const', 'secret', 'session', 'token', 'value', 'Access', 'key', 'return', 'AKI', 'import'];

/** Source-like text of about `bytes`, with planted credentials of every kind on random lines. */
function text(bytes: number, plants: number): string {
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    let line = Array.from({ length: randomInt(1, 14) }, () => WORDS[randomInt(WORDS.length)]).join(' ');
    if (randomInt(20) === 0) line += ` ${randomBytes(60).toString('base64')}`;
    lines.push(line);
    size += line.length + 1;
  }
  for (let i = 0; i < plants; i++) {
    const at = randomInt(lines.length);
    const kind = randomInt(4);
    if (kind === 0)
      lines[at] =
        `aws_access_key_id = ${fakeAccessKeyId()}\naws_secret_access_key = ${fakeSecretAccessKey()}`;
    else if (kind === 1) lines[at] = `  "SecretAccessKey": "${fakeSecretAccessKey()}",`;
    else if (kind === 2)
      lines[at] = `AWS_SESSION_TOKEN=${randomBytes(300).toString('base64').replace(/[=]/g, '')}`;
    else
      lines[at] =
        `${lines[at] ?? ''} id ${fakeAccessKeyId('ASIA')} then ${'x'.repeat(randomInt(900))} ${fakeSecretAccessKey()}`;
  }
  return `${lines.join('\n')}\n`;
}

const key = (f: Finding): string => `${f.rule} ${f.location.line}:${f.location.column} ${f.fingerprint}`;

function viaScanner(buf: Buffer, known: boolean, pieces: () => number, kernel = scanKernel()): string[] {
  const s = new FileScanner(known ? buf.length : undefined, () => ({ path: 'f' }), kernel);
  for (let i = 0; i < buf.length;) {
    const n = Math.min(buf.length - i, pieces());
    // a fresh copy per piece, as a stream hands them out
    const piece = Buffer.from(buf.subarray(i, i + n));
    s.push(piece, 0, piece.length);
    i += n;
  }
  return s.end().map(key).sort();
}

describe('FileScanner', () => {
  test('a large file scanned in windows finds exactly what a whole-text scan finds, lines and columns included', () => {
    for (let round = 0; round < 6; round++) {
      const t = text(SMALL_FILE_BYTES * 2 + randomInt(SMALL_FILE_BYTES), 40);
      const buf = Buffer.from(t, 'latin1');
      const expected = detectCredentials(t, { base: { path: 'f' } })
        .map(key)
        .sort();
      assert.ok(expected.length >= 40, `planted findings: ${expected.length}`);
      const sizes = [() => 1 << 20, () => randomInt(1, 70_000), () => 4096];
      for (const pieces of sizes) {
        assert.deepEqual(viaScanner(buf, true, pieces), expected, 'known size');
        assert.deepEqual(viaScanner(buf, false, pieces), expected, 'stream of unknown size');
      }
      assert.deepEqual(
        viaScanner(buf, true, () => 300_000, jsKernel),
        expected,
        'JavaScript kernel',
      );
    }
  });

  test('a key cut by every piece boundary near it is still found once', () => {
    const id = fakeAccessKeyId();
    const secret = fakeSecretAccessKey();
    const head = 'filler line\n'.repeat(Math.ceil((SMALL_FILE_BYTES + 10) / 12));
    const t = `${head}aws_access_key_id=${id}\naws_secret_access_key=${secret}\n${'tail\n'.repeat(1000)}`;
    const buf = Buffer.from(t);
    const expected = detectCredentials(t, { base: { path: 'f' } })
      .map(key)
      .sort();
    assert.equal(expected.length, 2);
    const keyAt = t.indexOf(id);
    for (let cut = keyAt - 30; cut < keyAt + 70; cut++) {
      let first = true;
      assert.deepEqual(
        viaScanner(buf, true, () => {
          if (!first) return 1 << 30;
          first = false;
          return cut;
        }),
        expected,
        `cut at ${cut - keyAt}`,
      );
    }
  });

  test('a small file is scanned whole; a binary one (NUL in the first 8 KiB) in windows, by byte offset', () => {
    const id = fakeAccessKeyId();
    const t = `x\naws_access_key_id = ${id}\n`;
    assert.deepEqual(
      viaScanner(Buffer.from(t), true, () => 5),
      detectCredentials(t, { base: { path: 'f' } }).map(key),
    );
    const bin = Buffer.concat([
      Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1]),
      Buffer.from(t),
      Buffer.alloc(3 * SMALL_FILE_BYTES, 0x41),
    ]);
    const at = 6 + t.indexOf(id);
    for (const [known, piece] of [
      [true, 100_000],
      [false, 3],
      [true, 7],
    ] as const) {
      const s = new FileScanner(known ? bin.length : undefined, () => ({ path: 'b' }));
      for (let i = 0; i < bin.length; i += piece) {
        const p = Buffer.from(bin.subarray(i, i + piece));
        s.push(p, 0, p.length);
      }
      const found = s.end();
      assert.deepEqual(
        found.map((f) => [f.rule, f.location.offset, f.location.line]),
        [['SCAN_AWS_ACCESS_KEY_ID', at, undefined]],
        `known=${known} piece=${piece}`,
      );
    }
  });

  test('a capped window that ends inside a long session token does not cut it: the whole value is found once', () => {
    // Lines that are all candidates grow one window until it is as large as a small file; it then
    // ends WINDOW_AFTER bytes after its last hit, which is placed here inside a token's value.
    const filler = 'session token\n';
    for (const shift of [0, 1, 5, 13]) {
      const before = Math.floor((SMALL_FILE_BYTES - 200) / filler.length) * filler.length;
      const value = randomBytes(300).toString('base64').replace(/[=+/]/g, 'A');
      const t = `${'x'.repeat(shift)}${filler.repeat(before / filler.length)}AWS_SESSION_TOKEN=${value}\n${filler.repeat(2000)}`;
      const expected = detectCredentials(t, { base: { path: 'f' } })
        .map(key)
        .sort();
      assert.equal(expected.length, 1, `shift ${shift}`);
      for (const pieces of [() => 1 << 20, () => 4096, () => 333]) {
        assert.deepEqual(viaScanner(Buffer.from(t), true, pieces), expected, `shift ${shift}`);
        assert.deepEqual(viaScanner(Buffer.from(t), false, pieces), expected, `shift ${shift}, unknown size`);
      }
    }
  });

  test('a file dense with candidates stays bounded: windows are capped, findings deduplicated', () => {
    const line = `aws_session_token is mentioned here ${'y'.repeat(20)}\n`;
    const t = `${line.repeat(Math.ceil((3 * SMALL_FILE_BYTES) / line.length))}key ${fakeAccessKeyId()}\n`;
    const buf = Buffer.from(t);
    const expected = detectCredentials(t, { base: { path: 'f' } })
      .map(key)
      .sort();
    assert.equal(expected.length, 1);
    assert.deepEqual(
      viaScanner(buf, true, () => 1 << 20),
      expected,
    );
  });
});
