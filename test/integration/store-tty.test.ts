// The interactive paths on a real pseudo-terminal: hidden prompts for the key and the passphrase.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { KEYLESS_BIN, runKeyless } from '../helpers/cli.js';
import { makeTestEnv } from '../helpers/env.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../helpers/keys.js';
import { runOnPty } from '../helpers/pty.js';
import { itemFiles } from '../helpers/store.js';

describe('keyless vault on a terminal', () => {
  test('add asks for key id, secret and a new passphrase twice without echoing any of them', async (t) => {
    const env = await makeTestEnv(t);
    const { KEYLESS_PASSPHRASE: _drop, ...vars } = env.vars;
    const id = fakeAccessKeyId();
    const secret = fakeSecretAccessKey();
    const passphrase = 'typed at the terminal';
    const r = await runOnPty(
      [process.execPath, KEYLESS_BIN, 'add', 'dev'],
      [
        ['AWS access key id:', id],
        ['AWS secret access key:', secret],
        ['New passphrase for the vault', passphrase],
        ['Repeat the passphrase:', passphrase],
      ],
      vars,
    );
    assert.equal(r.status, 0, `${r.waiting ?? ''}\n${r.output}`);
    assert.match(r.output, /stored profile dev/);
    for (const s of [id, secret, passphrase]) assert.ok(!r.output.includes(s), 'typed input is not shown');
    const list = await runKeyless(['list', '--json'], { env: { ...vars, KEYLESS_PASSPHRASE: passphrase } });
    assert.equal((JSON.parse(list.stdout) as unknown[]).length, 1, list.stderr);

    // an existing vault asks once; remove asks for confirmation
    const rm = await runOnPty(
      [process.execPath, KEYLESS_BIN, 'remove', 'dev'],
      [
        ['Passphrase for the vault', passphrase],
        ['Remove profile dev', 'y'],
      ],
      vars,
    );
    assert.equal(rm.status, 0, rm.output);
    assert.deepEqual(await itemFiles(join(env.keylessHome, 'vault')), []);
  });

  test('two different new passphrases store nothing', async (t) => {
    const env = await makeTestEnv(t);
    const { KEYLESS_PASSPHRASE: _drop, ...vars } = env.vars;
    const r = await runOnPty(
      [process.execPath, KEYLESS_BIN, 'add', 'dev'],
      [
        ['AWS access key id:', fakeAccessKeyId()],
        ['AWS secret access key:', fakeSecretAccessKey()],
        ['New passphrase for the vault', 'one passphrase'],
        ['Repeat the passphrase:', 'another passphrase'],
      ],
      vars,
    );
    assert.equal(r.status, 2, r.output);
    assert.match(r.output, /the two passphrases differ; nothing was stored/);
    assert.deepEqual(await itemFiles(join(env.keylessHome, 'vault')), []);
  });
});
