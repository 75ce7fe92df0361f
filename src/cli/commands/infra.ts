// Registers `keyless policy ...` and `keyless ec2 metadata-options`. Bodies are imported lazily.
import type { Command } from 'commander';
import { Option } from 'commander';
import { action } from '../action.js';

export interface Ec2Flags {
  instanceId?: string;
  launchTemplateId?: string;
  hopLimit?: string;
  tokens?: string;
  dryRun?: boolean;
  profile?: string;
  region?: string;
}

export interface OidcTrustFlags {
  github?: string[];
  gitlab?: string[];
  audience: string;
  gitlabUrl?: string;
  account?: string;
  roleName: string;
  existingProvider?: boolean;
  format: string;
}

const format = (): Option =>
  new Option('--format <format>', 'output: a JSON policy document, or OpenTofu/Terraform HCL')
    .choices(['json', 'hcl'])
    .default('json');

export function registerInfraCommands(program: Command): void {
  const policy = program
    .command('policy')
    .description('least-privilege IAM documents, as JSON or OpenTofu/Terraform');
  policy
    .command('ecr')
    .description(
      'ECR pull or push on named repositories (GetAuthorizationToken on "*" apart, as AWS requires)',
    )
    .addOption(
      new Option('--access <access>', 'pull or push').choices(['pull', 'push']).makeOptionMandatory(),
    )
    .requiredOption('--repository <arn...>', 'repository ARNs (arn:aws:ecr:REGION:ACCOUNT:repository/NAME)')
    .addOption(format())
    .addHelpText(
      'after',
      '\nExample:\n  keyless policy ecr --access pull --repository arn:aws:ecr:eu-west-1:123456789012:repository/app | aws iam put-role-policy --role-name r --policy-name ecr-pull --policy-document file:///dev/stdin',
    )
    .action(
      action(async (opts: { access: 'pull' | 'push'; repository: string[]; format: string }) => {
        const { runPolicy } = await import('./infra/policy.js');
        return runPolicy({ kind: 'ecr', ...opts });
      }),
    );
  policy
    .command('s3')
    .description('S3 read or write on one bucket, optionally under one prefix')
    .addOption(
      new Option('--access <access>', 'read or write').choices(['read', 'write']).makeOptionMandatory(),
    )
    .requiredOption('--bucket <bucket>', 'bucket name')
    .option('--prefix <prefix>', 'key prefix')
    .addOption(format())
    .addHelpText(
      'after',
      '\nExamples:\n  keyless policy s3 --access read --bucket my-bucket --prefix reports/\n' +
        '  keyless policy s3 --access write --bucket my-bucket --format hcl',
    )
    .action(
      action(async (opts: { access: 'read' | 'write'; bucket: string; prefix?: string; format: string }) => {
        const { runPolicy } = await import('./infra/policy.js');
        return runPolicy({ kind: 's3', ...opts });
      }),
    );
  policy
    .command('ec2-role')
    .description('an EC2 trust policy, a role with the given policies, and an instance profile')
    .requiredOption('--name <name>', 'role and instance profile name')
    .option('--policy-file <file...>', 'policy documents (JSON) to put on the role')
    .addOption(format())
    .addHelpText(
      'after',
      '\nExamples:\n  keyless policy s3 --access read --bucket my-bucket > s3-read.json\n' +
        '  keyless policy ec2-role --name app-node --policy-file s3-read.json --format hcl',
    )
    .action(
      action(async (opts: { name: string; policyFile?: string[]; format: string }) => {
        const { runPolicy } = await import('./infra/policy.js');
        return runPolicy({ kind: 'ec2-role', ...opts });
      }),
    );
  policy
    .command('oidc-trust')
    .description(
      'an IAM OIDC provider and a role trust policy for CI web identity (GitHub Actions or GitLab CI), for named repositories only',
    )
    .option(
      '--github <repo...>',
      'ORG/REPO[:QUALIFIER]: repositories whose workflows may assume the role; QUALIFIER: a ref (refs/heads/main, refs/tags/v*), environment:NAME, or pull_request (default: every branch)',
    )
    .option(
      '--gitlab <project...>',
      'GROUP/PROJECT[:REF]: projects whose jobs may assume the role; REF: a branch (main) or refs/tags/NAME (default: every branch)',
    )
    .option(
      '--audience <aud>',
      "the token's aud (GitHub: the --oidc-audience asked for; GitLab: id_tokens aud)",
      'sts.amazonaws.com',
    )
    .option(
      '--gitlab-url <url>',
      'GitLab self-managed: the instance URL, its OIDC issuer (default https://gitlab.com)',
    )
    .option(
      '--account <id>',
      'the AWS account of the provider (JSON names its ARN; HCL refers to the resource)',
    )
    .option('--role-name <name>', 'role name', 'keyless-ci')
    .option(
      '--existing-provider',
      "HCL: refer to the account's provider for this issuer instead of creating it",
    )
    .addOption(format())
    .addHelpText(
      'after',
      '\nExamples:\n  keyless policy oidc-trust --github octo-org/app:refs/heads/main --account 123456789012\n' +
        '  keyless policy oidc-trust --github octo-org/app:environment:prod --format hcl\n' +
        '  keyless policy oidc-trust --gitlab group/app:main --account 123456789012\n\n' +
        'The trust policy requires the aud and a sub of a named repository; wildcards in the repository\n' +
        'part are refused (they would trust repositories nobody named). A pull_request sub covers pull\n' +
        'requests from forks, so it is only allowed when asked for.',
    )
    .action(
      action(async (opts: OidcTrustFlags) => {
        const { runOidcTrust } = await import('./infra/oidc-trust.js');
        return runOidcTrust(opts);
      }),
    );
  const ec2 = program.command('ec2').description('EC2 settings that matter for containers');
  ec2
    .command('metadata-options')
    .description(
      'show and change IMDS options (default change: tokens required, hop limit 2, the secure choice for containers)',
    )
    .option('--instance-id <id>', 'instance to show or change')
    .option('--launch-template-id <id>', 'launch template to change (a new default version)')
    .option('--hop-limit <n>', 'HttpPutResponseHopLimit, 1-64 (containers on a bridge need 2)')
    .addOption(new Option('--tokens <mode>', 'HttpTokens').choices(['required', 'optional']))
    .option('--dry-run', 'show what would change, change nothing')
    .option('--profile <profile>', 'credentials profile (default AWS_PROFILE)')
    .option('--region <region>', 'region (default from the profile or AWS_REGION)')
    .addHelpText(
      'after',
      '\nExamples:\n  keyless ec2 metadata-options --instance-id i-0123456789abcdef0 --dry-run\n' +
        '  keyless ec2 metadata-options --instance-id i-0123456789abcdef0 --hop-limit 2 --tokens required\n' +
        '  keyless ec2 metadata-options --launch-template-id lt-0123456789abcdef0 --profile ops',
    )
    .action(
      action(async (opts: Ec2Flags) => {
        const { runMetadataOptions } = await import('./infra/ec2.js');
        return runMetadataOptions(opts);
      }),
    );
}
