// The quick start's first command, end to end: npm run demo ends with the assumed-role identity
// printed from inside a container, and cleans up after itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { requireDocker, lockDockerBridge, docker } from '../helpers/docker.js';
import { runProcess } from '../helpers/cli.js';
import { baseSafeEnv } from '../helpers/env.js';

test(
  'npm run demo prints the assumed-role identity from a container and leaves nothing behind',
  { timeout: 600_000 },
  async (t) => {
    if (!(await requireDocker(t))) return;
    await lockDockerBridge(t);
    await docker(['network', 'rm', 'keyless']).catch(() => undefined);
    const cwd = fileURLToPath(new URL('../../..', import.meta.url));
    const r = await runProcess('bash', ['scripts/demo.sh'], { cwd, env: baseSafeEnv(), timeoutMs: 540_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"Arn": "arn:aws:sts::123456789012:assumed-role\/demo-app\/keyless-demo"/);
    assert.match(r.stderr, /no AWS key or token/);
    const { stdout: nets } = await docker(['network', 'ls', '--format', '{{.Name}}']);
    assert.ok(!nets.split('\n').includes('keyless'), 'the network the demo made is gone');
    const { stdout: ps } = await docker(['ps', '-a', '--format', '{{.Names}}']);
    assert.ok(!ps.includes('keyless-demo'));
  },
);
