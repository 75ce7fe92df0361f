import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isKeylessError } from '../errors.js';
import { passphraseProvider } from './passphrase.js';

const ctx = { vaultDir: '/v', creating: false };
const base = { configFile: '/k/config.json', isTTY: false };

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isKeylessError(err)) return err.code;
    throw err;
  }
  return 'none';
}

describe('passphrase sources', () => {
  test('KEYLESS_PASSPHRASE wins over the command and the prompt', async () => {
    const p = passphraseProvider({
      ...base,
      fromEnv: 'from env',
      command: ['false'],
      isTTY: true,
      prompt: async () => 'typed',
    });
    assert.equal(await p(ctx), 'from env');
  });

  test('the command runs without a shell and its first output line is the passphrase', async () => {
    const script = 'process.stdout.write(process.argv[1] + "\\nsecond line\\n")';
    const p = passphraseProvider({
      ...base,
      fromEnv: undefined,
      command: [process.execPath, '-e', script, 'a $(b) ;c'],
    });
    assert.equal(await p(ctx), 'a $(b) ;c');
  });

  test('a failing, missing or silent command is VAULT_PASSPHRASE_COMMAND_FAILED', async () => {
    for (const command of [['false'], ['/nonexistent/keyless-pass'], [process.execPath, '-e', '']]) {
      const p = passphraseProvider({ ...base, fromEnv: undefined, command });
      assert.equal(await codeOf(p(ctx)), 'VAULT_PASSPHRASE_COMMAND_FAILED', command.join(' '));
    }
  });

  test('without a terminal, nothing configured is VAULT_PASSPHRASE_REQUIRED naming every way to give one', async () => {
    const p = passphraseProvider({ ...base, fromEnv: '', prompt: async () => 'never asked' });
    await assert.rejects(p(ctx), (err: Error) => {
      assert.ok(isKeylessError(err));
      assert.equal(err.code, 'VAULT_PASSPHRASE_REQUIRED');
      assert.match(err.message, /KEYLESS_PASSPHRASE/);
      assert.match(err.message, /passphraseCommand/);
      return true;
    });
  });

  test('a new vault asks twice on a terminal and refuses two different answers', async () => {
    const answers = ['first', 'second'];
    const p = passphraseProvider({
      ...base,
      fromEnv: undefined,
      isTTY: true,
      prompt: async () => answers.shift() ?? '',
    });
    assert.equal(await codeOf(p({ vaultDir: '/v', creating: true })), 'VAULT_PASSPHRASE_MISMATCH');
    const same = ['same', 'same'];
    const q = passphraseProvider({
      ...base,
      fromEnv: undefined,
      isTTY: true,
      prompt: async () => same.shift() ?? '',
    });
    assert.equal(await q({ vaultDir: '/v', creating: true }), 'same');
  });
});
