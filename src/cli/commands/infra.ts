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
    .action(
      action(async (opts: { name: string; policyFile?: string[]; format: string }) => {
        const { runPolicy } = await import('./infra/policy.js');
        return runPolicy({ kind: 'ec2-role', ...opts });
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
    .action(
      action(async (opts: Ec2Flags) => {
        const { runMetadataOptions } = await import('./infra/ec2.js');
        return runMetadataOptions(opts);
      }),
    );
}
