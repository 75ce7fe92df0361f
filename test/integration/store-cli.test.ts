// keyless add / list / remove as a user runs them: real processes, a private KEYLESS_HOME.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runKeyless, runProcess, KEYLESS_BIN } from '../helpers/cli.js';
import { makeTestEnv } from '../helpers/env.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../helpers/keys.js';
import { cliErrorCode, itemFiles, snapshot } from '../helpers/store.js';

function keyEnv(
  vars: Record<string, string>,
  id = fakeAccessKeyId(),
  secret = fakeSecretAccessKey(),
): { vars: Record<string, string>; id: string; secret: string } {
  return {
    vars: { ...vars, AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret, KEYLESS_DEBUG: '1' },
    id,
    secret,
  };
}

describe('keyless add / list / remove', () => {
  test('add --env stores the key; list shows it redacted; remove --yes deletes it', async (t) => {
    const env = await makeTestEnv(t);
    const k = keyEnv(env.vars);
    const add = await runKeyless(['add', 'dev', '--env'], { env: k.vars });
    assert.equal(add.code, 0, add.stderr);
    assert.equal(add.stdout, '');
    assert.match(add.stderr, /stored profile dev \(AKIA…/);
    const list = await runKeyless(['list', '--json'], { env: env.vars });
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout) as {
      profile: string;
      accessKeyId: string;
      backend: string;
      addedAt: string;
    }[];
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.profile, 'dev');
    assert.equal(rows[0]?.accessKeyId, `${k.id.slice(0, 4)}…${k.id.slice(-4)}`);
    assert.equal(rows[0]?.backend, 'file');
    assert.ok(!Number.isNaN(Date.parse(rows[0]?.addedAt ?? '')));
    const text = await runKeyless(['list'], { env: env.vars });
    assert.match(text.stdout, /^PROFILE\s+ACCESS KEY\s+ADDED\s+BACKEND\ndev\s+AKIA…/);
    for (const out of [add.stdout + add.stderr, list.stdout + list.stderr, text.stdout + text.stderr]) {
      assert.ok(!out.includes(k.secret) && !out.includes(k.id), 'never prints the secret or the full key id');
    }
    const rm = await runKeyless(['remove', 'dev', '--yes'], { env: env.vars });
    assert.equal(rm.code, 0, rm.stderr);
    assert.deepEqual(JSON.parse((await runKeyless(['list', '--json'], { env: env.vars })).stdout), []);
  });

  test('reads id and secret as two lines on stdin when there is no terminal', async (t) => {
    const env = await makeTestEnv(t);
    const id = fakeAccessKeyId();
    const add = await runKeyless(['add', 'piped'], {
      env: env.vars,
      input: `${id}\n${fakeSecretAccessKey()}\n`,
    });
    assert.equal(add.code, 0, add.stderr);
    assert.match(
      (await runKeyless(['list'], { env: env.vars })).stdout,
      new RegExp(`piped\\s+${id.slice(0, 4)}…${id.slice(-4)}`),
    );
  });

  test('refuses to replace a stored profile without --force (VAULT_PROFILE_EXISTS), replaces with it', async (t) => {
    const env = await makeTestEnv(t);
    assert.equal((await runKeyless(['add', 'dev', '--env'], { env: keyEnv(env.vars).vars })).code, 0);
    const second = keyEnv(env.vars);
    const again = await runKeyless(['add', 'dev', '--env'], { env: second.vars });
    assert.equal(again.code, 2);
    assert.equal(cliErrorCode(again), 'VAULT_PROFILE_EXISTS');
    assert.match(again.stderr, /--force/);
    const forced = await runKeyless(['add', 'dev', '--env', '--force'], { env: second.vars });
    assert.equal(forced.code, 0, forced.stderr);
    const rows = JSON.parse((await runKeyless(['list', '--json'], { env: env.vars })).stdout) as {
      accessKeyId: string;
    }[];
    assert.equal(rows[0]?.accessKeyId, `${second.id.slice(0, 4)}…${second.id.slice(-4)}`);
  });

  test('add with a wrong passphrase is VAULT_BAD_PASSPHRASE and leaves the vault byte for byte as it was', async (t) => {
    const env = await makeTestEnv(t);
    assert.equal((await runKeyless(['add', 'dev', '--env'], { env: keyEnv(env.vars).vars })).code, 0);
    const dirs = [join(env.keylessHome, 'vault'), join(env.keylessHome, 'sessions')];
    const before = await snapshot(dirs);
    const wrong = keyEnv({ ...env.vars, KEYLESS_PASSPHRASE: 'not the passphrase' });
    for (const args of [['add', 'other', '--env'], ['list'], ['remove', 'dev', '--yes']]) {
      const r = await runKeyless(args, { env: wrong.vars });
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(cliErrorCode(r), 'VAULT_BAD_PASSPHRASE', r.stderr);
      assert.match(r.stderr, /passphrase does not open the vault .* Check KEYLESS_PASSPHRASE/);
    }
    assert.deepEqual(await snapshot(dirs), before);
  });

  test('bad key input gets its own code and a message naming what is wrong, without echoing the secret', async (t) => {
    const env = await makeTestEnv(t);
    const cases: [Record<string, string>, string, RegExp][] = [
      [
        { AWS_ACCESS_KEY_ID: fakeAccessKeyId('ASIA'), AWS_SECRET_ACCESS_KEY: fakeSecretAccessKey() },
        'VAULT_INVALID_KEY',
        /temporary STS key/,
      ],
      [
        { AWS_ACCESS_KEY_ID: 'hello', AWS_SECRET_ACCESS_KEY: fakeSecretAccessKey() },
        'VAULT_INVALID_KEY',
        /does not look like an IAM user key/,
      ],
      [
        { AWS_ACCESS_KEY_ID: fakeAccessKeyId(), AWS_SECRET_ACCESS_KEY: 'short secret!' },
        'VAULT_INVALID_KEY',
        /secret access key does not look like one/,
      ],
      [
        { AWS_ACCESS_KEY_ID: fakeAccessKeyId() },
        'VAULT_KEY_INPUT_MISSING',
        /--env needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
      ],
    ];
    for (const [vars, code, message] of cases) {
      const r = await runKeyless(['add', 'dev', '--env'], {
        env: { ...env.vars, ...vars, KEYLESS_DEBUG: '1' },
      });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(cliErrorCode(r), code);
      assert.match(r.stderr, message);
      if (vars.AWS_SECRET_ACCESS_KEY !== undefined) assert.ok(!r.stderr.includes(vars.AWS_SECRET_ACCESS_KEY));
    }
    const none = await runKeyless(['add', 'dev'], { env: { ...env.vars, KEYLESS_DEBUG: '1' } });
    assert.equal(cliErrorCode(none), 'VAULT_KEY_INPUT_MISSING');
    assert.match(none.stderr, /pipe two lines/);
    const badName = await runKeyless(['add', 'has space', '--env'], { env: keyEnv(env.vars).vars });
    assert.equal(cliErrorCode(badName), 'USAGE');
    assert.deepEqual(await itemFiles(join(env.keylessHome, 'vault')), [], 'nothing stored');
  });

  test('remove and a missing profile: VAULT_PROFILE_NOT_FOUND; without a terminal remove needs --yes', async (t) => {
    const env = await makeTestEnv(t);
    const vars = { ...env.vars, KEYLESS_DEBUG: '1' };
    const missing = await runKeyless(['remove', 'nope', '--yes'], { env: vars });
    assert.equal(missing.code, 2);
    assert.equal(cliErrorCode(missing), 'VAULT_PROFILE_NOT_FOUND');
    assert.match(missing.stderr, /keyless list/);
    assert.equal((await runKeyless(['add', 'dev', '--env'], { env: keyEnv(env.vars).vars })).code, 0);
    const noYes = await runKeyless(['remove', 'dev'], { env: vars });
    assert.equal(noYes.code, 2);
    assert.match(noYes.stderr, /needs --yes/);
    assert.equal((await itemFiles(join(env.keylessHome, 'vault'))).length, 1, 'still stored');
  });

  test('without any passphrase source: VAULT_PASSPHRASE_REQUIRED saying how to give one', async (t) => {
    const env = await makeTestEnv(t);
    const { KEYLESS_PASSPHRASE: _drop, ...vars } = keyEnv(env.vars).vars;
    const r = await runKeyless(['add', 'dev', '--env'], { env: vars });
    assert.equal(r.code, 2);
    assert.equal(cliErrorCode(r), 'VAULT_PASSPHRASE_REQUIRED');
    assert.match(r.stderr, /Set KEYLESS_PASSPHRASE, or set "passphraseCommand"/);
  });

  test('takes the passphrase from passphraseCommand in config.json, run without a shell', async (t) => {
    const env = await makeTestEnv(t);
    await mkdir(env.keylessHome, { recursive: true, mode: 0o700 });
    const script = join(env.home, 'print-pass.js');
    await writeFile(script, 'process.stdout.write("from the command\\n")');
    await writeFile(
      join(env.keylessHome, 'config.json'),
      JSON.stringify({ passphraseCommand: [process.execPath, script] }),
    );
    const { KEYLESS_PASSPHRASE: _drop, ...vars } = keyEnv(env.vars).vars;
    assert.equal((await runKeyless(['add', 'dev', '--env'], { env: vars })).code, 0);
    // the same vault opens with that passphrase given directly, and not with another
    const ok = await runKeyless(['list', '--json'], {
      env: { ...env.vars, KEYLESS_PASSPHRASE: 'from the command' },
    });
    assert.equal(JSON.parse(ok.stdout).length, 1, ok.stderr);
    const bad = await runKeyless(['list'], { env: { ...env.vars, KEYLESS_DEBUG: '1' } });
    assert.equal(cliErrorCode(bad), 'VAULT_BAD_PASSPHRASE');
  });

  test('an unreadable vault folder is VAULT_UNREADABLE (as an unprivileged user)', async (t) => {
    const env = await makeTestEnv(t);
    assert.equal((await runKeyless(['add', 'dev', '--env'], { env: keyEnv(env.vars).vars })).code, 0);
    const vaultDir = join(env.keylessHome, 'vault');
    if (process.getuid?.() === 0) {
      // root reads any folder: run keyless as "nobody" against a vault it does not own.
      // (KEYLESS_HOME must be nobody's own: a home of another user is refused first, UNSAFE_PATH)
      await chmod(env.home, 0o755);
      await chown(env.keylessHome, 65534, 65534);
      await chmod(vaultDir, 0o700);
      const r = await runProcess(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, KEYLESS_BIN, 'list'],
        {
          env: { ...env.vars, KEYLESS_DEBUG: '1' },
        },
      );
      assert.equal(r.code, 2, r.stderr);
      assert.equal(cliErrorCode(r), 'VAULT_UNREADABLE');
      assert.match(r.stderr, /EACCES.*chmod 700/s);
    } else {
      await chmod(vaultDir, 0o000);
      t.after(() => chmod(vaultDir, 0o700));
      const r = await runKeyless(['list'], { env: { ...env.vars, KEYLESS_DEBUG: '1' } });
      assert.equal(cliErrorCode(r), 'VAULT_UNREADABLE');
    }
    assert.equal((await stat(vaultDir)).mode & 0o777, 0o700, 'left as it was');
    assert.equal((await itemFiles(vaultDir)).length, 1);
  });

  test('the keychain backend says clearly that this machine has no keychain, and stores nothing', async (t) => {
    const env = await makeTestEnv(t);
    const k = keyEnv(env.vars);
    for (const vars of [k.vars, { ...k.vars, KEYLESS_BACKEND: 'keychain' }]) {
      const args =
        vars.KEYLESS_BACKEND === undefined
          ? ['add', 'dev', '--env', '--backend', 'keychain']
          : ['add', 'dev', '--env'];
      const r = await runKeyless(args, {
        env: { ...vars, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' },
      });
      assert.equal(r.code, 2);
      assert.equal(cliErrorCode(r), 'VAULT_KEYCHAIN_UNAVAILABLE');
      assert.match(r.stderr, /OS keychain is not available here/);
      assert.match(r.stderr, /Secret Service/);
      assert.match(r.stderr, /Use the encrypted file backend instead/);
    }
    const unknown = await runKeyless(['list', '--backend', 'gpg'], { env: k.vars });
    assert.equal(cliErrorCode(unknown), 'USAGE');
    assert.deepEqual(await itemFiles(join(env.keylessHome, 'vault')), []);
  });
});
