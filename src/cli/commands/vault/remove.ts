// keyless remove PROFILE [--yes] [--backend file|keychain]
import { loadEnv } from '../../../config/env.js';
import { KeylessError, usageError } from '../../../errors.js';
import { openStore, VaultErrorCode } from '../../../store/index.js';
import type { ExitCode } from '../../action.js';
import { output } from '../../output.js';
import { checkProfileName } from './profile-name.js';

export async function runRemove(
  profile: string,
  opts: { yes?: boolean; backend?: string },
): Promise<ExitCode> {
  checkProfileName(profile);
  const env = loadEnv();
  const store = await openStore(env, opts.backend !== undefined ? { backend: opts.backend } : {});
  const record = await store.getRecord(profile);
  if (record === undefined) throw notFound(profile, store.location);
  if (opts.yes !== true) {
    if (!process.stdin.isTTY)
      throw usageError(`removing profile ${profile} needs --yes when there is no terminal to ask on.`);
    const { default: input } = await import('@inquirer/input');
    const answer = await input(
      { message: `Remove profile ${profile} from ${store.location}? [y/N]` },
      { output: process.stderr },
    );
    if (!/^y(es)?$/i.test(answer.trim())) {
      output.info('nothing removed');
      return 1;
    }
  }
  if (record.rotation !== undefined) {
    output.warn(
      `a rotation of ${profile} did not finish: another access key of this IAM user may still exist at AWS. ` +
        'List them with `aws iam list-access-keys` and delete the one you do not use.',
    );
  }
  if (!(await store.removeKey(profile))) throw notFound(profile, store.location);
  output.info(`removed profile ${profile} from ${store.location} (its access key still exists at AWS)`);
  return 0;
}

export function notFound(profile: string, location: string): KeylessError {
  return new KeylessError(
    VaultErrorCode.PROFILE_NOT_FOUND,
    `profile ${profile} is not in ${location}. Run \`keyless list\` to see stored profiles, or \`keyless add ${profile}\`.`,
    { details: { profile } },
  );
}
