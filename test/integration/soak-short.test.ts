// The reliability soak (test/soak/soak.ts, `npm run soak` for the 30-second version) with 3 seconds of
// load per endpoint: RSS bound, no errors, one STS call, malformed requests, the audit log's counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../helpers/cli.js';
import { baseSafeEnv } from '../helpers/env.js';

const SOAK = fileURLToPath(new URL('../soak/soak.js', import.meta.url));

test('soak, 3 s per endpoint: every check passes', { timeout: 240_000 }, async (t) => {
  const r = await runProcess(process.execPath, [SOAK], {
    env: { ...baseSafeEnv(), SOAK_SECONDS: '3' },
    timeoutMs: 230_000,
  });
  t.diagnostic(r.stdout.trim());
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /soak: all checks passed/);
});
