// A web identity base step: a fresh OIDC token, exchanged with STS AssumeRoleWithWebIdentity for a
// role session. Every call takes a new token first, so a refresh never presents a token that expired
// with the CI step's clock (GitHub's live about 5 minutes, GitLab's as long as the job).
import type { EnvVars } from '../../config/env.js';
import type { StsCalls } from '../sts.js';
import type { Credentials } from '../types.js';
import type { TokenReader } from './token-source.js';
import { describeOidcSpec, type OidcSpec } from './oidc-spec.js';
import { KeylessError } from '../../errors.js';
import { OidcErrorCode } from './oidc-errors.js';

export interface WebIdentityRequest {
  spec: OidcSpec;
  roleArn: string;
  roleSessionName?: string;
  durationSeconds?: number;
}

export interface WebIdentityDeps {
  token: TokenReader;
  sts: Pick<StsCalls, 'assumeRoleWithWebIdentity'>;
  vars: EnvVars;
  log?: (line: string) => void;
}

/**
 * The session name CloudTrail shows: the CI run it came from when the provider says (GitHub's
 * GITHUB_RUN_ID, GitLab's CI_JOB_ID), else keyless-oidc. STS allows [\w+=,.@-], 2 to 64 characters.
 */
export function webIdentitySessionName(spec: OidcSpec, vars: EnvVars): string {
  if (spec.kind === 'github') return sessionName(`keyless-github${suffix(vars.GITHUB_RUN_ID)}`);
  if (spec.kind === 'gitlab') return sessionName(`keyless-gitlab${suffix(vars.CI_JOB_ID)}`);
  return 'keyless-oidc';
}

const suffix = (run: string | undefined): string => (run ? `-${run}` : '');

/** A name STS takes: characters outside [\w+=,.@-] become -, at most 64 characters. */
function sessionName(name: string): string {
  return name.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}

export async function fromWebIdentity(
  request: WebIdentityRequest,
  deps: WebIdentityDeps,
): Promise<Credentials> {
  const token = await deps.token();
  deps.log?.(
    `web identity: token from ${describeOidcSpec(request.spec)}, AssumeRoleWithWebIdentity ${request.roleArn}`,
  );
  try {
    return await deps.sts.assumeRoleWithWebIdentity({
      roleArn: request.roleArn,
      roleSessionName: sessionName(
        request.roleSessionName ?? webIdentitySessionName(request.spec, deps.vars),
      ),
      webIdentityToken: token,
      ...(request.durationSeconds ? { durationSeconds: request.durationSeconds } : {}),
    });
  } catch (err) {
    // say where the refused token came from: the file, the variable, the runner
    if (err instanceof KeylessError && err.code === OidcErrorCode.EXCHANGE_FAILED)
      throw new KeylessError(err.code, `token from ${describeOidcSpec(request.spec)}: ${err.message}`, {
        exitCode: err.exitCode,
        details: err.details,
      });
    throw err;
  }
}
