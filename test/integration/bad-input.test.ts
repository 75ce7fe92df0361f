// Issue 21.8: bad CLI input gets a clear, bounded answer: megabytes on stdin to `add`, a 1 MB invalid
// role_arn, broken config files (unclosed section, binary garbage, a line without "=", a profile that
// names itself as source_profile with no keys, source_profile without role_arn). Real processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTestEnv } from '../helpers/env.js';
import { KEYLESS_BIN, runKeyless } from '../helpers/cli.js';
import { spawn } from 'node:child_process';

test('100 MB on stdin to add: refused after 4 KiB, nothing stored, no internal error', async (t) => {
  const te = await makeTestEnv(t);
  const child = spawn(process.execPath, [KEYLESS_BIN, 'add', 'dev'], { env: te.vars });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.on('error', () => undefined); // keyless stops reading: EPIPE here is the point
  child.stdin.end(Buffer.alloc(100 * 1024 * 1024, 'A'));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.equal(code, 2, stderr);
  assert.match(stderr, /more than 4096 bytes.*two lines/);
  assert.doesNotMatch(stderr, /internal error/);
  const items = await readdir(join(te.keylessHome, 'vault')).catch(() => []);
  assert.equal(items.length, 0, 'nothing stored');
});

test('a 1 MB invalid role_arn is named, not echoed whole', async (t) => {
  const te = await makeTestEnv(t, {
    awsConfig: `[profile app]\nrole_arn = ${'x'.repeat(1024 * 1024)}\nsource_profile = dev\n`,
  });
  const r = await runKeyless(['export', 'app', '--format', 'env'], { env: te.vars });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /role_arn: "x{80}… \(1048576 characters\)" is not an IAM role ARN/);
  assert.ok(r.stderr.length < 1_000, `stderr is ${r.stderr.length} bytes`);
});

const broken: [string, string, RegExp][] = [
  [
    'an unclosed section',
    '[profile dev]\nregion = us-east-1\n[profile app\nrole_arn = x\n',
    /line 3: a section header without its closing "\]"/,
  ],
  [
    'binary garbage',
    `[profile app]\n${randomBytes(64).toString('latin1')}\n`,
    /line 2: binary or non-UTF-8 bytes/,
  ],
  [
    'a line without =',
    '[profile app]\nregion us-east-1\n',
    /line 2: a line without "=" \(write key = value\): region us-east-1/,
  ],
];
for (const [name, text, want] of broken) {
  test(`a config file with ${name}: file, line and problem`, async (t) => {
    const te = await makeTestEnv(t, { awsConfig: text });
    const r = await runKeyless(['export', 'app', '--format', 'env'], { env: te.vars });
    assert.equal(r.code, 2);
    assert.ok(r.stderr.includes(te.awsConfigFile), r.stderr);
    assert.match(r.stderr, want);
  });
}

test('a profile naming itself as source_profile without keys, and source_profile without role_arn', async (t) => {
  const te = await makeTestEnv(t, {
    awsConfig:
      '[profile self]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = self\n[profile norole]\nsource_profile = dev\n',
  });
  const a = await runKeyless(['export', 'self', '--format', 'env'], { env: te.vars });
  assert.equal(a.code, 2);
  assert.match(a.stderr, /profile self names itself as source_profile in .*keyless add self/);
  const b = await runKeyless(['export', 'norole', '--format', 'env'], { env: te.vars });
  assert.equal(b.code, 2);
  assert.match(b.stderr, /\[profile norole\] source_profile: "dev" is set but role_arn is missing/);
  // the file named is the one read (AWS_CONFIG_FILE), not ~/.aws/config
  assert.ok(b.stderr.includes(`${te.awsConfigFile} [profile norole]`), b.stderr);
});
