import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { isKeylessError } from '../../../errors.js';
import { tempDir } from '../../../../test/helpers/tmp.js';
import type { ScanFlags } from '../scan.js';
import { runScan } from './run.js';

const flags: ScanFlags = { format: 'text', failOn: 'high', kind: 'auto', quiet: true };

test('a path that does not exist is named as such, without asking the Docker engine', async (t) => {
  const dir = await tempDir(t);
  // DOCKER_HOST pointing nowhere: reaching for the engine would be a different error
  const before = process.env.DOCKER_HOST;
  process.env.DOCKER_HOST = 'tcp://127.0.0.1:1';
  t.after(() => {
    if (before === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = before;
  });
  await assert.rejects(
    runScan([''], flags),
    (err: unknown) => isKeylessError(err) && err.code === 'USAGE' && /scan target is empty/.test(err.message),
  );
  for (const target of [join(dir, 'missing'), './missing-here', '../missing-there']) {
    await assert.rejects(
      runScan([target], flags),
      (err: unknown) =>
        isKeylessError(err) && err.code === 'SCAN_TARGET_NOT_FOUND' && err.message.includes('no such file'),
    );
  }
});

test('an --output or --write-baseline in a folder that does not exist is an input error, not a bug', async (t) => {
  const dir = await tempDir(t);
  for (const extra of [
    { output: join(dir, 'no', 'report.txt') },
    { writeBaseline: join(dir, 'no', 'b.json') },
  ]) {
    await assert.rejects(
      runScan([dir], { ...flags, ...extra }),
      (err: unknown) =>
        isKeylessError(err) &&
        err.code === 'FILE_UNWRITABLE' &&
        err.exitCode === 2 &&
        /folder does not exist/.test(err.message),
    );
  }
});
