// Shared by exec and export: flags → a credential source, with the terminal MFA prompt.
import { loadEnv, type KeylessEnv } from '../../../config/env.js';
import { usageError } from '../../../errors.js';
import { createCredentialSource, type DisposableSource } from '../../../sources/index.js';
import { oidcSpecFromFlags } from '../../../sources/oidc/index.js';
import { output } from '../../output.js';
import type { CredentialFlags } from '../credentials.js';

export async function sourceFromFlags(
  profile: string | undefined,
  flags: CredentialFlags,
): Promise<{ env: KeylessEnv; source: DisposableSource }> {
  if (profile === '')
    throw usageError(
      'the profile name is empty (an unset variable?): name a profile, or leave it out for AWS_PROFILE, then "default".',
    );
  const env = loadEnv();
  const oidc = oidcSpecFromFlags(flags);
  if (oidc && profile !== undefined)
    throw usageError(
      `--oidc takes the place of a profile: drop "${profile.slice(0, 40)}", or drop --oidc to use the profile. (If it is the command, put it after --.)`,
    );
  let durationSeconds: number | undefined;
  if (flags.duration !== undefined) {
    durationSeconds = Number(flags.duration);
    if (!Number.isInteger(durationSeconds) || durationSeconds < 900 || durationSeconds > 43_200) {
      throw usageError(`--duration must be 900 to 43200 seconds, got "${flags.duration}".`);
    }
  }
  if (flags.mfaToken !== undefined && !/^\d{6}$/.test(flags.mfaToken))
    throw usageError('--mfa-token must be the 6-digit code.');
  const source = await createCredentialSource(
    {
      ...(profile !== undefined ? { profile } : {}),
      ...(oidc ? { oidc } : {}),
      ...(flags.roleArn ? { roleArn: flags.roleArn } : {}),
      ...(durationSeconds ? { durationSeconds } : {}),
    },
    {
      env,
      ...(flags.mfaToken ? { mfaToken: flags.mfaToken } : {}),
      ...(process.stdin.isTTY
        ? {
            mfa: async (serial: string, p: string) => {
              const { default: input } = await import('@inquirer/input');
              return input(
                {
                  message: `MFA code for ${serial} (profile ${p}):`,
                  validate: (v) => /^\d{6}$/.test(v.trim()) || '6 digits',
                },
                { output: process.stderr },
              );
            },
          }
        : {}),
      ...(env.debug ? { log: (line: string) => output.info(`debug: ${line}`) } : {}),
    },
  );
  for (const w of source.warnings) output.warn(w);
  return { env, source };
}
