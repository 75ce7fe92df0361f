import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { countBytes, formatBytes, ImageProgress, renderProgress, type ProgressSnapshot } from './progress.js';
import { scanImageArchive } from './image.js';
import { dockerSaveTarOf } from '../../test/helpers/oci.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../../test/helpers/keys.js';

const MB = 1_000_000;
const snap = (s: Partial<ProgressSnapshot>): ProgressSnapshot => ({
  label: 'myimage:latest',
  bytes: 0,
  layers: 0,
  elapsedMs: 0,
  ...s,
});

describe('progress renderer', () => {
  test('bytes in decimal units with one decimal below ten', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(999), '999 B');
    assert.equal(formatBytes(1000), '1.0 kB');
    assert.equal(formatBytes(4_200_000), '4.2 MB');
    assert.equal(formatBytes(430 * MB), '430 MB');
    assert.equal(formatBytes(999_600_000), '1.0 GB');
    assert.equal(formatBytes(12.3e9), '12 GB');
  });

  test('a known total: bar, percent, bytes/total, layer n/m and the rate', () => {
    const line = renderProgress(
      snap({ bytes: 430 * MB, totalBytes: 1000 * MB, layers: 3, layersTotal: 8, elapsedMs: 705 }),
      120,
    );
    assert.equal(
      line,
      'scanning myimage:latest  [########............]  43% 430 MB/1.0 GB  layer 3/8  610 MB/s',
    );
  });

  test('the start and the end: an empty bar at 0%, a full one at 100%; no rate in the first half second', () => {
    assert.equal(
      renderProgress(snap({ bytes: 0, totalBytes: 10 * MB, elapsedMs: 10 }), 120),
      'scanning myimage:latest  [....................]   0% 0 B/10 MB',
    );
    assert.equal(
      renderProgress(snap({ bytes: 10 * MB, totalBytes: 10 * MB, layers: 2, elapsedMs: 1000 }), 120),
      'scanning myimage:latest  [####################] 100% 10 MB/10 MB  layer 2  10 MB/s',
    );
  });

  test('an approximate total (the Engine API) is marked ~, stays below 100%, and is dropped once passed', () => {
    assert.equal(
      renderProgress(snap({ bytes: 250 * MB, totalBytes: 500 * MB, approximate: true, elapsedMs: 100 }), 120),
      'scanning myimage:latest  [##########..........] ~50% 250 MB/~500 MB',
    );
    assert.match(
      renderProgress(snap({ bytes: 500 * MB, totalBytes: 500 * MB, approximate: true }), 120),
      /\] ~99% 500 MB\/~500 MB$/,
    );
    assert.equal(
      renderProgress(
        snap({ bytes: 600 * MB, totalBytes: 500 * MB, approximate: true, layers: 4, layersTotal: 5 }),
        120,
      ),
      'scanning myimage:latest  600 MB  layer 4/5',
    );
  });

  test('no total: bytes only; no layer until one started', () => {
    assert.equal(renderProgress(snap({ bytes: 3 * MB }), 120), 'scanning myimage:latest  3.0 MB');
    assert.equal(
      renderProgress(snap({ bytes: 3 * MB, layers: 1 }), 120),
      'scanning myimage:latest  3.0 MB  layer 1',
    );
  });

  test('never as wide as the terminal: the rate goes first, then the layer, then the label is cut', () => {
    const s = snap({ bytes: 430 * MB, totalBytes: 1000 * MB, layers: 3, layersTotal: 8, elapsedMs: 1000 });
    const full = renderProgress(s, 200);
    assert.ok(full.endsWith('layer 3/8  430 MB/s'));
    for (const columns of [200, full.length + 1, full.length, 70, 60, 40, 20, 1]) {
      const line = renderProgress(s, columns);
      assert.ok(line.length <= Math.max(0, columns - 1), `${columns}: ${line}`);
    }
    assert.equal(renderProgress(s, full.length), full.replace(/ {2}430 MB\/s$/, ''), 'rate dropped');
    assert.match(renderProgress(s, 70), /^scanning myimage:latest {2}\[#+\.+\] {2}43% 430 MB\/1\.0 GB$/);
    const long = snap({ ...s, label: `registry.example/team/${'x'.repeat(80)}:v1` });
    const cut = renderProgress(long, 80);
    assert.ok(cut.length <= 79);
    assert.match(
      cut,
      /^scanning registry\.exampl… {2}\[#+\.+\] {2}43% 430 MB\/1\.0 GB {2}layer 3\/8$/,
      'the rate goes, the label keeps 16 characters',
    );
  });
});

describe('progress counting', () => {
  test('countBytes passes the chunks through unchanged and reports each length', async () => {
    const seen: number[] = [];
    const out: Buffer[] = [];
    const chunks = [Buffer.from('abc'), Buffer.alloc(0), Buffer.from('defgh')];
    for await (const c of countBytes(Readable.from(chunks), (n) => seen.push(n))) out.push(c);
    assert.deepEqual(seen, [3, 0, 5]);
    assert.equal(Buffer.concat(out).toString(), 'abcdefgh');
  });

  test('a docker-save tar scanned through ImageProgress: every byte counted, three layers, same findings', async () => {
    const tar = await dockerSaveTarOf({
      layers: [
        { compression: 'none', files: { 'etc/motd': 'hello\n' } },
        {
          compression: 'gzip',
          files: {
            'root/.aws/credentials': `aws_access_key_id = ${fakeAccessKeyId()}\naws_secret_access_key = ${fakeSecretAccessKey()}\n`,
          },
        },
        { compression: 'zstd', files: { 'root/.aws/.wh..wh..opq': '' } },
      ],
    });
    const updates: ProgressSnapshot[] = [];
    let clock = 1000;
    const progress = new ImageProgress('image.tar', {
      totalBytes: tar.length,
      now: () => (clock += 10),
      onUpdate: (s) => updates.push(s),
    });
    const chunks = Array.from({ length: Math.ceil(tar.length / 4096) }, (_, i) =>
      tar.subarray(i * 4096, (i + 1) * 4096),
    );
    const withProgress = await scanImageArchive(Readable.from(chunks), 'image.tar', { progress });
    const without = await scanImageArchive(Readable.from(chunks), 'image.tar');
    assert.deepEqual(withProgress, without, 'progress changes nothing in the findings');
    assert.ok(
      withProgress.some((f) => f.deleted),
      'the deleted credentials file is reported',
    );
    const last = progress.snapshot();
    assert.equal(last.bytes, tar.length);
    assert.equal(last.layers, 3);
    assert.equal(last.totalBytes, tar.length);
    assert.ok(last.elapsedMs > 0);
    assert.ok(updates.length >= chunks.length, 'an update per chunk');
    const bytes = updates.map((u) => u.bytes);
    assert.deepEqual(
      bytes,
      [...bytes].sort((a, b) => a - b),
      'bytes only grow',
    );
    assert.deepEqual([...new Set(updates.map((u) => u.layers))], [0, 1, 2, 3], 'layers counted one by one');
  });

  test('a read error of the source still fails the scan (no hang, no unhandled error)', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('connection reset'));
      },
    });
    const progress = new ImageProgress('x', { onUpdate: () => undefined });
    await assert.rejects(scanImageArchive(failing, 'x', { progress }), /connection reset/);
  });
});
