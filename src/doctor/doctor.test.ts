import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modeProblems } from './checks/files.js';
import { containerExposures } from './checks/docker.js';
import { judgeImdsProbe } from './checks/in-container.js';
import { judgeMetadataOptions } from './checks/ec2.js';

test('mode problems name each loose folder and file', () => {
  assert.deepEqual(modeProblems(0o40700, [{ name: 'a', mode: 0o100600 }]), []);
  assert.deepEqual(modeProblems(0o40755, [{ name: 'a', mode: 0o100644 }]), [
    'folder is 755, not 700',
    'a is 644, not 600',
  ]);
});

test('containers exposing AWS secrets by env or .aws mounts are found', () => {
  assert.deepEqual(
    containerExposures({
      Id: 'x',
      Name: '/x',
      Config: { Env: ['AWS_REGION=x', 'AWS_SECRET_ACCESS_KEY=abc'] },
      Mounts: [{ Source: '/home/u/.aws', Destination: '/root/.aws' }],
    }),
    ['env AWS_SECRET_ACCESS_KEY', 'mount /home/u/.aws → /root/.aws'],
  );
  assert.deepEqual(
    containerExposures({
      Id: 'x',
      Name: '/x',
      Config: { Env: ['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v1/creds/x'] },
    }),
    [],
  );
});

test('a token PUT that times out while the endpoint accepts connections is the hop-limit symptom, with its fix', () => {
  const r = judgeImdsProbe('http://x/', { connect: true, tokenlessGet: 401, tokenPut: 'timeout' });
  assert.equal(r.status, 'fail');
  assert.match(r.found, /hop-limit symptom/);
  assert.match(r.fix ?? '', /--hop-limit 2/);
  assert.equal(judgeImdsProbe('http://x/', { connect: true, tokenPut: 200 }).status, 'ok');
  assert.equal(judgeImdsProbe('http://x/', { connect: false, tokenPut: 'error' }).status, 'fail');
});

test('EC2 metadata options: hop limit 1 fails, tokens optional warns, required + 2 is ok', () => {
  assert.equal(
    judgeMetadataOptions('i-1', { HttpTokens: 'required', HttpPutResponseHopLimit: 1 }).status,
    'fail',
  );
  assert.equal(
    judgeMetadataOptions('i-1', { HttpTokens: 'optional', HttpPutResponseHopLimit: 2 }).status,
    'warn',
  );
  assert.equal(
    judgeMetadataOptions('i-1', { HttpTokens: 'required', HttpPutResponseHopLimit: 2 }).status,
    'ok',
  );
});
