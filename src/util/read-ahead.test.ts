import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAhead } from './read-ahead.js';

test('readAhead yields the file (or a range of it) in order, with fresh or recycled buffers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyless-ra-'));
  try {
    const data = randomBytes(1_000_003);
    const file = join(dir, 'f');
    writeFileSync(file, data);
    for (const reuse of [false, true]) {
      for (const [start, length] of [
        [0, undefined],
        [12_345, 500_000],
        [999_999, 10],
      ] as const) {
        const parts: Buffer[] = [];
        // a copy of each piece before asking for the next: a recycled buffer is overwritten then
        for await (const p of readAhead(file, {
          chunkBytes: 65_536,
          ahead: 3,
          reuse,
          start,
          ...(length ? { length } : {}),
        }))
          parts.push(Buffer.from(p));
        const want = data.subarray(start, length === undefined ? undefined : start + length);
        assert.ok(Buffer.concat(parts).equals(want), `reuse=${reuse} start=${start}`);
      }
    }
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    const none: Buffer[] = [];
    for await (const p of readAhead(empty)) none.push(p);
    assert.equal(none.length, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
