// keyless scan over hand-made OCI layouts (folder and tar): a zstd layer, a gzip layer and a plain
// one; an opaque whiteout that deletes a credentials file of a lower layer; a key in the config Env;
// a build arg in history linked to its layer; a layer that is not a tar is an error (exit 2).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { makeTestEnv } from '../helpers/env.js';
import { runKeyless } from '../helpers/cli.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../helpers/keys.js';
import { tarOf, writeOciLayout } from '../helpers/oci.js';

interface Report {
  findings: {
    rule: string;
    severity: string;
    message: string;
    location: { path: string; line?: number; offset?: number; layer?: { index: number; digest: string } };
    deleted?: string;
  }[];
}

describe('keyless scan of OCI layouts', () => {
  test('reports keys in zstd, gzip and plain layers at their layer, marks the one an opaque whiteout deleted, and reads config Env and history', async (t) => {
    const dir = await tempDir(t);
    const [id1, id2, id3] = [fakeAccessKeyId(), fakeAccessKeyId(), fakeAccessKeyId()];
    const [s1, s2, s3, s4] = [
      fakeSecretAccessKey(),
      fakeSecretAccessKey(),
      fakeSecretAccessKey(),
      fakeSecretAccessKey(),
    ];
    const layout = join(dir, 'layout');
    const files = await writeOciLayout(layout, {
      layers: [
        {
          compression: 'zstd',
          files: {
            'root/.aws/credentials': `[default]\naws_access_key_id = ${id1}\naws_secret_access_key = ${s1}\n`,
            'bin/tool': Buffer.concat([
              Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0]),
              Buffer.from(`${id3} ${s4}`),
            ]),
          },
        },
        { compression: 'gzip', files: { 'root/.aws/.wh..wh..opq': '', 'app/readme.txt': 'nothing here\n' } },
        { compression: 'none', files: { 'app/settings.env': `AWS_SECRET_ACCESS_KEY=${s2}\n` } },
      ],
      env: ['PATH=/bin', `AWS_ACCESS_KEY_ID=${id2}`, `AWS_SECRET_ACCESS_KEY=${s3}`],
      history: [
        { created_by: 'COPY creds /root/.aws/credentials' },
        { created_by: 'ARG AWS_SECRET_ACCESS_KEY', empty_layer: true },
        { created_by: `RUN |1 AWS_SECRET_ACCESS_KEY=${s4} /bin/sh -c rm -rf /root/.aws` },
        { created_by: 'COPY settings.env /app/' },
      ],
    });
    const tarPath = join(dir, 'layout.tar');
    await writeFile(tarPath, await tarOf(files));
    const te = await makeTestEnv(t);
    for (const target of [layout, tarPath]) {
      const r = await runKeyless(['scan', target, '--format', 'json'], { env: te.vars });
      assert.equal(r.code, 1, r.stderr);
      for (const s of [s1, s2, s3, s4]) assert.ok(!r.stdout.includes(s), 'no secret in the report');
      const rep = JSON.parse(r.stdout) as Report;
      const at = (suffix: string) => rep.findings.filter((f) => f.location.path.endsWith(suffix));
      const creds = at('/root/.aws/credentials').find((f) => f.rule === 'SCAN_AWS_SECRET_ACCESS_KEY');
      assert.equal(creds?.location.layer?.index, 1, r.stdout);
      assert.match(creds?.location.layer?.digest ?? '', /^sha256:[0-9a-f]{64}$/);
      assert.equal(creds?.deleted, 'deleted in layer 2, still extractable from layer 1');
      const settings = at('/app/settings.env').find((f) => f.rule === 'SCAN_AWS_SECRET_ACCESS_KEY');
      assert.equal(settings?.location.layer?.index, 3);
      assert.equal(settings?.deleted, undefined);
      assert.ok(
        at('/config/Env').some((f) => f.rule === 'SCAN_AWS_SECRET_ACCESS_KEY'),
        'config Env',
      );
      const hist = rep.findings.find((f) => f.location.path.endsWith('/history/3'));
      assert.equal(hist?.rule, 'SCAN_AWS_SECRET_ACCESS_KEY');
      assert.equal(hist?.location.layer?.index, 2, 'the build arg is linked to the layer its RUN made');
      // a key compiled into a binary is found too, placed by byte offset (no lines in a binary)
      const inBinary = at('/bin/tool');
      assert.deepEqual(inBinary.map((f) => [f.rule, f.location.offset, f.location.line]).sort(), [
        ['SCAN_AWS_ACCESS_KEY_ID', 5, undefined],
        ['SCAN_AWS_SECRET_ACCESS_KEY', 26, undefined],
      ]);
    }
  });

  test('a layer that is not a readable compressed tar is an error with exit 2, not an empty report', async (t) => {
    const dir = await tempDir(t);
    const layout = join(dir, 'layout');
    const files = await writeOciLayout(layout, {
      layers: [{ compression: 'gzip', files: { 'a.txt': 'x\n' } }],
    });
    const layer = Object.keys(files).find((k) => files[k]?.[0] === 0x1f) as string;
    await writeFile(
      join(layout, layer),
      Buffer.concat([(files[layer] as Buffer).subarray(0, 12), Buffer.alloc(64, 7)]),
    );
    const te = await makeTestEnv(t);
    const r = await runKeyless(['scan', layout], { env: te.vars });
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.stderr, /not a readable gzip-compressed tar/);
  });
});
