import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main, passThroughHint } from './main.js';

test('a command group without its command is a usage error (2); asking for help is not (0)', async (t) => {
  let written = '';
  const capture = (chunk: string | Uint8Array): boolean => {
    written += String(chunk);
    return true;
  };
  t.mock.method(process.stdout, 'write', capture);
  t.mock.method(process.stderr, 'write', capture);
  assert.equal(await main(['node', 'keyless', 'ecr']), 2);
  assert.match(written, /Usage: keyless ecr/);
  assert.equal(await main(['node', 'keyless', 'swarm', 'secret']), 2);
  assert.equal(await main(['node', 'keyless', 'help', 'ecr']), 0);
  assert.equal(await main(['node', 'keyless', 'ecr', '--help']), 0);
  assert.equal(await main(['node', 'keyless', '--version']), 0);
});

test('an unknown option for exec, run, compose or build says that it goes after --', async (t) => {
  let written = '';
  t.mock.method(process.stderr, 'write', (chunk: string | Uint8Array): boolean => {
    written += String(chunk);
    return true;
  });
  assert.equal(await main(['node', 'keyless', 'exec', 'dev', 'ls', '-la']), 2);
  assert.match(written, /^keyless: unknown option '-la'[\s\S]*go after --: keyless exec PROFILE -- CMD/);
  assert.match(passThroughHint(['node', 'keyless', 'run', '--rm', 'alpine']) ?? '', /docker run go after --/);
  assert.equal(passThroughHint(['node', 'keyless', 'list', '--bogus']), undefined);
  assert.equal(passThroughHint(['node', 'keyless', 'exec', '--bogus', 'dev', '--', 'ls']), undefined);
});

test('keyless help NAME for a command that does not exist says so (2), as keyless NAME does', async (t) => {
  let written = '';
  t.mock.method(process.stderr, 'write', (chunk: string | Uint8Array): boolean => {
    written += String(chunk);
    return true;
  });
  assert.equal(await main(['node', 'keyless', 'help', 'bogus']), 2);
  assert.match(written, /^keyless: unknown command 'bogus'/);
});
