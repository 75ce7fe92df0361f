// The vault under stress: writers killed at random moments, and several writers at once.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileStore } from '../../src/store/file-store.js';
import { decodeEnvelope } from '../../src/store/envelope.js';
import { runKeyless } from '../helpers/cli.js';
import { makeTestEnv } from '../helpers/env.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../helpers/keys.js';
import { itemFiles } from '../helpers/store.js';

const CHILD = fileURLToPath(new URL('../helpers/store-writer-child.js', import.meta.url));
const PASS = 'crash test passphrase';

function storeAt(home: string): FileStore {
  return new FileStore({
    vaultDir: join(home, 'vault'),
    sessionsDir: join(home, 'sessions'),
    lockFile: join(home, 'locks', 'vault.lock'),
    passphrase: async () => PASS,
  });
}

/** One announced write: `done` once the same writer announced another (it writes one at a time). */
interface Announced {
  line: string;
  done: boolean;
}

/**
 * Runs the writer until its first write is done, waits a random moment, SIGKILLs it. Every write it
 * announced but its last one completed (it announces the next only after the write returned).
 */
function killMidWrite(home: string, env: Record<string, string>, announced: Announced[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, home], {
      env: { ...env, KEYLESS_PASSPHRASE: PASS },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    let seen = 0;
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      announced.push(...lines.map((line) => ({ line, done: false })));
      seen += lines.length;
      // the second announcement means the first write (and the slow key derivation) is done
      if (seen >= 2) timer ??= setTimeout(() => child.kill('SIGKILL'), randomInt(0, 120));
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      const mine = announced.slice(announced.length - seen);
      for (const a of mine.slice(0, -1)) a.done = true;
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`writer exited by itself (${code}): ${stderr}`));
    });
  });
}

describe('vault durability', () => {
  test('a writer SIGKILLed at random moments 20 times leaves every item readable, each the old or the new value', async (t) => {
    const env = await makeTestEnv(t);
    const home = env.keylessHome;
    const announced: Announced[] = [];
    for (let round = 0; round < 20; round++) await killMidWrite(home, env.vars, announced);
    // For each profile, what is on disk must be its last completed value, or one announced after it
    // (a killed writer's last write may or may not have landed; several writers in a row may each
    // have been killed before theirs), and nothing else.
    const byProfile = new Map<string, { value: string; done: boolean }[]>();
    for (const a of announced) {
      const [profile, id, digest] = a.line.split(' ') as [string, string, string];
      byProfile.set(profile, [...(byProfile.get(profile) ?? []), { value: `${id} ${digest}`, done: a.done }]);
    }
    assert.ok(announced.length >= 40, `enough writes happened (${announced.length})`);
    const { records, problems } = await storeAt(home).listRecords();
    assert.deepEqual(problems, []);
    const allowed = (history: { value: string; done: boolean }[]): string[] => {
      let last = -1;
      history.forEach((h, i) => {
        if (h.done) last = i;
      });
      return history.slice(Math.max(0, last)).map((h) => h.value);
    };
    for (const [profile, history] of byProfile)
      if (history.some((h) => h.done))
        assert.ok(
          records.some((r) => r.profile === profile),
          `${profile}, written completely, is there`,
        );
    for (const r of records) {
      const value = `${r.key.accessKeyId} ${createHash('sha256').update(r.key.secretAccessKey).digest('hex')}`;
      assert.ok(
        allowed(byProfile.get(r.profile) ?? []).includes(value),
        `${r.profile} holds its last completed value or one written after it`,
      );
    }
    // the lock of the killed writer does not block the next one
    const next = storeAt(home);
    await next.putRecord({
      profile: 'after',
      key: { accessKeyId: fakeAccessKeyId(), secretAccessKey: fakeSecretAccessKey() },
      addedAt: new Date().toISOString(),
    });
    assert.equal((await next.listRecords()).records.length, records.length + 1);
  });

  test('six processes adding different profiles at once to a new vault: all are stored, under one passphrase salt', async (t) => {
    const env = await makeTestEnv(t);
    const profiles = ['a', 'b', 'c', 'd', 'e', 'f'];
    const results = await Promise.all(
      profiles.map((p) =>
        runKeyless(['add', p, '--env'], {
          env: {
            ...env.vars,
            AWS_ACCESS_KEY_ID: fakeAccessKeyId(),
            AWS_SECRET_ACCESS_KEY: fakeSecretAccessKey(),
          },
        }),
      ),
    );
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const list = await runKeyless(['list', '--json'], { env: env.vars });
    assert.deepEqual(
      (JSON.parse(list.stdout) as { profile: string }[]).map((r) => r.profile),
      profiles,
    );
    const files = await itemFiles(join(env.keylessHome, 'vault'));
    const salts = new Set<string>();
    for (const f of files) salts.add(decodeEnvelope(await readFile(f), f).header.kdf.salt.toString('hex'));
    assert.equal(salts.size, 1, 'every item opens with the one vault key');
  });
});
