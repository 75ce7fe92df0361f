import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { scanChunks, SEGMENT_BYTES, mayHoldCredential } from './stream-text.js';
import { deletes } from './image/collector.js';
import { whiteoutOf } from './image/layer.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../../test/helpers/keys.js';

async function* chunked(buf: Buffer, size = 64 * 1024): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

const filler = (bytes: number): string => {
  const line = 'lorem ipsum dolor sit amet, consectetur adipiscing elit\n';
  return line.repeat(Math.ceil(bytes / line.length)).slice(0, bytes);
};

describe('scanChunks', () => {
  test('pairs a key id and a secret that straddle a segment boundary, once, with the right line numbers', async () => {
    const id = fakeAccessKeyId();
    const secret = fakeSecretAccessKey();
    const head = filler(SEGMENT_BYTES - 30);
    const text = `${head}id=${id}\nsecret=${secret}\n${filler(3 * SEGMENT_BYTES)}`;
    const headLines = head.split('\n').length;
    const found = await scanChunks(chunked(Buffer.from(text, 'latin1')), { base: { path: 'big.txt' } });
    assert.deepEqual(
      found.map((f) => [f.rule, f.location.line]),
      [
        ['SCAN_AWS_ACCESS_KEY_ID', headLines],
        ['SCAN_AWS_SECRET_ACCESS_KEY', headLines + 1],
      ],
    );
  });

  test('finds a key far into a large file, and one in a binary file by byte offset', async () => {
    const id = fakeAccessKeyId();
    const text = `${filler(5 * SEGMENT_BYTES)}key ${id}\n`;
    const found = await scanChunks(chunked(Buffer.from(text)), { base: { path: 'f' } });
    assert.equal(found.length, 1);
    const binary = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1]), Buffer.from(`key ${id}\n`)]);
    const inBinary = await scanChunks(chunked(binary, 3), { base: { path: 'b' } });
    assert.deepEqual(
      inBinary.map((f) => [f.rule, f.location.offset, f.location.line]),
      [['SCAN_AWS_ACCESS_KEY_ID', 10, undefined]],
    );
    const noise = Buffer.concat([
      Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1]),
      randomBytes(3 * SEGMENT_BYTES),
    ]);
    assert.deepEqual(await scanChunks(chunked(noise), { base: { path: 'n' } }), []);
  });

  test('the prefilter rejects random text, hex and base64 without any AWS keyword', () => {
    assert.equal(mayHoldCredential(Buffer.from(randomBytes(4096).toString('hex'))), false);
    assert.equal(mayHoldCredential(Buffer.from(filler(10_000))), false);
    assert.equal(mayHoldCredential(Buffer.from('aws_Secret_Access_Key = x')), true);
  });
});

describe('whiteouts', () => {
  test('markers, opaque directories and the aufs hard-link directory', () => {
    assert.equal(whiteoutOf('./root/.aws/.wh.credentials', 'file'), 'root/.aws/credentials');
    assert.equal(whiteoutOf('root/.aws/.wh..wh..opq', 'file'), 'root/.aws/');
    assert.equal(whiteoutOf('.wh..wh.plnk', 'file'), undefined);
    assert.equal(whiteoutOf('etc/.wh.foo', 'directory'), undefined, 'only regular files are markers');
    assert.equal(whiteoutOf('etc/.wh..', 'file'), undefined);
    assert.ok(deletes('root/.aws/', 'root/.aws/credentials'));
    assert.ok(deletes('root/.aws', 'root/.aws/credentials'));
    assert.ok(!deletes('root/.aws', 'root/.aws2/credentials'));
    assert.ok(deletes('', 'anything'), 'an opaque root hides everything below');
  });
});
