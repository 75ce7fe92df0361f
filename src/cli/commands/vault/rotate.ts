// keyless rotate PROFILE [--backend file|keychain]
import { loadEnv } from '../../../config/env.js';
import { openStore } from '../../../store/index.js';
import { rotateKey } from '../../../store/rotate.js';
import { redactAccessKeyId } from '../../../util/redact.js';
import type { ExitCode } from '../../action.js';
import { output } from '../../output.js';
import { checkProfileName } from './profile-name.js';

export async function runRotate(profile: string, opts: { backend?: string }): Promise<ExitCode> {
  checkProfileName(profile);
  const env = loadEnv();
  const store = await openStore(env, opts.backend !== undefined ? { backend: opts.backend } : {});
  const { awsRotationApi } = await import('../../../store/rotate-aws.js');
  const result = await rotateKey(store, profile, awsRotationApi(env), {
    log: (line) => output.info(line),
  });
  output.info(
    `rotated profile ${profile}${result.resumed ? ' (finished an interrupted rotation)' : ''}: ` +
      `${redactAccessKeyId(result.oldAccessKeyId)} deleted, ${redactAccessKeyId(result.newAccessKeyId)} in use`,
  );
  return 0;
}
