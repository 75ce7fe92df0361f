// OpenTofu/Terraform for CI web identity (pure): the IAM OIDC provider (or a data source for one that
// exists: an account has one per issuer URL), the trust policy document and the role.
import { block, list, statementHcl, str } from './render-hcl.js';
import type { OidcTrust } from './oidc-trust.js';

/** `roleName` is the IAM name; the resource labels use it with non-word characters as _. */
export function renderOidcTrustHcl(
  roleName: string,
  provider: 'github' | 'gitlab',
  trust: OidcTrust,
  options: { existingProvider?: boolean } = {},
): string {
  const name = roleName.replace(/[^\w]/g, '_');
  const kind = options.existingProvider ? 'data' : 'resource';
  const providerRef = `${options.existingProvider ? 'data.' : ''}aws_iam_openid_connect_provider.${provider}`;
  const out: string[] = [];
  out.push(
    `${block(
      `${kind} "aws_iam_openid_connect_provider" ${str(provider)}`,
      options.existingProvider
        ? [['url', str(trust.issuerUrl)]]
        : [
            ['url', str(trust.issuerUrl)],
            ['client_id_list', list([trust.audience])],
          ],
      [],
      '',
    )}\n`,
  );
  // the ARN in the document is a placeholder: the HCL refers to the provider, so OpenTofu orders them
  const doc = trust.trustPolicy('PROVIDER');
  out.push(
    `${block(
      `data "aws_iam_policy_document" ${str(`${name}_trust`)}`,
      [],
      doc.Statement.map((s) => statementHcl(s, '  ', `[${providerRef}.arn]`)),
      '',
    )}\n`,
  );
  out.push(
    `${block(
      `resource "aws_iam_role" ${str(name)}`,
      [
        ['name', str(roleName)],
        ['assume_role_policy', `data.aws_iam_policy_document.${name}_trust.json`],
      ],
      [],
      '',
    )}\n`,
  );
  return out.join('\n');
}
