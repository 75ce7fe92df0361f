// keyless scan's progress bar, as a person sees it: on a real pseudo-terminal an image scan redraws
// one "scanning ..." line in place (\r) and erases it at the end; with --quiet, KEYLESS_NO_PROGRESS=1
// or CI set, and whenever stderr is not a terminal, nothing but the report is printed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { makeTestEnv } from '../helpers/env.js';
import { KEYLESS_BIN, runKeyless } from '../helpers/cli.js';
import { runOnPty } from '../helpers/pty.js';
import { docker, requireDocker } from '../helpers/docker.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../helpers/keys.js';
import { dockerSaveTarOf, writeOciLayout, type CraftedImage } from '../helpers/oci.js';
import { formatBytes } from '../../src/scan/progress.js';
import { validateScanReport } from '../helpers/report-schemas.js';

const ERASE = '\x1b[K';
/** Only progress redraws on one line, then the line erased: no newline, nothing else. */
// eslint-disable-next-line no-control-regex -- the terminal's erase-line sequence is what is tested
const ONLY_PROGRESS = /^(\rscanning [^\r\n]*\x1b\[K)+\r\x1b\[K$/;

function image(): CraftedImage {
  const log = (n: number): string => randomBytes(n).toString('base64');
  return {
    ref: 'local/progress:1',
    layers: [
      { compression: 'none', files: { 'var/log/a.log': log(3_000_000) } },
      {
        compression: 'gzip',
        files: {
          'root/.aws/credentials': `[default]\naws_access_key_id = ${fakeAccessKeyId()}\naws_secret_access_key = ${fakeSecretAccessKey()}\n`,
        },
      },
      { compression: 'none', files: { 'root/.aws/.wh..wh..opq': '', 'var/log/b.log': log(3_000_000) } },
    ],
  };
}

/** The child's environment on the terminal: a real TERM, and no CI or opt-out inherited from the runner. */
async function ttyEnv(t: Parameters<typeof makeTestEnv>[0]): Promise<Record<string, string>> {
  const vars: Record<string, string> = { ...(await makeTestEnv(t)).vars, TERM: 'xterm' };
  delete vars.CI;
  delete vars.KEYLESS_NO_PROGRESS;
  return vars;
}

describe('keyless scan progress', () => {
  test('on a terminal: a docker-save tarball and an OCI layout redraw one progress line with \\r, then erase it', async (t) => {
    const dir = await tempDir(t);
    const tar = await dockerSaveTarOf(image());
    const tarPath = join(dir, 'image.tar');
    await writeFile(tarPath, tar);
    const env = await ttyEnv(t);
    const out = join(dir, 'report.json');
    const r = await runOnPty(
      [process.execPath, KEYLESS_BIN, 'scan', tarPath, '--format', 'json', '--output', out],
      [],
      env,
    );
    assert.equal(r.status, 1, r.output);
    assert.match(r.output, ONLY_PROGRESS, JSON.stringify(r.output));
    // the first draw comes before the first byte: an empty bar against the file's size
    assert.ok(
      r.output.startsWith(`\rscanning image.tar  [....................]   0% `),
      JSON.stringify(r.output.slice(0, 120)),
    );
    assert.ok(r.output.includes(`/${formatBytes(tar.length)}`), 'the total is the file size');
    const report = JSON.parse(await readFile(out, 'utf8'));
    assert.ok(validateScanReport(report).valid);
    assert.ok(report.findings.some((f: { deleted?: string }) => f.deleted));

    // an OCI layout folder: its total is the size of its files
    const layout = join(dir, 'layout');
    await writeOciLayout(layout, image());
    const oci = await runOnPty(
      [process.execPath, KEYLESS_BIN, 'scan', layout, '--format', 'json', '--output', join(dir, 'oci.json')],
      [],
      env,
    );
    assert.equal(oci.status, 1, oci.output);
    assert.match(oci.output, ONLY_PROGRESS, JSON.stringify(oci.output));
    assert.ok(oci.output.startsWith('\rscanning layout  ['), JSON.stringify(oci.output.slice(0, 80)));
  });

  test('on a terminal with the report on stdout: the progress line is erased before the report starts', async (t) => {
    const dir = await tempDir(t);
    const tarPath = join(dir, 'image.tar');
    await writeFile(tarPath, await dockerSaveTarOf(image()));
    const r = await runOnPty(
      [process.execPath, KEYLESS_BIN, 'scan', tarPath, '--format', 'json'],
      [],
      await ttyEnv(t),
    );
    assert.equal(r.status, 1, r.output);
    const erased = r.output.lastIndexOf(`\r${ERASE}`);
    assert.ok(erased > 0, JSON.stringify(r.output.slice(0, 200)));
    assert.match(r.output.slice(0, erased + 4), ONLY_PROGRESS);
    // the terminal turns \n into \r\n
    const report = JSON.parse(r.output.slice(erased + 4).replace(/\r\n/g, '\n'));
    assert.ok(validateScanReport(report).valid);
  });

  test('--quiet, KEYLESS_NO_PROGRESS=1 and CI set keep a terminal free of progress', async (t) => {
    const dir = await tempDir(t);
    const tarPath = join(dir, 'image.tar');
    await writeFile(tarPath, await dockerSaveTarOf(image()));
    const env = await ttyEnv(t);
    const args = [
      process.execPath,
      KEYLESS_BIN,
      'scan',
      tarPath,
      '--format',
      'json',
      '--output',
      join(dir, 'r'),
    ];
    for (const [extraArgs, extraEnv] of [
      [['--quiet'], {}],
      [['-q'], {}],
      [[], { KEYLESS_NO_PROGRESS: '1' }],
      [[], { CI: 'true' }],
      [[], { TERM: 'dumb' }],
    ] as [string[], Record<string, string>][]) {
      const r = await runOnPty([...args, ...extraArgs], [], { ...env, ...extraEnv });
      assert.equal(r.status, 1, r.output);
      assert.equal(r.output, '', `${extraArgs.join(' ')} ${JSON.stringify(extraEnv)}`);
    }
  });

  test('stderr not a terminal: nothing but the report is printed', async (t) => {
    const dir = await tempDir(t);
    const tarPath = join(dir, 'image.tar');
    await writeFile(tarPath, await dockerSaveTarOf(image()));
    const env = await ttyEnv(t);
    const r = await runKeyless(['scan', tarPath, '--format', 'json'], { env });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, '');
    assert.ok(!r.stdout.includes('\r') && !r.stdout.includes('\x1b'), 'no control characters in the report');
    assert.ok(validateScanReport(JSON.parse(r.stdout)).valid);
  });

  test(
    'an image by reference (Engine API): the total is approximate (~) and layers count up to the image’s own',
    { timeout: 120_000 },
    async (t) => {
      if (!(await requireDocker(t))) return;
      const dir = await tempDir(t);
      const ref = `local/keyless-progress:${Date.now()}`;
      const tarPath = join(dir, 'image.tar');
      await writeFile(tarPath, await dockerSaveTarOf({ ...image(), ref }));
      await docker(['load', '-i', tarPath]);
      t.after(async () => void (await docker(['rmi', '-f', ref]).catch(() => undefined)));
      const r = await runOnPty(
        [process.execPath, KEYLESS_BIN, 'scan', ref, '--format', 'json', '--output', join(dir, 'r.json')],
        [],
        await ttyEnv(t),
      );
      assert.equal(r.status, 1, r.output);
      assert.match(r.output, ONLY_PROGRESS, JSON.stringify(r.output));
      assert.match(
        r.output,
        // (the pty reports no width: 80 columns, so the label is cut)
        /\rscanning local\/keyless-p\S* {2}\[[#.]{20}\] +~\d+% [^\r]*\/~[\d.]+ MB/,
      );
      const layers = [...r.output.matchAll(/layer (\d)\/(\d)/g)].map((m) => `${m[1]}/${m[2]}`);
      assert.ok(
        layers.every((l) => /^[0-3]\/3$/.test(l)),
        layers.join(),
      );
    },
  );
});
