import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mappedRead } from './mapped-read.js';
import { fileMapper } from './kernel.js';

test('mappedRead yields the whole file in order; pieces held after their pages were dropped still read right', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyless-map-'));
  try {
    const data = randomBytes(40 * 1024 * 1024 + 12_345);
    const file = join(dir, 'f');
    writeFileSync(file, data);
    const hash = createHash('sha256');
    let first: Buffer | undefined;
    let firstCopy: Buffer | undefined;
    for await (const piece of mappedRead(file)) {
      hash.update(piece);
      if (!first) {
        first = piece;
        firstCopy = Buffer.from(piece);
      }
    }
    assert.equal(hash.digest('hex'), createHash('sha256').update(data).digest('hex'));
    assert.ok(first?.equals(firstCopy as Buffer), 'a dropped range comes back from the page cache');
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    const none: Buffer[] = [];
    for await (const p of mappedRead(empty)) none.push(p);
    assert.equal(none.length, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dropPages refuses a Buffer the mapper did not make', () => {
  const mapper = fileMapper();
  assert.ok(mapper, 'the native module is built');
  assert.throws(() => mapper.dropPages(Buffer.alloc(1 << 20), 0, 1 << 20), /from mapFile/);
});
