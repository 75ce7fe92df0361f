// keyless add PROFILE [--env] [--backend file|keychain] [--force]
import { loadEnv } from '../../../config/env.js';
import { openStore } from '../../../store/index.js';
import { redactAccessKeyId } from '../../../util/redact.js';
import type { ExitCode } from '../../action.js';
import { output } from '../../output.js';
import { readKeyInput } from './key-input.js';
import { checkProfileName } from './profile-name.js';

export async function runAdd(
  profile: string,
  opts: { env?: boolean; backend?: string; force?: boolean },
): Promise<ExitCode> {
  checkProfileName(profile);
  const env = loadEnv();
  // The key is read (and checked) before the store asks for a passphrase: a typo in the key costs nothing.
  const key = await readKeyInput(env, opts.env === true);
  const store = await openStore(env, opts.backend !== undefined ? { backend: opts.backend } : {});
  await store.putRecord(
    { profile, key, addedAt: new Date().toISOString() },
    { mode: opts.force === true ? 'replace' : 'create' },
  );
  output.info(`stored profile ${profile} (${redactAccessKeyId(key.accessKeyId)}) in ${store.location}`);
  return 0;
}
