// Issue 21.9 at the command: `keyless scan` of generated docker-save tarballs whose sizes fall on both
// sides of a 16 MiB drop boundary, and inside the last 4 MiB piece before it, finds every planted key
// by both read paths (mapped, and KEYLESS_SCAN_MMAP=0). Keys are generated at test time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerSaveTarOf } from '../helpers/oci.js';
import { fakeAccessKeyId } from '../helpers/keys.js';
import { makeTestEnv } from '../helpers/env.js';
import { runKeyless } from '../helpers/cli.js';

const MiB = 1024 * 1024;
const DROP = 16 * MiB;

test(
  'docker-save tarballs around the drop boundary: every planted key, both read paths',
  { timeout: 300_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'keyless-scan-sizes-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const te = await makeTestEnv(t);
    // the tar overhead around the filler is a few KiB: aim at sizes just below and above 2 x 16 MiB,
    // and inside the last piece before it
    for (const target of [2 * DROP - 3 * MiB, 2 * DROP - 100_000, 2 * DROP + 100_000, 2 * DROP + 3 * MiB]) {
      const first = fakeAccessKeyId();
      const last = fakeAccessKeyId();
      const filler = randomBytes(target - 40_000);
      const tarball = await dockerSaveTarOf({
        layers: [
          { compression: 'none', files: { 'app/.env': `AWS_ACCESS_KEY_ID=${first}\n` } },
          {
            compression: 'none',
            files: { 'data/blob.bin': filler, 'zz/.env': `AWS_ACCESS_KEY_ID=${last}\n` },
          },
        ],
      });
      const file = join(dir, `image-${target}.tar`);
      await writeFile(file, tarball);
      const size = (await stat(file)).size;
      for (const mmap of ['1', '0']) {
        const r = await runKeyless(['scan', file, '--format', 'json'], {
          env: { ...te.vars, KEYLESS_SCAN_MMAP: mmap },
          timeoutMs: 120_000,
        });
        assert.ok(r.code === 0 || r.code === 1, `size ${size}, mmap ${mmap}: exit ${r.code}\n${r.stderr}`);
        for (const id of [first, last])
          assert.ok(
            r.stdout.includes(id.slice(-4)),
            `size ${size} (${size - 2 * DROP} from 32 MiB), mmap ${mmap}: ${id.slice(0, 4)}…${id.slice(-4)} found`,
          );
      }
    }
  },
);
