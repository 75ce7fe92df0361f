import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitExecOperands } from './exec.js';

const argv = (...rest: string[]): string[] => ['/usr/bin/node', '/bin/keyless', 'exec', ...rest];

test('an operand counts as the profile only when it was written before --', () => {
  assert.deepEqual(splitExecOperands('dev', ['aws', 'sts'], argv('dev', '--', 'aws', 'sts')), {
    profile: 'dev',
    command: ['aws', 'sts'],
  });
  assert.deepEqual(
    splitExecOperands('aws', ['sts'], argv('--oidc', 'github', '--role-arn', 'R', '--', 'aws', 'sts')),
    { profile: undefined, command: ['aws', 'sts'] },
  );
  // a second -- belongs to the command
  assert.deepEqual(splitExecOperands('dev', ['cmd', '--', 'x'], argv('dev', '--', 'cmd', '--', 'x')), {
    profile: 'dev',
    command: ['cmd', '--', 'x'],
  });
  assert.deepEqual(splitExecOperands('dev', [], argv('dev')), { profile: 'dev', command: [] });
});
