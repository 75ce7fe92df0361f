// Body of `keyless policy oidc-trust`.
import { usageError } from '../../../errors.js';
import { oidcProviderArn, oidcTrust } from '../../../iac/oidc-trust.js';
import { checkRoleName } from '../../../iac/policy.js';
import { renderOidcTrustHcl } from '../../../iac/render-oidc-hcl.js';
import { output } from '../../output.js';
import type { ExitCode } from '../../action.js';
import type { OidcTrustFlags } from '../infra.js';

export async function runOidcTrust(flags: OidcTrustFlags): Promise<ExitCode> {
  if (flags.github && flags.gitlab)
    throw usageError('give --github or --gitlab, not both: each needs its own provider (make two roles).');
  const provider = flags.github ? 'github' : flags.gitlab ? 'gitlab' : undefined;
  if (!provider)
    throw usageError('name the repositories: --github ORG/REPO[:QUALIFIER] or --gitlab GROUP/PROJECT[:REF].');
  if (flags.gitlabUrl && provider !== 'gitlab') throw usageError('--gitlab-url goes with --gitlab.');
  checkRoleName('--role-name', flags.roleName);
  const trust = oidcTrust({
    provider,
    subjects: (provider === 'github' ? flags.github : flags.gitlab) ?? [],
    audience: flags.audience,
    ...(flags.gitlabUrl ? { issuerUrl: flags.gitlabUrl } : {}),
  });
  if (flags.format === 'hcl') {
    output.data(
      renderOidcTrustHcl(flags.roleName, provider, trust, {
        ...(flags.existingProvider ? { existingProvider: true } : {}),
      }),
    );
    return 0;
  }
  if (!flags.account)
    throw usageError(
      'the JSON trust policy names the provider ARN: pass --account ACCOUNT_ID (or --format hcl, which refers to the provider resource).',
    );
  const arn = oidcProviderArn(flags.account, trust.host);
  output.json({
    OpenIDConnectProvider: { Url: trust.issuerUrl, ClientIDList: [trust.audience], Arn: arn },
    RoleName: flags.roleName,
    AssumeRolePolicyDocument: trust.trustPolicy(arn),
  });
  return 0;
}
