import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, writeUserFile } from './atomic-file.js';
import { isKeylessError } from '../errors.js';
import { withLock } from './file-lock.js';
import { tempDir } from '../../test/helpers/tmp.js';

test('writeFileAtomic writes a 0600 file in a 0700 folder and leaves no temp file', async (t) => {
  const dir = await tempDir(t);
  const p = join(dir, 'private', 'item');
  await writeFileAtomic(p, 'one');
  await writeFileAtomic(p, 'two');
  assert.equal(await readFile(p, 'utf8'), 'two');
  assert.equal((await stat(p)).mode & 0o777, 0o600);
  assert.equal((await stat(join(dir, 'private'))).mode & 0o777, 0o700);
  assert.deepEqual(await readdir(join(dir, 'private')), ['item']);
});

test('withLock serialises concurrent writers', async (t) => {
  const dir = await tempDir(t);
  const lock = join(dir, 'l.lock');
  let inside = 0;
  let maxInside = 0;
  await Promise.all(
    Array.from({ length: 10 }, () =>
      withLock(lock, async () => {
        inside++;
        maxInside = Math.max(maxInside, inside);
        await new Promise((r) => setTimeout(r, 5));
        inside--;
      }),
    ),
  );
  assert.equal(maxInside, 1);
});

test('writeUserFile: a missing folder or a folder in the way is FILE_UNWRITABLE naming the option', async (t) => {
  const dir = await tempDir(t);
  const unwritable = (why: RegExp) => (err: unknown) =>
    isKeylessError(err) && err.code === 'FILE_UNWRITABLE' && err.exitCode === 2 && why.test(err.message);
  await assert.rejects(
    writeUserFile('--token-file', join(dir, 'no', 'tok'), 'x', 0o600),
    unwritable(/^cannot write --token-file .*tok \(its folder does not exist\)/),
  );
  await assert.rejects(writeUserFile('--output', dir, 'x', 0o644), unwritable(/--output .*\(/));
  await writeUserFile('--output', join(dir, 'r.txt'), 'x', 0o644);
  assert.equal(await readFile(join(dir, 'r.txt'), 'utf8'), 'x');
  assert.equal((await stat(join(dir, 'r.txt'))).mode & 0o777, 0o644);
});
