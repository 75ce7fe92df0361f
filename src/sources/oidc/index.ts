// Web identity (OIDC) as a credential source: where the token comes from (oidc-spec, token-source,
// github-token) and its exchange with STS (from-web-identity). Plans use it through plan.ts.
import { usageError } from '../../errors.js';
import { parseOidcSpec, type OidcOptionFlags, type OidcSpec } from './oidc-spec.js';
import { GITHUB_REQUEST_TOKEN_ENV, GITHUB_REQUEST_URL_ENV } from './github-token.js';

export { OidcErrorCode } from './oidc-errors.js';
export {
  DEFAULT_AUDIENCE,
  DEFAULT_GITLAB_TOKEN_ENV,
  describeOidcSpec,
  formatOidcSpec,
  parseOidcSpec,
} from './oidc-spec.js';
export type { OidcOptionFlags, OidcSpec } from './oidc-spec.js';

/**
 * The command-line flags → a spec, or undefined without --oidc. The companions without --oidc are a
 * usage error rather than silently unused.
 */
export function oidcSpecFromFlags(flags: OidcOptionFlags): OidcSpec | undefined {
  if (flags.oidc === undefined) {
    const stray =
      flags.oidcAudience !== undefined
        ? '--oidc-audience'
        : flags.oidcTokenEnv !== undefined
          ? '--oidc-token-env'
          : undefined;
    if (stray) throw usageError(`${stray} needs --oidc.`);
    return undefined;
  }
  return parseOidcSpec(flags.oidc, {
    ...(flags.oidcAudience !== undefined ? { oidcAudience: flags.oidcAudience } : {}),
    ...(flags.oidcTokenEnv !== undefined ? { oidcTokenEnv: flags.oidcTokenEnv } : {}),
  });
}

/**
 * The variables that hold a token, or the means to get one, for this spec: keyless exec leaves them
 * out of the command's environment (the command gets the role session, not what mints it).
 */
export function oidcTokenVariables(spec: OidcSpec): string[] {
  switch (spec.kind) {
    case 'github':
      return [GITHUB_REQUEST_URL_ENV, GITHUB_REQUEST_TOKEN_ENV];
    case 'gitlab':
    case 'env':
      return [spec.variable];
    case 'file':
      return [];
    default:
      return spec satisfies never;
  }
}
