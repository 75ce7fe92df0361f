// The mapped read gives exactly the file's bytes for every size around each piece and drop boundary
// (issue 21.9: a size whose remainder fell in the last piece made dropPages step past the end), and the
// same bytes as the plain read path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DROP_BYTES, DEFAULT_PIECE_BYTES, mappedRead } from './mapped-read.js';
import { fileMapper } from './kernel.js';

async function collect(gen: AsyncGenerator<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of gen) parts.push(Buffer.from(b));
  return Buffer.concat(parts);
}

test('the native mapper is built (otherwise this test proves nothing)', () => {
  assert.ok(fileMapper(), 'native/scan_kernel.c not built: npm run build');
});

test('every size around piece and drop boundaries reads back exactly (small pieces)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'keyless-mapped-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const piece = 8192;
  const drop = 4 * piece;
  const sizes = new Set<number>();
  for (let k = 1; k <= 3; k++)
    for (const base of [k * piece, k * drop, k * drop + piece, k * drop - piece])
      for (const d of [-1, 0, 1, 100]) if (base + d > 0) sizes.add(base + d);
  const bytes = randomBytes(3 * drop + 2 * piece + 200);
  for (const size of [...sizes].sort((a, b) => a - b)) {
    const p = join(dir, `f${size}`);
    const want = bytes.subarray(0, size);
    await writeFile(p, want);
    const got = await collect(mappedRead(p, { pieceBytes: piece, dropBytes: drop }));
    assert.ok(got.equals(want), `size ${size}`);
  }
});

test('real piece and drop sizes: a file ending inside a piece past a drop boundary', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'keyless-mapped-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const size of [
    DEFAULT_DROP_BYTES + DEFAULT_PIECE_BYTES / 2,
    2 * DEFAULT_DROP_BYTES - 1,
    2 * DEFAULT_DROP_BYTES + 1,
  ]) {
    const want = randomBytes(size);
    const p = join(dir, `f${size}`);
    await writeFile(p, want);
    const got = await collect(mappedRead(p));
    assert.ok(got.equals(want), `size ${size}`);
    process.env.KEYLESS_SCAN_MMAP = '0';
    try {
      assert.ok((await collect(mappedRead(p))).equals(want), `plain read, size ${size}`);
    } finally {
      delete process.env.KEYLESS_SCAN_MMAP;
    }
  }
});
