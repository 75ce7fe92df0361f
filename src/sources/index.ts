// The sources surface: turn a profile (or a role ARN) into a CredentialSource.
// Issue 2 implements createCredentialSource; the signature is fixed here so other areas can code
// against it.
import type { KeylessEnv } from '../config/env.js';
import type { SecretStore } from '../store/types.js';
import type { Clock } from '../util/clock.js';
import type { CredentialSource } from './types.js';
import { KeylessError } from '../errors.js';

export type { Credentials, CredentialSource } from './types.js';

/** Asks the user for an MFA code (terminal prompt, --mfa-token, a command). */
export type MfaPrompt = (mfaSerial: string, profile: string) => Promise<string>;

export interface SourceContext {
  env: KeylessEnv;
  /** defaults to the store configured under $KEYLESS_HOME */
  store?: SecretStore;
  mfa?: MfaPrompt;
  clock?: Clock;
  /** debug log: one line per decision with its reason; never a secret */
  log?: (line: string) => void;
}

export interface CredentialRequest {
  /** a profile in ~/.aws/config (or a vault-only profile); default AWS_PROFILE, then "default" */
  profile?: string;
  /** assume this role on top of the profile's credentials */
  roleArn?: string;
  roleSessionName?: string;
  durationSeconds?: number;
}

/**
 * A source of short-lived credentials for a profile or role. Long-term keys are only ever used to call
 * STS; what the source returns always carries a session token and an expiration.
 * Throws KeylessError (SOURCE_*) for a missing profile, MFA needed without a terminal, STS failures.
 */
export async function createCredentialSource(
  request: CredentialRequest,
  _context: SourceContext,
): Promise<CredentialSource> {
  throw new KeylessError(
    'INTERNAL',
    `credential sources are not implemented yet (profile ${request.profile ?? '?'})`,
  );
}
