// Web identity (OIDC) as a credential source: where the token comes from (oidc-spec, token-source,
// github-token) and its exchange with STS (from-web-identity). Plans use it through plan.ts.
import { usageError } from '../../errors.js';
import { parseOidcSpec, type OidcOptionFlags, type OidcSpec } from './oidc-spec.js';

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
