// Registers `keyless ecr configure|login|cache clear`. Bodies are imported lazily.
import type { Command } from 'commander';
import { action } from '../action.js';

export interface EcrConfigureOptions {
  profile?: string;
  roleArn?: string;
  account?: string;
  region?: string;
  remove?: boolean;
}

export function registerEcrCommands(program: Command): void {
  const ecr = program
    .command('ecr')
    .description('Amazon ECR with no docker login and no stored password (docker-credential-keyless)');
  ecr
    .command('configure')
    .description(
      'point docker at docker-credential-keyless for these registries (credHelpers in the docker config), and set which account, region and credentials each one uses',
    )
    .argument('<registry...>', 'registry hosts: ECR hosts, or any host[:port] with --account and --region')
    .option('--profile <profile>', 'get their tokens with this keyless / ~/.aws/config profile')
    .option('--role-arn <arn>', 'get their tokens as this role (assumed from --profile, or the default)')
    .option(
      '--account <id>',
      'the ECR registry (account) behind the host: needed for a host that is not an ECR name',
    )
    .option('--region <region>', "the registry's region: needed for a host that is not an ECR name")
    .option('--remove', 'take the entries out again (credHelpers and settings)')
    .addHelpText(
      'after',
      '\nSettings live in $KEYLESS_HOME/ecr/registries.json (no secret in it).\n' +
        'Examples:\n  keyless ecr configure 123456789012.dkr.ecr.eu-west-1.amazonaws.com public.ecr.aws\n' +
        '  keyless ecr configure 123456789012.dkr.ecr.eu-west-1.amazonaws.com --profile prod\n' +
        '  keyless ecr configure registry.internal:5000 --account 123456789012 --region eu-west-1 --role-arn arn:aws:iam::123456789012:role/pull',
    )
    .action(
      action(async (registries: string[], opts: EcrConfigureOptions) => {
        const { runEcrConfigure } = await import('./ecr/configure.js');
        return runEcrConfigure(registries, opts);
      }),
    );
  ecr
    .command('login')
    .description(
      'docker login to an ECR registry for tools that cannot use credential helpers (prints nothing secret)',
    )
    .argument('<registry>', 'ECR registry host')
    .option('--print-password', 'print the password on stdout instead of logging in (for other tools)')
    .addHelpText(
      'after',
      '\nExamples:\n  keyless ecr login 123456789012.dkr.ecr.eu-west-1.amazonaws.com\n' +
        '  keyless ecr login 123456789012.dkr.ecr.eu-west-1.amazonaws.com --print-password | skopeo login --password-stdin -u AWS 123456789012.dkr.ecr.eu-west-1.amazonaws.com',
    )
    .action(
      action(async (registry: string, opts: { printPassword?: boolean }) => {
        const { runEcrLogin } = await import('./ecr/login.js');
        return runEcrLogin(registry, opts.printPassword ?? false);
      }),
    );
  const cache = ecr
    .command('cache')
    .description("the ECR helper's token cache ($KEYLESS_HOME/ecr/tokens.json)");
  cache
    .command('list')
    .description('the cached tokens: registry, identity, expiry (never a token)')
    .option('--json', 'one JSON document')
    .addHelpText('after', '\nExamples:\n  keyless ecr cache list\n  keyless ecr cache list --json')
    .action(
      action(async (opts: { json?: boolean }) => {
        const { runEcrCacheList } = await import('./ecr/configure.js');
        return runEcrCacheList(opts.json ?? false);
      }),
    );
  cache
    .command('clear')
    .description('forget every cached ECR token (the next pull asks ECR again)')
    .addHelpText('after', '\nExample:\n  keyless ecr cache clear   # after changing the role a registry uses')
    .action(
      action(async () => {
        const { loadEnv } = await import('../../config/env.js');
        const { keylessPaths } = await import('../../config/paths.js');
        const { clearCache } = await import('../../ecr/token-cache.js');
        const { output } = await import('../output.js');
        const path = keylessPaths(loadEnv().keylessHome).ecrTokenCache;
        const n = await clearCache(path, (line) => output.info(line));
        output.data(`${path}: ${n} cached token(s) removed`);
        return 0;
      }),
    );
}
