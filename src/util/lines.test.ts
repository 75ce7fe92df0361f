import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { onLines } from './lines.js';

test('lines cut across chunks are handed over whole, once, empty ones skipped', () => {
  const s = new PassThrough();
  const got: string[] = [];
  onLines(s, (l) => got.push(l));
  for (const chunk of ['{"a":', '1}\n{"b"', ':2}\n\n', '{"c":3}']) s.write(chunk);
  assert.deepEqual(got, ['{"a":1}', '{"b":2}'], 'the last line is held until its newline');
  s.write('\n');
  assert.deepEqual(got, ['{"a":1}', '{"b":2}', '{"c":3}']);
});
