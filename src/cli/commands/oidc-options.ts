// The web identity options every credential-taking command shares: --oidc, --oidc-audience,
// --oidc-token-env. Registration only; the parsing is sources/oidc/oidc-spec.ts.
import type { Command } from 'commander';

export interface OidcFlags {
  oidc?: string;
  oidcAudience?: string;
  oidcTokenEnv?: string;
}

export const OIDC_HELP =
  '\nWeb identity (CI without a stored key): --oidc github asks the GitHub Actions runner for an ID token\n' +
  "(the job needs `permissions: id-token: write`); --oidc gitlab reads the job's id_tokens variable\n" +
  '(AWS_OIDC_TOKEN, or --oidc-token-env); --oidc file:PATH and env:VAR read any other token. With\n' +
  '--role-arn ARN, the token is exchanged for that role (STS AssumeRoleWithWebIdentity), fetched again\n' +
  'for every new session, and never printed or given to a container. Without a profile or --oidc,\n' +
  'AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN is used as the AWS SDKs use it.';

export function addOidcOptions(
  cmd: Command,
  oidcHelp = 'web identity token instead of a profile: github, gitlab, file:PATH or env:VAR (with --role-arn: the role to exchange it for)',
): Command {
  return cmd
    .option('--oidc <source>', oidcHelp)
    .option('--oidc-audience <aud>', '--oidc github: the audience asked for (default sts.amazonaws.com)')
    .option(
      '--oidc-token-env <var>',
      "--oidc gitlab: the job's id_tokens variable holding the token (default AWS_OIDC_TOKEN)",
    );
}
