import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TarWalker, type TarEntry } from './tar-walk.js';
import { KeylessError } from '../errors.js';

interface Seen {
  type: string;
  name: string;
  link: string | undefined;
  data: Buffer;
}

/** Walks bytes fed in pieces of the given sizes (cycled), collecting every entry with its data. */
async function walk(bytes: Buffer, pieces: number[]): Promise<Seen[]> {
  const seen: Seen[] = [];
  const w = new TarWalker((e: TarEntry) => {
    const item: Seen = { type: e.type, name: e.name(), link: e.linkname(), data: Buffer.alloc(0) };
    seen.push(item);
    const parts: Buffer[] = [];
    return {
      data: (buf, s, t) => void parts.push(Buffer.from(buf.subarray(s, t))),
      end: () => void (item.data = Buffer.concat(parts)),
    };
  }, 'test.tar');
  let i = 0;
  for (let k = 0; i < bytes.length; k++) {
    const n = pieces[k % pieces.length] as number;
    await w.push(bytes.subarray(i, i + n));
    i += n;
  }
  await w.end();
  return seen;
}

/** A tar made by GNU tar from real files, in the given format. */
function gnuTar(
  format: 'gnu' | 'posix' | 'ustar',
  files: Record<string, Buffer>,
  links: Record<string, string> = {},
): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'keyless-tar-'));
  try {
    for (const [name, data] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), data);
    }
    for (const [name, target] of Object.entries(links)) symlinkSync(target, join(dir, name));
    return execFileSync(
      'tar',
      [
        '-C',
        dir,
        `--format=${format}`,
        '--sort=name',
        '-cf',
        '-',
        ...Object.keys({ ...files, ...links }).sort(),
      ],
      {
        maxBuffer: 64 * 1024 * 1024,
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('TarWalker', () => {
  const longName = `${'deep/'.repeat(30)}file-with-a-long-name.txt`; // over 100 bytes, over 155 in the prefix
  const files = {
    'a.txt': Buffer.from('hello\n'),
    [longName]: randomBytes(70_000),
    empty: Buffer.alloc(0),
    'b/c.bin': randomBytes(513),
    'ünïcode.txt': Buffer.from('x'),
  };

  for (const format of ['gnu', 'posix'] as const) {
    test(`${format} tar from GNU tar: names (long ones too), symlinks and data, in any piece sizes`, async () => {
      const bytes = gnuTar(format, files, { 'link-to-a': 'a.txt' });
      for (const pieces of [[bytes.length], [1], [511, 513, 7], [randomInt(1, 5000), randomInt(1, 5000)]]) {
        const seen = await walk(bytes, pieces);
        const regular = Object.fromEntries(
          seen.filter((s) => s.type === 'file').map((s) => [s.name, s.data]),
        );
        assert.deepEqual(
          Object.keys(regular).sort(),
          Object.keys(files).sort(),
          `pieces ${pieces.join(',')}`,
        );
        for (const [name, data] of Object.entries(files)) assert.ok(regular[name]?.equals(data), name);
        const link = seen.find((s) => s.type === 'symlink');
        assert.deepEqual([link?.name, link?.link], ['link-to-a', 'a.txt']);
      }
    });
  }

  test('a truncated archive is an error that says so', async () => {
    const bytes = gnuTar('ustar', { 'a.txt': randomBytes(5000) });
    await assert.rejects(walk(bytes.subarray(0, 2000), [700]), (err: unknown) => {
      assert.ok(err instanceof KeylessError);
      assert.equal(err.code, 'SCAN_TAR_TRUNCATED');
      return true;
    });
  });

  test('bytes that are not a tar are an error naming the archive', async () => {
    await assert.rejects(
      walk(Buffer.concat([Buffer.from('not a tar'), randomBytes(2000)]), [4096]),
      (err: unknown) => {
        assert.ok(err instanceof KeylessError);
        assert.equal(err.code, 'SCAN_TAR_INVALID');
        assert.match(err.message, /test\.tar/);
        return true;
      },
    );
  });

  test('a GNU base-256 size field (files of 8 GiB and more) is read', async () => {
    // GNU tar writes base-256 only past 8 GiB; a 600-byte entry with its size written that way
    // stands in for one (the field format is what is tested, not the size)
    const bytes = gnuTar('gnu', { 'x.bin': randomBytes(600) });
    const h = bytes.subarray(0, 512);
    h.fill(0, 124, 136);
    h[124] = 0x80;
    h.writeUInt32BE(600, 132);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (h[i] as number);
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const seen = await walk(bytes, [bytes.length]);
    assert.equal(seen[0]?.data.length, 600);
  });
});

describe('TarWalker on damaged archives', () => {
  test('300 random corruptions of a real archive: each ends, either read or refused with a KeylessError', async () => {
    const bytes = gnuTar('posix', {
      'a.txt': randomBytes(3000),
      [`${'d/'.repeat(70)}long.txt`]: randomBytes(1500),
      'b.bin': randomBytes(700),
    });
    for (let round = 0; round < 300; round++) {
      const damaged = Buffer.from(bytes.subarray(0, randomInt(1, bytes.length + 1)));
      for (let k = randomInt(1, 8); k > 0; k--) damaged[randomInt(damaged.length)] = randomInt(256);
      try {
        await walk(damaged, [randomInt(1, 2000)]);
      } catch (err) {
        assert.ok(err instanceof KeylessError, `round ${round}: ${(err as Error).stack}`);
      }
    }
  });
});

test('a pax header claiming more than 1 MiB is refused before anything is held', async () => {
  const bytes = gnuTar('posix', { [`${'d/'.repeat(70)}long.txt`]: Buffer.from('x') });
  // the first header is the pax header of the long name: make its size 2 GiB
  const h = bytes.subarray(0, 512);
  assert.equal(String.fromCharCode(h[156] as number), 'x');
  h.write('20000000000\0', 124, 'latin1');
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (h[i] as number);
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  await assert.rejects(walk(bytes, [bytes.length]), /header of 2147483648 bytes/);
});
