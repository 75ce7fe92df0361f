import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStoreConfig, splitCommand } from './config.js';

describe('vault config', () => {
  test('splits a passphrase command into words without interpreting shell syntax', () => {
    assert.deepEqual(splitCommand('pass show keyless'), ['pass', 'show', 'keyless']);
    assert.deepEqual(splitCommand(`security find-generic-password -s 'keyless vault' -w`), [
      'security',
      'find-generic-password',
      '-s',
      'keyless vault',
      '-w',
    ]);
    assert.deepEqual(splitCommand('echo $(rm -rf x); ls | cat'), [
      'echo',
      '$(rm',
      '-rf',
      'x);',
      'ls',
      '|',
      'cat',
    ]);
    assert.deepEqual(splitCommand('a "b \\"c\\"" d\\ e'), ['a', 'b "c"', 'd e']);
    assert.throws(() => splitCommand('pass "show'), /unclosed/);
  });

  test('reads backend and passphraseCommand, and lists every problem at once', () => {
    assert.deepEqual(
      parseStoreConfig('{"backend":"keychain","passphraseCommand":["pass","show","k"],"other":1}', 'c'),
      {
        backend: 'keychain',
        passphraseCommand: ['pass', 'show', 'k'],
      },
    );
    assert.deepEqual(parseStoreConfig('{}', 'c'), {});
    assert.throws(
      () => parseStoreConfig('{"backend":"gpg","passphraseCommand":7}', 'config.json'),
      (err: Error) =>
        /backend: expected/.test(err.message) && /passphraseCommand: expected/.test(err.message),
    );
    assert.throws(() => parseStoreConfig('{nope', 'config.json'), /config.json is invalid/);
  });
});
