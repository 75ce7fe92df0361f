// Whose key it is, offline (issue 22, first part): keyless scan names the account a key id of the newer
// format belongs to, in the text, JSON and SARIF reports; an older id format claims none. Keys are
// generated at test time for a random account; nothing is sent anywhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { keyIdForAccount } from '../../src/scan/key-account.js';
import { fakeSecretAccessKey } from '../helpers/keys.js';
import { makeTestEnv } from '../helpers/env.js';
import { runKeyless } from '../helpers/cli.js';

test('scan reports the account of a newer key id, and none for an older format', async (t) => {
  const te = await makeTestEnv(t);
  const account = String(randomInt(1, 999_999_999_999)).padStart(12, '0');
  const id = keyIdForAccount(account);
  // an older-format id: fifth character I (AKIAI…), random tail without a second prefix
  const old = `AKIAI${'BCDEFGHJKLMNPRSTU'
    .split('')
    .sort(() => Math.random() - 0.5)
    .join('')
    .slice(0, 15)}`;
  const file = join(te.home, 'creds.env');
  await writeFile(
    file,
    `AWS_ACCESS_KEY_ID=${id}\nAWS_SECRET_ACCESS_KEY=${fakeSecretAccessKey()}\nOTHER_KEY_ID=${old}\n`,
  );
  const json = await runKeyless(['scan', file, '--format', 'json'], { env: te.vars });
  assert.equal(json.code, 1, json.stderr);
  const findings = (
    JSON.parse(json.stdout) as {
      findings: { rule: string; keyId?: string; account?: string; message: string }[];
    }
  ).findings;
  const idFinding = findings.find(
    (f) => f.rule === 'SCAN_AWS_ACCESS_KEY_ID' && f.keyId?.endsWith(id.slice(-4)),
  );
  assert.equal(idFinding?.account, account);
  assert.match(idFinding?.message ?? '', new RegExp(`account ${account}`));
  const secret = findings.find((f) => f.rule === 'SCAN_AWS_SECRET_ACCESS_KEY');
  assert.equal(secret?.account, account, 'the paired secret names the account too');
  const oldFinding = findings.find((f) => f.keyId?.endsWith(old.slice(-4)));
  assert.equal(oldFinding?.account, undefined);
  assert.match(oldFinding?.message ?? '', /older id format that does not carry its account/);
  const sarif = await runKeyless(['scan', file, '--format', 'sarif'], { env: te.vars });
  assert.match(sarif.stdout, new RegExp(`"account": "${account}"`));
  const text = await runKeyless(['scan', file], { env: te.vars });
  assert.match(text.stdout, new RegExp(`account ${account}`));
  assert.ok(!json.stdout.includes(id) && !text.stdout.includes(id), 'the full key id is never printed');
});
