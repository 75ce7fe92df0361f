// Child process for the kill-during-write test: writes vault items in a loop until killed.
// Before each write it announces "profile id sha256(secret)" on stdout (synchronous on Linux pipes),
// so the parent knows which values may legitimately be on disk.
//   node store-writer-child.js KEYLESS_HOME   (passphrase from KEYLESS_PASSPHRASE)
import { createHash } from 'node:crypto';
import { writeSync } from 'node:fs';
import { join } from 'node:path';
import { FileStore } from '../../src/store/file-store.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from './keys.js';

const home = process.argv[2] as string;
const passphrase = process.env.KEYLESS_PASSPHRASE as string;
const store = new FileStore({
  vaultDir: join(home, 'vault'),
  sessionsDir: join(home, 'sessions'),
  lockFile: join(home, 'locks', 'vault.lock'),
  passphrase: async () => passphrase,
});

for (let n = 0; ; n++) {
  const profile = `p${n % 4}`;
  const key = { accessKeyId: fakeAccessKeyId(), secretAccessKey: fakeSecretAccessKey() };
  const digest = createHash('sha256').update(key.secretAccessKey).digest('hex');
  writeSync(1, `${profile} ${key.accessKeyId} ${digest}\n`);
  await store.putRecord({ profile, key, addedAt: new Date().toISOString() });
}
