import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileAuditLog, type AuditEntry } from './audit-log.js';

async function dir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'keyless-audit-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

const lines = async (p: string): Promise<Record<string, unknown>[]> =>
  (await readFile(p, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const entry = (client: string, outcome = 'ok'): AuditEntry => ({
  client,
  source: '169.254.170.5',
  endpoint: 'ecs',
  role: 'arn:aws:iam::123456789012:role/r',
  outcome,
  key: 'ASIA…WXYZ',
});

test('repeated requests fold into one line with a count; every request is counted', async (t) => {
  const p = join(await dir(t), 'audit.log');
  const log = fileAuditLog(p, { intervalMs: 60_000 });
  for (let i = 0; i < 10_000; i++) log(entry('a'));
  for (let i = 0; i < 3; i++) log(entry('b'));
  log(entry('a', 'wrong-address'));
  await log.flush?.();
  const got = await lines(p);
  assert.equal(got.length, 3);
  const total = got.reduce((n, l) => n + ((l.count as number | undefined) ?? 1), 0);
  assert.equal(total, 10_004);
  const a = got.find((l) => l.client === 'a' && l.outcome === 'ok');
  assert.equal(a?.count, 10_000);
  assert.equal((await stat(p)).mode & 0o777, 0o600);
});

test('distinct lines per interval are capped; the rest are still counted', async (t) => {
  const p = join(await dir(t), 'audit.log');
  const log = fileAuditLog(p, { intervalMs: 60_000, maxDistinct: 100 });
  for (let i = 0; i < 1_000; i++) log(entry(`c${i}`));
  await log.flush?.();
  const got = await lines(p);
  assert.equal(got.length, 101);
  assert.equal(got.at(-1)?.outcome, 'not-itemised');
  assert.equal(got.at(-1)?.count, 900);
});

test('rotates by size and keeps N files', async (t) => {
  const d = await dir(t);
  const p = join(d, 'audit.log');
  const log = fileAuditLog(p, { intervalMs: 60_000, maxBytes: 2_000, keep: 2 });
  for (let round = 0; round < 30; round++) {
    for (let i = 0; i < 5; i++) log(entry(`r${round}-${i}`));
    await log.flush?.();
  }
  const files = (await readdir(d)).sort();
  assert.deepEqual(files, ['audit.log', 'audit.log.1', 'audit.log.2']);
  for (const f of files) assert.ok((await stat(join(d, f))).size <= 2_000, f);
});

test('a symlinked audit.log is not written through (issue 21.5)', async (t) => {
  const d = await dir(t);
  const target = join(d, 'elsewhere');
  await writeFile(target, '');
  await symlink(target, join(d, 'audit.log'));
  const log = fileAuditLog(join(d, 'audit.log'), { intervalMs: 60_000 });
  log(entry('a'));
  const errors: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => (errors.push(String(s)), true)) as typeof process.stderr.write;
  try {
    await log.flush?.();
  } finally {
    process.stderr.write = write;
  }
  assert.equal(await readFile(target, 'utf8'), '');
  assert.match(errors.join(''), /cannot write the audit log/);
});
